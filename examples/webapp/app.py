# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example web app of the walkthrough, Python standard library only (port 5000).

WEBAPP_VERSION (baked into each image by the Dockerfile) picks the behaviour:
  1  GET / answers a welcome
  2  the welcome with the current time
  3  starts listening after WEBAPP_START_DELAY (default 60 s); GET /health answers OK
  4  as 3, and the process exits with status 1 WEBAPP_EXIT_AFTER seconds (default 60) after it started serving
Versions 1 and 2 have no /health, as in the walkthrough. On SIGTERM the server keeps answering for
WEBAPP_DRAIN_SECONDS (default 5) while Kubernetes takes the pod out of the Service's endpoints, then exits 0.
"""

from __future__ import absolute_import, division, print_function

import datetime
import os
import signal
import sys
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
except ImportError:  # pragma: no cover - Python 2 has no place here
    sys.exit("app.py needs Python 3.7 or later")

DEFAULT_START_DELAY = {1: 0, 2: 0, 3: 60, 4: 60}


def _seconds(env, name, default):
    text = env.get(name, "")
    if text == "":
        return default
    if not text.isdigit():
        raise ValueError("%s=%r is not a whole number of seconds" % (name, text))
    return int(text)


def settings_from_env(env):
    """The app's settings from environment variables; ValueError names a bad one."""
    text = env.get("WEBAPP_VERSION", "1") or "1"
    if text not in ("1", "2", "3", "4"):
        raise ValueError("WEBAPP_VERSION=%r: the versions are 1, 2, 3 and 4" % text)
    version = int(text)
    port = _seconds(env, "WEBAPP_PORT", 5000)
    if not 0 < port < 65536:
        raise ValueError("WEBAPP_PORT=%r is not a port" % port)
    return {
        "version": version,
        "port": port,
        "start_delay": _seconds(env, "WEBAPP_START_DELAY", DEFAULT_START_DELAY[version]),
        # 0 means never; so does the variable set but empty (unset: 60 s for v4).
        "exit_after": _seconds(env, "WEBAPP_EXIT_AFTER", 60 if version == 4 and "WEBAPP_EXIT_AFTER" not in env else 0),
        "drain": _seconds(env, "WEBAPP_DRAIN_SECONDS", 5),
    }


def timestamp(now):
    """NOW (a datetime) as the welcome shows it: 2026-12-03 10:00:00.123."""
    return now.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (now.microsecond // 1000)


def body_for(version, path, now):
    """(status, text) of a GET of PATH for VERSION at time NOW (a datetime, or text shown as it is)."""
    if path == "/":
        if version == 1:
            return 200, "Welcome user! This is web-app v1\n"
        shown = timestamp(now) if isinstance(now, datetime.datetime) else now
        return 200, "Welcome user! current time in v%d is %s\n" % (version, shown)
    if path == "/health" and version >= 3:
        return 200, "OK\n"
    return 404, "not found\n"


def _handler(version):
    class Handler(BaseHTTPRequestHandler):
        server_version = "web-app/%d" % version

        def do_GET(self):  # pylint: disable=invalid-name
            status, text = body_for(version, self.path.split("?", 1)[0], datetime.datetime.now())
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            print("%s %s" % (self.address_string(), format % args), flush=True)

    return Handler


def _stop_later(server, seconds, code, unless_draining=False):
    """Stop SERVER after SECONDS; the process then exits with CODE, unless another stop came first
    (or, UNLESS_DRAINING, a SIGTERM: the drain's exit 0 wins over v4's crash)."""
    def stop():
        time.sleep(seconds)
        with server.stop_lock:
            if server.exit_code is not None or (unless_draining and server.draining):
                return
            server.exit_code = code
        print("exiting with status %d" % code, flush=True)
        server.shutdown()
    threading.Thread(target=stop, daemon=True).start()


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
        print("web-app: %s" % exc, file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, _exit_now(130))
    # Nothing to drain before the server listens: SIGTERM during the start delay exits at once.
    signal.signal(signal.SIGTERM, _exit_now(0))
    print("web-app v%(version)d: port %(port)d, start delay %(start_delay)d s, exit after %(exit_after)d s (0: never), "
          "drain %(drain)d s" % settings, flush=True)
    if settings["start_delay"]:
        time.sleep(settings["start_delay"])
    try:
        server = ThreadingHTTPServer(("", settings["port"]), _handler(settings["version"]))
    except OSError as exc:
        print("web-app: cannot listen on port %d: %s" % (settings["port"], exc), file=sys.stderr)
        return 1
    server.daemon_threads = True
    server.exit_code = None
    server.stop_lock = threading.Lock()
    server.draining = False

    def on_term(*_):
        if not server.draining:
            server.draining = True
            os.write(1, b"SIGTERM: serving %d s more, then exiting\n" % settings["drain"])
            _stop_later(server, settings["drain"], 0)
    signal.signal(signal.SIGTERM, on_term)
    if settings["exit_after"]:
        _stop_later(server, settings["exit_after"], 1, unless_draining=True)
    print("listening on port %d" % settings["port"], flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    return server.exit_code or 0


if __name__ == "__main__":
    sys.exit(main())
