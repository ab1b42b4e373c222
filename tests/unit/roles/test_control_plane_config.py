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
from ansible.template import trust_as_template
from role_vars import ROLES, render, role_templar

DOUBLE = pathlib.Path(__file__).resolve().parents[3] / "tests" / "doubles" / "bin" / "kubeadm"


def _double():
    loader = importlib.machinery.SourceFileLoader("kubeadm_double_for_config", str(DOUBLE))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _render(version, **overrides):
    probe = '{"version": "%s", "version_error": "", "cgroup": "cgroup2fs", "files": {}, "admin_conf": "", ' \
            '"user_kubeconfig": false}' % version
    templar = role_templar("control_plane", __control_plane_probe={"stdout": probe}, **overrides)
    source = (ROLES / "control_plane" / "templates" / "kubeadm-config.yaml.j2").read_text(encoding="utf-8")
    return templar.template(trust_as_template(source))


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
