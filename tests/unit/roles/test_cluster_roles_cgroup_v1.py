"""cgroup v1 nodes with Kubernetes 1.35+ (KEP-5573): what control_plane and worker decide.

The kubelet refuses cgroup v1 from 1.35 unless its configuration says failCgroupV1: false, and
kubeadm's SystemVerification check fails there unless skipped. Both roles read the node's
/sys/fs/cgroup type in their probes; these tests render the roles' own vars on such readings.
"""

from __future__ import annotations

import pytest
from role_vars import render as _render, role_templar as _templar


def _control_plane(version, cgroup, allow, ignored=()):
    probe = '{"version": "%s", "version_error": "", "cgroup": "%s", "files": {}, "admin_conf": "", ' \
            '"user_kubeconfig": false}' % (version, cgroup)
    return _templar("control_plane", control_plane_allow_cgroup_v1=allow, __control_plane_probe={"stdout": probe},
                    control_plane_ignore_preflight_errors=list(ignored))


@pytest.mark.parametrize("version,cgroup,allow,fail_cgroup_v1,ignored", [
    ("v1.36.1", "tmpfs", True, False, ["SystemVerification"]),      # v1 node, allowed: both
    ("v1.36.1", "cgroup2fs", True, False, []),                       # v2 control plane: only the cluster setting
    ("v1.36.1", "tmpfs", False, None, []),                           # not allowed: nothing (the role stops first)
    ("v1.34.2", "tmpfs", True, None, []),                            # before 1.35 the kubelet runs on v1 anyway
])
def test_control_plane_kubelet_config_and_preflight(version, cgroup, allow, fail_cgroup_v1, ignored):
    templar = _control_plane(version, cgroup, allow)
    doc = _render(templar, "__control_plane_kubelet_doc")
    assert doc.get("failCgroupV1") is fail_cgroup_v1
    assert doc["cgroupDriver"] == "systemd"
    assert _render(templar, "__control_plane_ignore_preflight_errors") == ignored


def test_control_plane_stops_on_cgroup_v1_unless_allowed():
    check = "__control_plane_cgroup_v1_blocked | bool"
    assert _render(_control_plane("v1.36.1", "tmpfs", False), check) is True
    assert _render(_control_plane("v1.36.1", "tmpfs", True), check) is False
    assert _render(_control_plane("v1.36.1", "cgroup2fs", False), check) is False


def test_control_plane_keeps_a_user_ignore_list_without_duplicates():
    templar = _control_plane("v1.36.1", "tmpfs", True, ignored=["NumCPU", "SystemVerification"])
    assert _render(templar, "__control_plane_ignore_preflight_errors") == ["NumCPU", "SystemVerification"]


@pytest.mark.parametrize("lines,allow,ignored,blocked", [
    (["none", "tmpfs", "v1.36.1"], True, ["SystemVerification"], False),
    (["none", "tmpfs", "v1.36.1"], False, [], True),
    (["none", "cgroup2fs", "v1.36.1"], False, [], False),
    (["none", "tmpfs", "v1.34.2"], False, [], False),
    (["none", "tmpfs", "unknown"], False, [], False),
])
def test_worker_decisions(lines, allow, ignored, blocked):
    templar = _templar("worker", worker_allow_cgroup_v1=allow, __worker_node_ca={"stdout_lines": lines})
    assert _render(templar, "__worker_ignore_preflight_errors") == ignored
    check = "__worker_cgroup_v1_blocked | bool"
    assert _render(templar, check) is blocked
