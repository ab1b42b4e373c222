"""The kubeadm configuration file control_plane writes, read the way kubeadm reads it.

kubeadm splits the file on `---` lines and refuses any document without apiVersion and kind
(a comment-only document included: real kubeadm 1.26 refused our file for exactly that). The
file is rendered from the role's own template and vars, split like kubeadm's YAML reader, and
handed to the kubeadm TEST DOUBLE's config loader, which refuses what kubeadm refuses.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib
import re

import pytest
import yaml
from role_vars import ROLES, node_templar, render, role_templar

DOUBLE = pathlib.Path(__file__).resolve().parents[3] / "tests" / "doubles" / "bin" / "kubeadm"


def _double():
    loader = importlib.machinery.SourceFileLoader("kubeadm_double_for_config", str(DOUBLE))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _render(version, **overrides):
    """The role's kubeadm configuration as the role renders it (the template lookup: Ansible's trim_blocks)."""
    node = {"kubeadm": {"version": version, "error": ""}, "cgroup": overrides.pop("cgroup", "cgroup2fs"), "files": {},
            "admin": {"conf": "", "user_kubeconfig": False}}
    templar = node_templar("control_plane", node, ansible_search_path=[str(ROLES / "control_plane")], **overrides)
    return render(templar, "lookup('ansible.builtin.template', 'kubeadm-config.yaml.j2')")


def _kubeadm_documents(text):
    """Documents as kubeadm's reader cuts them: at lines starting with `---`; empty chunks are dropped."""
    chunks, current = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("---"):
            if "".join(current).strip():
                chunks.append("".join(current))
            current = []
        else:
            current.append(line)
    if "".join(current).strip():
        chunks.append("".join(current))
    return chunks


@pytest.mark.parametrize("version,api", [("v1.36.1", "kubeadm.k8s.io/v1beta4"), ("v1.30.4", "kubeadm.k8s.io/v1beta3")])
@pytest.mark.parametrize("proxy", [{}, {"conntrack": {"maxPerCore": 0}}])
def test_every_document_has_apiversion_and_kind(version, api, proxy):
    text = _render(version, control_plane_kube_proxy_configuration=proxy)
    docs = [yaml.safe_load(chunk) for chunk in _kubeadm_documents(text)]
    assert all(isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind") for doc in docs), text
    kinds = [doc["kind"] for doc in docs]
    assert kinds[:3] == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
    assert docs[0]["apiVersion"] == api
    assert ("KubeProxyConfiguration" in kinds) is bool(proxy)
    assert text.lstrip().startswith("---\n# Managed by the kubelab.cluster.control_plane role")


@pytest.mark.parametrize("version", ["v1.26.1", "v1.30.4", "v1.36.1"])
def test_the_strict_kubeadm_double_accepts_the_rendered_file_without_warnings(tmp_path, monkeypatch, capsys, version):
    """Every field known to that release's API version, extraArgs in the shape it wants (map / name-value list)."""
    monkeypatch.setenv("KUBELAB_DOUBLE_ROOT", str(tmp_path))
    monkeypatch.setenv("KUBELAB_DOUBLE_VERSION", version)
    path = tmp_path / "kubeadm-config.yaml"
    path.write_text(_render(version, control_plane_kube_proxy_configuration={"conntrack": {"maxPerCore": 0}},
                            control_plane_apiserver_extra_args={"audit-log-maxage": "30"},
                            control_plane_kubelet_extra_args={"node-ip": "10.0.0.1"}))
    config = _double().load_config(str(path))
    assert sorted(config) == ["ClusterConfiguration", "InitConfiguration", "KubeProxyConfiguration",
                              "KubeletConfiguration"]
    assert capsys.readouterr().err == "", "kubeadm would warn about this file"


def _docs(text):
    return {doc["kind"]: doc for doc in (yaml.safe_load(chunk) for chunk in _kubeadm_documents(text))}


@pytest.mark.parametrize("version", ["v1.30.4", "v1.36.1"])
def test_extra_args_take_the_shape_of_the_api_version(version):
    docs = _docs(_render(version, control_plane_apiserver_extra_args={"audit-log-maxage": 30},
                         control_plane_scheduler_extra_args={"v": "2"},
                         control_plane_kubelet_extra_args={"node-ip": "10.0.0.1"}))
    api_server = docs["ClusterConfiguration"]["apiServer"]["extraArgs"]
    kubelet = docs["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]
    if version == "v1.36.1":
        assert api_server == [{"name": "audit-log-maxage", "value": "30"}]
        assert kubelet == [{"name": "node-ip", "value": "10.0.0.1"}]
    else:
        assert api_server == {"audit-log-maxage": "30"} and kubelet == {"node-ip": "10.0.0.1"}
    assert "controllerManager" not in docs["ClusterConfiguration"], "no empty sections"
    assert docs["ClusterConfiguration"]["scheduler"]["extraArgs"]


def test_pass_through_dicts_merge_deep_into_their_document():
    docs = _docs(_render("v1.36.1", control_plane_apiserver_extra_args={"audit-log-maxage": "30"},
                         control_plane_cluster_configuration={"apiServer": {"certSANs": ["k8s.lab"]},
                                                              "networking": {"dnsDomain": "lab.local"}},
                         control_plane_init_configuration={"nodeRegistration": {"taints": []}}))
    cluster = docs["ClusterConfiguration"]
    assert cluster["apiServer"] == {"extraArgs": [{"name": "audit-log-maxage", "value": "30"}], "certSANs": ["k8s.lab"]}
    assert cluster["networking"] == {"podSubnet": "10.244.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "lab.local"}
    assert docs["InitConfiguration"]["nodeRegistration"]["taints"] == []
    assert docs["InitConfiguration"]["nodeRegistration"]["criSocket"].startswith("unix://")


def test_values_that_look_like_yaml_stay_strings():
    docs = _docs(_render("v1.36.1", control_plane_cluster_name="on", control_plane_advertise_address="10.0.0.5",
                         control_plane_apiserver_extra_args={"enable-admission-plugins": "NodeRestriction,yes: no"}))
    assert docs["ClusterConfiguration"]["clusterName"] == "on"
    assert docs["InitConfiguration"]["localAPIEndpoint"] == {"bindPort": 6443, "advertiseAddress": "10.0.0.5"}
    assert docs["ClusterConfiguration"]["apiServer"]["extraArgs"][0]["value"] == "NodeRestriction,yes: no"


def test_init_makes_our_short_lived_token_not_kubeadms_default():
    docs = [yaml.safe_load(chunk) for chunk in _kubeadm_documents(_render("v1.36.1"))]
    (token,) = docs[0]["bootstrapTokens"]
    assert token == {"description": "kubelab.cluster join token", "ttl": "2h", "usages": ["signing", "authentication"],
                     "groups": ["system:bootstrappers:kubeadm:default-node-token"]}
    assert "token" not in token, "kubeadm generates the secret; it never sits in the file"


def test_check_mode_on_a_bare_node_takes_the_release_from_the_packages():
    docs = [yaml.safe_load(chunk) for chunk in _kubeadm_documents(_render("", control_plane_expected_version="1.30"))]
    assert docs[0]["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert docs[1]["kubernetesVersion"] == "v1.30"


@pytest.mark.parametrize("inventory_dir,expected", [
    ("/srv/infra/inventory/lab", "/srv/infra/inventory/lab/artifacts/kubelab-admin.conf"),
    (None, "./artifacts/kubelab-admin.conf"),
])
def test_the_controller_kubeconfig_lands_beside_the_inventory(inventory_dir, expected):
    """Not under playbook_dir: with the installed collection that is inside ansible_collections/."""
    templar = role_templar("control_plane", inventory_dir=inventory_dir,
                           playbook_dir="/usr/share/ansible/collections/ansible_collections/kubelab/cluster/playbooks")
    assert render(templar, "control_plane_kubeconfig_dest") == expected
    assert not re.search("ansible_collections", render(templar, "control_plane_kubeconfig_dest"))
