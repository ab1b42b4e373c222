"""What control_plane derives for more than one control plane: the endpoint and kube-vip's static pod.

Rendered from the role's own vars and template with Ansible's templar, as the role renders them.
"""

from __future__ import annotations

import pytest
import yaml
from role_vars import ROLES, node_templar, render

GROUPS = {"kube_control_plane": ["cp1", "cp2", "cp3"]}


def _templar(host="cp1", version="v1.36.1", initialized=False, **overrides):
    node = {"kubeadm": {"version": version, "error": ""}, "cgroup": "cgroup2fs", "files": {},
            "admin": {"conf": "", "user_kubeconfig": False}, "cluster": {"initialized": initialized}}
    variables = dict(groups=GROUPS, inventory_hostname=host, control_plane_vip="192.0.2.100",
                     control_plane_vip_interface="eth0", ansible_search_path=[str(ROLES / "control_plane")])
    variables.update(overrides)
    return node_templar("control_plane", node, **variables)


def _pod(templar):
    return yaml.safe_load(render(templar, "lookup('ansible.builtin.template', 'kube-vip.yaml.j2')"))


@pytest.mark.parametrize("overrides, endpoint", [
    ({}, "192.0.2.100:6443"),
    ({"control_plane_bind_port": 8443}, "192.0.2.100:8443"),
    ({"control_plane_vip": "fd00::100"}, "[fd00::100]:6443"),
    ({"control_plane_endpoint": "k8s-api.lab.example:6443"}, "k8s-api.lab.example:6443"),
    ({"control_plane_vip": ""}, ""),
])
def test_the_endpoint_is_the_one_given_else_the_virtual_ip(overrides, endpoint):
    assert render(_templar(**overrides), "__control_plane_endpoint") == endpoint


def test_the_cluster_configuration_carries_the_endpoint():
    text = render(_templar(), "lookup('ansible.builtin.template', 'kubeadm-config.yaml.j2')")
    cluster = [doc for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "ClusterConfiguration"][0]
    assert cluster["controlPlaneEndpoint"] == "192.0.2.100:6443"


def test_kube_vip_announces_the_address_on_the_interface_with_the_image_asked_for():
    pod = _pod(_templar(control_plane_vip_image="registry.lab.example/kube-vip", control_plane_vip_version="v0.9.0"))
    container = pod["spec"]["containers"][0]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert (env["address"], env["vip_interface"], env["port"], env["vip_arp"], env["cp_enable"]) == (
        "192.0.2.100", "eth0", "6443", "true", "true")
    assert container["image"] == "registry.lab.example/kube-vip:v0.9.0"
    assert pod["spec"]["hostNetwork"] is True and "NET_ADMIN" in container["securityContext"]["capabilities"]["add"]


# (host, release, cluster initialized before the run, init changed in this run, kubeconfig kube-vip reads)
@pytest.mark.parametrize("host, version, initialized, init_changed, kubeconfig", [
    ("cp1", "v1.36.1", False, None, "/etc/kubernetes/super-admin.conf"),   # before init, 1.29+
    ("cp1", "v1.36.1", False, True, "/etc/kubernetes/admin.conf"),         # init just ran: RBAC is bound
    ("cp1", "v1.36.1", True, False, "/etc/kubernetes/admin.conf"),         # a rerun
    ("cp1", "v1.28.9", False, None, "/etc/kubernetes/admin.conf"),         # admin.conf was system:masters then
    ("cp2", "v1.36.1", False, None, "/etc/kubernetes/admin.conf"),         # joins a finished cluster
])
def test_only_the_first_control_plane_bootstraps_kube_vip_with_super_admin(host, version, initialized, init_changed, kubeconfig):
    overrides = {} if init_changed is None else {"__control_plane_init": {"changed": init_changed}}
    pod = _pod(_templar(host=host, version=version, initialized=initialized, **overrides))
    assert pod["spec"]["volumes"][0]["hostPath"]["path"] == kubeconfig
