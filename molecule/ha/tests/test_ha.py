"""The converged highly available cluster: three control planes behind the endpoint ha-lb:6443, one worker.

verify runs after side_effect.yml, which removed ha-cp3 (test_day2.py checks that): the joins are checked for all three
control planes, what a control plane runs on the two that stay.
kubeadm, kubectl and kubelet are the TEST DOUBLES of tests/doubles: what is checked is what kubeadm writes and
what the collection asked of it, not a replicated etcd or a failover (see molecule.yml).
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex

import pytest
import testinfra
import yaml

CONTROL_PLANES = ("ha-cp1", "ha-cp2", "ha-cp3")
# After side_effect.yml's remove_node.yml -e node=ha-cp3.
REMAINING = ("ha-cp1", "ha-cp2")
# Each control plane's control_plane_advertise_address (molecule.yml's host_vars, its fixed address).
ADDRESSES = {"ha-cp1": "10.213.48.11", "ha-cp2": "10.213.48.12", "ha-cp3": "10.213.48.13"}
WORKER = "ha-w1"
ENDPOINT = "ha-lb:6443"
VIP = "10.213.48.250"
EVENT_LOG = "/var/log/kubelab-doubles/kubeadm.log"
STATE = "/etc/kubernetes/kubelab-double-state.json"


def node(name):
    return testinfra.get_host(f"docker://{name}")


def events(host):
    text = host.file(EVENT_LOG).content_string if host.file(EVENT_LOG).exists else ""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def server_of(text):
    return yaml.safe_load(text)["clusters"][0]["cluster"]["server"]


@pytest.fixture(scope="module")
def state():
    return json.loads(node(CONTROL_PLANES[0]).file(STATE).content_string)


def test_init_ran_once_on_the_first_control_plane_and_the_others_joined_as_control_planes_then_ha_cp3_left(state):
    assert [e["node"] for e in events(node("ha-cp1")) if e["event"] == "init"] == ["ha-cp1"]
    for name in CONTROL_PLANES[1:]:
        assert not [e for e in events(node(name)) if e["event"] == "init"], name
        joins = [e for e in events(node(name)) if e["event"] == "join"]
        assert len(joins) == 1 and joins[0]["endpoint"] == ENDPOINT, joins
    roles = {name: info["role"] for name, info in state["nodes"].items()}
    assert roles == {"ha-cp1": "control-plane", "ha-cp2": "control-plane", WORKER: "worker"}
    listed = json.loads(node("ha-cp1").check_output("kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"))
    control = sorted(item["metadata"]["name"] for item in listed["items"]
                     if "node-role.kubernetes.io/control-plane" in item["metadata"].get("labels", {}))
    assert control == list(REMAINING)


def test_the_cluster_was_initialized_with_the_endpoint(state):
    assert state["cluster"]["control_plane_endpoint"] == ENDPOINT
    config = node("ha-cp1").file("/etc/kubernetes/kubeadm-config.yaml").content_string
    cluster = [doc for doc in yaml.safe_load_all(config) if doc and doc.get("kind") == "ClusterConfiguration"][0]
    assert cluster["controlPlaneEndpoint"] == ENDPOINT


@pytest.mark.parametrize("name", REMAINING)
def test_each_control_plane_runs_its_own_api_server_with_the_shared_ca(name):
    host = node(name)
    manifest = yaml.safe_load(host.file("/etc/kubernetes/manifests/kube-apiserver.yaml").content_string)
    assert ADDRESSES[name] in host.interface("eth0").addresses
    assert f"--advertise-address={ADDRESSES[name]}" in manifest["spec"]["containers"][0]["command"]
    for component in ("etcd", "kube-controller-manager", "kube-scheduler"):
        assert host.file(f"/etc/kubernetes/manifests/{component}.yaml").exists, component
    first = node("ha-cp1")
    for key in ("ca.crt", "ca.key", "sa.key"):
        assert host.file(f"/etc/kubernetes/pki/{key}").sha256sum == first.file(f"/etc/kubernetes/pki/{key}").sha256sum
    assert server_of(host.file("/etc/kubernetes/admin.conf").content_string) == f"https://{ENDPOINT}"


def test_the_admin_kubeconfigs_use_the_endpoint():
    first = node("ha-cp1")
    assert server_of(first.file("/root/.kube/config").content_string) == f"https://{ENDPOINT}"
    inventory = os.path.dirname(os.environ.get("MOLECULE_INVENTORY_FILE")
                                or os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "inventory", "x"))
    fetched = pathlib.Path(inventory) / "artifacts" / "kubelab-ha-admin.conf"
    assert server_of(fetched.read_text(encoding="utf-8")) == f"https://{ENDPOINT}"


def test_the_worker_joined_through_the_endpoint():
    host = node(WORKER)
    assert server_of(host.file("/etc/kubernetes/kubelet.conf").content_string) == f"https://{ENDPOINT}"
    assert [e["endpoint"] for e in events(host) if e["event"] == "join"] == [ENDPOINT]
    assert not host.file("/etc/kubernetes/manifests/kube-apiserver.yaml").exists


def test_the_load_balancer_carried_the_traffic():
    log = node("ha-lb").file("/var/log/tcp-proxy.log").content_string.splitlines()
    clients = {line.split(":", 1)[0] for line in log}
    addresses = {node(name).interface("eth0").addresses[0] for name in (*CONTROL_PLANES, WORKER)}
    # Every joining node (and the first control plane's own clients) went through it.
    assert addresses <= clients, (addresses, clients)


def test_each_joining_control_plane_was_given_its_own_advertise_address():
    # kubeadm join got the host's control_plane_advertise_address (the kubeadm double logs the flag: kubeadm's default,
    # the default route's address, is the same address here, so the manifest alone cannot tell them apart).
    for name in CONTROL_PLANES[1:]:
        assert [e["advertise_address"] for e in events(node(name)) if e["event"] == "join"] == [ADDRESSES[name]], name
    assert [e["advertise_address"] for e in events(node(WORKER)) if e["event"] == "join"] == [None]


@pytest.mark.parametrize("name", REMAINING)
def test_kube_vip_manifest_on_each_control_plane(name):
    pod = yaml.safe_load(node(name).file("/etc/kubernetes/manifests/kube-vip.yaml").content_string)
    container = pod["spec"]["containers"][0]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["address"] == VIP and env["vip_interface"] == "eth0" and env["vip_arp"] == "true"
    assert container["image"] == "ghcr.io/kube-vip/kube-vip:v0.8.9"
    # After init even the first control plane's kube-vip uses admin.conf, not the break-glass super-admin.conf.
    assert pod["spec"]["volumes"][0]["hostPath"]["path"] == "/etc/kubernetes/admin.conf"


def test_no_certificate_key_in_any_rendered_file_or_log(state):
    key = state["certificate_key"]
    assert len(key) == 64
    # The double's state file stands in for the kubeadm-certs Secret in etcd; everything else is searched.
    for name in (*CONTROL_PLANES, WORKER):
        found = node(name).run("grep -rlF %s /etc /var/log /var/lib/kubelet /root /home --exclude=%s"
                               % (shlex.quote(key), os.path.basename(STATE)))
        assert found.rc == 1 and not found.stdout, (name, found.stdout)
        journal = node(name).run("journalctl --no-pager -o cat | grep -cF %s" % shlex.quote(key))
        assert journal.stdout.strip() == "0", (name, "the system journal holds the key")
    log = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.log"
    text = log.read_text(encoding="utf-8")
    assert "Join the further control planes one at a time with kubeadm" in text
    assert key not in text
