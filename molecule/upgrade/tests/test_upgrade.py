"""The upgrade scenario's verify: after side_effect.yml (upgrade.yml 1.35 -> 1.36, interrupted once, resumed,
rerun at the target), every node runs 1.36 with its packages held, the control plane serves 1.36, both control planes'
static pods run 1.36 (kubeadm upgrade apply on up-cp1, kubeadm upgrade node on up-cp2), containerd names the new
release's pause image, and every Node is back in service. The nodes are the test doubles' (tests/doubles): see molecule.yml."""

from __future__ import annotations

import json
import re

import pytest
import testinfra

CONTROL_PLANE = "up-cp1"
CONTROL_PLANES = (CONTROL_PLANE, "up-cp2")
NODES = CONTROL_PLANES + ("up-w1",)
TARGET = "1.36.1"
ADMIN = "kubectl --kubeconfig /etc/kubernetes/admin.conf"


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


@pytest.mark.parametrize("name", NODES)
def test_kubernetes_packages_at_the_target_and_held(name):
    host = node(name)
    for package in ("kubeadm", "kubelet", "kubectl"):
        assert host.package(package).version == f"{TARGET}-1.1", (name, package)
    held = host.run("apt-mark showhold").stdout.split()
    assert {"kubeadm", "kubelet", "kubectl"} <= set(held), (name, held)


@pytest.mark.parametrize("name", NODES)
def test_binaries_report_the_target(name):
    host = node(name)
    assert host.check_output("kubeadm version -o short") == f"v{TARGET}"
    assert host.check_output("kubelet --version") == f"Kubernetes v{TARGET}"


def test_api_server_serves_the_target():
    answer = node(CONTROL_PLANE).run("curl -sk https://127.0.0.1:6443/version")
    assert answer.rc == 0, answer.stderr
    assert json.loads(answer.stdout)["gitVersion"] == f"v{TARGET}"


@pytest.mark.parametrize("name", CONTROL_PLANES)
def test_static_pods_run_the_target(name):
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        manifest = node(name).file(f"/etc/kubernetes/manifests/{component}.yaml").content_string
        assert f"{component}:v{TARGET}" in manifest, (name, component)


def test_the_second_control_plane_ran_kubeadm_upgrade_node():
    """The kubeadm double's event log on up-cp2: one upgrade-node, by the resumed run (the rerun ran none)."""
    events = [json.loads(line)["event"] for line in
              node("up-cp2").file("/var/log/kubelab-doubles/kubeadm.log").content_string.splitlines()]
    assert events.count("upgrade-node") == 1, events


@pytest.mark.parametrize("name", NODES)
def test_containerd_names_the_pause_image_of_the_target(name):
    config = node(name).file("/etc/containerd/config.toml").content_string
    assert re.findall(r"/pause:([0-9.]+)[\"']", config) == ["3.10.1"], name


def test_nodes_uncordoned_ready_at_the_target_and_unmarked():
    listed = node(CONTROL_PLANE).run(f"{ADMIN} get nodes -o json")
    assert listed.rc == 0, listed.stderr
    items = {item["metadata"]["name"]: item for item in json.loads(listed.stdout)["items"]}
    assert sorted(items) == sorted(NODES)
    for name, item in items.items():
        assert not item["spec"].get("unschedulable"), f"{name} is still cordoned"
        assert "kubelab.cluster/upgrade" not in (item["metadata"].get("annotations") or {}), name
        assert item["status"]["nodeInfo"]["kubeletVersion"] == f"v{TARGET}", name
        ready = [c["status"] for c in item["status"]["conditions"] if c["type"] == "Ready"]
        assert ready == ["True"], (name, item["status"]["conditions"])
