"""cgroup v1 nodes with Kubernetes 1.35+ (KEP-5573): what control_plane and worker decide.

The kubelet refuses cgroup v1 from 1.35 unless its configuration says failCgroupV1: false, and
kubeadm's SystemVerification check fails there unless skipped. Both roles read the node's
/sys/fs/cgroup type with kubelab.cluster.node_state, which decides the rule for the options the role's
task gives it; these tests render the roles' own vars on what it returns for such readings.
"""

from __future__ import annotations

import pytest
import yaml
from role_vars import ROLES, node_templar, render as _render


def _control_plane(version, cgroup, allow, ignored=()):
    node = {"kubeadm": {"version": version, "error": ""}, "cgroup": cgroup, "files": {},
            "admin": {"conf": "", "user_kubeconfig": False}}
    return node_templar("control_plane", node, control_plane_allow_cgroup_v1=allow,
                        ansible_search_path=[str(ROLES / "control_plane")],
                        control_plane_ignore_preflight_errors=list(ignored))


@pytest.mark.parametrize("version,cgroup,allow,fail_cgroup_v1,ignored", [
    ("v1.36.1", "tmpfs", True, False, ["SystemVerification"]),      # v1 node, allowed: both
    ("v1.36.1", "cgroup2fs", True, False, []),                       # v2 control plane: only the cluster setting
    ("v1.36.1", "tmpfs", False, None, []),                           # not allowed: nothing (the role stops first)
    ("v1.34.2", "tmpfs", True, None, []),                            # before 1.35 the kubelet runs on v1 anyway
])
def test_control_plane_kubelet_config_and_preflight(version, cgroup, allow, fail_cgroup_v1, ignored):
    templar = _control_plane(version, cgroup, allow)
    text = _render(templar, "lookup('ansible.builtin.template', 'kubeadm-config.yaml.j2')")
    (doc,) = [doc for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "KubeletConfiguration"]
    assert doc.get("failCgroupV1") is fail_cgroup_v1
    assert doc["cgroupDriver"] == "systemd"
    assert _render(templar, "__control_plane_ignore_preflight_errors") == ignored


def test_control_plane_stops_on_cgroup_v1_unless_allowed():
    check = "__control_plane_cgroup_v1.blocked"
    assert _render(_control_plane("v1.36.1", "tmpfs", False), check) is True
    assert _render(_control_plane("v1.36.1", "tmpfs", True), check) is False
    assert _render(_control_plane("v1.36.1", "cgroup2fs", False), check) is False


def test_control_plane_keeps_a_user_ignore_list_without_duplicates():
    templar = _control_plane("v1.36.1", "tmpfs", True, ignored=["NumCPU", "SystemVerification"])
    assert _render(templar, "__control_plane_ignore_preflight_errors") == ["NumCPU", "SystemVerification"]


@pytest.mark.parametrize("cgroup,version,allow,ignored,blocked", [
    ("tmpfs", "v1.36.1", True, ["SystemVerification"], False),
    ("tmpfs", "v1.36.1", False, [], True),
    ("cgroup2fs", "v1.36.1", False, [], False),
    ("tmpfs", "v1.34.2", False, [], False),
    ("tmpfs", "", False, [], False),  # kubeadm not runnable: node_state reports an empty version
])
def test_worker_decisions(cgroup, version, allow, ignored, blocked):
    node = {"kubelet": {"exists": False, "ca_cert_hash": None, "error": ""}, "cgroup": cgroup,
            "kubeadm": {"version": version, "error": ""}}
    templar = node_templar("worker", node, worker_allow_cgroup_v1=allow)
    assert _render(templar, "__worker_ignore_preflight_errors") == ignored
    check = "__worker_cgroup_v1.blocked"
    assert _render(templar, check) is blocked
