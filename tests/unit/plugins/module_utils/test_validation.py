"""The input rules of module_utils/_validation.py, called directly (check_inputs is their one caller)."""

from __future__ import annotations

import pytest
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import (
    package_downgrade_errors,
    drift,
    effective_settings,
    input_errors,
    input_warnings,
    node_errors,
    overlaps,
    parse_cidrs,
    parse_duration,
    parse_kube_version,
    upgrade_step_errors,
)


def cidr_networks(value):
    return [str(network) for network in parse_cidrs(value)]


def cidr_overlaps(first, second):
    return [[str(a), str(b)] for a, b in overlaps(parse_cidrs(first), parse_cidrs(second))]


RELEASES = ["1.30", "1.31", "1.36"]


@pytest.mark.parametrize("value, expected", [
    ("10.244.0.0/16", ["10.244.0.0/16"]),
    ("10.244.0.0/16,fd00:10:244::/56", ["10.244.0.0/16", "fd00:10:244::/56"]),
    (" fd00::/64 , 10.0.0.0/8", ["fd00::/64", "10.0.0.0/8"]),
])
def test_cidr_networks_good(value, expected):
    assert cidr_networks(value) == expected


@pytest.mark.parametrize("value, reason", [
    ("10.244.0.0/99", "not a CIDR"), ("10.244.0.0", "no prefix length"), ("10.244.1.0/16", "host bits"),
    ("10.0.0.0/8,10.1.0.0/16", "dual-stack"), ("", "non-empty"), (16, "non-empty"), ("banana/8", "not a CIDR"),
])
def test_cidr_networks_bad(value, reason):
    with pytest.raises(ValueError, match=reason):
        cidr_networks(value)


def test_cidr_overlaps():
    assert cidr_overlaps("10.96.0.0/16", "10.96.0.0/12") == [["10.96.0.0/16", "10.96.0.0/12"]]
    assert cidr_overlaps("10.244.0.0/16", "10.96.0.0/12") == []
    assert cidr_overlaps("10.244.0.0/16,fd00::/56", "10.96.0.0/12,fd00::/108") == [["fd00::/56", "fd00::/108"]]
    with pytest.raises(ValueError):
        cidr_overlaps("x", "10.96.0.0/12")


@pytest.mark.parametrize("value, seconds", [("2h", 7200), ("1h30m", 5400), ("1.5h", 5400), ("90s", 90), ("500ms", 0.5)])
def test_go_duration_good(value, seconds):
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["forever", "3", "-1h", "2 h", 7200, "0", "", "1d"])
def test_go_duration_bad(value):
    with pytest.raises(ValueError):
        parse_duration(value)


def test_go_duration_zero_when_allowed():
    assert parse_duration("0", True) == 0


@pytest.mark.parametrize("value, style, minor", [
    ("1.36", "package", 36), ("1.30.4", "package", 30), ("v1.31.2", "kubeadm", 31)])
def test_kube_version_good(value, style, minor):
    assert parse_kube_version(value, RELEASES, style) == minor


@pytest.mark.parametrize("value, style, reason", [
    ("1.3", "package", "outside"), (1.30, "package", "quoted"), ("1.37", "package", "outside"),
    ("1.36.x", "package", "form"), ("v1.36", "package", "form"), ("1.36.1", "kubeadm", "form"),
    ("v1.29.0", "kubeadm", "outside"), ("2.0", "package", "form")])
def test_kube_version_bad(value, style, reason):
    with pytest.raises(ValueError, match=reason):
        parse_kube_version(value, RELEASES, style)


GROUPS = {"all": ["cp", "w1"], "ungrouped": [], "k8s_cluster": ["cp", "w1"], "kube_control_plane": ["cp"],
          "kube_workers": ["w1"]}
NAMES = {"cluster": "k8s_cluster", "control_plane": "kube_control_plane", "workers": "kube_workers"}
SPECS = {"control_plane": {"control_plane_pod_subnet": {"default": "10.244.0.0/16"},
                           "control_plane_service_subnet": {"default": "10.96.0.0/12"}},
         "worker": {"worker_token_ttl": {"default": "2h"}, "worker_token_min_ttl_left": {"default": "30m"}}}


def _errors(cp=None, worker=None, groups=None, spec_results=None):
    groups = GROUPS if groups is None else groups
    provided = {"control_plane": {"host": "cp", "vars": cp or {}}, "worker": {"host": "w1", "vars": worker or {}}}
    return input_errors(provided, SPECS, groups, NAMES, RELEASES, spec_results or ())


def test_defaults_pass():
    assert _errors() == []


def test_every_problem_is_reported_at_once():
    errors = _errors(cp={"control_plane_pod_subnet": "10.96.0.0/16"}, worker={"worker_token_ttl": "forever"},
                     spec_results=[{"role": "cni", "host": "cp", "errors": ["value of cni_plugin must be one of: x"]}])
    assert len(errors) == 3
    assert any("control_plane_pod_subnet = '10.96.0.0/16' (as cp sees it)" in e and "Fix:" in e for e in errors)
    assert any(e.startswith("worker_token_ttl = 'forever'") for e in errors)
    assert any("cni_plugin" in e and "roles/cni/README.md" in e for e in errors)


def test_group_rules():
    groups = dict(GROUPS, kube_control_plane=["cp", "w1"])
    errors = _errors(groups=groups)
    assert any("also in the control-plane group" in e for e in errors)
    missing = {k: v for k, v in GROUPS.items() if k != "kube_workers"}
    assert any("no inventory group 'kube_workers'" in e for e in _errors(groups=missing))
    assert any("has no host" in e for e in _errors(groups=dict(GROUPS, kube_workers=[])))


HA_GROUPS = dict(GROUPS, all=["cp", "cp2", "cp3", "w1"], k8s_cluster=["cp", "cp2", "cp3", "w1"],
                 kube_control_plane=["cp", "cp2", "cp3"])


# More than one control plane: (control-plane hosts, control_plane variables, the error expected or None).
@pytest.mark.parametrize("hosts, cp, expected", [
    (["cp"], {}, None),
    (["cp", "cp2", "cp3"], {}, "control_plane_endpoint = '' (as cp sees it): the control-plane group holds 3 hosts"),
    (["cp", "cp2", "cp3"], {"control_plane_endpoint": "k8s-api.lab.example:6443"}, None),
    (["cp", "cp2", "cp3"], {"control_plane_endpoint": "k8s-api.lab.example"}, None),
    (["cp", "cp2", "cp3"], {"control_plane_vip": "192.0.2.100", "control_plane_vip_interface": "eth0"}, None),
    (["cp", "cp2", "cp3"], {"control_plane_vip": "192.0.2.100"}, "control_plane_vip_interface = '' (as cp sees it)"),
    (["cp"], {"control_plane_vip": "k8s-api", "control_plane_vip_interface": "eth0"}, "control_plane_vip = 'k8s-api'"),
    (["cp", "cp2"], {"control_plane_endpoint": "192.0.2.100:6443"}, None),
])
def test_ha_rules(hosts, cp, expected):
    groups = dict(HA_GROUPS, kube_control_plane=hosts)
    errors = _errors(cp=cp, groups=groups)
    if expected is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith(expected) and "Fix:" in errors[0], errors


def test_ha_rules_of_a_role_alone_read_its_control_plane_group():
    provided = {"control_plane": {"host": "cp", "vars": {"control_plane_group": "kube_control_plane"}}}
    errors = input_errors(provided, SPECS, HA_GROUPS, {}, RELEASES, scope="role")
    assert len(errors) == 1 and "the control-plane group holds 3 hosts (cp, cp2, cp3)" in errors[0]
    provided["control_plane"]["vars"]["control_plane_endpoint"] = "k8s-api.lab.example:6443"
    assert input_errors(provided, SPECS, HA_GROUPS, {}, RELEASES, scope="role") == []


@pytest.mark.parametrize("count, warned", [(1, False), (2, True), (3, False), (4, True), (5, False)])
def test_an_even_number_of_control_planes_is_only_warned_about(count, warned):
    hosts = ["cp%d" % index for index in range(count)]
    groups = dict(HA_GROUPS, kube_control_plane=hosts, k8s_cluster=hosts + ["w1"])
    provided = {"control_plane": {"host": "cp0", "vars": {"control_plane_endpoint": "k8s-api:6443"}}}
    assert input_errors(provided, SPECS, groups, NAMES, RELEASES) == []
    warnings = input_warnings(provided, SPECS, groups, NAMES)
    assert bool(warnings) == warned
    if warned:
        assert warnings[0].startswith("%d control planes" % count) and "tolerate the loss of %d" % ((count - 1) // 2) in warnings[0]


@pytest.mark.parametrize("node, groups, expected", [
    ("", {}, "no node is named"),
    ("w9", {}, "there is no such host in the inventory"),
    ("repo", {"all": ["cp", "w1", "repo"], "pkgrepo": ["repo"]}, "in the inventory but not in the cluster group 'k8s_cluster'"),
    ("cp", {}, "the last control plane of 'kube_control_plane'"),
])
def test_node_rules_refuse_with_the_fix(node, groups, expected):
    errors = input_errors({}, {}, dict(GROUPS, **groups), NAMES, RELEASES, node=node)
    assert len(errors) == 1 and expected in errors[0] and "Fix:" in errors[0], errors


def test_node_rules_pass_a_worker_and_a_control_plane_that_is_not_the_last():
    assert input_errors({}, {}, GROUPS, NAMES, RELEASES, node="w1") == []
    # With a second control plane the first may go (the HA rules judge the endpoint, separately).
    groups = dict(GROUPS, kube_control_plane=["cp", "cp2"], k8s_cluster=["cp", "cp2", "w1"])
    assert not [e for e in input_errors({}, {}, groups, NAMES, RELEASES, node="cp") if e.startswith("node =")]
    # Playbooks acting on groups name no node: no node rule.
    assert input_errors({}, {}, GROUPS, NAMES, RELEASES) == []


def test_dual_stack_overlap_and_min_ttl():
    errors = _errors(cp={"control_plane_pod_subnet": "10.244.0.0/16,fd00::/56",
                         "control_plane_service_subnet": "10.96.0.0/12,fd00::/108"},
                     worker={"worker_token_min_ttl_left": "3h"})
    assert len(errors) == 2
    assert any("fd00::/56 overlaps" in e for e in errors)
    assert any("worker_token_min_ttl_left" in e for e in errors)


def _node(machine_id="", product_uuid="", hostname="", addresses=()):
    return {"machine_id": machine_id, "product_uuid": product_uuid, "hostname": hostname, "addresses": list(addresses)}


def _reads(identities):
    return {host: {"identity": identity} for host, identity in identities.items()}


FIT = {
    "cp1": _node("a" * 32, "4c4c4544-0001", "cp1", ["192.168.3.100"]),
    "w1": _node("b" * 32, "4c4c4544-0002", "w1", ["192.168.3.101"]),
    "w2": _node("c" * 32, "", "w2", ["192.168.3.102", "fd00::102"]),
}


def test_fit_nodes_pass():
    assert node_errors(_reads(FIT), "10.244.0.0/16", "10.96.0.0/12") == []


@pytest.mark.parametrize("host, change, expected", [
    ("w2", {"machine_id": "a" * 32}, "cp1, w2 share one /etc/machine-id (" + "a" * 32 + ")"),
    ("w1", {"product_uuid": "4C4C4544-0001"}, "cp1, w1 share one product_uuid (4c4c4544-0001)"),
    ("w1", {"hostname": "CP1"}, "cp1, w1 share one host name (cp1)"),
    ("w1", {"addresses": ["10.244.3.7"]}, "w1 has the address 10.244.3.7 inside 10.244.0.0/16 (control_plane_pod_subnet"),
    ("w2", {"addresses": ["10.96.0.10"]}, "w2 has the address 10.96.0.10 inside 10.96.0.0/12 (control_plane_service_subnet"),
])
def test_each_node_problem_is_named(host, change, expected):
    nodes = {name: dict(node) for name, node in FIT.items()}
    nodes[host].update(change)
    errors = node_errors(_reads(nodes), "10.244.0.0/16", "10.96.0.0/12")
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_every_problem_at_once_and_empty_values_never_match():
    nodes = {name: _node("d" * 32, "", "node", ["10.96.0.1"]) for name in ("a", "b")}
    errors = node_errors(_reads(nodes), "10.244.0.0/16", "10.96.0.0/12")
    assert len(errors) == 4, errors  # machine-id, host name, two addresses; empty product_uuids are no match
    assert node_errors(_reads(nodes), "not a cidr", "also not") == [errors[0], errors[1]]


@pytest.mark.parametrize("advertise, refused", [
    ({}, []),
    ({"cp1": ""}, []),
    ({"cp1": "192.168.3.100"}, []),
    ({"w2": "fd00:0::102"}, []),
    ({"cp1": "192.168.3.101"}, ["cp1"]),
    # One value for the whole group: the first control plane owns it, the others do not.
    ({"cp1": "192.168.3.100", "w1": "192.168.3.100", "w2": "192.168.3.100"}, ["w1", "w2"]),
    # Not an address (the inputs check names that) or a node that was not read: nothing to compare.
    ({"cp1": "cp1.lan"}, []),
    ({"cp9": "192.168.3.109"}, []),
])
def test_an_advertise_address_must_be_one_of_the_nodes_own(advertise, refused):
    errors = node_errors(_reads(FIT), "10.244.0.0/16", "10.96.0.0/12", advertise_addresses=advertise)
    assert [error.split(":", 1)[0] for error in errors] == refused, errors
    assert all("is not one of its addresses" in error and "host_vars" in error for error in errors)


HELD = {"in_use": True, "listeners": [{"port": 6443, "processes": ["python3[812]"]}]}
FREE = {"in_use": False, "listeners": []}


@pytest.mark.parametrize("read, refused", [
    ({"ports": {"6443": HELD}, "cluster": {"initialized": False}}, True),    # leftover listener before init
    ({"ports": {"6443": HELD}, "cluster": {"initialized": True}}, False),    # our own API server on a rerun
    ({"ports": {"10250": HELD}, "kubelet": {"exists": True}}, False),         # a joined worker's kubelet
    ({"ports": {"10250": HELD}, "kubelet": {"exists": False}}, True),
    ({"ports": {"6443": FREE}, "cluster": {"initialized": False}}, False),
])
def test_ports_held_only_count_before_the_node_is_in_the_cluster(read, refused):
    reads = _reads(FIT)
    reads["cp1"].update(read)
    errors = node_errors(reads, "10.244.0.0/16", "10.96.0.0/12")
    assert bool(errors) is refused, errors
    if refused:
        assert errors[0].startswith("cp1: port ") and "python3[812]" in errors[0] and "reset.yml" in errors[0]


def test_ports_can_be_left_to_the_doctor():
    reads = _reads(FIT)
    reads["cp1"].update({"ports": {"6443": HELD}, "cluster": {"initialized": False}})
    assert node_errors(reads, "10.244.0.0/16", "10.96.0.0/12", False) == []


RUNNING = {"pod_subnet": "10.244.0.0/16", "service_subnet": "10.96.0.0/12", "cluster_name": "kubelab",
           "bind_port": "6443", "advertise_address": "192.168.3.100",
           "apiserver_args": {"secure-port": "6443", "audit-log-maxage": "30"}}
WANTED = {"pod_subnet": "10.244.0.0/16", "service_subnet": "10.96.0.0/12", "cluster_name": "kubelab",
          "bind_port": "6443", "advertise_address": "", "apiserver_extra_args": {"audit-log-maxage": "30"}}


def test_no_drift_when_the_cluster_runs_what_is_asked():
    assert drift(WANTED, RUNNING) == []
    assert drift(dict(WANTED, pod_subnet="10.244.0.0/16 "), RUNNING) == []


@pytest.mark.parametrize("change, expected", [
    ({"pod_subnet": "10.245.0.0/16"}, "control_plane_pod_subnet is 10.245.0.0/16, but the cluster runs 10.244.0.0/16"),
    ({"service_subnet": "10.97.0.0/16"}, "control_plane_service_subnet is 10.97.0.0/16, but the cluster runs 10.96.0.0/12"),
    ({"cluster_name": "lab2"}, "control_plane_cluster_name is lab2, but the cluster runs kubelab"),
    ({"bind_port": "8443"}, "control_plane_bind_port is 8443, but the cluster runs 6443"),
    ({"advertise_address": "10.0.0.9"}, "control_plane_advertise_address is 10.0.0.9, but the cluster runs 192.168.3.100"),
    ({"apiserver_extra_args": {"audit-log-maxage": "60"}}, "control_plane_apiserver_extra_args audit-log-maxage=60 is not"),
])
def test_each_setting_that_cannot_take_effect_is_named_with_a_way_forward(change, expected):
    found = drift(dict(WANTED, **change), RUNNING)
    assert len(found) == 1 and found[0].startswith(expected), found
    assert "reset.yml" in found[0] or "kube-apiserver.yaml" in found[0]


def test_what_the_manifests_do_not_show_is_not_compared():
    assert drift(dict(WANTED, cluster_name="other"), dict(RUNNING, cluster_name="")) == []


def test_effective_settings_leave_out_defaults_the_role_renders():
    specs = {"app_image": {
        "app_image_images": {"type": "list", "default": [{"name": "docker.io/library/a:1",
                                                          "build": {"context": "{{ role_path }}/../../examples/webapp"}}]},
        "app_image_archive_dir": {"type": "path", "default": "{{ inventory_dir }}/images"},
        "app_image_base_image": {"type": "str", "default": "python:3.12-slim"},
    }}
    settings = effective_settings({"app_image": {"host": "n1", "vars": {}}}, specs)
    # Only the literal default is known on the controller; the templated ones (at any depth) are the role's to render.
    assert settings == {"app_image": {"app_image_base_image": "python:3.12-slim"}}
    assert input_errors({"app_image": {"host": "n1", "vars": {}}}, specs, {}, {}, RELEASES, scope="role") == []


def _day2_errors(certs=None, backup=None):
    specs = {"certs": {"certs_renew_below_days": {"default": 0}, "certs_static_pod_wait": {"default": 20}},
             "etcd_backup": {"etcd_backup_endpoint": {"default": "https://127.0.0.1:2379"}}}
    provided = {"certs": {"host": "cp", "vars": certs or {}}, "etcd_backup": {"host": "cp", "vars": backup or {}}}
    return input_errors(provided, specs, GROUPS, NAMES, RELEASES)


def test_day2_defaults_and_good_values_pass():
    assert _day2_errors() == []
    assert _day2_errors(certs={"certs_renew_below_days": "30", "certs_static_pod_wait": 0},
                        backup={"etcd_backup_node_dir": "/var/backups/etcd"}) == []


@pytest.mark.parametrize("certs,backup,name", [
    ({"certs_renew_below_days": -3}, {}, "certs_renew_below_days"),
    ({"certs_renew_below_days": 4000}, {}, "certs_renew_below_days"),
    ({"certs_renew_below_days": "soon"}, {}, "certs_renew_below_days"),
    ({"certs_static_pod_wait": "20s"}, {}, "certs_static_pod_wait"),
    ({"certs_restart_timeout": 0}, {}, "certs_restart_timeout"),
    ({"certs_manifest_dir": "manifests"}, {}, "certs_manifest_dir"),
    ({}, {"etcd_backup_endpoint": "127.0.0.1:2379"}, "etcd_backup_endpoint"),
    ({}, {"etcd_backup_cert_file": "pki/etcd/server.crt"}, "etcd_backup_cert_file"),
])
def test_day2_bad_values_are_named(certs, backup, name):
    errors = _day2_errors(certs, backup)
    assert len(errors) == 1 and errors[0].startswith(name), errors


# target, cluster version, nodes' kubelets, words each refusal must hold (empty: the step is allowed)
UPGRADE_STEPS = [
    ("1.37", "v1.36.1", {"cp1": "v1.36.1", "w1": "v1.36.1"}, []),            # one minor step, newest patch of it
    ("1.37.2", "v1.36.1", {}, []),                                            # one minor step, an exact patch
    ("1.36", "v1.36.1", {}, []),                                              # the current minor (rerun, or its newest patch)
    ("1.36.4", "v1.36.1", {}, []),                                            # a patch of the current minor
    ("1.36.1", "v1.36.1", {"w1": "v1.36.1"}, []),                             # at the target already: nothing to refuse
    ("1.37", "v1.37.0", {"cp1": "v1.37.0", "w1": "v1.36.1"}, []),             # an interrupted upgrade, resumed
    ("1.38", "v1.36.1", {}, [["skips 1.37", "v1.36.1", "kube_upgrade_version=1.37"]]),
    ("1.40", "v1.36.1", {}, [["skips 1.37, 1.38, 1.39", "upgrade to 1.37 first"]]),
    ("1.35", "v1.36.1", {}, [["1.35 is below the cluster's version v1.36.1", "downgrades are refused"]]),
    ("1.36.0", "v1.36.1", {}, [["1.36.0 is below the cluster's version v1.36.1"]]),
    ("v1.36.0", "v1.36.1", {}, [["1.36.0 is below"]]),
    ("1.38", "v1.37.0", {"w1": "v1.36.1"}, [["node w1 runs kubelet v1.36.1", "would skip 1.37", "kube_upgrade_version=1.37"]]),
    ("1.37", "v1.37.0", {"w1": "v1.38.0"}, [["node w1 runs kubelet v1.38.0, above 1.37", "downgrades are refused"]]),
    ("1.37", "v1.37", {}, [["the cluster's version could not be read"]]),
    ("1.37", "v1.36.1", {"w1": "unknown"}, [["node w1 reports kubelet version 'unknown'"]]),
    ("one", "v1.36.1", {}, [["kube_upgrade_version = 'one' is not a Kubernetes version"]]),
]


@pytest.mark.parametrize("target, cluster, nodes, expected", UPGRADE_STEPS,
                         ids=["%s-from-%s-%d" % (case[0], case[1], index) for index, case in enumerate(UPGRADE_STEPS)])
def test_upgrade_steps(target, cluster, nodes, expected):
    errors = upgrade_step_errors(target, cluster, nodes)
    assert len(errors) == len(expected), errors
    for error, words in zip(errors, expected):
        for word in words:
            assert word in error, (word, error)


UPGRADE_SPECS = {"kube_upgrade": {"kube_upgrade_version": {"type": "str", "default": ""},
                                  "kube_upgrade_batch_size": {"type": "int", "default": 1}}}


@pytest.mark.parametrize("values, needle", [
    ({"kube_upgrade_version": ""}, "is empty: the upgrade needs a target"),
    ({"kube_upgrade_version": 1.37}, "must be a quoted string"),
    ({"kube_upgrade_version": "1.99"}, "outside the releases"),
    ({"kube_upgrade_version": "1.37", "kube_upgrade_batch_size": 0}, "is not a number of nodes"),
    ({"kube_upgrade_version": "1.36", "kube_upgrade_drain_timeout": -5}, "is not a positive number of seconds"),
])
def test_upgrade_input_rules(values, needle):
    errors = input_errors({"kube_upgrade": {"host": "cp1", "vars": values}}, UPGRADE_SPECS, {}, {}, RELEASES)
    assert any(needle in error for error in errors), errors


def test_upgrade_input_rules_pass_a_supported_target():
    assert input_errors({"kube_upgrade": {"host": "cp1", "vars": {"kube_upgrade_version": "1.36"}}}, UPGRADE_SPECS, {}, {},
                        RELEASES) == []


def _dpkg(version):
    return {"installed": bool(version), "version": version or "", "held": bool(version)}


@pytest.mark.parametrize("wanted, installed, downgraded", [
    # A minor is satisfied by any patch of it; a newer patch, the same patch or none installed is no downgrade.
    ("1.36", "1.36.4-1.1", False), ("1.36", "1.36.0-1.1", False), ("1.36", "1.35.4-1.1", False), ("1.36", None, False),
    ("1.36.1", "1.36.1-1.1", False), ("1.36.1", "1.36.0-1.1", False), ("1.36.1", "1.35.9-2.1", False),
    # Below the installed minor, or below its patch: refused.
    ("1.35", "1.36.1-1.1", True), ("1.35.4", "1.36.1-1.1", True), ("1.36.1", "1.36.2-1.1", True), ("1.34", "1.36.0-1.1", True),
    # What cannot be read is apt's to decide.
    ("1.35", "garbage", False), ("1.x", "1.36.1-1.1", False),
])
def test_package_downgrade_errors(wanted, installed, downgraded):
    errors = package_downgrade_errors({"kubelet": wanted}, {"kubelet": _dpkg(installed)})
    assert bool(errors) is downgraded, errors
    if downgraded:
        assert errors[0].startswith("kubelet is installed at %s, above kube_packages_version '%s'" % (installed, wanted))
        assert 'kube_packages_version (and container_runtime_kubernetes_version) to "1.%s"' % installed.split(".")[1] in errors[0]
        assert "kube_packages_allow_downgrade: true" in errors[0] and "Nothing was changed" in errors[0]
    # The opt-in lets every one of them through.
    assert package_downgrade_errors({"kubelet": wanted}, {"kubelet": _dpkg(installed)}, allow=True) == []


def test_package_downgrade_errors_names_each_package_it_is_given_only():
    installed = {name: _dpkg("1.36.1-1.1") for name in ("kubeadm", "kubectl", "kubelet")}
    errors = package_downgrade_errors({"kubelet": "1.35", "kubeadm": "1.35"}, installed)
    assert [error.split(" ")[0] for error in errors] == ["kubeadm", "kubelet"]
