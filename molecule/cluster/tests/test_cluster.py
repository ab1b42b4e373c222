"""The converged 3-node lab: one kubeadm init, workers joined with a listed token and
the real CA hash, the pod network applied with the cluster's pod CIDR, kubeconfigs in place."""

from __future__ import annotations

import datetime
import json
import os
import re
import stat
import subprocess

import pytest
import yaml
from conftest import (
    CONTROL_PLANE,
    DOUBLES_ONLY,
    NODES,
    PROJECT,
    REAL_BINARIES,
    WORKERS,
    ca_hash,
    changed_total,
    doctor_tables,
    events,
    host_results,
    kubeconfig_dest,
    node,
    run_playbook,
)


@pytest.mark.skipif(REAL_BINARIES, reason=DOUBLES_ONLY)
def test_kubeadm_init_ran_exactly_once(control_plane):
    inits = [e for e in events(control_plane) if e["event"] == "init"]
    assert len(inits) == 1, inits
    assert inits[0]["node"] == CONTROL_PLANE
    assert inits[0]["ca_cert_hash"] == ca_hash(control_plane)
    for name in WORKERS:
        assert not [e for e in events(node(name)) if e["event"] == "init"], f"kubeadm init ran on {name}"


def _tokens(control_plane):
    listed = control_plane.run("kubeadm token list -o json --kubeconfig /etc/kubernetes/admin.conf")
    assert listed.rc == 0, listed.stderr
    return json.loads("[" + re.sub(r"}\s*{", "},{", listed.stdout) + "]") if listed.stdout.strip() else []


def test_one_short_lived_token_exists_and_it_is_ours(control_plane):
    """kubeadm init's own token is the collection's (2h, our description): the workers reuse it, nothing else lives."""
    tokens = _tokens(control_plane)
    assert [t.get("description") for t in tokens] == ["kubelab.cluster join token"], tokens
    created = datetime.datetime.fromisoformat(tokens[0]["expires"].replace("Z", "+00:00"))
    assert created - datetime.datetime.now(datetime.timezone.utc) <= datetime.timedelta(hours=2)
    if not REAL_BINARIES:
        assert not [e for e in events(control_plane) if e["event"] == "token-create"], "init's token was not reused"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_joined_with_a_listed_token_and_the_real_ca_hash(control_plane, name):
    if not REAL_BINARIES:
        joins = [e for e in events(node(name)) if e["event"] == "join"]
        assert len(joins) == 1, joins
        assert joins[0]["token_id"] in [t["token"].split(".")[0] for t in _tokens(control_plane)]
        assert joins[0]["ca_cert_hash"] == ca_hash(control_plane)
    assert ca_hash(node(name)) == ca_hash(control_plane)
    kubelet_conf = node(name).file("/etc/kubernetes/kubelet.conf")
    assert kubelet_conf.exists and kubelet_conf.mode == 0o600
    assert f"server: https://{control_plane.interface('eth0').addresses[0]}:6443" in kubelet_conf.content_string


def test_every_node_is_registered(control_plane):
    listed = control_plane.run("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json")
    assert listed.rc == 0, listed.stderr
    assert sorted(i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]) == sorted(NODES)


def test_pod_network_uses_the_cluster_pod_cidr(control_plane):
    manifest = control_plane.file("/etc/kubernetes/manifests/kube-controller-manager.yaml").content_string
    cidr = re.search(r"--cluster-cidr=(\S+)", manifest).group(1)
    assert cidr == "10.244.0.0/16"
    flannel = control_plane.file("/etc/kubernetes/cni-flannel.yaml").content_string
    assert f'"Network": "{cidr}"' in flannel
    if REAL_BINARIES:
        assert control_plane.run("kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-flannel get daemonset "
                                 "kube-flannel-ds").rc == 0
    else:
        state = json.loads(control_plane.file("/etc/kubernetes/kubelab-double-state.json").content_string)
        assert "apps/DaemonSet/kube-flannel/kube-flannel-ds" in state["objects"]


def test_kubeadm_config_follows_the_release(control_plane):
    config = control_plane.file("/etc/kubernetes/kubeadm-config.yaml")
    assert config.mode == 0o600
    docs = {doc["kind"]: doc for doc in yaml.safe_load_all(config.content_string) if doc}
    assert docs["InitConfiguration"]["apiVersion"] == docs["ClusterConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert docs["KubeletConfiguration"]["cgroupDriver"] == "systemd"
    assert docs["ClusterConfiguration"]["kubernetesVersion"] == "v1.36.1"


def test_kubeadm_config_documents_include_the_scenario_kube_proxy_settings(control_plane):
    docs = list(yaml.safe_load_all(control_plane.file("/etc/kubernetes/kubeadm-config.yaml").content_string))
    kinds = [doc["kind"] for doc in docs if doc]
    assert kinds == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration", "KubeProxyConfiguration"], kinds
    proxy = docs[kinds.index("KubeProxyConfiguration")]
    assert proxy["apiVersion"] == "kubeproxy.config.k8s.io/v1alpha1"
    assert proxy["conntrack"] == {"maxPerCore": 0}


def test_cgroup_v1_nodes_are_allowed_as_upstream_documents(control_plane):
    """1.36 on cgroup v1: failCgroupV1 false for the cluster, SystemVerification skipped only on v1 nodes."""
    docs = list(yaml.safe_load_all(control_plane.file("/etc/kubernetes/kubeadm-config.yaml").content_string))
    kubelet = next(doc for doc in docs if doc and doc["kind"] == "KubeletConfiguration")
    assert kubelet["failCgroupV1"] is False
    for name in [] if REAL_BINARIES else NODES:  # the double's event log records the skipped checks
        host = node(name)
        cgroup_v1 = not host.file("/sys/fs/cgroup/cgroup.controllers").exists
        record = next(e for e in reversed(events(host)) if e["event"] in ("init", "join"))
        assert ("systemverification" in record["ignored_preflight"]) is cgroup_v1, (name, record)


def test_admin_user_has_the_admin_kubeconfig(control_plane):
    """The control plane is reached over SSH as kubelab with sudo: by default kubelab, not root, gets the kubeconfig."""
    kube_dir = control_plane.file("/home/kubelab/.kube")
    assert kube_dir.is_directory and kube_dir.user == "kubelab" and kube_dir.mode == 0o700
    config = control_plane.file("/home/kubelab/.kube/config")
    assert config.exists and config.mode == 0o600 and config.user == "kubelab" and config.group == "kubelab"
    assert config.content_string == control_plane.file("/etc/kubernetes/admin.conf").content_string
    assert not control_plane.file("/root/.kube/config").exists, "the kubeconfig went to root, not the login user"
    # kubelab uses it as the walkthrough's user would: plain kubectl, its own ~/.kube/config.
    used = control_plane.run("runuser -u kubelab -- env HOME=/home/kubelab kubectl get nodes -o name")
    assert used.rc == 0, used.stderr
    assert sorted(used.stdout.split()) == sorted(f"node/{n}" for n in NODES)


def test_controller_kubeconfig_is_private_and_reaches_the_cluster(control_plane):
    """The default destination: artifacts/ beside the inventory (never inside the collection), 0700 and 0600."""
    dest = kubeconfig_dest()
    assert dest.exists(), f"no admin kubeconfig at {dest}"
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert not (PROJECT / "playbooks" / "artifacts").exists()
    address = control_plane.interface("eth0").addresses[0]
    assert re.search(rf"^\s*server: https://{re.escape(address)}:6443$", dest.read_text(), re.M)
    # kubectl (the test double verifies the server against the CA in the kubeconfig too) from the controller.
    kubectl = (os.path.join(os.environ["KUBELAB_TEST_KUBE_BIN_DIR"], "kubectl") if REAL_BINARIES
               else str(PROJECT / "tests/doubles/bin/kubectl"))
    result = subprocess.run([kubectl, "--kubeconfig", str(dest),
                             "get", "nodes", "-o", "name"], capture_output=True, text=True, check=False, timeout=30)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(f"node/{n}" for n in NODES)


def test_api_server_is_live(control_plane):
    answer = control_plane.run("curl -sk https://127.0.0.1:6443/livez")
    assert answer.rc == 0 and answer.stdout.strip() == "ok"


@pytest.mark.skipif(not REAL_BINARIES, reason="test doubles: no real API server, kubelet or CoreDNS to check")
def test_real_cluster_nodes_ready_and_coredns_running(control_plane):
    nodes = json.loads(control_plane.check_output("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"))
    ready = {i["metadata"]["name"]: any(c["type"] == "Ready" and c["status"] == "True"
                                        for c in i["status"]["conditions"]) for i in nodes["items"]}
    assert ready == {n: True for n in NODES}
    pods = json.loads(control_plane.check_output(
        "kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system get pods -l k8s-app=kube-dns -o json"))
    assert pods["items"] and all(p["status"]["phase"] == "Running" for p in pods["items"])


def test_preflight_playbook_reports_every_node_and_changes_nothing(control_plane):
    watched = ["/etc/kubernetes/admin.conf", "/etc/kubernetes/manifests/kube-apiserver.yaml"]
    watched += [] if REAL_BINARIES else ["/etc/kubernetes/kubelab-double-state.json"]
    before = [control_plane.file(path).sha256sum for path in watched]
    rc, report, output = run_playbook("preflight.yml")
    # A built cluster is fit: every node in the cluster, nothing that would stop a rerun of site.yml.
    assert rc == 0, output
    assert changed_total(report) == 0
    tables = doctor_tables(report)
    assert set(tables) == set(NODES), tables
    for name, rows in tables.items():
        assert {"os", "cpus/memory", "swap", "kernel modules", "kernel parameters", "cgroup", "time sync",
                "runtime socket", "port 10250", "unique node", "kubeadm preflight"} <= set(rows), (name, rows)
        assert not [check for check, (result, _detail) in rows.items() if result == "FAIL"], (name, rows)
        assert rows["kubeadm preflight"][1].startswith("in the cluster already"), rows
        assert rows["port 10250"][1].startswith("in use by the cluster") or rows["port 10250"][1] == "free", rows
    assert tables[CONTROL_PLANE]["port 6443"][1].startswith("in use by the cluster"), tables[CONTROL_PLANE]
    assert "port 30000-32767" in tables["cl-w1"]
    assert [control_plane.file(path).sha256sum for path in watched] == before


def test_a_setting_the_running_cluster_cannot_take_is_reported_not_written(control_plane):
    config = "/etc/kubernetes/kubeadm-config.yaml"
    before = control_plane.file(config).sha256sum
    rc, report, output = run_playbook("site.yml", "-e", "control_plane_pod_subnet=10.245.0.0/16")
    assert rc == 0, output
    assert changed_total(report) == 0, "the run changed something for a setting that cannot apply"
    warnings = [result["msg"] for task, result in host_results(report, CONTROL_PLANE)
                if task.endswith("Report settings the running control plane does not have")]
    assert warnings, output
    text = " ".join(warnings[0])
    assert "control_plane_pod_subnet is 10.245.0.0/16, but the cluster runs 10.244.0.0/16" in text, text
    assert "reset.yml" in text, text
    assert control_plane.file(config).sha256sum == before, "the kubeadm config was rewritten as if it applied"
