"""Pure decisions of kubeadm_cluster: is kubeadm init finished, from the API server's answers."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_cluster as cluster

from ..conftest import read_fixture

CONFIG, INFO, ROLE = cluster.probe_plan()


@pytest.mark.parametrize("answers,state,missing", [
    ({CONFIG: 200, INFO: 200, ROLE: 200}, "complete", []),
    # Stopped in wait-control-plane on 1.29+: admin.conf is not yet bound to cluster-admin.
    ({CONFIG: 403, INFO: 403, ROLE: 403}, "partial", ["upload-config", "bootstrap-token"]),
    # Before 1.29 (admin.conf in system:masters): the objects are simply missing.
    ({CONFIG: 404, INFO: 404, ROLE: 404}, "partial", ["upload-config", "bootstrap-token"]),
    # Stopped inside bootstrap-token: cluster-info written, its Role not yet.
    ({CONFIG: 200, INFO: 200, ROLE: 404}, "partial", ["bootstrap-token"]),
    ({CONFIG: None, INFO: None, ROLE: None}, "unreachable", []),
    ({CONFIG: 200}, "unreachable", []),
    ({CONFIG: 401, INFO: 401, ROLE: 401}, "refused", []),
    ({CONFIG: 200, INFO: 500, ROLE: 200}, "refused", []),
])
def test_init_state(answers, state, missing):
    found, phases, detail = cluster.init_state(answers)
    assert (found, phases) == (state, missing), detail
    assert detail


def test_partial_detail_names_what_is_missing_and_what_is_forbidden():
    _state, _missing, detail = cluster.init_state({CONFIG: 403, INFO: 404, ROLE: 404})
    assert detail == "kubeadm-config forbidden, cluster-info missing, kubeadm:bootstrap-signer-clusterinfo missing"


def test_finish_argv_skips_only_preflight():
    argv = ["kubeadm", "init", "--config", "/etc/kubernetes/kubeadm-config.yaml", "--ignore-preflight-errors=NumCPU"]
    assert cluster.finish_argv(argv) == argv + ["--skip-phases=preflight"]


def test_kubeconfig_credentials_of_an_embedded_admin_conf():
    cert, key = b"-----BEGIN CERTIFICATE-----\nx\n", b"-----BEGIN RSA PRIVATE KEY-----\ny\n"
    text = (
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: https://10.0.0.5:6443\n"
        "  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n"
        "  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nkind: Config\n"
        "users:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: %s\n    client-key-data: %s\n"
    ) % (base64.b64encode(b"CA").decode(), base64.b64encode(cert).decode(), base64.b64encode(key).decode())
    creds = cluster.kubeconfig_credentials(text)
    assert creds["server"] == "https://10.0.0.5:6443" and creds["ca_pem"] == b"CA"
    assert creds["cert_pem"] == cert and creds["key_pem"] == key
    assert creds["cert_file"] is None and creds["key_file"] is None


def test_kubeconfig_credentials_of_a_rotated_kubelet_conf_name_files():
    creds = cluster.kubeconfig_credentials(read_fixture("kubelet_rsa.conf"))
    assert creds["server"].startswith("https://")
    assert creds["cert_pem"] is None
    assert creds["cert_file"] == creds["key_file"] == "/var/lib/kubelet/pki/kubelet-client-current.pem"
