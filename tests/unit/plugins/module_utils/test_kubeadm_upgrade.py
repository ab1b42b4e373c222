"""The upgrade plan parser and helpers of module_utils/_kubeadm_upgrade.py, on real kubeadm output
(tests/unit/fixtures/kubeadm/upgrade_*, sources in SOURCES.md there)."""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_upgrade as up

from ..conftest import read_fixture

# fixture: (format, api_version, cluster, kubeadm, target, kubelets [(node, version, count)], kube-apiserver current,
#           kube-proxy current, apply versions)
PLANS = {
    "upgrade_plan_v1.23_text_minor_step.txt": (
        "text", None, "v1.22.7", "v1.23.4", "v1.23.4", [(None, "v1.22.6", 2)], "v1.22.7", "v1.22.7", ["v1.23.4"]),
    "upgrade_plan_v1.26.0_text.txt": (
        "text", None, "v1.26.0", "v1.26.0", "v1.26.6", [(None, "v1.26.0", 2)], "v1.26.0", "v1.26.0", ["v1.26.6"]),
    "upgrade_plan_v1.28.0_text.txt": (
        "text", None, "v1.28.0", "v1.28.0", "v1.28.9", [(None, "v1.28.0", 2)], "v1.28.0", "v1.28.0", ["v1.28.9"]),
    "upgrade_plan_v1alpha2_multiple_kubelets.txt": (
        "text", None, "v1.19.2", None, "v1.19.3", [(None, "v1.19.2", 1), (None, "v1.19.3", 2)], "v1.19.2", "v1.19.2",
        ["v1.19.3"]),
    "upgrade_plan_v1alpha3_multiple_kubelets.txt": (
        "text", None, "v1.19.2", None, "v1.19.3", [("node1", "v1.19.2", None), ("node2", "v1.19.3", None),
                                                   ("node3", "v1.19.3", None)], "v1.19.2", "v1.19.2", ["v1.19.3"]),
    "upgrade_plan_v1alpha2.json.txt": (
        "json", "output.kubeadm.k8s.io/v1alpha2", "v1.8.1", None, "v1.8.3", [(None, "v1.8.1", 1)], "v1.8.1", "v1.8.1", []),
    "upgrade_plan_v1alpha3.json.txt": (
        "json", "output.kubeadm.k8s.io/v1alpha3", "v1.8.1", None, "v1.8.3", [("node1", "v1.8.1", None)], "v1.8.1", "v1.8.1",
        []),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_plan_parser_on_real_output(name):
    fmt, api, cluster, kubeadm, target, kubelets, apiserver, proxy, applies = PLANS[name]
    plan = up.parse_upgrade_plan(read_fixture(name))
    assert plan["format"] == fmt
    assert plan["api_version"] == api
    assert plan["cluster_version"] == cluster
    assert plan["kubeadm_version"] == kubeadm
    assert plan["target_version"] == target
    assert [(k["node"], k["version"], k["count"]) for k in plan["kubelets"]] == kubelets
    assert plan["control_plane"]["kube-apiserver"] == apiserver
    assert plan["control_plane"]["kube-proxy"] == proxy
    assert plan["apply_versions"] == applies
    names = [c["name"] for c in plan["upgrades"][0]["components"]]
    assert {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"} <= set(names)


def test_the_text_parser_reads_every_section_of_a_two_upgrade_plan():
    """kubeadm prints one block per available upgrade (patch, then minor); each becomes one upgrade, kubelets included."""
    plan = up.parse_upgrade_plan(read_fixture("upgrade_plan_v1alpha2_patch_and_minor.txt"))
    assert [u["description"] for u in plan["upgrades"]] == ["version in the v1.18 series", "stable version"]
    assert [[c["target"] for c in u["components"] if c["name"] == "kubelet"] for u in plan["upgrades"]] == [["v1.18.5"], ["v1.19.0"]]
    assert plan["apply_versions"] == ["v1.18.5", "v1.19.0"]
    assert plan["target_version"] == "v1.18.5"


def test_json_is_found_after_log_lines_and_text_is_the_fall_back():
    body = read_fixture("upgrade_plan_v1alpha3.json.txt")
    plan = up.parse_upgrade_plan("[upgrade/config] Reading configuration from the cluster...\n" + body)
    assert plan["format"] == "json" and plan["kubelets"][0]["node"] == "node1"
    broken = body[: body.index('"configVersions"')]  # cut: not a JSON object any more, and no table either
    with pytest.raises(ValueError, match="no upgrade plan"):
        up.parse_upgrade_plan(broken)


def test_a_plan_that_names_no_upgrade_is_an_empty_plan_not_an_error():
    plan = up.parse_upgrade_plan("[upgrade/versions] Cluster version: v1.36.1\nAwesome, you're up-to-date! Enjoy!\n")
    assert plan["upgrades"] == [] and plan["cluster_version"] == "v1.36.1"


@pytest.mark.parametrize("version, uses", [("v1.25.16", False), ("v1.26.0", True), ("v1.37.1", True), (None, False), ("1.x", False)])
def test_json_output_is_asked_from_1_26(version, uses):
    assert up.plan_uses_json(version) is uses


def test_policy_refusals_are_read_from_real_output():
    text = read_fixture("upgrade_apply_v1.32_refused_kubeadm_newer.txt")
    assert up.policy_errors(text) == ["Kubeadm version v1.32.1 can only be used to upgrade to Kubernetes version 1.32"]
    assert up.apply_succeeded(text, "v1.31.5") is False
    assert up.policy_errors("[upgrade] SUCCESS! A control plane node of your cluster was upgraded to \"v1.37.1\".") == []


def test_apply_success_names_the_version():
    assert up.apply_succeeded('[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.29.3". Enjoy!', "v1.29.3")
    assert not up.apply_succeeded('[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.29.3". Enjoy!', "v1.29.4")


def _manifest(name, tag):
    return "spec:\n  containers:\n  - command:\n    - %s\n    image: registry.k8s.io/%s:%s\n" % (name, name, tag)


def test_manifest_versions_and_a_node_at_the_version():
    manifests = {name: _manifest(name, "v1.37.1") for name in up.CONTROL_PLANE_COMPONENTS}
    found = up.manifest_versions(manifests)
    assert found == {name: "v1.37.1" for name in up.CONTROL_PLANE_COMPONENTS}
    assert up.node_at_version(found, "v1.37.1")
    # One component still at the old version (apply interrupted between two static pods): not done.
    manifests["kube-scheduler"] = _manifest("kube-scheduler", "v1.36.1")
    assert not up.node_at_version(up.manifest_versions(manifests), "v1.37.1")
    # A worker has no static pods: never "at the version" by its manifests.
    assert not up.node_at_version(up.manifest_versions({"kube-apiserver": None}), "v1.37.1")


def test_argv_builders():
    assert up.plan_argv("kubeadm", "v1.37.1", True) == ["kubeadm", "upgrade", "plan", "v1.37.1", "-o", "json"]
    assert up.apply_argv("kubeadm", "v1.37.1", ignore=["Swap"]) == [
        "kubeadm", "upgrade", "apply", "v1.37.1", "--yes", "--ignore-preflight-errors=Swap"]
    assert up.node_argv("kubeadm") == ["kubeadm", "upgrade", "node"]


@pytest.mark.parametrize("text, version", [
    ("1.37.1-1.1", "v1.37.1"), ("1.36.10-2.1", "v1.36.10"), (" 1.36.0-1.1\n", "v1.36.0"),
    # Not a package version of pkgs.k8s.io: no revision, a minor alone, not installed, garbage.
    ("1.37.1", None), ("1.37", None), ("", None), (None, None), ("2.0.0-1", None), ("1.37.x-1.1", None),
])
def test_package_version_is_kubeadms_name_of_the_debian_version(text, version):
    assert up.package_version(text) == version


def _packages(kubeadm="1.37.1-1.1", kubelet="1.36.4-1.1"):
    return {name: {"installed": bool(version), "version": version or "", "held": True}
            for name, version in (("kubeadm", kubeadm), ("kubelet", kubelet))}


def _node(kubelet="v1.36.4", upgrading=None):
    return {"kubelet_version": kubelet, "unschedulable": upgrading is not None, "upgrading": upgrading}


@pytest.mark.parametrize("packages, node, expected", [
    # Not started: the kubelet package and the running kubelet at the old version.
    (_packages(), _node(), {"kubelet_package_at_target": False, "restart": True, "pending": True}),
    # Interrupted after the kubelet package was installed, before the restart.
    (_packages(kubelet="1.37.1-1.1"), _node(upgrading="v1.37.1"),
     {"kubelet_package_at_target": True, "restart": True, "pending": True}),
    # Interrupted after the restart, before the uncordon: only the mark says so.
    (_packages(kubelet="1.37.1-1.1"), _node("v1.37.1", upgrading="v1.37.1"),
     {"kubelet_package_at_target": True, "restart": False, "pending": True}),
    # An empty annotation is still the mark.
    (_packages(kubelet="1.37.1-1.1"), _node("v1.37.1", upgrading=""),
     {"kubelet_package_at_target": True, "restart": False, "pending": True}),
    # Done.
    (_packages(kubelet="1.37.1-1.1"), _node("v1.37.1"), {"kubelet_package_at_target": True, "restart": False, "pending": False}),
    # Another patch of the target's minor is not the target; no kubelet package at all neither.
    (_packages(kubelet="1.37.0-1.1"), _node("v1.37.1"), {"kubelet_package_at_target": False, "restart": False, "pending": True}),
    (_packages(kubelet=None), _node("v1.37.1"), {"kubelet_package_at_target": False, "restart": False, "pending": True}),
])
def test_node_plan(packages, node, expected):
    assert up.node_plan("v1.37.1", packages, node) == expected


@pytest.mark.parametrize("cluster, kubelets, snapshot", [
    ("v1.36.4", ["v1.36.4", "v1.36.4"], True),     # nothing upgraded yet
    ("v1.37.1", ["v1.37.1", "v1.36.4"], True),     # applied, a node still to do
    ("v1.36.4", ["v1.37.1", "v1.37.1"], True),     # the control plane not at the target (cannot happen; still work)
    ("v1.37.1", ["v1.37.1", "v1.37.1"], False),    # a rerun at the target
    ("v1.37.0", ["v1.37.0", "v1.37.0"], True),     # a patch upgrade within the minor
])
def test_upgrade_plan_snapshot_only_while_something_is_not_at_the_target(cluster, kubelets, snapshot):
    nodes = {"cp1": _node(kubelets[0]), "w1": _node(kubelets[1])}
    plan = up.upgrade_plan({"w1": _packages()}, cluster, nodes)
    assert plan["target"] == "v1.37.1" and plan["snapshot"] is snapshot
    assert list(plan["nodes"]) == ["w1"]


def test_upgrade_plan_refuses_what_it_cannot_decide():
    nodes = {"cp1": _node(), "w1": _node()}
    with pytest.raises(ValueError, match=r"no kubeadm package at a Kubernetes version on w1 \(''\)"):
        up.upgrade_plan({"w1": _packages(kubeadm=None)}, "v1.36.4", nodes)
    with pytest.raises(ValueError, match="different versions .*cp1 v1.37.0, w1 v1.37.1"):
        up.upgrade_plan({"cp1": _packages(kubeadm="1.37.0-1.1"), "w1": _packages()}, "v1.36.4", nodes)
    with pytest.raises(ValueError, match="packages of w9 were given, but not its Node"):
        up.upgrade_plan({"w9": _packages()}, "v1.36.4", nodes)
