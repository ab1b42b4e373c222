# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example's second microservice (port 8080, FRONTEND_PORT): shows what the web app answers, through its Service.

The web app's URL is FRONTEND_BACKEND_URL when set; else the Service environment variables Kubernetes gives
every pod for the Services that existed when it started (<NAME>_SERVICE_HOST and <NAME>_SERVICE_PORT, NAME
being FRONTEND_BACKEND_SERVICE, default webservice, upper-cased with '-' as '_'); else the cluster DNS name
http://<service>/. When the call fails (connection error, 2 s timeout, an answer other than 200) the page shows
ERROR RECEIVED. SIGTERM: serves FRONTEND_DRAIN_SECONDS (default 5) more, then exits 0.
"""

from __future__ import absolute_import, division, print_function

import html
import os
import signal
import sys
import threading
import time

try:
    from http.client import HTTPException
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.error import URLError
    from urllib.request import ProxyHandler, build_opener
except ImportError:  # pragma: no cover - Python 2 has no place here
    sys.exit("app.py needs Python 3.7 or later")

ERROR_TEXT = "ERROR RECEIVED"
# The web app is inside the cluster: never through an HTTP(S)_PROXY the environment may name.
_OPENER = build_opener(ProxyHandler({}))


def backend_url(env):
    """The web app's URL, as described in the module docstring."""
    if env.get("FRONTEND_BACKEND_URL"):
        return env["FRONTEND_BACKEND_URL"]
    service = env.get("FRONTEND_BACKEND_SERVICE") or "webservice"
    prefix = service.upper().replace("-", "_")
    host, port = env.get(prefix + "_SERVICE_HOST"), env.get(prefix + "_SERVICE_PORT")
    if host and port:
        return "http://%s:%s/" % ("[%s]" % host if ":" in host else host, port)
    return "http://%s/" % service


def fetch(url, timeout=2.0):
    """The web app's answer text, or None when there is none to show."""
    try:
        with _OPENER.open(url, timeout=timeout) as answer:  # nosec - the URL is the app's own Service
            if answer.status != 200:
                return None
            return answer.read().decode("utf-8", "replace")
    except (URLError, HTTPException, OSError, ValueError):
        # URLError covers non-200 answers (HTTPError); OSError timeouts and resets; HTTPException garbage answers.
        return None


def page(answer):
    """The HTML page for the web app's ANSWER (None: the call failed)."""
    shown = ERROR_TEXT if answer is None else answer.strip()
    return "<!doctype html><html><head><title>frontend</title></head><body><h1>frontend</h1><p>%s</p></body></html>\n" % html.escape(shown)


def _handler(url):
    class Handler(BaseHTTPRequestHandler):
        server_version = "frontend/1"

        def do_GET(self):  # pylint: disable=invalid-name
            path = self.path.split("?", 1)[0]
            if path == "/health":
                status, data, kind = 200, b"OK\n", "text/plain"
            elif path == "/":
                status, data, kind = 200, page(fetch(url)).encode("utf-8"), "text/html"
            else:
                status, data, kind = 404, b"not found\n", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind + "; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            print("%s %s" % (self.address_string(), format % args), flush=True)

    return Handler


def settings_from_env(env):
    """Port and drain seconds from FRONTEND_PORT and FRONTEND_DRAIN_SECONDS; ValueError names a bad one."""
    settings = {}
    for key, name, default in (("port", "FRONTEND_PORT", 8080), ("drain", "FRONTEND_DRAIN_SECONDS", 5)):
        text = env.get(name, "")
        if text == "":
            settings[key] = default
        elif text.isdigit():
            settings[key] = int(text)
        else:
            raise ValueError("%s=%r is not a whole number" % (name, text))
    if not 0 < settings["port"] < 65536:
        raise ValueError("FRONTEND_PORT=%r is not a port" % settings["port"])
    return settings


def _exit_now(code):
    def handler(*_):
        # os.write, not print: a signal handler must not re-enter the buffered stdout.
        os.write(1, b"signal: exiting with status %d\n" % code)
        os._exit(code)  # pylint: disable=protected-access
    return handler


def main():
    try:
        settings = settings_from_env(os.environ)
    except ValueError as exc:
        print("frontend: %s" % exc, file=sys.stderr)
        return 2
    url = backend_url(os.environ)
    signal.signal(signal.SIGINT, _exit_now(130))
    try:
        server = ThreadingHTTPServer(("", settings["port"]), _handler(url))
    except OSError as exc:
        print("frontend: cannot listen on port %d: %s" % (settings["port"], exc), file=sys.stderr)
        return 1
    server.daemon_threads = True
    server.draining = False

    def on_term(*_):
        if server.draining:
            return
        server.draining = True
        os.write(1, b"SIGTERM: serving %d s more, then exiting\n" % settings["drain"])

        def stop():
            time.sleep(settings["drain"])
            server.shutdown()
        threading.Thread(target=stop, daemon=True).start()
    signal.signal(signal.SIGTERM, on_term)
    print("frontend: port %d, web app at %s, drain %d s" % (settings["port"], url, settings["drain"]), flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    print("exiting with status 0", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
