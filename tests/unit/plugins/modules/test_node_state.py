"""The node_state module's options for the verdicts it adds to its read (cgroup_v1, cluster.drift).

What it reads is tested in tests/unit/plugins/module_utils/test_node_state.py; here the module's argument
handling (the expected_settings sub-options included) hands the options to the same step, in check mode too.
"""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import cgroup_v1_rule
from ansible_collections.kubelab.cluster.plugins.modules import node_state


@pytest.fixture
def kubeadm(tmp_path):
    path = tmp_path / "kubeadm"
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("args, version", [
    ({"kubeadm": True}, "v1.36.1"),                                           # the version this run reads
    ({"kubeadm": True, "kubernetes_version": "v1.34.2"}, "v1.34.2"),
    ({"kubernetes_version": "", "expected_version": "1.36"}, "1.36"),        # kubeadm not read
])
def test_the_cgroup_v1_verdict_is_for_the_release_asked(run_module, kubeadm, args, version, check_mode):
    result, failed, runner = run_module(node_state, dict(args, cgroup=True, kubeadm_path=kubeadm, allow_cgroup_v1=True),
                                        check_mode=check_mode)
    assert not failed and result["changed"] is False, result
    assert result["cgroup_v1"] == dict(cgroup_v1_rule(version, result["cgroup"], True), version=version)
    assert len(runner.kubeadm_calls("version")) == (1 if args.get("kubeadm") else 0), "one read, no extra step"


def test_no_verdict_without_the_cgroup_read(run_module, kubeadm):
    result, failed, _runner = run_module(node_state, {"kubeadm": True, "kubeadm_path": kubeadm, "kubernetes_version": "v1.36.1"})
    assert not failed and "cgroup_v1" not in result and "cgroup" not in result


def test_expected_settings_take_the_control_plane_role_shape(run_module):
    args = {"cluster": True, "expected_settings": {"pod_subnet": "10.244.0.0/16", "service_subnet": "10.96.0.0/12",
                                                   "cluster_name": "kubelab", "bind_port": 6443, "advertise_address": "",
                                                   "apiserver_extra_args": {"audit-log-maxage": "30"}}}
    result, failed, _runner = run_module(node_state, args)
    assert not failed, result
    # No kubeadm init on this machine: nothing runs to drift from.
    assert result["cluster"]["initialized"] is False and result["cluster"]["drift"] == []


def test_unknown_expected_settings_are_refused(run_module):
    result, failed, _runner = run_module(node_state, {"cluster": True, "expected_settings": {"pod_cidr": "10.244.0.0/16"}})
    assert failed and "pod_cidr" in result["msg"], result
