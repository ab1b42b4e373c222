"""The CIDR, duration, version and cross-field validation filters, and their pure logic."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.filter.cidr_networks import cidr_networks
from ansible_collections.kubelab.cluster.plugins.filter.cidr_overlaps import cidr_overlaps
from ansible_collections.kubelab.cluster.plugins.filter.validation_errors import validation_errors
from ansible_collections.kubelab.cluster.plugins.filter.validation_go_duration import validation_go_duration
from ansible_collections.kubelab.cluster.plugins.filter.validation_kube_version import validation_kube_version

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
    with pytest.raises(AnsibleFilterError, match=reason):
        cidr_networks(value)


def test_cidr_overlaps():
    assert cidr_overlaps("10.96.0.0/16", "10.96.0.0/12") == [["10.96.0.0/16", "10.96.0.0/12"]]
    assert cidr_overlaps("10.244.0.0/16", "10.96.0.0/12") == []
    assert cidr_overlaps("10.244.0.0/16,fd00::/56", "10.96.0.0/12,fd00::/108") == [["fd00::/56", "fd00::/108"]]
    with pytest.raises(AnsibleFilterError):
        cidr_overlaps("x", "10.96.0.0/12")


@pytest.mark.parametrize("value, seconds", [("2h", 7200), ("1h30m", 5400), ("1.5h", 5400), ("90s", 90), ("500ms", 0.5)])
def test_go_duration_good(value, seconds):
    assert validation_go_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["forever", "3", "-1h", "2 h", 7200, "0", "", "1d"])
def test_go_duration_bad(value):
    with pytest.raises(AnsibleFilterError):
        validation_go_duration(value)


def test_go_duration_zero_when_allowed():
    assert validation_go_duration("0", True) == 0


@pytest.mark.parametrize("value, style, minor", [
    ("1.36", "package", 36), ("1.30.4", "package", 30), ("v1.31.2", "kubeadm", 31)])
def test_kube_version_good(value, style, minor):
    assert validation_kube_version(value, RELEASES, style) == minor


@pytest.mark.parametrize("value, style, reason", [
    ("1.3", "package", "outside"), (1.30, "package", "quoted"), ("1.37", "package", "outside"),
    ("1.36.x", "package", "form"), ("v1.36", "package", "form"), ("1.36.1", "kubeadm", "form"),
    ("v1.29.0", "kubeadm", "outside"), ("2.0", "package", "form")])
def test_kube_version_bad(value, style, reason):
    with pytest.raises(AnsibleFilterError, match=reason):
        validation_kube_version(value, RELEASES, style)


GROUPS = {"all": ["cp", "w1"], "ungrouped": [], "k8s_cluster": ["cp", "w1"], "kube_control_plane": ["cp"],
          "kube_workers": ["w1"]}
NAMES = {"cluster": "k8s_cluster", "control_plane": "kube_control_plane", "workers": "kube_workers"}
SPECS = {"control_plane": {"control_plane_pod_subnet": {"default": "10.244.0.0/16"},
                           "control_plane_service_subnet": {"default": "10.96.0.0/12"}},
         "worker": {"worker_token_ttl": {"default": "2h"}, "worker_token_min_ttl_left": {"default": "30m"}}}


def _errors(cp=None, worker=None, groups=None, spec_results=None):
    groups = GROUPS if groups is None else groups
    provided = {"control_plane": {"host": "cp", "vars": cp or {}}, "worker": {"host": "w1", "vars": worker or {}}}
    return validation_errors(provided, SPECS, groups, NAMES, RELEASES, spec_results)


def test_defaults_pass():
    assert _errors() == []


def test_every_problem_is_reported_at_once():
    errors = _errors(cp={"control_plane_pod_subnet": "10.96.0.0/16"}, worker={"worker_token_ttl": "forever"},
                     spec_results=[{"role": "cni", "host": "cp", "errors": ["value of cni_plugin must be one of: x"]}])
    assert len(errors) == 3
    assert any("control_plane_pod_subnet = '10.96.0.0/16' (as cp sees it)" in e and "Fix:" in e for e in errors)
    assert any(e.startswith("worker_token_ttl = 'forever'") for e in errors)
    assert any("cni_plugin" in e and "docs/roles/cni.md" in e for e in errors)


def test_group_rules():
    groups = dict(GROUPS, kube_control_plane=["cp", "w1"])
    errors = _errors(groups=groups)
    assert any("HA" in e and "kubelab_control_plane_group" in e for e in errors)
    assert any("also in the control-plane group" in e for e in errors)
    missing = {k: v for k, v in GROUPS.items() if k != "kube_workers"}
    assert any("no inventory group 'kube_workers'" in e for e in _errors(groups=missing))
    assert any("has no host" in e for e in _errors(groups=dict(GROUPS, kube_workers=[])))


def test_dual_stack_overlap_and_min_ttl():
    errors = _errors(cp={"control_plane_pod_subnet": "10.244.0.0/16,fd00::/56",
                         "control_plane_service_subnet": "10.96.0.0/12,fd00::/108"},
                     worker={"worker_token_min_ttl_left": "3h"})
    assert len(errors) == 2
    assert any("fd00::/56 overlaps" in e for e in errors)
    assert any("worker_token_min_ttl_left" in e for e in errors)
