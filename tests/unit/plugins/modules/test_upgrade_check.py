"""kubelab.cluster.upgrade_check against the API-server TEST DOUBLE (tests/doubles/apiserver, v1.36.1, nodes node1 and a
control plane cp1): the version-step rules on what the cluster reports, and the server-side dry run of the drains
(its eviction subresource honours PodDisruptionBudgets as the eviction API does)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time

import pytest
from kubernetes import config as k8s_config
from kubernetes.dynamic import DynamicClient

from ansible_collections.kubelab.cluster.plugins.modules import upgrade_check

from .conftest import call_main

DOUBLE = pathlib.Path(__file__).resolve().parents[4] / "tests" / "doubles" / "apiserver" / "apiserver.py"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("upgrade-check")
    kubeconfig = base / "kubeconfig.yaml"
    (base / "images").write_text("docker.io/library/web-app:1.0\n")
    with open(base / "double.log", "w") as log:
        proc = subprocess.Popen([sys.executable, str(DOUBLE), "--listen", "127.0.0.1:0", "--kubeconfig", str(kubeconfig),
                                 "--nodes", "node1=127.0.0.1,cp1=127.0.0.2:control-plane", "--images-command",
                                 "cat %s/images" % base, "--time-scale", "0.02"], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 15
            while not kubeconfig.exists() and time.time() < deadline:
                time.sleep(0.05)
            assert kubeconfig.exists(), (base / "double.log").read_text()
            client = DynamicClient(k8s_config.new_client_from_config(str(kubeconfig)))
            client.resources.get(api_version="apps/v1", kind="Deployment").create(namespace="default", body={
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "web-app:1.0"}]}}}})
            pods = client.resources.get(api_version="v1", kind="Pod")
            deadline = time.time() + 15
            while time.time() < deadline:
                items = pods.get(namespace="default", label_selector="app=web").to_dict()["items"]
                ready = [p for p in items if any(c["type"] == "Ready" and c["status"] == "True"
                                                 for c in (p.get("status") or {}).get("conditions") or [])]
                if len(ready) == 2:
                    break
                time.sleep(0.05)
            yield str(kubeconfig), client
        finally:
            proc.terminate()
            proc.wait(10)


def _check(monkeypatch, kubeconfig, target, **args):
    return call_main(monkeypatch, upgrade_check, dict({"target": target, "nodes": ["cp1", "node1"], "kubeconfig": kubeconfig}, **args))


def _budget(client, min_available):
    pdbs = client.resources.get(api_version="policy/v1", kind="PodDisruptionBudget")
    body = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "web"}}}}
    try:
        pdbs.get(namespace="default", name="web")
        pdbs.patch(namespace="default", name="web", body={"spec": {"minAvailable": min_available}})
    except Exception:  # pylint: disable=broad-except  # not there yet
        pdbs.create(namespace="default", body=body)


def test_a_skipped_minor_and_a_downgrade_are_refused_naming_the_versions(cluster, monkeypatch):
    kubeconfig, _client = cluster
    result, failed = _check(monkeypatch, kubeconfig, "1.38")
    assert failed and "skips 1.37" in result["msg"] and "v1.36.1" in result["msg"]
    assert result["evicted"] == {}, "nothing is dry-run once the versions are refused"
    result, failed = _check(monkeypatch, kubeconfig, "1.35")
    assert failed and "below the cluster's version v1.36.1" in result["msg"]


def test_a_budget_that_allows_no_disruption_stops_the_upgrade_naming_the_pods(cluster, monkeypatch):
    kubeconfig, client = cluster
    _budget(client, 2)
    result, failed = _check(monkeypatch, kubeconfig, "1.37")
    assert failed, result
    assert result["cluster_version"] == "v1.36.1" and result["drained"] == ["cp1", "node1"]
    assert len(result["evicted"]["node1"]) == 2 and result["evicted"]["cp1"] == []
    assert [item["pod"] for item in result["blocked"]["node1"]] == result["evicted"]["node1"]
    assert "node1: pod default/web-" in result["msg"] and "disruption budget" in result["msg"]
    # report_only (the delete fallback): the same pods, no failure.
    result, failed = _check(monkeypatch, kubeconfig, "1.37", report_only=True)
    assert not failed and result["blocked"]["node1"]
    # The dry run evicted nothing.
    pods = client.resources.get(api_version="v1", kind="Pod").get(namespace="default", label_selector="app=web").to_dict()["items"]
    assert sorted("default/" + p["metadata"]["name"] for p in pods) == result["evicted"]["node1"]


def test_a_budget_with_room_lets_the_upgrade_go(cluster, monkeypatch):
    kubeconfig, client = cluster
    _budget(client, 1)
    result, failed = _check(monkeypatch, kubeconfig, "1.37")
    assert not failed, result.get("msg")
    assert result["blocked"] == {} and result["changed"] is False
    assert result["nodes"]["node1"] == {"kubelet_version": "v1.36.1", "unschedulable": False, "upgrading": None}


def test_an_unknown_node_is_named(cluster, monkeypatch):
    kubeconfig, _client = cluster
    result, failed = call_main(monkeypatch, upgrade_check, {"target": "1.37", "nodes": ["w9"], "kubeconfig": kubeconfig})
    assert failed and "the cluster has no Node w9" in result["msg"]


def _installed(kubeadm, kubelet):
    return {"node1": {name: {"installed": True, "version": version, "held": True}
                      for name, version in (("kubeadm", kubeadm), ("kubelet", kubelet))}}


def test_with_the_installed_packages_it_decides_what_is_left_and_checks_nothing(cluster, monkeypatch):
    kubeconfig, client = cluster
    # A budget that blocks every drain: the check would fail; deciding what is left makes no dry run.
    _budget(client, 2)
    result, failed = _check(monkeypatch, kubeconfig, "1.37", installed=_installed("1.37.1-1.1", "1.36.1-1.1"))
    assert not failed, result.get("msg")
    assert result["target"] == "v1.37.1" and result["snapshot"] is True and result["evicted"] == {}
    assert result["nodes"]["node1"]["pending"] is True and result["nodes"]["node1"]["restart"] is True
    assert "pending" not in result["nodes"]["cp1"], "only the nodes whose packages were given are decided"
    # At the cluster's own version with the kubelet package there: nothing left, no snapshot.
    result, failed = _check(monkeypatch, kubeconfig, "1.36", installed=_installed("1.36.1-1.1", "1.36.1-1.1"))
    assert not failed and result["snapshot"] is False
    assert result["nodes"]["node1"] == {"kubelet_version": "v1.36.1", "unschedulable": False, "upgrading": None,
                                        "kubelet_package_at_target": True, "restart": False, "pending": False}
    _budget(client, 1)


def test_without_kubeadm_installed_it_says_so(cluster, monkeypatch):
    kubeconfig, _client = cluster
    result, failed = _check(monkeypatch, kubeconfig, "1.37", installed=_installed("", "1.36.1-1.1"))
    assert failed and "no kubeadm package at a Kubernetes version on node1" in result["msg"]
