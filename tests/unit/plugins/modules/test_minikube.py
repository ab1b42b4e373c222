"""kubelab.cluster.minikube and minikube_image against a fake minikube behind run_command.

The fake answers with minikube's own output (tests/unit/fixtures/minikube/v1.34.0), renamed to the profile and
changed where its state changed, so the modules read the real shapes.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from ansible.module_utils import basic

from ansible_collections.kubelab.cluster.plugins.modules import minikube, minikube_image

from .. import image_archives as build
from .conftest import call_main

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "minikube" / "v1.34.0"
MINIKUBE = "/usr/local/bin/minikube"


def _fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeMinikube:
    """One profile's state, driven by minikube argv; output in v1.34.0's shapes."""

    def __init__(self, exists=False, running=False, addons=(), name="minikube", **config):
        self.exists, self.running, self.name = exists, running, name
        self.addons = set(["default-storageclass", "storage-provisioner"] + list(addons)) if exists else set()
        self.config = dict({"Driver": "docker", "CPUs": 2, "Memory": 4096, "KubernetesVersion": "v1.31.0",
                            "ContainerRuntime": "docker"}, **config)
        self.calls = []
        self.images = {}

    def profile_list(self):
        name = self.name
        if not self.exists:
            return json.dumps(_fixture("profile_list_none.json"))
        data = _fixture("profile_list_running.json" if self.running else "profile_list_stopped.json")
        entry = data["valid"][0]
        entry["Name"] = entry["Config"]["Name"] = name
        for key in ("Driver", "CPUs", "Memory"):
            entry["Config"][key] = self.config[key]
        for key in ("KubernetesVersion", "ContainerRuntime"):
            entry["Config"]["KubernetesConfig"][key] = self.config[key]
        return json.dumps(data)

    def __call__(self, module, argv, **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        words = argv[1:]
        name = words[words.index("--profile") + 1] if "--profile" in words else "minikube"
        command = " ".join(word for word in words if not word.startswith("-"))
        if command.startswith("profile list"):
            return 0, self.profile_list(), ""
        if command.startswith("status"):
            data = _fixture("status_running.json" if self.running else "status_stopped.json")
            data["Name"] = name
            return (0 if self.running else 7), json.dumps(data), ""
        if command.startswith("addons list"):
            data = _fixture("addons_list.json")
            for addon in data:
                data[addon] = {"Profile": name, "Status": "enabled" if addon in self.addons else "disabled"}
            return 0, json.dumps(data), ""
        if words[0] == "start":
            self.exists = self.running = True
            self.name = name
            self.addons |= set(["default-storageclass", "storage-provisioner"])
            self.addons |= set(words[i + 1] for i, word in enumerate(words) if word == "--addons")
            return 0, "Done!\n", ""
        if words[:2] == ["addons", "enable"]:
            self.addons.add(words[2])
            return 0, "", ""
        if words[0] == "stop":
            self.running = False
            return 0, "1 node stopped.\n", ""
        if words[0] == "delete":
            self.exists = self.running = False
            self.addons = set()
            return 0, "", ""
        if words[:2] == ["image", "ls"]:
            return 0, json.dumps([{"id": image_id, "repoDigests": [], "repoTags": names, "size": "1"}
                                  for image_id, names in self.images.items()]) + "\n", ""
        if words[:2] == ["image", "load"]:
            return 0, "", ""
        raise AssertionError("unexpected command: %r" % argv)

    def actions(self):
        """The commands that change something."""
        return [argv[1] if argv[1] != "addons" else "addons " + argv[2] for argv in self.calls
                if argv[1] in ("start", "stop", "delete") or argv[1:3] == ["addons", "enable"]]


@pytest.fixture
def run(monkeypatch):
    def _run(fake, args, check_mode=False, module=minikube, euid=1000):
        def run_command(self, argv, **kwargs):
            return fake(self, argv, **kwargs)

        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(os, "geteuid", lambda: euid)
        monkeypatch.setattr(os.path, "exists", lambda path: path == MINIKUBE or os.path.lexists(path))
        return call_main(monkeypatch, module, dict({"minikube_path": MINIKUBE}, **args), check_mode, diff=True)
    return _run


def test_a_new_profile_is_started_with_its_addons_then_left_alone(run):
    fake = FakeMinikube()
    result, failed = run(fake, {"name": "dev", "addons": ["dashboard"]})
    assert not failed and result["changed"] and fake.actions() == ["start"]
    start = next(argv for argv in fake.calls if argv[1] == "start")
    assert start[start.index("--addons") + 1] == "dashboard" and start[start.index("--driver") + 1] == "docker"
    assert result["status"]["host"] == "Running" and "dashboard" in result["addons"]
    fake.calls = []
    result, failed = run(fake, {"name": "dev", "addons": ["dashboard"]})
    assert not failed and not result["changed"] and fake.actions() == [] and result["commands"] == []


def test_check_mode_reports_and_runs_nothing(run):
    fake = FakeMinikube()
    result, failed = run(fake, {"name": "dev"}, check_mode=True)
    assert not failed and result["changed"] and fake.actions() == []
    assert result["commands"][0].startswith("minikube start --profile dev") and result["diff"]["after"]["state"] == "Running"


def test_a_stopped_profile_is_started_and_a_missing_addon_enabled(run):
    fake = FakeMinikube(exists=True, running=False)
    result, _failed = run(fake, {"addons": ["dashboard"]})
    assert result["changed"] and fake.actions() == ["start"]
    fake.calls = []
    result, _failed = run(fake, {"addons": ["dashboard", "metrics-server"]})
    assert result["changed"] and fake.actions() == ["addons enable"]


def test_a_profile_with_another_version_is_reported_and_left_alone(run):
    fake = FakeMinikube(exists=True, running=True)
    result, failed = run(fake, {"kubernetes_version": "v1.30.0"})
    assert failed and fake.actions() == []
    assert "kubernetes_version: wanted v1.30.0, the profile has v1.31.0" in result["msg"]
    assert result["drift"] == [{"setting": "kubernetes_version", "wanted": "v1.30.0", "profile": "v1.31.0"}]
    result, failed = run(fake, {"kubernetes_version": "v1.30.0", "recreate": True})
    assert not failed and fake.actions() == ["delete", "start"]


def test_the_docker_driver_as_root_is_refused_before_any_command(run):
    fake = FakeMinikube()
    result, failed = run(fake, {}, euid=0)
    assert failed and fake.calls == [] and "refuses to run as root" in result["msg"]
    result, failed = run(fake, {"force": True}, euid=0)
    assert not failed and "--force" in next(argv for argv in fake.calls if argv[1] == "start")


@pytest.mark.parametrize("state, before, actions", [
    ("stopped", dict(exists=True, running=True), ["stop"]),
    ("stopped", dict(exists=True, running=False), []),
    ("absent", dict(exists=True, running=True), ["delete"]),
    ("absent", dict(), []),
])
def test_stop_and_delete(run, state, before, actions):
    fake = FakeMinikube(**before)
    result, failed = run(fake, {"state": state})
    assert not failed and fake.actions() == actions and result["changed"] == bool(actions)


def test_image_load_only_what_the_profile_lacks(run, tmp_path):
    config_one, config_two = build.config(cmd="/one"), build.config(cmd="/two")
    one, two = tmp_path / "one.tar", tmp_path / "two.tar"
    one.write_bytes(build.docker_save_legacy([(["web-app:1.0"], config_one, build.layer())]))
    two.write_bytes(build.docker_save_legacy([(["frontend:1.0"], config_two, build.layer("x"))]))
    fake = FakeMinikube(exists=True, running=True, name="dev")
    fake.images = {build.hexa(build.digest(config_one)): ["docker.io/library/web-app:1.0"], "f" * 64: ["<none>:<none>"]}
    loaded = []

    def load(module, argv, **kwargs):
        if argv[1:3] == ["image", "load"]:
            loaded.append(argv[3])
            fake.images[build.hexa(build.digest(config_two))] = ["docker.io/library/frontend:1.0"]
        return fake(module, argv, **kwargs)

    result, failed = run(load, {"src": [str(one), str(two)], "profile": "dev"}, module=minikube_image)
    assert not failed and result["changed"] and loaded == [str(two)]
    assert result["loaded"] == [{"archive": str(two), "names": ["docker.io/library/frontend:1.0"]}]
    result, failed = run(load, {"src": [str(one), str(two)], "profile": "dev"}, module=minikube_image)
    assert not failed and not result["changed"] and loaded == [str(two)]


def test_image_load_that_does_not_take_fails(run, tmp_path):
    archive = tmp_path / "one.tar"
    archive.write_bytes(build.docker_save_legacy([(["web-app:1.0"], build.config(cmd="/one"), build.layer())]))
    result, failed = run(FakeMinikube(exists=True, running=True), {"src": [str(archive)]}, module=minikube_image)
    assert failed and "still lacks docker.io/library/web-app:1.0" in result["msg"]
