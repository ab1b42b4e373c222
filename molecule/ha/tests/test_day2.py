"""Day two on the HA cluster, as side_effect.yml ran it (its records are in the scenario's ephemeral directory).

1. certs.yml -e certs_renew_below_days=30 over the three control planes, each API server certificate aged to 10 days
   first: on every control plane every leaf certificate's notAfter moved later (read with openssl, before and after),
   the CAs stayed, the static pod manifests went aside and came back; the same command again changed nothing.
2. remove_node.yml -e node=ha-cp3: the Node is gone, kubeadm reset ran there and emptied its etcd data directory
   (the remove-etcd-member phase's trace on the node), /etc/kubernetes is clean; the others and the endpoint still
   serve; a rerun changed nothing.

kubeadm, kubectl and the API server are the TEST DOUBLES of tests/doubles: no etcd runs, so the double keeps no etcd
member list and the member's removal from the cluster (what kubeadm reset asks of the other members) is not shown.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib

import pytest
import testinfra

CONTROL_PLANES = ("ha-cp1", "ha-cp2", "ha-cp3")
REMOVED = "ha-cp3"
REMAINING = ("ha-cp1", "ha-cp2", "ha-w1")
CAS = ("pki/ca.crt", "pki/front-proxy-ca.crt", "pki/etcd/ca.crt")
MANIFESTS = ["etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"]
RENEW_TASK = "Read the certificates' expiry, renew them when one is below the threshold"
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])


def node(name):
    return testinfra.get_host(f"docker://{name}")


def record(name: str):
    return json.loads((EPHEMERAL / name).read_text(encoding="utf-8"))


def expiries(lines: list) -> dict:
    """{file: notAfter} from record_certs.yml's "file=Mon DD HH:MM:SS YYYY GMT" lines."""
    pairs = (line.split("=", 1) for line in lines)
    return {name: datetime.datetime.strptime(value, "%b %d %H:%M:%S %Y %Z") for name, value in pairs}


def results(report: dict, host: str, task_end: str) -> list:
    """The results of the tasks whose name ends with task_end, on host (role tasks are named "<role> : <name>")."""
    return [task["hosts"][host] for play in report["plays"] for task in play["tasks"]
            if task["task"]["name"].endswith(task_end) and host in task["hosts"]]


def changed(report: dict) -> dict:
    return {host: stats["changed"] for host, stats in report["stats"].items()}


@pytest.mark.parametrize("name", CONTROL_PLANES)
def test_certs_renewed_every_certificate_of_each_control_plane(name):
    before, after = expiries(record("certs-before.json")[name]), expiries(record("certs-after.json")[name])
    assert sorted(before) == sorted(after) and len(before) >= 13, before
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert (before["pki/apiserver.crt"] - now).days < 10 and (after["pki/apiserver.crt"] - now).days >= 364
    for file in before:
        if file in CAS:
            assert after[file] == before[file], file
        else:
            assert after[file] > before[file], file
    # kubeadm init alone writes super-admin.conf; on a joined control plane its absence is no error.
    assert ("super-admin.conf" in before) == (name == "ha-cp1")
    [result] = results(record("certs-1.json"), name, RENEW_TASK)
    assert result["changed"] and result["renewed"] == ["apiserver"] and result["blocked"] == [], result["report"]


@pytest.mark.parametrize("name", CONTROL_PLANES)
def test_certs_restarted_the_static_pods_the_kubeadm_way(name):
    report = record("certs-1.json")
    for task in ("Move the manifests out of the kubelet's directory", "Move the manifests back"):
        [moved] = results(report, name, task)
        assert sorted(item["item"]["path"].rsplit("/", 1)[1] for item in moved["results"]) == MANIFESTS, task
    if name != REMOVED:  # ha-cp3's are gone with its reset
        for manifest in MANIFESTS:
            assert node(name).file(f"/etc/kubernetes/manifests/{manifest}").exists, manifest
        assert node(name).run("ls -A /etc/kubernetes/kubelab-certs-restart").stdout.strip() == ""


def test_certs_rerun_with_the_same_threshold_changed_nothing():
    assert changed(record("certs-1.json"))["ha-cp1"] > 0
    assert set(changed(record("certs-2.json")).values()) == {0}, changed(record("certs-2.json"))
    for name in CONTROL_PLANES:
        [result] = results(record("certs-2.json"), name, RENEW_TASK)
        assert result["renewed"] == [], name


def test_remove_node_took_ha_cp3_out_of_the_cluster():
    listed = json.loads(node("ha-cp1").check_output("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"))
    assert sorted(item["metadata"]["name"] for item in listed["items"]) == sorted(REMAINING)
    report = record("remove-1.json")
    for task in ("Drain the node", "Run kubeadm reset", "Delete the node from the cluster"):
        [result] = results(report, REMOVED, task)
        assert result["changed"], task
    # What the kubeadm double's reset did on ha-cp3: the etcd data directory it found was emptied (and then removed).
    host = node(REMOVED)
    resets = [json.loads(line) for line in host.file("/var/log/kubelab-doubles/kubeadm.log").content_string.splitlines()
              if '"reset"' in line]
    assert len(resets) == 1 and resets[0]["etcd_data_removed"] is True, resets
    assert not host.file("/var/lib/etcd").exists
    left = host.run("find /etc/kubernetes -mindepth 1 -not -type d").stdout.split()
    assert left == [], left


def test_the_other_nodes_and_the_endpoint_still_serve():
    # ha-cp2's admin.conf names the endpoint: kubectl there goes through the load balancer to an API server that stays.
    listed = json.loads(node("ha-cp2").check_output("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"))
    ready = {item["metadata"]["name"]: [c["status"] for c in item["status"]["conditions"] if c["type"] == "Ready"]
             for item in listed["items"]}
    assert ready == {name: ["True"] for name in REMAINING}, ready
    for name in REMAINING:
        assert node(name).service("kubelet").is_running, name
    assert not node(REMOVED).service("kubelet").is_running


def test_remove_node_rerun_changed_nothing():
    report = record("remove-2.json")
    assert set(changed(report).values()) == {0}, changed(report)
    [said] = results(report, REMOVED, "Say what is left to do")
    assert "nothing to do" in said["msg"]
