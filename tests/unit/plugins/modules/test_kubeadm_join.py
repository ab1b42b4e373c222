"""kubelab.cluster.kubeadm_join with run_command mocked."""

from __future__ import annotations

import shutil

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_join

from ..conftest import FIXTURES, read_fixture
from .conftest import assert_no_secrets

TOKEN = "abcdef.0123456789abcdef"
KEY = "c" * 64
RSA_HASH = (FIXTURES / "ca_rsa.crt").read_text().splitlines()[0].rsplit(": ", 1)[1]
OTHER_HASH = "sha256:" + "1" * 64
ENDPOINT = "192.168.3.100:6443"


@pytest.fixture
def node(tmp_path, monkeypatch):
    monkeypatch.setattr(kubeadm_join, "KUBELET_CONF", str(tmp_path / "kubelet.conf"))
    monkeypatch.setattr(kubeadm_join, "APISERVER_MANIFEST", str(tmp_path / "kube-apiserver.yaml"))
    return tmp_path


def _args(**extra):
    args = {"api_server_endpoint": ENDPOINT, "token": TOKEN, "discovery_token_ca_cert_hashes": [OTHER_HASH, RSA_HASH]}
    args.update(extra)
    return args


def _joins(node, output="join_v1.33_worker_success.txt"):
    """kubeadm join that succeeds and writes kubelet.conf like the real one."""
    def answer(_argv):
        shutil.copy(FIXTURES / "kubelet_rsa.conf", node / "kubelet.conf")
        return 0, read_fixture(output), ""
    return answer


def test_join_argv_wrapped_in_timeout_and_result(node, run_module):
    result, failed, runner = run_module(kubeadm_join, _args(
        control_plane=True, certificate_key=KEY, node_name="cp-2", cri_socket="unix:///run/containerd/containerd.sock",
        ignore_preflight_errors=["NumCPU"]), [("join ", _joins(node, "join_v1.31_control_plane_success.txt"))])
    assert not failed, result.get("msg")
    assert runner.calls[0] == [
        "/usr/bin/timeout", "--kill-after=10", "300s", "/usr/bin/kubeadm", "join", ENDPOINT, "--token", TOKEN,
        "--discovery-token-ca-cert-hash", OTHER_HASH, "--discovery-token-ca-cert-hash", RSA_HASH,
        "--control-plane", "--certificate-key", KEY, "--node-name", "cp-2",
        "--cri-socket", "unix:///run/containerd/containerd.sock", "--ignore-preflight-errors=NumCPU"]
    assert result["changed"] is True and result["joined"] is True and result["reason"] == "joined"
    assert result["ca_cert_hash"] == RSA_HASH
    assert_no_secrets(result, TOKEN, KEY)
    assert "abcdef." in result["cmd"]


def test_a_control_plane_joins_with_its_own_api_server_address_and_port(node, run_module):
    result, failed, runner = run_module(kubeadm_join, _args(
        control_plane=True, certificate_key=KEY, apiserver_advertise_address="192.168.3.12", apiserver_bind_port=8443),
        [("join ", _joins(node, "join_v1.31_control_plane_success.txt"))])
    assert not failed, result.get("msg")
    assert runner.calls[0][-4:] == ["--apiserver-advertise-address", "192.168.3.12", "--apiserver-bind-port", "8443"]


@pytest.mark.parametrize("extra, message", [
    ({"apiserver_advertise_address": "192.168.3.12"}, "with control_plane=true only"),
    ({"control_plane": True, "certificate_key": KEY, "apiserver_advertise_address": "cp-2.lan"}, "'cp-2.lan' is not an IP address"),
    ({"control_plane": True, "certificate_key": KEY, "apiserver_bind_port": 70000}, "70000 is not a TCP port"),
])
def test_api_server_options_are_refused_before_kubeadm_runs(node, run_module, extra, message):
    result, failed, runner = run_module(kubeadm_join, _args(**extra))
    assert failed and message in result["msg"]
    assert runner.calls == []


def test_join_command_gives_the_same_argv(node, run_module):
    command = read_fixture("init_v1.31_upload_certs.txt")
    result, failed, runner = run_module(kubeadm_join, {"join_command": command, "timeout": 30},
                                        [("join ", _joins(node))])
    assert not failed
    argv = runner.kubeadm_calls("join")[0]
    assert argv[1:5] == ["join", "k8s-control.pve1.lan:6443", "--token", "vo8v1g.x0mo3351gfnduc9t"]
    assert "--control-plane" in argv and argv[argv.index("--certificate-key") + 1] == (
        "9ed5ccf5932d2f28b5170b210be69935a54088d149b94c222ab5ee2bee27d3bc")
    assert runner.calls[0][:3] == ["/usr/bin/timeout", "--kill-after=10", "30s"]
    assert_no_secrets(result, "vo8v1g.x0mo3351gfnduc9t", "9ed5ccf5932d2f28b5170b210be69935a54088d149b94c222ab5ee2bee27d3bc")


def test_already_joined_to_this_cluster_is_unchanged(node, run_module):
    shutil.copy(FIXTURES / "kubelet_rsa.conf", node / "kubelet.conf")
    result, failed, runner = run_module(kubeadm_join, _args())
    assert not failed and result["changed"] is False and result["joined"] is True
    assert result["reason"] == "already_joined" and result["ca_cert_hash"] == RSA_HASH
    assert runner.calls == []


def test_node_of_another_cluster_fails_clearly(node, run_module):
    shutil.copy(FIXTURES / "kubelet_rsa.conf", node / "kubelet.conf")
    result, failed, runner = run_module(kubeadm_join, _args(discovery_token_ca_cert_hashes=[OTHER_HASH]))
    assert failed
    assert result["msg"] == "node already belongs to another cluster (CA %s); run playbooks/reset.yml" % RSA_HASH
    assert runner.calls == []


def test_worker_cannot_silently_become_control_plane(node, run_module):
    shutil.copy(FIXTURES / "kubelet_rsa.conf", node / "kubelet.conf")
    result, failed, _runner = run_module(kubeadm_join, _args(control_plane=True))
    assert failed and "as a worker" in result["msg"]


def test_unreadable_kubelet_conf_fails(node, run_module):
    (node / "kubelet.conf").write_text("apiVersion: v1\nclusters:\n- cluster:\n    server: https://x:6443\n")
    result, failed, _runner = run_module(kubeadm_join, _args())
    assert failed and "reset.yml" in result["msg"]


def test_check_mode_runs_nothing(node, run_module):
    result, failed, runner = run_module(kubeadm_join, _args(), check_mode=True, diff=True)
    assert not failed and result["changed"] is True and runner.calls == []
    assert result["diff"]["after"] == {"joined": True}


@pytest.mark.parametrize("rc,fixture,reason,text", [
    (1, "join_error_ca_not_pinned_v1.21.txt", "ca_hash", "CA hash mismatch"),
    (124, "join_error_token_expired_v1.1x.txt", "token", 'bootstrap token "lgfyu1" is unknown to the cluster or has expired'),
    (1, "join_error_jws_missing.txt", "token", '"gqykn8"'),
    (124, "join_v1.33_worker_success.txt", "joined", ""),
    (1, "preflight_v1.35_join_not_root.txt", "preflight", "[IsPrivilegedUser] user is not running as root -> run kubeadm as root"),
])
def test_failures_carry_reason_and_clear_message(node, run_module, rc, fixture, reason, text):
    output = read_fixture(fixture)
    result, failed, _runner = run_module(kubeadm_join, _args(), [("join ", (rc, "", output + "\n--token " + TOKEN))])
    assert failed and result["joined"] is False
    if reason == "joined":  # success text but killed by timeout: still a failure
        assert result["rc"] == 124
    else:
        assert result["reason"] == reason
        assert text in result["msg"]
    assert_no_secrets(result, TOKEN)


def test_plain_timeout_message(node, run_module):
    result, failed, _runner = run_module(kubeadm_join, _args(timeout=7), [("join ", (124, "[preflight] Running pre-flight checks\n", ""))])
    assert failed and result["reason"] == "timeout" and "(timeout 7 s)" in result["msg"]


@pytest.mark.parametrize("args,text", [
    (_args(token="ABCDEF.0123456789abcdef"), "token must match"),
    (_args(discovery_token_ca_cert_hashes=["sha256:abc"]), "sha256:<64"),
    (_args(discovery_token_ca_cert_hashes=[]), "non-empty"),
    (_args(api_server_endpoint="10.0.0.1"), "host:port"),
    (_args(certificate_key="nothex"), "64 lowercase hex"),
    (_args(ignore_preflight_errors=["all"]), "'all'"),
    # The join options are checked before the preflight list, and the timeout before both.
    (_args(token="bad", ignore_preflight_errors=["all"]), "token must match"),
    (_args(token="bad", timeout=0), "positive"),
    ({"token": TOKEN}, "missing required options: api_server_endpoint, discovery_token_ca_cert_hashes"),
    (_args(join_command="kubeadm join x"), "mutually exclusive"),
    ({"join_command": "kubeadm join <host>:<port> --token <token>"}, "no valid"),
])
def test_bad_input_fails_before_kubeadm_runs(node, run_module, args, text):
    result, failed, runner = run_module(kubeadm_join, args)
    assert failed and text in result["msg"]
    assert runner.calls == []
    assert_no_secrets(result, TOKEN)
