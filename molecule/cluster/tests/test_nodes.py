"""Nodes that come and go, on the converged cluster test_lifecycle.py leaves (pytest runs this file last).

1. A fresh node container added to the inventory as a worker: site.yml changes that host alone; the nodes already
   there keep their kubelet and runtime running (no restart), no other node joins again, one token is minted;
   a rerun changes nothing.
2. remove_node.yml -e node=<it> drains it, resets it (its CNI configuration and links go) and deletes it from the
   cluster; its rerun changes nothing.
3. remove_node.yml refuses before any change: no node named, a name the inventory lacks, a host outside the cluster
   group, the last control plane.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import CONTROL_PLANE, NODES, PROJECT, REAL_BINARIES, WORKERS, changed_total, events, host_results, node, plant_cni, run_playbook

ADDED = "cl-w3"
NETWORK = "kubelab-cluster-net"
# The node containers' capabilities, as the scenario's platforms have them (molecule.yml).
CAPABILITIES = [line for line in (PROJECT / "tests" / "images" / "node-capabilities").read_text().split("\n")
                if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def added(tmp_path_factory):
    """A fresh node container on the scenario's network (the platforms' settings) and an inventory that adds it."""
    image = os.environ.get("KUBELAB_NODE_IMAGE", "kubelab/node:debian12")
    subprocess.run(["docker", "rm", "-f", ADDED], capture_output=True, check=False)
    argv = ["docker", "run", "-d", "--name", ADDED, "--hostname", ADDED, "--network", NETWORK, "--cap-drop", "ALL"]
    for cap in CAPABILITIES:
        argv += ["--cap-add", cap]
    argv += ["--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--cgroupns", "host",
             "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "-v", "/var/lib/containerd",
             "-v", f"{PROJECT}/tests/images/node-entrypoint.sh:/usr/local/sbin/kubelab-node-entrypoint:ro",
             "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
             "-e", "KUBELAB_NODE_REAL_KUBELET=" + (os.environ.get("KUBELAB_TEST_KUBE_BIN_DIR") or "off"),
             image, "/usr/local/sbin/kubelab-node-entrypoint"]
    started = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    subprocess.run(["docker", "exec", ADDED, "systemctl", "is-system-running", "--wait"], capture_output=True, check=False)
    extra = tmp_path_factory.mktemp("inventory") / "added.yml"
    extra.write_text(json.dumps({"all": {"children": {"k8s_cluster": {"children": {"kube_workers": {"hosts": {ADDED: {
        "ansible_connection": "community.docker.docker", "ansible_python_interpreter": "/usr/bin/python3"}}}}}}}}))
    yield str(extra)
    subprocess.run(["docker", "rm", "-f", ADDED], capture_output=True, check=False)


def _started(name: str) -> str:
    return node(name).run("systemctl show -p ActiveEnterTimestampMonotonic kubelet containerd").stdout


def _registered() -> list[str]:
    listed = node(CONTROL_PLANE).run("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name")
    assert listed.rc == 0, listed.stderr
    return listed.stdout.split()


def _changed_hosts(report: dict) -> set[str]:
    return {host for host, stats in report.get("stats", {}).items() if stats.get("changed")}


def _count(host, event: str) -> int:
    return len([e for e in events(host, since_reset=False) if e["event"] == event])


def test_adding_a_worker_to_the_inventory_joins_it_alone(added):
    before = {name: _started(name) for name in NODES}
    joins = {name: _count(node(name), "join") for name in WORKERS} if not REAL_BINARIES else {}
    tokens = _count(node(CONTROL_PLANE), "token-create") if not REAL_BINARIES else 0
    rc, report, output = run_playbook("site.yml", "-i", added)
    assert rc == 0, output
    assert _changed_hosts(report) == {ADDED}, (_changed_hosts(report), output)
    joined = [result for task, result in host_results(report, ADDED) if task.endswith("Join the worker to the cluster with kubeadm")]
    assert joined and joined[0]["changed"], joined
    for name in WORKERS:
        skipped = [result for task, result in host_results(report, name) if task.endswith("Join the worker to the cluster with kubeadm")]
        assert skipped and skipped[0].get("skipped"), (name, skipped)
    assert f"node/{ADDED}" in _registered()
    assert {name: _started(name) for name in NODES} == before, "a service was restarted on a node already in the cluster"
    if not REAL_BINARIES:
        assert {name: _count(node(name), "join") for name in WORKERS} == joins, "a worker already joined joined again"
        # At most one token for the run: a live one with time left (kubeadm init's) is used, not another made.
        assert _count(node(CONTROL_PLANE), "token-create") <= tokens + 1
    rc, report, output = run_playbook("site.yml", "-i", added)
    assert rc == 0, output
    assert changed_total(report) == 0, output


def test_remove_node_drains_resets_and_deletes_it_and_reruns_clean(added):
    gone = node(ADDED)
    plant_cni(gone)
    before = {name: _started(name) for name in NODES}
    rc, report, output = run_playbook("remove_node.yml", "-i", added, "-e", f"node={ADDED}")
    assert rc == 0, output
    assert _changed_hosts(report) == {ADDED}, (_changed_hosts(report), output)
    (drain,) = [result for task, result in host_results(report, ADDED) if task.endswith("Drain the node")]
    assert drain["changed"] and f"node/{ADDED} cordoned" in drain["stdout"], drain
    assert f"node/{ADDED}" not in _registered()
    for path in ("/etc/kubernetes/kubelet.conf", "/etc/kubernetes/pki/ca.crt", "/var/lib/kubelet/config.yaml"):
        assert not gone.file(path).exists, path
    assert gone.file("/etc/cni/net.d").is_directory and not gone.file("/etc/cni/net.d").listdir()
    links = gone.run("ip -o link show").stdout
    assert " cni0:" not in links and " flannel.1:" not in links, links
    if not REAL_BINARIES:
        assert events(gone, since_reset=False)[-1]["event"] == "reset"
    # The nodes that stay were not touched, and are all still in the cluster.
    assert {name: _started(name) for name in NODES} == before
    assert all(f"node/{name}" in _registered() for name in NODES)
    rc, report, output = run_playbook("remove_node.yml", "-i", added, "-e", f"node={ADDED}")
    assert rc == 0, output
    assert changed_total(report) == 0, output
    said = [result["msg"] for task, result in host_results(report, ADDED) if task.endswith("Say what is left to do")]
    assert said and "nothing to do" in said[0], said


@pytest.mark.parametrize(("args", "expected"), [
    ((), "no node is named"),
    (("-e", "node=cl-w9"), "there is no such host in the inventory"),
    (("-e", "node=pkgrepo-cluster"), "not in the cluster group"),
    (("-e", f"node={CONTROL_PLANE}"), "the last control plane"),
])
def test_remove_node_refuses_before_any_change(args, expected):
    rc, report, output = run_playbook("remove_node.yml", *args)
    assert rc != 0, output
    failed = [result for task, result in host_results(report, "localhost") if result.get("failed")]
    assert failed and expected in failed[0]["msg"] and "Fix:" in failed[0]["msg"], output
    assert changed_total(report) == 0
    assert set(report.get("stats", {})) == {"localhost"}, "a node was contacted"
    assert all(f"node/{name}" in _registered() for name in NODES)
