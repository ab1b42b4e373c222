"""node_state's pure readers, and each role's read options gathered on this machine."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import pwd

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kube_release as kr
from ansible_collections.kubelab.cluster.plugins.module_utils import _node_state as ns
from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import files_pending, parse_state
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import drift

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "kubeadm"


def test_os_release():
    text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
    found = ns.parse_os_release(text)
    assert found == {"id": "debian", "version_id": "12", "codename": "bookworm",
                     "pretty_name": "Debian GNU/Linux 12 (bookworm)"}
    assert kr.release_name(found) == "Debian 12" and kr.is_supported(found)
    assert ns.parse_os_release("")["id"] == "unknown"
    assert kr.release_name({"id": "ubuntu", "version_id": "24.04"}) == "Ubuntu 24"


def test_proc_readers():
    assert ns.parse_meminfo_mb("MemTotal:        2048000 kB\n") == 2000
    assert ns.parse_swaps("Filename Type Size Used Priority\n/swapfile file 1 0 -2\n") == ["/swapfile"]
    assert ns.count_fstab_swap("/swapfile none swap sw 0 0\n# /x none swap sw 0 0\nUUID=a / ext4 defaults 0 1\n") == 1
    assert ns.parse_swap_units("dev-sda2.swap loaded active active /dev/sda2\n") == ["dev-sda2.swap"]
    assert ns.cgroup_fs_type("cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n") == "cgroup2fs"
    assert ns.cgroup_fs_type("tmpfs /sys/fs/cgroup tmpfs ro 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n") == "tmpfs"
    assert ns.cgroup_fs_type("") == "unknown"


@pytest.mark.parametrize("args,state", [
    ((True, "", "", False), "loaded"),
    ((False, "overlay 151552 0 - Live\n", "", False), "loaded"),
    ((False, "", "kernel/net/bridge/br_netfilter.ko\n", False), "builtin"),
    ((False, "", "", True), "present"),
    ((False, "", "", False), "missing"),
])
def test_module_state(args, state):
    name = "overlay" if "overlay" in args[1] else "br_netfilter"
    assert ns.module_state(name, *args) == state


def test_sysctl_state():
    assert ns.sysctl_state("1\n", False, 1, False) == {"exists": True, "writable": False, "value": "1", "ok": True, "right": True}
    assert ns.sysctl_state("0\n", True, 1, False)["ok"] is True
    assert ns.sysctl_state("0\n", False, 1, False)["ok"] is False
    assert ns.sysctl_state(None, False, 1, True) == {"exists": False, "writable": False, "value": "", "ok": True, "right": False}
    assert ns.sysctl_state("4096\t87380  6291456\n", True, "4096 87380 6291456", False)["right"] is True


def test_dpkg_status():
    text = "kubelet\t1.36.1-1.1\thold ok installed\nkubeadm\t1.36.0-1.1\tinstall ok installed\ncurl\t\tunknown ok not-installed\n"
    found = ns.parse_dpkg_status(text, ["kubelet", "kubeadm", "curl", "socat"])
    assert found["kubelet"] == {"installed": True, "version": "1.36.1-1.1", "held": True}
    assert found["kubeadm"] == {"installed": True, "version": "1.36.0-1.1", "held": False}
    assert not found["curl"]["installed"] and not found["socat"]["installed"]


def test_pod_cidr_and_ca_hash():
    manifest = "    - --cluster-cidr=10.244.0.0/16\n    - --cluster-name=kubernetes\n"
    assert ns.running_settings("", manifest)["pod_subnet"] == "10.244.0.0/16" and ns.running_settings("", "")["pod_subnet"] == ""
    assert ns.pem_ca_hash((FIXTURES / "ca_rsa.crt").read_text()).startswith("sha256:")
    with pytest.raises(ValueError):
        ns.pem_ca_hash("not a certificate")


def test_cgroup_v1_rule():
    assert kr.cgroup_v1_rule("v1.36.1", "tmpfs", False)["blocked"] is True
    assert kr.cgroup_v1_rule("v1.36.1", "tmpfs", True)["skip_system_verification"] is True
    assert kr.cgroup_v1_rule("v1.36.1", "cgroup2fs", True) == {
        "cgroup_v1": False, "refused": True, "blocked": False, "skip_system_verification": False, "fail_cgroup_v1_false": True}
    assert kr.cgroup_v1_rule("v1.34.2", "tmpfs", False)["blocked"] is False
    assert kr.cgroup_v1_rule("", "tmpfs", False)["refused"] is False


def test_the_role_defaults_use_the_shared_cri_socket():
    roles = pathlib.Path(__file__).resolve().parents[4] / "roles"
    for role, name in (("control_plane", "control_plane_cri_socket"), ("worker", "worker_cri_socket")):
        text = (roles / role / "defaults" / "main.yml").read_text()
        assert "%s: %s\n" % (name, kr.cri_socket("containerd")) in text


def _local(**params):
    return ns.gather(params, ns.LocalIO(lambda argv: (127, "", "not run in unit tests")))


def test_control_plane_read(tmp_path):
    config = tmp_path / "kubeadm-config.yaml"
    config.write_text("kind: InitConfiguration\n")
    config.chmod(0o600)
    node = _local(cgroup=True, kubeadm=True, kubeadm_path=str(tmp_path / "no-kubeadm"), files=[str(config)],
                  admin_kubeconfig=True, admin_user="root")
    assert node["kubeadm"]["version"] == "" and node["kubeadm"]["error"]
    assert node["files"][str(config)].startswith(hashlib.sha1(b"kind: InitConfiguration\n").hexdigest() + " 600 ")
    assert files_pending([{"path": str(config), "content": "kind: InitConfiguration\n", "mode": "0600"}], node["files"]) == []
    assert (node["admin"]["conf"] != "") is pathlib.Path("/etc/kubernetes/admin.conf").is_file()
    assert not node["admin"]["user_kubeconfig"] or node["admin"]["conf"]
    assert node["cgroup"]


def test_cni_and_worker_reads(tmp_path):
    node = _local(cluster=True, files=[str(tmp_path / "cni-flannel.yaml")], kubelet=True)
    assert node["files"] == {str(tmp_path / "cni-flannel.yaml"): "absent"}
    assert node["cluster"]["initialized"] is pathlib.Path(ns.CONTROLLER_MANAGER_MANIFEST).exists()
    assert node["kubelet"]["exists"] is pathlib.Path(ns.KUBELET_CONF).exists()


def test_kubelet_conf_hash_matches_the_ca(tmp_path, monkeypatch):
    pem = (FIXTURES / "ca_rsa.crt").read_text()
    conf = "clusters:\n- cluster:\n    certificate-authority-data: %s\n    server: https://10.0.0.1:6443\n" % (
        base64.b64encode(pem.encode()).decode())
    monkeypatch.setattr(ns, "KUBELET_CONF", str(tmp_path / "kubelet.conf"))
    (tmp_path / "kubelet.conf").write_text(conf)
    node = _local(kubelet=True)
    assert node["kubelet"]["ca_cert_hash"] == ns.pem_ca_hash(pem) and node["kubelet"]["error"] == ""


def test_node_roles_read(tmp_path):
    node = _local(system=True, swap=True, modules=["overlay", "br_netfilter"],
                  module_evidence={"br_netfilter": "/proc/sys/net/bridge"},
                  sysctls={"net.ipv4.ip_forward": 1}, packages=["bash"], services=["kubelet.service"],
                  files=[str(tmp_path / "x")], paths=["/etc/apt/keyrings"], containerd_default_config=True)
    assert node["cpus"] >= 1 and node["memory_mb"] > 0 and node["supported_releases"] == list(kr.SUPPORTED_RELEASES)
    assert set(node["modules"].values()) <= set(ns.MODULE_STATES)
    assert set(node["sysctls"]["net.ipv4.ip_forward"]) == {"exists", "writable", "value", "ok", "right"}
    assert node["services"]["kubelet.service"] == {"enabled": "missing", "active": "missing"}
    assert node["files"][str(tmp_path / "x")] == "absent" and parse_state("absent") is None
    assert node["containerd_default_config"] == "" or isinstance(node["containerd_default_config"], str)
    assert node["dev_kmsg"] in ("device", "other", "missing")


def test_bad_options():
    assert ns.options_error({"sysctls": {"../etc": 1}})
    assert ns.options_error({"files": ["relative"]})
    assert ns.options_error({"sysctls": {"net.ipv4.ip_forward": 1}, "files": ["/etc/x"]}) is None


IPROUTE2 = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "iproute2"


def test_node_addresses_follow_the_default_route():
    """iproute2 6.1 output of a Debian 12 machine with Docker (eth0 with the default route, docker0)."""
    addr = (IPROUTE2 / "host_addr.json").read_text()
    devs = ns.default_route_devs((IPROUTE2 / "host_route_default.json").read_text())
    assert devs == ["eth0"]
    assert ns.node_addresses(addr, devs) == ["192.0.2.2", "fd00::2"]
    # Without a default route: every link but loopback and the virtual ones (docker0 here).
    assert ns.node_addresses(addr, []) == ["192.0.2.2", "fd00::2"]
    assert ns.node_addresses("not json", ["eth0"]) == [] and ns.default_route_devs("") == []


def test_node_addresses_skip_the_cni_links_of_a_running_node():
    links = [
        {"ifname": "lo", "addr_info": [{"family": "inet", "local": "127.0.0.1", "scope": "host"}]},
        {"ifname": "ens18", "addr_info": [{"family": "inet", "local": "192.168.3.100", "scope": "global"},
                                          {"family": "inet6", "local": "fe80::1", "scope": "link"}]},
        {"ifname": "flannel.1", "addr_info": [{"family": "inet", "local": "10.244.0.0", "scope": "global"}]},
        {"ifname": "cni0", "addr_info": [{"family": "inet", "local": "10.244.0.1", "scope": "global"}]},
    ]
    assert ns.node_addresses(json.dumps(links), []) == ["192.168.3.100"]


def test_identity_read_on_this_machine():
    node = ns.gather({"identity": True}, ns.LocalIO(lambda argv: (127, "", "not run in unit tests")))
    identity = node["identity"]
    assert set(identity) == {"machine_id", "product_uuid", "hostname", "addresses"}
    machine_id = pathlib.Path("/etc/machine-id")
    assert identity["machine_id"] == (machine_id.read_text().strip() if machine_id.exists() else "")
    assert identity["hostname"] and identity["addresses"] == []  # `ip` is not run here


PROC = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "proc"


def test_listening_sockets_of_real_proc_net_tcp():
    """Linux 6.x /proc/net/tcp and tcp6 captured with listeners on 2024, 6443 (IPv4) and 30080 (IPv6)."""
    found = ns.listening_sockets([(PROC / "net_tcp.txt").read_text(), (PROC / "net_tcp6.txt").read_text()])
    assert sorted(found) == [2024, 6443, 30080]
    assert all(inodes and all(inode.isdigit() for inode in inodes) for inodes in found.values())


class _PortsIO:
    """The io of gather() with the captured /proc files and a fixed owner table."""

    def __init__(self):
        self.texts = {"/proc/net/tcp": (PROC / "net_tcp.txt").read_text(), "/proc/net/tcp6": (PROC / "net_tcp6.txt").read_text()}

    def read(self, path):
        return self.texts.get(path)

    def socket_owners(self, inodes):
        return {inode: "kube-apiserver[42]" for inode in inodes}


def test_ports_and_ranges_in_use_name_their_processes():
    found = ns.gather({"ports": ["6443", "30000-32767", "10250"]}, _PortsIO())["ports"]
    assert found["6443"] == {"in_use": True, "listeners": [{"port": 6443, "processes": ["kube-apiserver[42]"]}]}
    assert found["30000-32767"]["in_use"] and [item["port"] for item in found["30000-32767"]["listeners"]] == [30080]
    assert found["10250"] == {"in_use": False, "listeners": []}


@pytest.mark.parametrize("entry", ["0", "70000", "10-5", "http", "1-2-3"])
def test_bad_ports_are_refused(entry):
    assert "ports:" in ns.options_error({"ports": [entry]})


# The layout kubeadm writes its static pod manifests in (v1.22 to v1.36 alike): the binary first, then one
# `- --flag=value` line per flag under `command:`. Values here are this test's.
APISERVER_MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: 192.168.3.100:6443
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=192.168.3.100
    - --allow-privileged=true
    - --enable-admission-plugins=NodeRestriction
    - --secure-port=6443
    - --service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/108
    - --audit-log-maxage=30
    image: registry.k8s.io/kube-apiserver:v1.36.1
    livenessProbe:
      httpGet:
        host: 192.168.3.100
        port: 6443
"""
CONTROLLER_MANAGER_MANIFEST = """spec:
  containers:
  - command:
    - kube-controller-manager
    - --allocate-node-cidrs=true
    - --cluster-cidr=10.244.0.0/16,fd00:10:244::/56
    - --cluster-name=kubelab
    - --service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/108
"""


def test_running_settings_from_the_static_pod_manifests():
    running = ns.running_settings(APISERVER_MANIFEST, CONTROLLER_MANAGER_MANIFEST)
    assert running["pod_subnet"] == "10.244.0.0/16,fd00:10:244::/56"
    assert running["service_subnet"] == "10.96.0.0/12,fd00:10:96::/108"
    assert running["cluster_name"] == "kubelab" and running["bind_port"] == "6443"
    assert running["advertise_address"] == "192.168.3.100"
    assert running["apiserver_args"]["audit-log-maxage"] == "30"
    assert "kube-apiserver" not in running["apiserver_args"], "the binary is no flag"
    assert ns.running_settings(None, None) == {"pod_subnet": "", "service_subnet": "", "cluster_name": "",
                                               "bind_port": "", "advertise_address": "", "apiserver_args": {}}


@pytest.mark.parametrize("env, expected", [
    ({"SUDO_USER": "ubuntu"}, "ubuntu"),        # ssh as ubuntu, become: sudo
    ({"DOAS_USER": "admin"}, "admin"),          # become_method doas
    ({}, pwd.getpwuid(os.geteuid()).pw_name),   # no become: the module's own user
])
def test_admin_user_defaults_to_the_login_user(monkeypatch, env, expected):
    for name in ("SUDO_USER", "DOAS_USER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    admin = _local(admin_kubeconfig=True)["admin"]
    assert admin["user"] == expected
    # An explicit admin_user wins over the login user.
    assert _local(admin_kubeconfig=True, admin_user="root")["admin"]["user"] == "root"


def test_unknown_admin_user_has_no_home():
    admin = _local(admin_kubeconfig=True, admin_user="no-such-user-kubelab")["admin"]
    assert (admin["home"], admin["uid"], admin["gid"]) == (None, None, None)


@pytest.mark.parametrize("params, kubeadm, version", [
    ({"kubernetes_version": "v1.36.1", "expected_version": "1.30"}, "v1.34.2", "v1.36.1"),   # asked for wins
    ({"kubernetes_version": "", "expected_version": "1.30"}, "v1.34.2", "v1.34.2"),          # else what kubeadm says
    ({"kubernetes_version": "", "expected_version": "1.36"}, "", "1.36"),                    # kubeadm not installed yet
    ({}, None, ""),                                                                           # nothing known: before 1.35
])
def test_decide_takes_the_cgroup_v1_verdict_for_the_release_the_read_knows(params, kubeadm, version):
    read = {"cgroup": "tmpfs"}
    if kubeadm is not None:
        read["kubeadm"] = {"version": kubeadm, "error": "" if kubeadm else "kubeadm: command not found"}
    for allow in (False, True):
        node = ns.decide(dict(params, allow_cgroup_v1=allow), dict(read))
        assert node["cgroup_v1"] == dict(kr.cgroup_v1_rule(version, "tmpfs", allow), version=version)


def test_decide_adds_nothing_the_read_did_not_ask_for():
    assert ns.decide({"kubernetes_version": "v1.36.1", "expected_settings": {"pod_subnet": "10.0.0.0/16"}},
                     {"files": {}}) == {"files": {}}


def test_decide_reports_drift_only_on_an_initialized_control_plane():
    running = ns.running_settings(APISERVER_MANIFEST, CONTROLLER_MANAGER_MANIFEST)
    wanted = {"pod_subnet": "10.245.0.0/16,fd00:10:244::/56", "service_subnet": None, "cluster_name": None,
              "bind_port": "6443", "advertise_address": "", "apiserver_extra_args": None}
    node = ns.decide({"expected_settings": wanted}, {"cluster": {"initialized": True, "running": running}})
    assert node["cluster"]["drift"] == drift(dict(wanted), running)
    assert len(node["cluster"]["drift"]) == 1 and node["cluster"]["drift"][0].startswith(
        "control_plane_pod_subnet is 10.245.0.0/16,fd00:10:244::/56, but the cluster runs 10.244.0.0/16,fd00:10:244::/56")
    assert ns.decide({"expected_settings": wanted}, {"cluster": {"initialized": False, "running": running}})["cluster"]["drift"] == []
    assert ns.decide({}, {"cluster": {"initialized": True, "running": running}})["cluster"]["drift"] == []


def test_decide_names_the_packages_a_role_would_move_down():
    read = {"packages": {"kubelet": {"installed": True, "version": "1.36.1-1.1", "held": True},
                         "ca-certificates": {"installed": True, "version": "20230311", "held": False}}}
    node = ns.decide({"package_versions": {"kubelet": "1.35"}}, dict(read))
    assert len(node["downgrades"]) == 1 and node["downgrades"][0].startswith("kubelet is installed at 1.36.1-1.1")
    assert ns.decide({"package_versions": {"kubelet": "1.35"}, "allow_downgrade": True}, dict(read))["downgrades"] == []
    assert ns.decide({"package_versions": {"kubelet": "1.36"}}, dict(read))["downgrades"] == []
    assert "downgrades" not in ns.decide({}, dict(read))
