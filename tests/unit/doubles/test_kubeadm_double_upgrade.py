"""`kubeadm upgrade plan|apply|node` of the kubeadm double: kubeadm's version policy and output shapes (the shapes the
collection's parser reads in real output, tests/unit/fixtures/kubeadm/upgrade_*)."""

from __future__ import annotations

import os
import time

import pytest
from kubeadm_harness import HAS_OPENSSL, client_call, cluster_to_join, fake_proc, free_port, load, run, start_apiserver

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_upgrade import (
    manifest_versions,
    parse_upgrade_plan,
    policy_errors,
)

pytestmark = pytest.mark.skipif(not HAS_OPENSSL, reason="the kubeadm double makes its CA with openssl")


@pytest.fixture
def cluster(tmp_path, control_plane):
    """A control plane the double initialized at v1.36.1, and a loader for a kubeadm double of another version."""
    _kubeadm, root = control_plane

    def at(version):
        os.environ["KUBELAB_DOUBLE_VERSION"] = version
        try:
            return load("kubeadm", root, fake_proc(tmp_path))
        finally:
            del os.environ["KUBELAB_DOUBLE_VERSION"]
    return root, at


def _manifests(root):
    return manifest_versions({name: (root / "etc/kubernetes/manifests" / (name + ".yaml")).read_text()
                              for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")})


def test_plan_text_and_json_read_by_the_collection_s_parser(cluster):
    _root, at = cluster
    kubeadm = at("v1.37.2")
    rc, out, err = run(kubeadm, "upgrade", "plan", "v1.37.2")
    assert rc == 0, err
    text = parse_upgrade_plan(out)
    assert (text["format"], text["cluster_version"], text["target_version"]) == ("text", "v1.36.1", "v1.37.2")
    assert text["control_plane"]["kube-apiserver"] == "v1.36.1" and text["apply_versions"] == ["v1.37.2"]
    assert [k["node"] for k in text["kubelets"]] == ["cp1"]
    rc, out, err = run(kubeadm, "upgrade", "plan", "v1.37.2", "-o", "json")
    assert rc == 0, err
    plan = parse_upgrade_plan(out)
    assert (plan["format"], plan["api_version"]) == ("json", "output.kubeadm.k8s.io/v1alpha3")
    assert plan["control_plane"] == text["control_plane"] and plan["kubelets"] == text["kubelets"]


def test_apply_refuses_a_skipped_minor(cluster):
    root, at = cluster
    rc, _out, err = run(at("v1.38.0"), "upgrade", "apply", "v1.38.0", "--yes")
    assert rc == 1
    assert policy_errors(err) == ['Specified version to upgrade to "v1.38.0" is too high; kubeadm can upgrade only 1 minor '
                                  'version at a time']
    assert set(_manifests(root).values()) == {"v1.36.1"}


def test_apply_below_the_cluster_s_minor_is_refused_without_force(cluster):
    root, at = cluster
    rc, _out, err = run(at("v1.36.1"), "upgrade", "apply", "v1.35.4", "--yes")
    assert rc == 1 and "Can be bypassed if you pass the --force flag" in err
    assert policy_errors(err) == ["Kubeadm version v1.36.1 can only be used to upgrade to Kubernetes version 1.36"]
    assert set(_manifests(root).values()) == {"v1.36.1"}


def test_apply_with_an_older_kubeadm_than_the_target_is_refused(cluster):
    _root, at = cluster
    rc, _out, err = run(at("v1.36.1"), "upgrade", "apply", "v1.37.0", "--yes")
    assert rc == 1 and "at least one minor release higher than the kubeadm minor release (37 > 36)" in err


def test_apply_moves_the_control_plane_and_a_rerun_changes_nothing(cluster):
    root, at = cluster
    kubeadm = at("v1.37.2")
    rc, out, err = run(kubeadm, "upgrade", "apply", "v1.37.2", "--yes")
    assert rc == 0, err
    assert '[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.37.2".' in out
    assert set(_manifests(root).values()) == {"v1.37.2"}
    rc, out, _err = run(kubeadm, "upgrade", "plan", "v1.37.2", "-o", "json")
    plan = parse_upgrade_plan(out)
    assert plan["cluster_version"] == "v1.37.2" and plan["control_plane"]["kube-proxy"] == "v1.37.2"
    # upgrade node on the node apply already upgraded: every static pod is equal, nothing moves.
    before = {p.name: p.stat().st_mtime_ns for p in (root / "etc/kubernetes/manifests").iterdir()}
    rc, out, err = run(kubeadm, "upgrade", "node")
    assert rc == 0, err
    assert out.count("are equal, skipping upgrade") == 3
    assert {p.name: p.stat().st_mtime_ns for p in (root / "etc/kubernetes/manifests").iterdir()} == before


def test_apply_without_yes_asks_and_stops_on_no(cluster, monkeypatch):
    root, at = cluster
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("n\n"))
    rc, out, err = run(at("v1.37.2"), "upgrade", "apply", "v1.37.2")
    assert rc == 1 and "Are you sure you want to proceed? [y/N]" in out and "won't proceed" in err
    assert set(_manifests(root).values()) == {"v1.36.1"}


def test_upgrade_node_on_a_worker_needs_its_kubelet_conf(tmp_path):
    worker = load("kubeadm", tmp_path / "worker", fake_proc(tmp_path))
    rc, _out, err = run(worker, "upgrade", "node")
    assert rc == 1 and "/etc/kubernetes/kubelet.conf: no such file or directory" in err
    (tmp_path / "worker/etc/kubernetes").mkdir(parents=True)
    (tmp_path / "worker/etc/kubernetes/kubelet.conf").write_text("apiVersion: v1\n")
    rc, out, err = run(worker, "upgrade", "node")
    assert rc == 0 and "Skipping phase. Not a control plane node." in out, err


def test_the_api_server_reports_the_applied_version_and_each_kubelet_s_own(cluster):
    """The API-server double of the node: /version follows upgrade apply (the state), a Node's kubeletVersion what its
    kubelet posted (else the control plane's), and a cordon survives the double's refresh of the Node."""
    root, at = cluster
    port = free_port()
    server = start_apiserver(port, dict(os.environ))
    endpoint, k8s = f"127.0.0.1:{port}", root / "etc/kubernetes"
    try:
        assert client_call(endpoint, k8s / "admin.conf", "GET", "/version")[1]["gitVersion"] == "v1.36.1"
        rc, _out, err = run(at("v1.37.2"), "upgrade", "apply", "v1.37.2", "--yes")
        assert rc == 0, err
        assert client_call(endpoint, k8s / "admin.conf", "GET", "/version")[1]["gitVersion"] == "v1.37.2"
        # The double refreshes its Nodes from the kubeadm double's state on its controllers' tick: read until it has.
        deadline = time.monotonic() + 10
        while True:
            node = client_call(endpoint, k8s / "admin.conf", "GET", "/api/v1/nodes/cp1")[1]
            if node["status"]["nodeInfo"]["kubeletVersion"] == "v1.37.2" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.37.2"
        code, _node = client_call(endpoint, k8s / "kubelet.conf", "PATCH", "/api/v1/nodes/cp1/status",
                                  {"status": {"nodeInfo": {"kubeletVersion": "v1.36.1"}}},
                                  ctype="application/strategic-merge-patch+json")
        assert code == 200
        code, _node = client_call(endpoint, k8s / "admin.conf", "PATCH", "/api/v1/nodes/cp1", {"spec": {"unschedulable": True}},
                                  ctype="application/strategic-merge-patch+json")
        assert code == 200
        node = client_call(endpoint, k8s / "admin.conf", "GET", "/api/v1/nodes/cp1")[1]
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.36.1" and node["spec"]["unschedulable"] is True
    finally:
        server.kill()
        server.wait()


def test_upgrade_node_on_another_control_plane_moves_its_static_pods_to_the_cluster_s_version(tmp_path, cri_socket):
    """A control plane joined through the endpoint keeps no cluster state: `upgrade node` there takes the version apply
    set from the cluster (kubeadm: the kubeadm-config ConfigMap; the double: /version of admin.conf's server)."""
    with cluster_to_join(tmp_path, cri_socket) as (_kubeadm, root, endpoint, key, token, ca_hash, joiner, joiner_root):
        rc, _out, err = run(joiner, "join", endpoint, "--token", token, "--discovery-token-ca-cert-hash", ca_hash,
                            "--node-name", "cp2", "--cri-socket", cri_socket, "--control-plane", "--certificate-key", key)
        assert rc == 0, err
        assert set(_manifests(joiner_root).values()) == {"v1.36.1"}
        # Before apply: the cluster is at v1.36.1, every static pod is equal.
        rc, out, err = run(joiner, "upgrade", "node")
        assert rc == 0 and out.count("are equal, skipping upgrade") == 3, err
        os.environ["KUBELAB_DOUBLE_ROOT"] = str(root)
        os.environ["KUBELAB_DOUBLE_VERSION"] = "v1.37.2"
        try:
            first = load("kubeadm", root, fake_proc(tmp_path))
        finally:
            del os.environ["KUBELAB_DOUBLE_VERSION"]
        rc, _out, err = run(first, "upgrade", "apply", "v1.37.2", "--yes")
        assert rc == 0, err
        os.environ["KUBELAB_DOUBLE_ROOT"] = str(joiner_root)
        rc, out, err = run(joiner, "upgrade", "node")
        assert rc == 0, err
        assert "The control plane instance for this node was successfully upgraded!" in out
        assert set(_manifests(joiner_root).values()) == {"v1.37.2"}
        rc, out, err = run(joiner, "upgrade", "node")
        assert rc == 0 and out.count("are equal, skipping upgrade") == 3, err
    # Without the cluster it cannot read the version: refused, nothing moved.
    rc, _out, err = run(joiner, "upgrade", "node")
    assert rc == 1 and "unable to fetch the kubeadm-config ConfigMap" in err
    assert set(_manifests(joiner_root).values()) == {"v1.37.2"}
