"""The kube_packages role's version logic: which packages move, globs, the repository minor.

Renders the role's own defaults and vars (defaults/main.yml, vars/main.yml) with Ansible's
templar on what kubelab.cluster.node_state reports for `dpkg-query` lines shaped like the node's
(`${Package}\t${Version}\t${Status}` per line), parsed by the module's own parser.
"""

from __future__ import annotations

import pytest
from role_vars import node_result, render as _render, role_templar

from ansible_collections.kubelab.cluster.plugins.module_utils._node_state import parse_dpkg_status

HELD_1_36_1 = [
    "cri-tools 1.36.0-1.1 install ok installed",
    "kubeadm 1.36.1-1.1 hold ok installed",
    "kubectl 1.36.1-1.1 hold ok installed",
    "kubelet 1.36.1-1.1 hold ok installed",
    "libfoo 1.36.1-1 install ok installed",
]


def _templar(version, lines=(), **variables):
    dpkg_text = "".join(line.replace(" ", "\t", 2) + "\n" for line in lines)
    names = ["kubelet", "kubeadm", "kubectl", "ca-certificates"]
    return role_templar("kube_packages", kube_packages_version=version,
                        __kube_packages_node={"packages": parse_dpkg_status(dpkg_text, names)}, **variables)


@pytest.mark.parametrize(("version", "glob"), [("1.36", "1.36.*"), ("1.36.1", "1.36.1-*"), ("1.37.0", "1.37.0-*")])
def test_version_glob(version, glob):
    assert _render(_templar(version), "__kube_packages_version_glob") == glob


@pytest.mark.parametrize(("version", "minor"), [("1.36", "1.36"), ("1.36.1", "1.36"), ("1.37.12", "1.37")])
def test_repository_follows_the_minor(version, minor):
    templar = _templar(version)
    url = "https://pkgs.k8s.io/core:/stable:/v%s/deb/" % minor
    assert _render(templar, "kube_packages_repo_url") == url
    assert _render(templar, "kube_packages_repo_key_url") == url + "Release.key"


@pytest.mark.parametrize("version", ["1.36", "1.36.1"])
def test_nothing_to_do_at_the_wanted_version(version):
    templar = _templar(version, HELD_1_36_1)
    assert _render(templar, "__kube_packages_to_install") == []
    assert sorted(_render(templar, "__kube_packages_held")) == ["kubeadm", "kubectl", "kubelet"]


@pytest.mark.parametrize("version", ["1.36.2", "1.37", "1.35.9"])
def test_a_version_change_moves_every_package(version):
    templar = _templar(version, HELD_1_36_1)
    assert _render(templar, "__kube_packages_to_install") == ["kubelet", "kubeadm", "kubectl"]


def test_fresh_node_installs_everything():
    assert _render(_templar("1.36", ["bash 5.2.15-2+b2 install ok installed"]), "__kube_packages_to_install") == [
        "kubelet", "kubeadm", "kubectl"]


def test_half_installed_or_removed_packages_are_installed_again():
    lines = [
        "kubeadm 1.36.1-1.1 hold ok installed",
        "kubectl 1.36.1-1.1 deinstall ok config-files",
        "kubelet 1.36.1-1.1 install reinstreq half-installed",
    ]
    assert _render(_templar("1.36", lines), "__kube_packages_to_install") == ["kubelet", "kubectl"]


def test_minor_does_not_match_a_longer_minor():
    """1.3 must not match 1.36.x, nor 1.36 match 1.360.x."""
    assert _render(_templar("1.3", HELD_1_36_1), "__kube_packages_to_install") == ["kubelet", "kubeadm", "kubectl"]


def test_install_only_moves_kubeadm_first_and_leaves_the_others_held():
    """kube_upgrade's first step: the repository and pin move to 1.37, kubeadm alone is installed and held again."""
    templar = _templar("1.37", HELD_1_36_1, kube_packages_install_only=["kubeadm"], ansible_check_mode=False)
    assert _render(templar, "__kube_packages_to_install") == ["kubeadm"]
    assert _render(templar, "__kube_packages_to_hold") == ["kubeadm"]
    # Then, node by node, the kubelet and kubectl; kubeadm is at the version already.
    moved = ["kubeadm 1.37.1-1.1 hold ok installed"] + [line for line in HELD_1_36_1 if not line.startswith("kubeadm")]
    templar = _templar("1.37", moved, kube_packages_install_only=["kubelet", "kubectl"], ansible_check_mode=False)
    assert _render(templar, "__kube_packages_to_install") == ["kubelet", "kubectl"]
    assert sorted(_render(templar, "__kube_packages_to_hold")) == ["kubectl", "kubelet"]


def _read(lines):
    return {"packages": parse_dpkg_status("".join(line.replace(" ", "\t", 2) + "\n" for line in lines),
                                          ["kubelet", "kubeadm", "kubectl", "ca-certificates"])}


@pytest.mark.parametrize(("version", "variables", "refused"), [
    # site.yml rerun after upgrade.yml moved the node to 1.36.1, with the inventory still at 1.35: refused.
    ("1.35", {}, ["kubeadm", "kubectl", "kubelet"]),
    ("1.36.0", {}, ["kubeadm", "kubectl", "kubelet"]),
    # Opted in, or the inventory raised: nothing refused. A minor is satisfied by any of its patches.
    ("1.35", {"kube_packages_allow_downgrade": True}, []),
    ("1.36", {}, []),
    ("1.37", {}, []),
    # Only the packages this run moves count (kube_upgrade's kubeadm-first step).
    ("1.35", {"kube_packages_install_only": ["kubeadm"]}, ["kubeadm"]),
])
def test_a_package_installed_above_the_version_is_refused_before_any_change(version, variables, refused):
    """validate.yml's node_state options, as the role renders them, and the module's verdict on such a node."""
    node = node_result("kube_packages", _read(HELD_1_36_1), kube_packages_version=version, **variables)
    assert [message.split(" ")[0] for message in node["downgrades"]] == refused
    for message in node["downgrades"]:
        assert "is installed at 1.36.1-1.1, above kube_packages_version '%s'" % version in message
