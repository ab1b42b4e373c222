"""Unit tests of the minikube TEST DOUBLE (tests/doubles/bin/minikube) and of the kubectl double's
`config view --raw --minify --flatten`.

The double runs as a subprocess with HOME in tmp_path, KUBELAB_DOUBLE_APISERVER pointing at
tests/doubles/apiserver/apiserver.py and a PATH of tmp_path/bin only: python3 and a fake `docker`
whose answer (healthy, permission denied, daemon down) the test picks. Outputs are compared with
the fixtures of tests/unit/fixtures/minikube/v1.34.0 (SOURCES.md says where each comes from).
Every API-server double a test starts is stopped by the `env` fixture's finalizer.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[3]
MINIKUBE = REPO / "tests" / "doubles" / "bin" / "minikube"
KUBECTL = REPO / "tests" / "doubles" / "bin" / "kubectl"
APISERVER = REPO / "tests" / "doubles" / "apiserver" / "apiserver.py"
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "minikube" / "v1.34.0"
ROOT = os.geteuid() == 0

_spec = importlib.util.spec_from_file_location("image_archives", REPO / "tests" / "unit" / "plugins" / "image_archives.py")
archives = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(archives)

FAKE_DOCKER = """#!/bin/sh
# fake docker for the minikube double's health check; FAKE_DOCKER picks the answer
case "$FAKE_DOCKER" in
denied) echo 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: \
Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix /var/run/docker.sock: connect: permission denied' >&2; exit 1;;
down) echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2; exit 1;;
*) echo 'linux-27.3.1:Docker Engine - Community';;
esac
"""


def fixture_text(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def fixture_result(name):
    return json.loads(fixture_text(name))


class Env:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        bindir = tmp_path / "bin"
        bindir.mkdir()
        (bindir / "python3").symlink_to(sys.executable)
        (bindir / "docker").write_text(FAKE_DOCKER)
        (bindir / "docker").chmod(0o755)
        self.vars = {"HOME": str(self.home), "PATH": str(bindir), "KUBELAB_DOUBLE_APISERVER": str(APISERVER),
                     "LANG": "C.UTF-8"}

    @property
    def minipath(self):
        return self.home / ".minikube"

    @property
    def kubeconfig(self):
        return self.home / ".kube" / "config"

    def run(self, *args, binary=MINIKUBE, **extra):
        env = dict(self.vars, **extra)
        return subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=90, check=False)

    def start(self, name, *args):
        force = ("--force",) if ROOT else ()
        proc = self.run("start", "-p", name, "--driver", "docker", *force, *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def pids(self):
        return [int(p.read_text()) for p in self.minipath.glob("profiles/*/apiserver-double.pid")]

    def cleanup(self):
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


@pytest.fixture
def env(tmp_path):
    environment = Env(tmp_path)
    yield environment
    environment.cleanup()


def platform_line(name=None):
    release = dict(line.split("=", 1) for line in pathlib.Path("/etc/os-release").read_text().splitlines() if "=" in line)
    prefix = f"[{name}] " if name else ""
    return f"😄  {prefix}minikube v1.34.0 on {release['ID'].strip(chr(34)).title()} {release.get('VERSION_ID', '').strip(chr(34))}"


def shape(value):
    """The JSON shape: dict keys with the shape of their values, list of the first item's shape, scalar types."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def assert_subshape(double, real, where="$"):
    """Every key the double prints exists in the real output, with a value of the same shape."""
    if isinstance(double, dict) and where.endswith(".Addons"):  # a map: its keys are data, its values bools
        assert set(double.values()) <= set(real.values()) == {"bool"}, where
    elif isinstance(double, dict):
        assert isinstance(real, dict), where
        for key, item in double.items():
            assert key in real, f"{where}.{key} is not in minikube's output"
            assert_subshape(item, real[key], f"{where}.{key}")
    elif isinstance(double, list):
        assert isinstance(real, list), where
        if double and real:
            assert_subshape(double[0], real[0], where + "[0]")
    elif real != "NoneType":
        assert double == real, f"{where}: {double} vs {real}"


# ---------------------------------------------------------------- without a cluster

def test_help_says_test_double_and_other_commands_are_not_imitated(env):
    assert "TEST DOUBLE" in env.run("--help").stdout
    for args in (("tunnel",), ("dashboard",), ("image", "pull", "nginx"), ("addons", "open", "x"), ("docker-env",)):
        proc = env.run(*args)
        assert proc.returncode != 0 and "not imitated" in proc.stderr, args


def test_version_outputs_are_minikube_v1_34_0(env):
    assert env.run("version", "-o", "json").stdout == fixture_text("version.json")
    assert env.run("version", "--short").stdout == fixture_text("version_short.txt")
    assert env.run("version").stdout == fixture_text("version.txt")


def test_no_profile(env):
    proc = env.run("profile", "list", "-o", "json")
    assert (proc.returncode, proc.stdout) == (0, fixture_text("profile_list_none.json"))
    real = fixture_result("profile_list_none.result.json")
    proc = env.run("profile", "list")
    assert (proc.returncode, proc.stdout, proc.stderr) == (real["rc"], real["stdout"], real["stderr"])
    real = fixture_result("status_missing.result.json")
    proc = env.run("status", "-o", "json", "-p", "nope")
    assert (proc.returncode, proc.stdout, proc.stderr) == (real["rc"], real["stdout"], real["stderr"])
    real = fixture_result("delete_missing.result.json")
    proc = env.run("delete", "-p", "nope")
    assert (proc.returncode, proc.stdout, proc.stderr) == (real["rc"], real["stdout"], real["stderr"])
    for args in (("stop", "-p", "nope"), ("ip", "-p", "nope"), ("addons", "list", "-o", "json", "-p", "nope")):
        assert env.run(*args).returncode == 85, args


@pytest.mark.parametrize("fixture, args, extra", [
    ("start_k8s_too_old.result.json", ("-p", "aged", "--kubernetes-version=v1.16.1"), {}),
    ("start_memory_too_low.result.json", ("-p", "tiny", "--driver=docker", "--memory=1000mb"), {}),
    ("start_docker_newgrp.result.json", ("--driver=docker",), {"FAKE_DOCKER": "denied"}),
    ("start_docker_not_running.result.json", ("--driver=docker",), {"FAKE_DOCKER": "down"}),
])
def test_start_refusals_as_minikube(env, fixture, args, extra):
    real = fixture_result(fixture)
    proc = env.run("start", *args, **extra)
    assert (proc.returncode, proc.stderr) == (real["rc"], real["stderr"])
    assert proc.stdout.splitlines()[0] == platform_line(args[1] if args[0] == "-p" else None)
    assert not (env.minipath / "profiles").exists() or not any((env.minipath / "profiles").iterdir())


def test_start_refuses_unknown_driver_and_a_missing_docker(env):
    proc = env.run("start", "--driver", "nosuch")
    assert proc.returncode == 56
    assert "❌  Exiting due to DRV_UNSUPPORTED_OS: The driver 'nosuch' is not supported on linux/amd64" in proc.stderr
    (env.tmp / "bin" / "docker").unlink()
    proc = env.run("start", "--driver", "docker")
    assert proc.returncode == 65
    assert ('🤷  Exiting due to PROVIDER_DOCKER_NOT_FOUND: The \'docker\' provider was not found: exec: "docker": '
            "executable file not found in $PATH\n💡  Suggestion: Install Docker\n") in proc.stderr


@pytest.mark.skipif(not ROOT, reason="the docker driver's root refusal needs euid 0")
def test_start_as_root_without_force_is_refused(env):
    real = fixture_result("start_as_root.result.json")
    proc = env.run("start", "--driver", "docker")
    assert (proc.returncode, proc.stderr) == (real["rc"], real["stderr"])


def test_start_without_the_apiserver_double_is_refused(env):
    proc = env.run("start", "-p", "x", "--driver", "docker", "--force", KUBELAB_DOUBLE_APISERVER="/nonexistent.py")
    assert proc.returncode == 1 and "test double: the API-server double is missing at /nonexistent.py" in proc.stderr


def test_minikube_home_as_v1_34_0_reads_it(env, tmp_path):
    """v1.34.0 (PR #18648): MINIKUBE_HOME is used as it is unless it holds a .minikube directory."""
    config = {"Name": "p", "Driver": "docker", "KubernetesConfig": {"KubernetesVersion": "v1.31.0"}}
    for home, minipath in ((tmp_path / "a", tmp_path / "a"), (tmp_path / "b", tmp_path / "b" / ".minikube"),
                           (tmp_path / "c" / ".minikube", tmp_path / "c" / ".minikube")):
        (minipath / "profiles" / "p").mkdir(parents=True)
        (minipath / "profiles" / "p" / "config.json").write_text(json.dumps(config))
        listed = json.loads(env.run("profile", "list", "-o", "json", MINIKUBE_HOME=str(home)).stdout)
        assert [p["Name"] for p in listed["valid"]] == ["p"], home


def test_kubectl_config_view_minify_flatten(env):
    env.kubeconfig.parent.mkdir(parents=True)
    (env.kubeconfig.parent / "ca.crt").write_bytes(b"CA\n")
    env.kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "one", "cluster": {"server": "https://a:1", "certificate-authority": "ca.crt"}},
                     {"name": "two", "cluster": {"server": "https://b:2"}}],
        "users": [{"name": "u1", "user": {"token": "t1"}}, {"name": "u2", "user": {"token": "t2"}}],
        "contexts": [{"name": "one", "context": {"cluster": "one", "user": "u1"}},
                     {"name": "two", "context": {"cluster": "two", "user": "u2", "namespace": "ns"}}]}))
    proc = env.run("config", "view", "--raw", "--minify", "--flatten", binary=KUBECTL)
    assert proc.stdout == ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
                           f"{base64.b64encode(b'CA' + bytes([10])).decode()}\n    server: https://a:1\n  name: one\n"
                           "contexts:\n- context:\n    cluster: one\n    user: u1\n  name: one\ncurrent-context: one\n"
                           "kind: Config\npreferences: {}\nusers:\n- name: u1\n  user:\n    token: t1\n")
    other = yaml.safe_load(env.run("config", "view", "--raw", "--minify", "--flatten", "--context", "two",
                                   binary=KUBECTL).stdout)
    assert (other["current-context"], other["users"], len(other["clusters"])) == ("two", [{"name": "u2", "user": {"token": "t2"}}], 1)
    proc = env.run("config", "view", "--raw", "--minify", "--flatten", "--context", "nope", binary=KUBECTL)
    assert (proc.returncode, proc.stderr) == (1, "error: cannot locate context nope\n")
    assert env.run("config", "view", binary=KUBECTL).returncode == 1


# ---------------------------------------------------------------- with a cluster (the API-server double)

def post(server, token, path, body):
    request = urllib.request.Request(server + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("Authorization", "Bearer " + token)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode())


def test_round_trip(env):
    """start, status, profile list, kubeconfig, addons, images, service --url, refusals of an existing profile,
    stop, restart, delete: the state left behind and the outputs' shapes against the fixtures."""
    env.kubeconfig.parent.mkdir(parents=True)
    env.kubeconfig.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": "other",
                                              "clusters": [{"name": "other", "cluster": {"server": "https://o:1"}}],
                                              "users": [{"name": "other", "user": {"token": "o"}}],
                                              "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}]}))
    proc = env.start("kubelab", "--memory", "4g", "--cpus", "2", "--kubernetes-version", "v1.31.0",
                     "--container-runtime", "docker", "--addons", "metrics-server", "--embed-certs")
    real_start = fixture_text("start_docker.txt").replace("polar", "kubelab").splitlines()
    lines = proc.stdout.splitlines()
    assert lines[0] == platform_line("kubelab")
    assert lines[-1] == real_start[-1]
    assert [line for line in lines if line in real_start] == [line for line in real_start[1:] if line in lines]
    assert "🔥  Creating docker container (CPUs=2, Memory=4096MB) ..." in lines
    assert "🌟  Enabled addons: storage-provisioner, default-storageclass, metrics-server" in lines

    config = json.loads((env.minipath / "profiles" / "kubelab" / "config.json").read_text())
    ip = config["Nodes"][0]["IP"]
    kubeconfig = yaml.safe_load(env.kubeconfig.read_text())
    assert kubeconfig["current-context"] == "kubelab"
    assert {c["name"] for c in kubeconfig["clusters"]} == {"other", "kubelab"}
    server = next(c["cluster"]["server"] for c in kubeconfig["clusters"] if c["name"] == "kubelab")
    token = next(u["user"]["token"] for u in kubeconfig["users"] if u["name"] == "kubelab")
    assert server == f"http://{ip}:8443"
    with urllib.request.urlopen(server + "/healthz", timeout=5) as response:
        assert response.status == 200
    view = yaml.safe_load(env.run("config", "view", "--raw", "--minify", "--flatten", binary=KUBECTL).stdout)
    assert view["clusters"][0]["cluster"]["server"] == server and view["users"][0]["user"]["token"] == token

    proc = env.run("status", "-o", "json", "-p", "kubelab")
    assert (proc.returncode, proc.stdout) == (0, fixture_text("status_running.json"))
    proc = env.run("status", "-p", "kubelab")
    assert (proc.returncode, proc.stdout) == (0, fixture_text("status_running.txt"))
    listed = json.loads(env.run("profile", "list", "-o", "json").stdout)
    real = json.loads(fixture_text("profile_list_running.json"))
    assert_subshape(shape(listed), shape(real))
    entry = listed["valid"][0]
    assert (entry["Status"], entry["ActiveKubeContext"], entry["Config"]["Memory"], entry["Config"]["EmbedCerts"]) == \
        (real["valid"][0]["Status"], True, 4096, True)
    assert env.run("ip", "-p", "kubelab").stdout == ip + "\n"

    addons = json.loads(env.run("addons", "list", "-o", "json", "-p", "kubelab").stdout)
    real = json.loads(fixture_text("addons_list.json"))
    assert list(addons) == list(real) and shape(addons) == shape(real)
    enabled = {a for a, v in addons.items() if v["Status"] == "enabled"}
    assert enabled == {"storage-provisioner", "default-storageclass", "metrics-server"}
    assert env.run("addons", "enable", "dashboard", "-p", "kubelab").stdout == "🌟  The 'dashboard' addon is enabled\n"
    assert env.run("addons", "disable", "metrics-server", "-p", "kubelab").stdout == \
        "🌑  \"The 'metrics-server' addon is disabled\n"
    addons = json.loads(env.run("addons", "list", "-o", "json", "-p", "kubelab").stdout)
    assert (addons["dashboard"]["Status"], addons["metrics-server"]["Status"]) == ("enabled", "disabled")
    real = fixture_result("addons_enable_unknown.result.json")
    proc = env.run("addons", "enable", "nosuch", "-p", "kubelab")
    assert (proc.returncode, proc.stderr) == (real["rc"], real["stderr"])

    legacy = env.tmp / "legacy.tar"
    legacy.write_bytes(archives.docker_save_legacy([(["web:1.0"], archives.config(), archives.layer())]))
    oci = env.tmp / "oci.tar"
    oci_config = archives.config(cmd="/bin/oci")
    oci.write_bytes(archives.docker_save_oci([(["ghcr.io/acme/api:2"], ["ghcr.io/acme/api:2"], oci_config,
                                               archives.layer("api"))]))
    for archive in (legacy, oci):
        proc = env.run("image", "load", str(archive), "-p", "kubelab")
        assert (proc.returncode, proc.stdout) == (0, "")
    short = env.run("image", "ls", "--format", "short", "-p", "kubelab").stdout.splitlines()
    assert short == sorted(short, reverse=True)
    assert {"docker.io/library/web:1.0", "ghcr.io/acme/api:2", "registry.k8s.io/kube-apiserver:v1.31.0"} <= set(short)
    assert set(fixture_text("image_ls_short.txt").splitlines()) - set(short) == {"docker.io/library/postgres:16.4"}
    images = json.loads(env.run("image", "ls", "--format", "json", "-p", "kubelab").stdout)
    assert_subshape(shape(images), shape(json.loads(fixture_text("image_ls.json"))))
    assert {"id": archives.hexa(archives.digest(oci_config)), "repoDigests": [], "repoTags": ["ghcr.io/acme/api:2"],
            "size": str(len(archives.layer("api")))} in images

    post(server, token, "/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"name": "a", "port": 80}, {"name": "b", "port": 81}]}})
    post(server, token, "/api/v1/namespaces/default/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend"},
        "spec": {"selector": {"app": "backend"}, "ports": [{"port": 80}]}})
    proc = env.run("service", "web", "--url", "-p", "kubelab")
    urls = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(urls) == 2 and all(u.startswith(f"http://{ip}:3") for u in urls)
    for name, args in (("service_url_no_node_port.result.json", ("backend",)),
                       ("service_missing.result.json", ("nosuch",))):
        real = fixture_result(name)
        proc = env.run("service", *args, "--url", "-p", "kubelab")
        assert (proc.returncode, proc.stdout, proc.stderr) == (real["rc"], real["stdout"], real["stderr"])

    proc = env.run("start", "-p", "kubelab", "--driver", "virtualbox")
    assert proc.returncode == 81
    assert ("💢  Exiting due to GUEST_DRIVER_MISMATCH: The existing \"kubelab\" cluster was created using the \"docker\" "
            "driver, which is incompatible with requested \"virtualbox\" driver.\n💡  Suggestion: Delete the existing "
            "'kubelab' cluster using: 'minikube delete -p kubelab', or start the existing 'kubelab' cluster using: "
            "'minikube start -p kubelab --driver=docker'\n") in proc.stderr
    proc = env.run("start", "-p", "kubelab", "--force", "--kubernetes-version", "v1.30.0")
    assert proc.returncode == 106 and "🙈  Exiting due to K8S_DOWNGRADE_UNSUPPORTED: Unable to safely downgrade " \
        "existing Kubernetes v1.31.0 cluster to v1.30.0\n" in proc.stderr
    assert "🏃  Updating the running docker \"kubelab\" container ..." in env.start("kubelab").stdout
    pid = env.pids()[0]

    proc = env.run("stop", "-p", "kubelab")
    assert (proc.returncode, proc.stdout) == (0, fixture_text("stop.txt").replace("polar", "kubelab"))
    assert not pid_alive(pid) and not env.pids()
    proc = env.run("status", "-o", "json", "-p", "kubelab")
    assert (proc.returncode, proc.stdout) == (7, fixture_text("status_stopped.json"))
    proc = env.run("status", "-p", "kubelab")
    assert (proc.returncode, proc.stdout) == (7, fixture_text("status_stopped.txt"))
    assert json.loads(env.run("profile", "list", "-o", "json").stdout)["valid"][0]["Status"] == "Stopped"
    assert env.run("image", "ls", "-p", "kubelab").stdout == "\n"
    assert env.run("service", "web", "--url", "-p", "kubelab").returncode == 89

    proc = env.start("kubelab")
    assert "🔄  Restarting existing docker container for \"kubelab\" ..." in proc.stdout
    assert "docker.io/library/web:1.0" in env.run("image", "ls", "-p", "kubelab").stdout
    pid = env.pids()[0]
    proc = env.run("delete", "-p", "kubelab")
    assert proc.returncode == 0
    assert proc.stdout == ("🔥  Deleting \"kubelab\" in docker ...\n🔥  Deleting container \"kubelab\" ...\n"
                           f"🔥  Removing {env.minipath}/machines/kubelab ...\n"
                           "💀  Removed all traces of the \"kubelab\" cluster.\n")
    assert not pid_alive(pid)
    assert not (env.minipath / "profiles" / "kubelab").exists()
    kubeconfig = yaml.safe_load(env.kubeconfig.read_text())
    assert [c["name"] for c in kubeconfig["clusters"]] == ["other"] and kubeconfig["current-context"] == ""


def pid_alive(pid):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        time.sleep(0.05)
    return True
