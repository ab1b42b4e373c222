"""The node doctor's rows (playbooks/preflight.yml): what would stop site.yml is FAIL, what it fixes is WARN."""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils._doctor import doctor_rows

SETTINGS = {
    "prereqs": {"prereqs_min_cpus_control_plane": 2, "prereqs_min_memory_mb_control_plane": 1700,
                "prereqs_hardware_check": True, "prereqs_disable_swap": True,
                "prereqs_kernel_modules_required": True, "prereqs_sysctl_required": True},
    "kube_packages": {"kube_packages_version": "1.36"},
    "control_plane": {"control_plane_allow_cgroup_v1": False},
    "worker": {"worker_allow_cgroup_v1": False},
}
OK_SYSCTL = {"exists": True, "writable": True, "value": "1", "ok": True, "right": True}


def _read(**changes):
    """A bare Debian 12 VM as node_state reads it, before site.yml."""
    read = {
        "release": "Debian 12", "supported_releases": ["Debian 12", "Ubuntu 24"], "cpus": 2, "memory_mb": 3900,
        "container": "none", "swap": {"active": [], "unmasked_units": [], "fstab_entries": 0, "fstab": True},
        "modules": {"overlay": "loaded", "br_netfilter": "loaded"}, "sysctls": {"net.ipv4.ip_forward": dict(OK_SYSCTL)},
        "cgroup": "cgroup2fs", "time_sync": "synchronized",
        "paths": {"/var/run/containerd/containerd.sock": {"exists": False, "is_dir": False, "size": 0}},
        "ports": {"6443": {"in_use": False, "listeners": []}}, "cluster": {"initialized": False},
        "kubelet": {"exists": False}, "kubeadm": {"version": "", "error": "kubeadm: command not found"},
    }
    read.update(changes)
    return read


def _results(rows):
    return {row["check"]: row["result"] for row in rows}


def test_a_fit_bare_node_has_no_fail_and_says_kubeadm_comes_later():
    rows = doctor_rows(_read(), None, SETTINGS, True)
    results = _results(rows)
    assert "FAIL" not in results.values(), rows
    assert results["kubeadm preflight"] == "WARN" and results["runtime socket"] == "WARN"
    assert results["unique node"] == "OK" and results["port 6443"] == "OK"


@pytest.mark.parametrize("changes, check, result", [
    ({"swap": {"active": ["/swap.img"]}}, "swap", "WARN"),                                # site.yml turns it off
    ({"swap": {"active": ["/swap.img"]}, "container": "lxc"}, "swap", "FAIL"),            # a container cannot
    ({"modules": {"overlay": "missing"}}, "kernel modules", "WARN"),
    ({"modules": {"overlay": "missing"}, "container": "lxc"}, "kernel modules", "FAIL"),
    ({"sysctls": {"net.ipv4.ip_forward": dict(OK_SYSCTL, ok=False, right=False)}}, "kernel parameters", "FAIL"),
    ({"cpus": 1}, "cpus/memory", "FAIL"),
    ({"memory_mb": 1024}, "cpus/memory", "FAIL"),
    ({"release": "Ubuntu 20"}, "os", "FAIL"),
    ({"cgroup": "tmpfs"}, "cgroup", "FAIL"),                                              # 1.36 refuses v1
    ({"time_sync": "not synchronized"}, "time sync", "WARN"),
    ({"ports": {"6443": {"in_use": True, "listeners": [{"port": 6443, "processes": ["nginx[9]"]}]}}}, "port 6443", "FAIL"),
])
def test_each_check(changes, check, result):
    rows = doctor_rows(_read(**changes), None, SETTINGS, True)
    assert _results(rows)[check] == result, rows


def test_a_worker_needs_no_control_plane_size_and_members_skip_kubeadm():
    rows = doctor_rows(_read(cpus=1, memory_mb=900, kubelet={"exists": True},
                             ports={"10250": {"in_use": True, "listeners": [{"port": 10250, "processes": ["kubelet[7]"]}]}}),
                       None, SETTINGS, False)
    results = _results(rows)
    assert results["cpus/memory"] == "OK" and results["port 10250"] == "OK"
    assert [row["detail"] for row in rows if row["check"] == "kubeadm preflight"][0].startswith("in the cluster already")


def test_kubeadm_preflight_and_the_nodes_check_become_rows():
    preflight = {"errors": [{"check": "Port-6443", "message": "Port 6443 is in use", "hint": "stop it"}],
                 "warnings": [{"check": "Service-Kubelet", "message": "kubelet service is not enabled", "hint": "enable"}]}
    rows = doctor_rows(_read(kubeadm={"version": "v1.36.1", "error": ""}), preflight, SETTINGS, True,
                       ["cp1, w1 share one /etc/machine-id (x)"])
    results = _results(rows)
    assert results["kubeadm Port-6443"] == "FAIL" and results["kubeadm Service-Kubelet"] == "WARN"
    assert results["unique node"] == "FAIL"
    assert "kubeadm preflight" not in results
