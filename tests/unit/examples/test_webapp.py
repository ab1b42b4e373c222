"""The example web app and its frontend (examples/webapp): their helpers, and the programs run for real."""

from __future__ import annotations

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


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


webapp = _load(APP, "example_webapp")
frontend = _load(FRONTEND, "example_frontend")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _wait_listening(port, proc, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("port %d never listened" % port)


@pytest.fixture
def start():
    procs = []

    def run(path, **env):
        proc = subprocess.Popen([sys.executable, str(path)], env=dict(os.environ, **env),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc
    yield run
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.parametrize("env, expected", [
    ({}, {"version": 1, "port": 5000, "start_delay": 0, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "3"}, {"version": 3, "port": 5000, "start_delay": 60, "exit_after": 0, "drain": 5}),
    ({"WEBAPP_VERSION": "4"}, {"version": 4, "port": 5000, "start_delay": 60, "exit_after": 60, "drain": 5}),
    ({"WEBAPP_VERSION": "4", "WEBAPP_START_DELAY": "1", "WEBAPP_EXIT_AFTER": "0", "WEBAPP_PORT": "8000"},
     {"version": 4, "port": 8000, "start_delay": 1, "exit_after": 0, "drain": 5}),
])
def test_settings_per_version_and_overrides(env, expected):
    assert webapp.settings_from_env(env) == expected


@pytest.mark.parametrize("env", [{"WEBAPP_VERSION": "7"}, {"WEBAPP_START_DELAY": "soon"}, {"WEBAPP_PORT": "70000"}])
def test_bad_settings_are_refused(env):
    with pytest.raises(ValueError):
        webapp.settings_from_env(env)


def test_bodies_follow_the_walkthrough():
    assert webapp.body_for(1, "/", "T") == (200, "Welcome user! This is web-app v1\n")
    assert webapp.body_for(2, "/", "2026-12-03 10:00:00") == (200, "Welcome user! current time in v2 is 2026-12-03 10:00:00\n")
    assert webapp.body_for(2, "/health", "T")[0] == 404
    assert webapp.body_for(3, "/health", "T") == (200, "OK\n")


@pytest.mark.parametrize("env, expected", [
    ({"FRONTEND_BACKEND_URL": "http://x:1/", "WEBSERVICE_SERVICE_HOST": "10.96.0.9", "WEBSERVICE_SERVICE_PORT": "80"}, "http://x:1/"),
    ({"WEBSERVICE_SERVICE_HOST": "10.96.0.9", "WEBSERVICE_SERVICE_PORT": "80"}, "http://10.96.0.9:80/"),
    ({"FRONTEND_BACKEND_SERVICE": "my-svc", "MY_SVC_SERVICE_HOST": "fd00::9", "MY_SVC_SERVICE_PORT": "8080"}, "http://[fd00::9]:8080/"),
    ({"WEBSERVICE_SERVICE_HOST": "10.96.0.9"}, "http://webservice/"),
    ({}, "http://webservice/"),
])
def test_the_frontend_finds_the_web_app(env, expected):
    assert frontend.backend_url(env) == expected


def test_v1_answers_and_has_no_health(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port))
    _wait_listening(port, proc)
    assert _get("http://127.0.0.1:%d/" % port) == (200, "Welcome user! This is web-app v1\n")
    assert _get("http://127.0.0.1:%d/health" % port)[0] == 404


def test_v2_tells_the_time(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="2")
    _wait_listening(port, proc)
    status, text = _get("http://127.0.0.1:%d/" % port)
    assert status == 200 and text.startswith("Welcome user! current time in v2 is %s" % time.strftime("%Y-"))


def test_v3_listens_only_after_its_start_delay(start):
    port = _free_port()
    began = time.monotonic()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="3", WEBAPP_START_DELAY="1")
    time.sleep(0.4)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    _wait_listening(port, proc)
    assert time.monotonic() - began >= 1
    assert _get("http://127.0.0.1:%d/health" % port) == (200, "OK\n")


def test_v4_exits_with_status_1_after_a_while(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_VERSION="4", WEBAPP_START_DELAY="0", WEBAPP_EXIT_AFTER="1")
    _wait_listening(port, proc)
    assert proc.wait(timeout=5) == 1


def test_sigterm_keeps_serving_for_the_drain_time_then_exits_0(start):
    port = _free_port()
    proc = start(APP, WEBAPP_PORT=str(port), WEBAPP_DRAIN_SECONDS="1")
    _wait_listening(port, proc)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert _get("http://127.0.0.1:%d/" % port)[0] == 200
    assert proc.wait(timeout=4) == 0


def test_a_bad_version_exits_2(start):
    proc = start(APP, WEBAPP_VERSION="7")
    assert proc.wait(timeout=5) == 2
    assert "WEBAPP_VERSION" in proc.communicate()[1]


def test_the_frontend_shows_the_web_app_or_error_received(start):
    app_port, front_port, closed = _free_port(), _free_port(), _free_port()
    backend = start(APP, WEBAPP_PORT=str(app_port))
    _wait_listening(app_port, backend)
    front = start(FRONTEND, FRONTEND_PORT=str(front_port), WEBSERVICE_SERVICE_HOST="127.0.0.1", WEBSERVICE_SERVICE_PORT=str(app_port))
    _wait_listening(front_port, front)
    status, text = _get("http://127.0.0.1:%d/" % front_port)
    assert status == 200 and "Welcome user! This is web-app v1" in text and "ERROR RECEIVED" not in text
    other_port = _free_port()
    broken = start(FRONTEND, FRONTEND_PORT=str(other_port), FRONTEND_BACKEND_URL="http://127.0.0.1:%d/" % closed)
    _wait_listening(other_port, broken)
    status, text = _get("http://127.0.0.1:%d/" % other_port, timeout=5)
    assert status == 200 and "ERROR RECEIVED" in text
    assert _get("http://127.0.0.1:%d/health" % other_port) == (200, "OK\n")
