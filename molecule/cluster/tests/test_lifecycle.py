"""Failure cases the roles must not paper over, reset and a fresh converge.

Runs after test_cluster.py (pytest orders files by name) and leaves a converged cluster:
1. reset.yml refuses to run without kubelab_reset_confirm, then returns every node to its
   pre-init state;
2. a stray listener on 6443 stops site.yml at kubeadm init with kubeadm's Port-6443 error as
   data, and nothing is half-done;
3. a worker carrying another cluster's kubelet.conf fails to join clearly (not skipped) and
   keeps its file; the other worker joins;
4. after resetting that worker, a fresh site.yml converges;
5. a kubeadm init killed half-way (the kubeadm test double's interruption hook) is finished by the
   rerun, the run waits for every node to be Ready, and a further rerun changes nothing;
6. with cni_plugin none a fresh site.yml ends with the cluster built, NotReady nodes, one message
   and no wait for Ready;
7. a fresh site.yml at -vvv, with certificate upload, prints no bootstrap token and no certificate key
   (and leaves the cluster converged with its pod network);
8. control_plane_image_archives with images the node has already copies and imports nothing.
"""

from __future__ import annotations

import glob
import json
import os
import re

import pytest
from conftest import (
    CONTROL_PLANE,
    NODES,
    PROJECT,
    REAL_BINARIES,
    WORKERS,
    bash,
    ca_hash,
    changed_total,
    doctor_tables,
    events,
    host_results,
    node,
    plant_cni,
    run_playbook,
    run_playbook_log,
)

KUBEADM_FILES = (
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
    "/etc/kubernetes/pki/ca.crt",
    "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "/etc/kubernetes/manifests/etcd.yaml",
    "/var/lib/etcd",
    "/var/lib/kubelet/config.yaml",
    "/etc/kubernetes/kubeadm-config.yaml",
    "/root/.kube/config",
)


def assert_pre_init(name: str) -> None:
    host = node(name)
    left = [path for path in KUBEADM_FILES if host.file(path).exists]
    assert not left, f"{name} still has {left}"
    # The CNI directory stays (containerd watches it), empty.
    assert host.file("/etc/cni/net.d").is_directory and not host.file("/etc/cni/net.d").listdir(), name
    assert not host.socket("tcp://0.0.0.0:6443").is_listening
    assert not host.file("/etc/systemd/system/kubelab-double-apiserver.service").exists


def failed_results(report: dict, name: str) -> list[tuple[str, dict]]:
    return [(task, result) for task, result in host_results(report, name) if result.get("failed")]


def test_reset_refuses_without_confirmation():
    rc, report, output = run_playbook("reset.yml")
    assert rc != 0, output
    failures = failed_results(report, CONTROL_PLANE)
    assert failures and "kubelab_reset_confirm=true" in failures[0][1]["msg"]
    assert node(CONTROL_PLANE).file("/etc/kubernetes/admin.conf").exists


# What kube-proxy and flannel add to a node's firewall beside the CNI's files and links (plant_cni), and the host's
# own rule (and Docker's, on real hosts) that reset must keep.
PLANT_RULES = r"""
iptables -N KUBE-KUBELAB-TEST
iptables -A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-KUBELAB-TEST
iptables -t nat -N FLANNEL-KUBELAB-TEST
iptables -t nat -A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-KUBELAB-TEST
iptables -A INPUT -s 198.51.100.7/32 -m comment --comment kubelab-test-host-rule -j DROP
"""


def _runtime_started(host) -> str:
    return host.run("systemctl show -p ActiveEnterTimestampMonotonic --value containerd").stdout.strip()


def test_reset_returns_every_node_to_its_pre_init_state():
    before = {}
    for name in NODES:
        host = node(name)
        plant_cni(host, PLANT_RULES)
        before[name] = (host.run("stat -c %i /etc/cni/net.d").stdout.strip(), _runtime_started(host))
    rc, _report, output = run_playbook("reset.yml", "-e", "kubelab_reset_confirm=true")
    assert rc == 0, output
    for name in NODES:
        assert_pre_init(name)
        host = node(name)
        inode, started = before[name]
        assert host.run("stat -c %i /etc/cni/net.d").stdout.strip() == inode, "the CNI directory was re-created"
        assert _runtime_started(host) != started, f"containerd on {name} was not restarted after its CNI config went"
        links = host.run("ip -o link show").stdout
        assert " cni0:" not in links and " flannel.1:" not in links, links
        rules = host.check_output("iptables-save")
        assert "KUBE-" not in rules and "FLANNEL" not in rules, rules
        assert "kubelab-test-host-rule" in rules, "reset removed the host's own firewall rule"
        assert host.run("iptables -D INPUT -s 198.51.100.7/32 -m comment --comment kubelab-test-host-rule "
                        "-j DROP").rc == 0
    if not REAL_BINARIES:
        assert events(node(CONTROL_PLANE), since_reset=False)[-1]["event"] == "reset"


def test_check_mode_on_nodes_without_kubeadm_reports_init_and_joins():
    """`site.yml --check --diff` before anything is installed: the release comes from kube_packages_version.

    The reset nodes still have the packages, so kubeadm is pointed at a path that does not exist, as on a
    bare node; nothing may change.
    """
    control_plane = node(CONTROL_PLANE)
    missing = "/nonexistent/kubeadm"
    rc, report, output = run_playbook("site.yml", "--check", "--diff", "-e", f"control_plane_kubeadm_path={missing}",
                                      "-e", f"worker_kubeadm_path={missing}")
    assert rc == 0, output
    (init,) = [result for task, result in host_results(report, CONTROL_PLANE)
               if task.endswith("Run kubeadm init on the first control plane")]
    assert init["changed"] and init["init_state"] == "absent", init
    config = [result for task, result in host_results(report, CONTROL_PLANE)
              if task.endswith("Write the kubeadm configuration file")]
    assert config and config[0]["changed"], "the diff of the kubeadm configuration is reported"
    for name in WORKERS:
        reported = [result for task, result in host_results(report, name)
                    if task.endswith("Report the join check mode cannot simulate")]
        assert reported and reported[0]["changed"], (name, output)
    assert not control_plane.file("/etc/kubernetes/kubeadm-config.yaml").exists
    assert_pre_init(CONTROL_PLANE)


def _refused_by_the_nodes_check(rc, report, output):
    """The run failed in the nodes' check with no change anywhere; returns its message."""
    assert rc != 0, output
    failures = [result for name in NODES for task, result in host_results(report, name)
                if result.get("failed") and task.endswith("Refuse cloned nodes, node addresses inside the cluster "
                                                          "networks and ports already held")]
    assert failures, output
    assert changed_total(report) == 0, "a node was changed before the refusal"
    assert not any("Prepare every node" in play["play"]["name"] for play in report.get("plays", []) if play.get("tasks"))
    return failures[0]["msg"]


def test_a_leftover_listener_on_6443_is_refused_before_any_change_and_at_init():
    control_plane = node(CONTROL_PLANE)
    stray = control_plane.run("systemd-run --unit kubelab-test-stray-6443 python3 -m http.server 6443")
    assert stray.rc == 0, stray.stderr
    try:
        waited = bash(control_plane, "for i in $(seq 50); do ss -ltn | grep -q ':6443 ' && exit 0; sleep 0.1; done; exit 1")
        assert waited.rc == 0, "the stray listener did not start"
        # The doctor reports it, changing nothing; site.yml's nodes' check names the port and the process
        # holding it, before anything is changed.
        rc, report, output = run_playbook("preflight.yml")
        assert rc != 0 and changed_total(report) == 0, output
        result, detail = doctor_tables(report)[CONTROL_PLANE]["port 6443"]
        assert result == "FAIL" and "python3[" in detail, (result, detail)
        message = _refused_by_the_nodes_check(*run_playbook("site.yml"))
        assert f"{CONTROL_PLANE}: port 6443" in message and "python3[" in message, message
        # Past that check (skipped on purpose), kubeadm's own preflight refuses it at init.
        rc, report, output = run_playbook("site.yml", "--skip-tags", "kubelab_validate")
        assert rc != 0, output
        failures = failed_results(report, CONTROL_PLANE)
        assert failures, output
        task, result = failures[0]
        assert task.endswith("Run kubeadm init on the first control plane"), task
        checks = {item["check"]: item for item in result["preflight"]["errors"]}
        assert "Port-6443" in checks, result["preflight"]
        assert checks["Port-6443"]["message"] == "Port 6443 is in use"
        assert checks["Port-6443"]["hint"], "the error carries no fix"
        assert "Port-6443" in result["msg"]
        # The run stopped there: no join was tried and nothing was left half-made.
        for name in WORKERS:
            assert not host_results(report, name) or not any("Join" in task for task, _result in host_results(report, name))
            assert_pre_init(name)
        assert not control_plane.file("/etc/kubernetes/admin.conf").exists
        assert not control_plane.file("/etc/kubernetes/manifests/kube-apiserver.yaml").exists
        assert not control_plane.file("/var/lib/etcd").exists or not control_plane.file("/var/lib/etcd").listdir()
        assert REAL_BINARIES or not [e for e in events(control_plane) if e["event"] == "init"]
    finally:
        control_plane.run("systemctl stop kubelab-test-stray-6443")


def test_nodes_cloned_with_one_machine_id_are_refused_before_any_change():
    first, second = node(WORKERS[0]), node(WORKERS[1])
    saved = second.file("/etc/machine-id").content_string
    assert saved.strip() != first.file("/etc/machine-id").content_string.strip(), "the scenario's nodes share a machine-id"
    copied = bash(second, "cat > /etc/machine-id <<'EOF'\n%s\nEOF" % first.file("/etc/machine-id").content_string.strip())
    assert copied.rc == 0, copied.stderr
    try:
        rc, report, output = run_playbook("preflight.yml")
        assert rc != 0 and changed_total(report) == 0, output
        tables = doctor_tables(report)
        for name in WORKERS:
            result, detail = tables[name]["unique node"]
            assert result == "FAIL" and "share one /etc/machine-id" in detail, (name, result, detail)
        assert tables[CONTROL_PLANE]["unique node"][0] == "OK", tables[CONTROL_PLANE]
        message = _refused_by_the_nodes_check(*run_playbook("site.yml"))
        assert f"{WORKERS[0]}, {WORKERS[1]} share one /etc/machine-id" in message, message
        assert "systemd-machine-id-setup" in message, message
    finally:
        bash(second, "cat > /etc/machine-id <<'EOF'\n%s\nEOF" % saved.strip())


FOREIGN_KUBELET_CONF = r"""
set -euo pipefail
dir=$(mktemp -d)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 30 -subj /CN=other-cluster 2>/dev/null
mkdir -p /etc/kubernetes
cat > /etc/kubernetes/kubelet.conf <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: $(base64 -w0 "$dir/ca.crt")
    server: https://192.0.2.99:6443
  name: other
contexts:
- context:
    cluster: other
    user: default-auth
  name: default-auth@other
current-context: default-auth@other
users:
- name: default-auth
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
EOF
chmod 0600 /etc/kubernetes/kubelet.conf
cp "$dir/ca.crt" /tmp/other-cluster-ca.crt
rm -rf "$dir"
"""


def test_a_worker_from_another_cluster_fails_to_join_clearly():
    foreign = node("cl-w2")
    assert bash(foreign, FOREIGN_KUBELET_CONF).rc == 0
    before = foreign.file("/etc/kubernetes/kubelet.conf").sha256sum
    rc, report, output = run_playbook("site.yml")
    assert rc != 0, output
    failures = failed_results(report, "cl-w2")
    assert failures, output
    task, result = failures[0]
    assert task.endswith("Join the worker to the cluster with kubeadm"), task
    assert "another cluster" in result["msg"], result["msg"]
    assert ca_hash(foreign, "/tmp/other-cluster-ca.crt").split(":")[1] in result["msg"]
    # Nothing half-done on the refused worker; the other worker joined.
    assert foreign.file("/etc/kubernetes/kubelet.conf").sha256sum == before
    assert not foreign.file("/etc/kubernetes/pki/ca.crt").exists
    if REAL_BINARIES:
        registered = node(CONTROL_PLANE).run("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name")
        assert "node/cl-w1" in registered.stdout.split() and "node/cl-w2" not in registered.stdout.split()
    else:
        assert not [e for e in events(foreign) if e["event"] == "join"]
        assert [e for e in events(node("cl-w1")) if e["event"] == "join"]


def test_a_fresh_converge_after_reset_succeeds_and_reruns_clean():
    rc, _report, output = run_playbook("reset.yml", "-e", "kubelab_reset_confirm=true", "--limit", "cl-w2")
    assert rc == 0, output
    assert_pre_init("cl-w2")
    rc, report, output = run_playbook("site.yml")
    assert rc == 0, output
    control_plane = node(CONTROL_PLANE)
    if not REAL_BINARIES:
        assert len([e for e in events(control_plane) if e["event"] == "init"]) == 1
    for name in WORKERS:
        assert ca_hash(node(name)) == ca_hash(control_plane)
    rc, report, output = run_playbook("site.yml")
    assert rc == 0, output
    assert changed_total(report) == 0, output


def _nodes_ready() -> dict:
    listed = node(CONTROL_PLANE).run("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json")
    assert listed.rc == 0, listed.stderr
    return {item["metadata"]["name"]: any(c["type"] == "Ready" and c["status"] == "True"
                                          for c in item["status"]["conditions"])
            for item in json.loads(listed.stdout)["items"]}


@pytest.mark.skipif(REAL_BINARIES, reason="the interruption hook is the kubeadm test double's")
def test_an_interrupted_init_is_finished_by_the_rerun():
    rc, _report, output = run_playbook("reset.yml", "-e", "kubelab_reset_confirm=true")
    assert rc == 0, output
    control_plane = node(CONTROL_PLANE)
    # kubeadm init dies (SIGKILL) right after its kubelet-start phase, as when the connection drops.
    hook = bash(control_plane, "mkdir -p /etc/kubelab-double && echo kubelet-start > /etc/kubelab-double/interrupt-init-after")
    assert hook.rc == 0
    rc, report, output = run_playbook("site.yml")
    assert rc != 0, output
    assert [e for e in events(control_plane) if e["event"] == "init-interrupted"], output
    for path in ("/etc/kubernetes/admin.conf", "/etc/kubernetes/manifests/kube-apiserver.yaml"):
        assert control_plane.file(path).exists, path
    assert control_plane.run("curl -sk -o /dev/null -w '%{http_code}' "
                             "https://127.0.0.1:6443/api/v1/namespaces/kube-public/configmaps/cluster-info").stdout == "404"

    rc, report, output = run_playbook("site.yml")
    assert rc == 0, output
    (init,) = [result for task, result in host_results(report, CONTROL_PLANE)
               if task.endswith("Run kubeadm init on the first control plane")]
    assert init["changed"] and init["init_state"] == "partial", init
    assert any("did not finish" in warning for warning in init.get("warnings", [])), init
    finishing = [e for e in events(control_plane) if e["event"] == "init"]
    assert len(finishing) == 1 and finishing[0]["skipped_phases"] == ["preflight"], finishing
    for name in WORKERS:
        assert ca_hash(node(name)) == ca_hash(control_plane)
    # The run ended after waiting for the workers: all Ready (the double makes a node Ready a few seconds after
    # its join, so a run that does not wait ends with NotReady workers).
    assert _nodes_ready() == {name: True for name in NODES}
    tokens = control_plane.check_output("kubeadm token list --kubeconfig /etc/kubernetes/admin.conf").splitlines()[1:]
    assert len(tokens) == 1 and "kubelab.cluster join token" in tokens[0], tokens

    rc, report, output = run_playbook("site.yml")
    assert rc == 0, output
    assert changed_total(report) == 0, output


def test_cni_none_ends_with_the_cluster_built_and_does_not_wait_for_ready():
    """The pod network comes after the cluster (Cilium, a Helm chart): no wait that can only time out."""
    rc, _report, output = run_playbook("reset.yml", "-e", "kubelab_reset_confirm=true")
    assert rc == 0, output
    rc, report, output = run_playbook("site.yml", "-e", "cni_plugin=none")
    assert rc == 0, output
    waits = [(name, result) for name in NODES for task, result in host_results(report, name)
             if task.endswith("Wait until every node reports Ready")]
    assert not [wait for wait in waits if not wait[1].get("skipped")], waits
    said = [result["msg"] for name in NODES for task, result in host_results(report, name)
            if task.endswith("Say what cni_plugin none leaves to the user")]
    assert len(said) == 1 and "stay NotReady" in said[0], said
    control_plane = node(CONTROL_PLANE)
    assert not control_plane.file("/etc/kubernetes/cni-none.yaml").exists
    for name in WORKERS:
        assert ca_hash(node(name)) == ca_hash(control_plane)
    assert _nodes_ready() == {name: False for name in NODES}


# A bootstrap token as kubeadm makes it, and a certificate key after the flag or kubeadm's "Using certificate key:".
TOKEN_RE = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")
CERTIFICATE_KEY_RE = re.compile(r"(?:--certificate-key[= ]+|certificate key:\s*)([0-9a-f]{64})", re.I)


def test_a_verbose_run_of_every_role_prints_no_join_secret():
    """site.yml -vvv from scratch (init, token, joins, pod network): no token and no certificate key in the log."""
    rc, _report, output = run_playbook("reset.yml", "-e", "kubelab_reset_confirm=true")
    assert rc == 0, output
    rc, log = run_playbook_log("site.yml", "-vvv", "-e", "control_plane_upload_certs=true")
    assert rc == 0, log[-4000:]
    assert "Run kubeadm init on the first control plane" in log and "Join the worker to the cluster" in log
    tokens = node(CONTROL_PLANE).check_output("kubeadm token list --kubeconfig /etc/kubernetes/admin.conf")
    live = [line.split()[0] for line in tokens.splitlines()[1:] if line.strip()]
    assert live, tokens
    for token in live:
        assert token.split(".")[1] not in log, f"the live token {token.split('.')[0]}.<secret> is in the log"
    assert not TOKEN_RE.findall(log), sorted(set(TOKEN_RE.findall(log)))[:5]
    assert not CERTIFICATE_KEY_RE.findall(log), "a certificate key is in the log"
    if not REAL_BINARIES:  # the kubeadm test double keeps the key it printed
        state = json.loads(node(CONTROL_PLANE).file("/etc/kubernetes/kubelab-double-state.json").content_string)
        assert state.get("certificate_key") and state["certificate_key"] not in log, "the certificate key is in the log"
    # The run left the cluster as site.yml builds it: pod network applied, every node Ready.
    assert _nodes_ready() == {name: True for name in NODES}


def test_control_plane_side_loads_with_image_load_and_skips_images_the_node_has():
    """control_plane_image_archives goes through kubelab.cluster.image_load like every other path: an archive whose
    images the node has (container_runtime loaded them) is neither copied nor imported, and nothing is left behind."""
    archives = sorted(glob.glob(os.path.join(os.environ.get("KUBELAB_TEST_IMAGE_ARCHIVES")
                                             or str(PROJECT / "build" / "test-ground-cluster" / "images"), "*.tar")))
    assert archives, "no image archives to side-load"
    rc, report, output = run_playbook("site.yml", "-e", json.dumps({"control_plane_image_archives": archives[:1]}))
    assert rc == 0, output
    (loaded,) = [result for task, result in host_results(report, CONTROL_PLANE) if "image archives the control plane" in task]
    assert loaded["changed"] is False and not loaded.get("imported"), loaded
    assert changed_total(report) == 0, output
    kept = node(CONTROL_PLANE).file("/var/lib/kubelab/images")
    assert not (kept.exists and kept.listdir()), kept.listdir()
