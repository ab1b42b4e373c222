"""module_utils/_minikube: the plan from minikube's state, the drift rule, sizes, versions and image plans."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _minikube as mk
from ansible_collections.kubelab.cluster.plugins.module_utils._image_archive import normalize_reference

WANTED = {"name": "dev", "state": "started", "driver": "docker", "kubernetes_version": "", "container_runtime": "docker",
          "cpus": 2, "memory": 4096, "addons": ["dashboard"], "recreate": False, "start_args": []}
PROFILE = {"name": "dev", "valid": True, "status": "OK", "driver": "docker", "kubernetes_version": "v1.31.0",
           "container_runtime": "docker", "cpus": 2, "memory": 4096, "nodes": 1, "ip": "192.168.49.2", "port": 8443,
           "active": True}
RUNNING = {"host": "Running", "kubelet": "Running", "apiserver": "Running", "kubeconfig": "Configured"}
STOPPED = {"host": "Stopped", "kubelet": "Stopped", "apiserver": "Stopped", "kubeconfig": "Stopped"}


def wanted(**changes):
    return dict(WANTED, **changes)


def profile(**changes):
    return dict(PROFILE, **changes)


@pytest.mark.parametrize("case, want, have, status, addons, steps", [
    ("new", wanted(), None, None, [], [("start", "no profile dev")]),
    ("running as asked", wanted(), profile(), RUNNING, ["dashboard", "storage-provisioner"], []),
    ("an addon missing", wanted(addons=["dashboard", "metrics-server"]), profile(), RUNNING, ["dashboard"],
     [("addon", "metrics-server")]),
    ("stopped: start enables the addons", wanted(), profile(), STOPPED, [], [("start", "it is stopped")]),
    ("stop a running one", wanted(state="stopped"), profile(), RUNNING, [], [("stop", "it runs")]),
    ("stop a stopped one", wanted(state="stopped"), profile(), STOPPED, [], []),
    ("stop a missing one", wanted(state="stopped"), None, None, [], []),
    ("delete", wanted(state="absent"), profile(), STOPPED, [], [("delete", "the profile exists")]),
    ("delete a missing one", wanted(state="absent"), None, None, [], []),
    ("same version, other spelling", wanted(kubernetes_version="1.31.0"), profile(), RUNNING, ["dashboard"], []),
    ("memory as minikube stores it", wanted(memory=4096), profile(memory=4096), RUNNING, ["dashboard"], []),
])
def test_plan(case, want, have, status, addons, steps):
    assert mk.plan(want, have, status, addons) == (steps, []), case


@pytest.mark.parametrize("setting, want, have", [
    ("driver", wanted(driver="kvm2"), profile()),
    ("kubernetes_version", wanted(kubernetes_version="v1.30.0"), profile()),
    ("container_runtime", wanted(container_runtime="containerd"), profile()),
    ("cpus", wanted(cpus=4), profile()),
    ("memory", wanted(memory=8192), profile()),
])
def test_a_profile_with_other_settings_is_reported_not_recreated(setting, want, have):
    steps, differences = mk.plan(want, have, RUNNING, ["dashboard"])
    assert steps == [] and [item["setting"] for item in differences] == [setting]
    message = mk.drift_message("dev", differences)
    assert "minikube_recreate: true" in message and setting in message


def test_recreate_deletes_then_starts():
    steps, differences = mk.plan(wanted(driver="kvm2", recreate=True), profile(), RUNNING, [])
    assert [step[0] for step in steps] == ["delete", "start"] and differences


def test_start_args_carry_every_setting():
    args = mk.start_args(wanted(kubernetes_version="1.30.2", addons=["dashboard", "metrics-server"], start_args=["--nodes", "2"]))
    assert args[:2] == ["start", "--profile"] and "dev" in args
    assert args[args.index("--memory") + 1] == "4096mb" and args[args.index("--kubernetes-version") + 1] == "v1.30.2"
    assert args.count("--addons") == 2 and args[-2:] == ["--nodes", "2"]
    assert "--kubernetes-version" not in mk.start_args(wanted())


@pytest.mark.parametrize("text, megabytes", [(4096, 4096), ("4096", 4096), ("4096mb", 4096), ("4g", 4096), ("4GiB", 4096),
                                             ("2048MB", 2048), ("lots", None), (True, None)])
def test_memory_sizes(text, megabytes):
    assert mk.memory_mb(text) == megabytes


@pytest.mark.parametrize("release, version, problem", [
    ("v1.34.0", "v1.31.0", None),
    ("v1.34.0", "1.20.0", None),
    ("v1.34.0", "v1.19.16", "older"),
    ("v1.34.0", "v1.32.0", "newer"),
    ("v1.34.0", "1.31", "not a Kubernetes version"),
    ("v1.99.0", "v1.0.0", None),  # a release the table does not know: no range to check
])
def test_version_range(release, version, problem):
    errors = mk.version_errors(release, version)
    assert (problem in errors[0]) if problem else errors == []


def test_parse_tolerates_warnings_before_the_json():
    text = "! Executing \"docker container inspect\" took an unusually long time\n" + \
        '{"Name":"dev","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}'
    assert mk.is_running(mk.parse_status(text))


@pytest.mark.parametrize("text", ["", "no json here", '{"Name": "dev"}', "[]"])
def test_parse_status_refuses_other_shapes(text):
    with pytest.raises(mk.MinikubeOutputError):
        mk.parse_status(text)


def test_images_to_load_by_id_and_name():
    archive = {"images": [{"names": ["docker.io/library/web-app:1.0"], "platform_ids": {"linux/amd64": "sha256:" + "a" * 64}}]}
    present = {"a" * 64: ["docker.io/library/web-app:1.0"]}
    assert mk.images_to_load([("/a.tar", archive)], present, "linux/amd64", normalize_reference) == []
    # The same ID under a short name counts; another ID under the name does not.
    assert mk.images_to_load([("/a.tar", archive)], {"a" * 64: ["web-app:1.0"]}, "linux/amd64", normalize_reference) == []
    assert mk.images_to_load([("/a.tar", archive)], {"b" * 64: ["docker.io/library/web-app:1.0"]}, "linux/amd64",
                             normalize_reference) == [("/a.tar", ["docker.io/library/web-app:1.0"])]
    assert mk.images_to_load([("/a.tar", archive)], {}, "linux/amd64", normalize_reference) == [
        ("/a.tar", ["docker.io/library/web-app:1.0"])]


# ---- minikube's own output (tests/unit/fixtures/minikube, sources in its SOURCES.md)

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "minikube"
RELEASES = ("v1.32.0", "v1.34.0")


def fixture(release, name):
    return (FIXTURES / release / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("release", RELEASES)
def test_profile_list_of_a_running_docker_profile(release):
    profiles = mk.parse_profiles(fixture(release, "profile_list_running.json"))
    assert len(profiles) == 1
    name, facts = next(iter(profiles.items()))
    assert facts["name"] == name and facts["valid"]
    assert (facts["driver"], facts["container_runtime"], facts["cpus"], facts["memory"]) == ("docker", "docker", 2, 4096)
    assert mk.kube_version(facts["kubernetes_version"]) and facts["ip"] == "192.168.49.2" and facts["port"] == 8443
    # v1.33 turned a running profile's status from "Running" into "OK" (the HA change): neither is read as the state.
    assert facts["status"] in ("Running", "OK")


@pytest.mark.parametrize("release", RELEASES)
def test_status_running_and_stopped(release):
    assert mk.is_running(mk.parse_status(fixture(release, "status_running.json")))
    stopped = mk.parse_status(fixture(release, "status_stopped.json"))
    assert not mk.is_running(stopped) and stopped["host"] == "Stopped"


def test_no_profile_is_an_empty_list():
    assert mk.parse_profiles(fixture("v1.34.0", "profile_list_none.json")) == {}


def test_addons_enabled_by_a_default_start():
    assert mk.parse_addons(fixture("v1.34.0", "addons_list.json")) == ["default-storageclass", "storage-provisioner"]


def test_image_ls_json_by_id():
    images = mk.parse_images(fixture("v1.34.0", "image_ls.json"))
    short = fixture("v1.34.0", "image_ls_short.txt").split()
    assert images and all(len(image_id) == 64 for image_id in images)
    assert "registry.k8s.io/pause:3.10" in [name for names in images.values() for name in names]
    assert all("/" in name for name in short)
