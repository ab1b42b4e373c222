"""kubelab.cluster.kubeadm_upgrade with run_command mocked (kubeadm's answers: real output where there is some)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_upgrade

from ..conftest import read_fixture

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def _plan_json(cluster, target, proxy=None, kubelets=(("cp1", None),)):
    """A v1alpha3 plan as kubeadm prints it (the layout of upgrade_plan_v1alpha3.json.txt) with these versions."""
    obj = json.loads(read_fixture("upgrade_plan_v1alpha3.json.txt"))
    components = []
    for node, version in kubelets:
        components.append({"name": "kubelet", "currentVersion": version or cluster, "newVersion": target, "nodeName": node})
    for name in COMPONENTS:
        components.append({"name": name, "currentVersion": cluster, "newVersion": target, "nodeName": "cp1"})
    components.append({"name": "kube-proxy", "currentVersion": proxy or cluster, "newVersion": target})
    obj["availableUpgrades"][0]["components"] = components
    return "[upgrade/versions] Cluster version: %s\n[upgrade/versions] kubeadm version: %s\n" % (cluster, target) + json.dumps(obj, indent=4)


@pytest.fixture
def manifests(tmp_path, monkeypatch):
    monkeypatch.setattr(kubeadm_upgrade, "MANIFEST_DIR", str(tmp_path))

    def write(tag):
        for name in COMPONENTS:
            (tmp_path / (name + ".yaml")).write_text("spec:\n  containers:\n  - image: registry.k8s.io/%s:%s\n" % (name, tag))
    return write


def _version(tag):
    return ("version -o short", (0, tag + "\n", ""))


def test_plan_is_read_only_and_parsed_from_json(manifests, run_module):
    manifests("v1.36.1")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "plan"},
                                        [("upgrade plan", (0, _plan_json("v1.36.1", "v1.37.1"), "")), _version("v1.37.1")])
    assert not failed and result["changed"] is False
    assert runner.kubeadm_calls("upgrade") == [["/usr/bin/kubeadm", "upgrade", "plan", "v1.37.1", "-o", "json",
                                                "--kubeconfig", "/etc/kubernetes/admin.conf"]]
    assert result["plan"]["format"] == "json" and result["plan"]["cluster_version"] == "v1.36.1"
    assert result["version"] == "v1.37.1"


def test_plan_falls_back_to_text_when_json_is_refused(manifests, run_module):
    text = read_fixture("upgrade_plan_v1.26.0_text.txt")

    def answer(argv):
        return (1, "", 'error: unknown shorthand flag: \'o\' in -o\n') if "-o" in argv else (0, text, "")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "plan", "version": "v1.26.6"},
                                        [("upgrade plan", answer), _version("v1.26.0")])
    assert not failed, result
    assert len(runner.kubeadm_calls("upgrade plan")) == 2
    assert result["plan"]["format"] == "text" and result["plan"]["target_version"] == "v1.26.6"


def test_apply_refuses_a_skipped_minor_before_any_change(manifests, run_module):
    manifests("v1.35.2")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply", "version": "v1.37.1"},
                                        [("upgrade plan", (0, _plan_json("v1.35.2", "v1.37.1"), "")), _version("v1.37.1")])
    assert failed and "skips 1.36" in result["msg"] and "v1.35.2" in result["msg"]
    assert not runner.kubeadm_calls("upgrade apply")


def test_apply_refuses_a_downgrade_before_any_change(manifests, run_module):
    manifests("v1.37.2")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply", "version": "v1.37.1"},
                                        [("upgrade plan", (0, _plan_json("v1.37.2", "v1.37.1"), "")), _version("v1.37.1")])
    assert failed and "below the cluster's version v1.37.2" in result["msg"]
    assert not runner.kubeadm_calls("upgrade apply")


def test_apply_runs_with_yes_and_reports_the_change(manifests, run_module):
    manifests("v1.36.1")
    ok = (0, '[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.37.1".\n', "")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply"},
                                        [("upgrade plan", (0, _plan_json("v1.36.1", "v1.37.1"), "")), ("upgrade apply", ok),
                                         _version("v1.37.1")])
    assert not failed and result["changed"] is True
    assert runner.kubeadm_calls("upgrade apply") == [["/usr/bin/kubeadm", "upgrade", "apply", "v1.37.1", "--yes",
                                                      "--kubeconfig", "/etc/kubernetes/admin.conf"]]


def test_apply_in_check_mode_plans_and_runs_nothing_else(manifests, run_module):
    manifests("v1.36.1")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply"},
                                        [("upgrade plan", (0, _plan_json("v1.36.1", "v1.37.1"), "")), _version("v1.37.1")],
                                        check_mode=True)
    assert not failed and result["changed"] is True
    assert not runner.kubeadm_calls("upgrade apply")


def test_apply_done_before_is_not_run_again(manifests, run_module):
    manifests("v1.37.1")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply"},
                                        [("upgrade plan", (0, _plan_json("v1.37.1", "v1.37.1", kubelets=(("cp1", "v1.36.1"),)), "")),
                                         _version("v1.37.1")])
    assert not failed and result["changed"] is False
    assert not runner.kubeadm_calls("upgrade apply")


def test_apply_interrupted_before_kube_proxy_runs_again(manifests, run_module):
    """The static pods moved but the addons did not (kube-proxy still old): apply runs again, as kubeadm allows."""
    manifests("v1.37.1")
    ok = (0, '[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.37.1". Enjoy!\n', "")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "apply"},
                                        [("upgrade plan", (0, _plan_json("v1.37.1", "v1.37.1", proxy="v1.36.1"), "")),
                                         ("upgrade apply", ok), _version("v1.37.1")])
    assert not failed and result["changed"] is True and runner.kubeadm_calls("upgrade apply")


def test_apply_refused_by_kubeadm_names_kubeadm_s_reason(manifests, run_module):
    manifests("v1.31.0")
    refused = (1, "", read_fixture("upgrade_apply_v1.32_refused_kubeadm_newer.txt"))
    result, failed, _runner = run_module(kubeadm_upgrade, {"state": "apply", "version": "v1.31.5"},
                                         [("upgrade plan", (0, _plan_json("v1.31.0", "v1.31.5"), "")), ("upgrade apply", refused),
                                          _version("v1.32.1")])
    assert failed and "can only be used to upgrade to Kubernetes version 1.32" in result["msg"]


def test_node_on_a_control_plane_already_upgraded_runs_nothing(manifests, run_module):
    manifests("v1.37.1")
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "node", "version": "v1.37.1"}, [_version("v1.37.1")])
    assert not failed and result["changed"] is False and not runner.kubeadm_calls("upgrade")


def test_node_on_a_worker_runs_upgrade_node(manifests, run_module):
    result, failed, runner = run_module(kubeadm_upgrade, {"state": "node"},
                                        [("upgrade node", (0, "[upgrade] The configuration for this node was successfully updated!\n", "")),
                                         _version("v1.37.1")])
    assert not failed and result["changed"] is True and result["manifests"] == {}
    assert runner.kubeadm_calls("upgrade") == [["/usr/bin/kubeadm", "upgrade", "node"]]


def test_a_version_that_is_not_a_patch_is_refused(manifests, run_module):
    result, failed, _runner = run_module(kubeadm_upgrade, {"state": "plan", "version": "1.37"}, [_version("v1.37.1")])
    assert failed and "is not v1.NN.P" in result["msg"]
