# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example web app and its frontend (examples/webapp): their pure helpers, and the programs run for real
as subprocesses on free local ports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.util
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples" / "webapp"
APP = EXAMPLES / "app.py"
FRONTEND = EXAMPLES / "frontend" / "app.py"
# Local calls only, whatever HTTP(S)_PROXY the test machine has.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Importing must not start a server: main() runs only under __main__.
webapp = _load(APP, "example_webapp")
frontend = _load(FRONTEND, "example_frontend")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, timeout=2):
    try:
        with OPENER.open(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _listens(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def _wait_listening(port, proc, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("exited with %s before listening: %s" % (proc.returncode, proc.communicate()))
        if _listens(port):
            return
        time.sleep(0.05)
    raise AssertionError("port %d never listened" % port)


@pytest.fixture
def start():
    """start(path, **env): the program at PATH as a subprocess; killed at the end of the test."""
    procs = []

    def run(path, **env):
        full_env = dict(os.environ, PYTHONUNBUFFERED="1")
        full_env.update(env)
        proc = subprocess.Popen([sys.executable, str(path)], env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        procs.append(proc)
        return proc
    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# --- pure helpers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, expected", [
    ({}, {"version": 1, "port": 5000, "start_delay": 0, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "2"}, {"version": 2, "port": 5000, "start_delay": 0, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "3"}, {"version": 3, "port": 5000, "start_delay": 60, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "4"}, {"version": 4, "port": 5000, "start_delay": 60, "exit_after": 60, "drain": 5}),
    ({"WEBAPP_VERSION": "4", "WEBAPP_START_DELAY": "1", "WEBAPP_EXIT_AFTER": "0", "WEBAPP_PORT": "8000", "WEBAPP_DRAIN_SECONDS": "0"},
     {"version": 4, "port": 8000, "start_delay": 1, "exit_after": 0, "drain": 0}),
    ({"WEBAPP_VERSION": "4", "WEBAPP_EXIT_AFTER": ""}, {"version": 4, "port": 5000, "start_delay": 60, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "3", "WEBAPP_START_DELAY": "0"}, {"version": 3, "port": 5000, "start_delay": 0, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "1", "WEBAPP_EXIT_AFTER": "30"}, {"version": 1, "port": 5000, "start_delay": 0, "exit_after": 30, "drain": 5}),
])
def test_settings_per_version_and_overrides(env, expected):
    assert webapp.settings_from_env(env) == expected


@pytest.mark.parametrize("env, named", [
    ({"WEBAPP_VERSION": "7"}, "WEBAPP_VERSION"),
    ({"WEBAPP_VERSION": "0"}, "WEBAPP_VERSION"),
    ({"WEBAPP_VERSION": "v2"}, "WEBAPP_VERSION"),
    ({"WEBAPP_START_DELAY": "soon"}, "WEBAPP_START_DELAY"),
    ({"WEBAPP_START_DELAY": "-1"}, "WEBAPP_START_DELAY"),
    ({"WEBAPP_EXIT_AFTER": "1.5"}, "WEBAPP_EXIT_AFTER"),
    ({"WEBAPP_DRAIN_SECONDS": "x"}, "WEBAPP_DRAIN_SECONDS"),
    ({"WEBAPP_PORT": "70000"}, "WEBAPP_PORT"),
    ({"WEBAPP_PORT": "0"}, "WEBAPP_PORT"),
])
def test_bad_settings_are_refused(env, named):
    with pytest.raises(ValueError, match=named):
        webapp.settings_from_env(env)


def test_bodies_follow_the_walkthrough():
    now = datetime.datetime(2026, 12, 3, 10, 0, 0, 123456)
    assert webapp.body_for(1, "/", now) == (200, "Welcome user! This is web-app v1\n")
    assert webapp.body_for(2, "/", now) == (200, "Welcome user! current time in v2 is 2026-12-03 10:00:00.123\n")
    assert webapp.body_for(3, "/", now) == (200, "Welcome user! current time in v3 is 2026-12-03 10:00:00.123\n")
    assert webapp.body_for(4, "/", "T") == (200, "Welcome user! current time in v4 is T\n")
    assert webapp.body_for(1, "/health", now)[0] == 404
    assert webapp.body_for(2, "/health", now)[0] == 404
    assert webapp.body_for(3, "/health", now) == (200, "OK\n")
    assert webapp.body_for(4, "/health", now) == (200, "OK\n")
    assert webapp.body_for(4, "/nothing", now)[0] == 404


@pytest.mark.parametrize("env, expected", [
    ({"FRONTEND_BACKEND_URL": "http://x:1/", "WEBSERVICE_SERVICE_HOST": "10.96.0.9", "WEBSERVICE_SERVICE_PORT": "80"}, "http://x:1/"),
    ({"WEBSERVICE_SERVICE_HOST": "10.96.0.9", "WEBSERVICE_SERVICE_PORT": "80"}, "http://10.96.0.9:80/"),
    ({"FRONTEND_BACKEND_SERVICE": "my-svc", "MY_SVC_SERVICE_HOST": "10.96.0.10", "MY_SVC_SERVICE_PORT": "5000",
      "WEBSERVICE_SERVICE_HOST": "10.96.0.9", "WEBSERVICE_SERVICE_PORT": "80"}, "http://10.96.0.10:5000/"),
    ({"FRONTEND_BACKEND_SERVICE": "my-svc", "MY_SVC_SERVICE_HOST": "fd00::9", "MY_SVC_SERVICE_PORT": "8080"}, "http://[fd00::9]:8080/"),
    ({"FRONTEND_BACKEND_SERVICE": "my-svc", "my-svc_SERVICE_HOST": "10.96.0.10", "my-svc_SERVICE_PORT": "5000"}, "http://my-svc/"),
    ({"FRONTEND_BACKEND_SERVICE": "my-svc"}, "http://my-svc/"),
    ({"WEBSERVICE_SERVICE_HOST": "10.96.0.9"}, "http://webservice/"),
    ({}, "http://webservice/"),
])
def test_the_frontend_finds_the_web_app(env, expected):
    assert frontend.backend_url(env) == expected


def test_the_frontend_page_escapes_and_shows_errors():
    assert "ERROR RECEIVED" in frontend.page(None)
    shown = frontend.page("Welcome <user>!\n")
    assert "Welcome &lt;user&gt;!" in shown and "ERROR RECEIVED" not in shown


def test_frontend_settings():
    assert frontend.settings_from_env({}) == {"port": 8080, "drain": 5}
    assert frontend.settings_from_env({"FRONTEND_PORT": "9000", "FRONTEND_DRAIN_SECONDS": "1"}) == {"port": 9000, "drain": 1}
    for env in ({"FRONTEND_PORT": "http"}, {"FRONTEND_PORT": "0"}, {"FRONTEND_DRAIN_SECONDS": "-3"}):
        with pytest.raises(ValueError):
            frontend.settings_from_env(env)


# --- the web app, run -------------------------------------------------------------------------------------

def test_v1_answers_and_has_no_health(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port))
    _wait_listening(port, proc)
    assert _get("http://127.0.0.1:%d/" % port) == (200, "Welcome user! This is web-app v1\n")
    assert _get("http://127.0.0.1:%d/health" % port)[0] == 404
    assert _get("http://127.0.0.1:%d/nothing" % port)[0] == 404
    proc.kill()
    out = proc.communicate()[0]
    assert "v1" in out and str(port) in out.splitlines()[0]
    assert 'GET / HTTP/1.1" 200' in out and 'GET /health HTTP/1.1" 404' in out


def test_v2_tells_the_time(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="2")
    _wait_listening(port, proc)
    status, text = _get("http://127.0.0.1:%d/" % port)
    assert status == 200
    prefix = "Welcome user! current time in v2 is "
    assert text.startswith(prefix)
    shown = datetime.datetime.strptime(text[len(prefix):].strip(), "%Y-%m-%d %H:%M:%S.%f")
    assert abs((datetime.datetime.now() - shown).total_seconds()) < 60


def test_v3_listens_only_after_its_start_delay(start):
    port = _free_port()
    began = time.monotonic()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="3", WEBAPP_START_DELAY="1")
    time.sleep(0.5)
    assert proc.poll() is None
    assert not _listens(port)
    _wait_listening(port, proc)
    assert time.monotonic() - began >= 1
    assert _get("http://127.0.0.1:%d/health" % port) == (200, "OK\n")
    assert _get("http://127.0.0.1:%d/" % port)[1].startswith("Welcome user! current time in v3 is ")


def test_sigterm_during_the_start_delay_exits_0_at_once(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="3", WEBAPP_START_DELAY="30")
    assert "start delay 30 s" in proc.stdout.readline()  # printed once the signal handlers are in place
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=3) == 0


def test_v4_exits_with_status_1_after_a_while(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="4", WEBAPP_START_DELAY="0", WEBAPP_EXIT_AFTER="1")
    _wait_listening(port, proc)
    assert _get("http://127.0.0.1:%d/health" % port) == (200, "OK\n")
    assert proc.wait(timeout=4) == 1


def test_sigterm_keeps_serving_for_the_drain_time_then_exits_0(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_DRAIN_SECONDS="1")
    _wait_listening(port, proc)
    proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    time.sleep(0.2)
    assert _get("http://127.0.0.1:%d/" % port)[0] == 200
    assert proc.poll() is None
    assert proc.wait(timeout=3) == 0
    assert time.monotonic() - signalled >= 0.9


def test_sigint_exits_at_once(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_DRAIN_SECONDS="30")
    _wait_listening(port, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=2) != 0


@pytest.mark.parametrize("env, named", [
    ({"WEBAPP_VERSION": "7"}, "WEBAPP_VERSION"),
    ({"WEBAPP_START_DELAY": "later"}, "WEBAPP_START_DELAY"),
])
def test_bad_values_exit_2(start, env, named):
    proc = start(APP, **env)
    assert proc.wait(timeout=5) == 2
    assert named in proc.communicate()[1]


# --- the frontend, run ------------------------------------------------------------------------------------

def test_the_frontend_shows_the_web_app_through_the_service_variables(start):
    app_port, front_port = _free_port(), _free_port()
    backend = start(APP, WEBAPP_PORT=str(app_port))
    _wait_listening(app_port, backend)
    front = start(FRONTEND, FRONTEND_PORT=str(front_port), WEBSERVICE_SERVICE_HOST="127.0.0.1", WEBSERVICE_SERVICE_PORT=str(app_port))
    _wait_listening(front_port, front)
    status, text = _get("http://127.0.0.1:%d/" % front_port, timeout=5)
    assert status == 200 and "Welcome user! This is web-app v1" in text and "ERROR RECEIVED" not in text
    assert _get("http://127.0.0.1:%d/health" % front_port) == (200, "OK\n")


def test_the_frontend_shows_error_received_for_a_closed_port(start):
    closed, front_port = _free_port(), _free_port()
    front = start(FRONTEND, FRONTEND_PORT=str(front_port), FRONTEND_BACKEND_SERVICE="my-svc",
                  MY_SVC_SERVICE_HOST="127.0.0.1", MY_SVC_SERVICE_PORT=str(closed))
    _wait_listening(front_port, front)
    status, text = _get("http://127.0.0.1:%d/" % front_port, timeout=5)
    assert status == 200 and "ERROR RECEIVED" in text


def test_the_frontend_shows_error_received_for_a_non_200_answer(start):
    app_port = _free_port()
    backend = start(APP, WEBAPP_PORT=str(app_port))  # v1: /health is a 404
    _wait_listening(app_port, backend)
    assert frontend.fetch("http://127.0.0.1:%d/health" % app_port) is None
    assert frontend.fetch("http://127.0.0.1:%d/" % app_port) == "Welcome user! This is web-app v1\n"


def test_the_frontend_gives_up_after_its_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        began = time.monotonic()
        assert frontend.fetch("http://127.0.0.1:%d/" % silent.getsockname()[1], timeout=0.5) is None
        assert time.monotonic() - began < 2


def test_the_frontend_drains_on_sigterm(start):
    front_port = _free_port()
    front = start(FRONTEND, FRONTEND_PORT=str(front_port), FRONTEND_DRAIN_SECONDS="1")
    _wait_listening(front_port, front)
    front.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert _get("http://127.0.0.1:%d/health" % front_port) == (200, "OK\n")
    assert front.wait(timeout=3) == 0
