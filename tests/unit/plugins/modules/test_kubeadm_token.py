"""kubelab.cluster.kubeadm_token with run_command mocked."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_token

from ..conftest import FIXTURES
from .conftest import assert_no_secrets

RSA_HASH = (FIXTURES / "ca_rsa.crt").read_text().splitlines()[0].rsplit(": ", 1)[1]
OURS = "kubelab.cluster join token"
KEY = "e" * 64


def _stream(*tokens):
    """`kubeadm token list -o json` output: concatenated objects, as kubeadm prints them."""
    return "".join(json.dumps(dict(kind="BootstrapToken", apiVersion="output.kubeadm.k8s.io/v1alpha3", **token),
                              indent=4) + "\n" for token in tokens)


def _in(minutes):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def admin_conf(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text((FIXTURES / "kubelet_rsa.conf").read_text())
    return str(path)


def test_reuses_a_token_with_enough_ttl_and_mutates_nothing(admin_conf, run_module):
    listing = _stream(
        {"token": "aaaaaa.0123456789abcdef", "description": OURS, "expires": _in(10), "usages": ["authentication", "signing"]},
        {"token": "bbbbbb.0123456789abcdef", "description": OURS, "expires": _in(100), "usages": ["authentication", "signing"]},
    )
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf}, [("token list", (0, listing, ""))])
    assert not failed and result["changed"] is False
    assert [argv[1:3] for argv in runner.kubeadm_calls()] == [["token", "list"]]
    assert runner.kubeadm_calls("token list")[0] == [
        "/usr/bin/kubeadm", "token", "list", "-o", "json", "--kubeconfig", admin_conf]
    assert result["token_id"] == "bbbbbb"
    assert result["join"]["token"] == "bbbbbb.0123456789abcdef"
    assert result["join"]["api_server_endpoint"] == "192.168.3.100:6443"
    assert result["join"]["discovery_token_ca_cert_hashes"] == [RSA_HASH]
    assert result["join"]["command"] == (
        "kubeadm join 192.168.3.100:6443 --token bbbbbb.0123456789abcdef --discovery-token-ca-cert-hash " + RSA_HASH)
    assert result["expires"] == listing.split('"expires": "')[2].split('"')[0]
    assert "stdout" not in result, "token list output holds every token secret and is not returned"


def test_given_ca_hashes_are_used_and_the_kubeconfig_ca_is_not_needed(tmp_path, run_module):
    """The role passes node_state's pin: the join data carries it, and a kubeconfig whose CA cannot be read works."""
    conf = tmp_path / "admin.conf"
    text = (FIXTURES / "kubelet_rsa.conf").read_text()
    conf.write_text("\n".join(line for line in text.splitlines() if "certificate-authority-data" not in line) + "\n")
    pin = "sha256:" + "a" * 64
    listing = _stream({"token": "bbbbbb.0123456789abcdef", "description": OURS, "expires": _in(100),
                       "usages": ["authentication", "signing"]})
    result, failed, _runner = run_module(kubeadm_token, {"kubeconfig": str(conf), "ca_cert_hashes": [pin]},
                                         [("token list", (0, listing, ""))])
    assert not failed, result
    assert result["join"]["discovery_token_ca_cert_hashes"] == [pin]
    assert result["join"]["api_server_endpoint"] == "192.168.3.100:6443"
    # Without the pin the same kubeconfig is refused: it names no CA.
    result, failed, _runner = run_module(kubeadm_token, {"kubeconfig": str(conf)}, [("token list", (0, listing, ""))])
    assert failed and "names no readable cluster CA" in result["msg"]


def test_bad_ca_hashes_fail_before_kubeadm_runs(admin_conf, run_module):
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "ca_cert_hashes": ["sha256:xyz"]}, [])
    assert failed and result["msg"].startswith("ca_cert_hashes items must look like sha256:"), result["msg"]
    assert runner.kubeadm_calls() == []


def test_creates_a_token_when_none_fits(admin_conf, run_module):
    listing = _stream({"token": "aaaaaa.0123456789abcdef", "description": OURS, "expires": _in(10),
                       "usages": ["authentication", "signing"]})
    result, failed, runner = run_module(kubeadm_token, {
        "kubeconfig": admin_conf, "ttl": "1h", "usages": ["signing", "authentication"],
        "groups": ["system:bootstrappers:kubeadm:default-node-token"],
    }, [("token list", (0, listing, "")), ("token create", (0, "zzzzzz.0123456789abcdef\n", ""))], diff=True)
    assert not failed and result["changed"] is True
    assert runner.kubeadm_calls("token create")[0] == [
        "/usr/bin/kubeadm", "token", "create", "--ttl", "1h", "--description", OURS, "--kubeconfig", admin_conf,
        "--usages", "signing,authentication", "--groups", "system:bootstrappers:kubeadm:default-node-token"]
    assert result["join"]["token"] == "zzzzzz.0123456789abcdef" and result["token_id"] == "zzzzzz"
    expires = datetime.datetime.strptime(result["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    left = (expires - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 3500 < left <= 3600
    assert result["diff"]["before"] == {"token_ids": ["aaaaaa"]}


def test_check_mode_lists_but_creates_nothing(admin_conf, run_module):
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf}, [("token list", (0, "", ""))],
                                        check_mode=True)
    assert not failed and result["changed"] is True and result["join"] is None
    assert runner.kubeadm_calls("token create") == []


def test_given_token_is_created_and_masked(admin_conf, run_module):
    token = "qqqqqq.0123456789abcdef"
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "token": token, "ttl": "0"},
                                        [("token list", (0, "", "")), ("token create", (0, token + "\n", ""))])
    assert not failed
    assert runner.kubeadm_calls("token create")[0][3] == token
    assert result["expires"] is None


def test_certificate_key_uploads_certs(admin_conf, run_module):
    listing = _stream({"token": "bbbbbb.0123456789abcdef", "description": OURS, "usages": ["authentication"]})
    upload = ('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n'
              "[upload-certs] Using certificate key:\n" + KEY + "\n")
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "certificate_key": True},
                                        [("token list", (0, listing, "")), ("init phase upload-certs", (0, upload, ""))])
    assert not failed and result["changed"] is True
    assert runner.kubeadm_calls("init phase")[0] == [
        "/usr/bin/kubeadm", "init", "phase", "upload-certs", "--upload-certs", "--kubeconfig", admin_conf]
    assert result["control_plane_join"]["certificate_key"] == KEY
    assert result["control_plane_join"]["command"].endswith("--control-plane --certificate-key " + KEY)
    assert result["expires"] is None


def test_absent_deletes_tokens_with_our_description(admin_conf, run_module):
    listing = _stream(
        {"token": "aaaaaa.0123456789abcdef", "description": OURS, "usages": ["authentication"]},
        {"token": "cccccc.0123456789abcdef", "description": "someone else's", "usages": ["authentication"]},
        {"token": "bbbbbb.0123456789abcdef", "description": OURS, "usages": ["authentication"]},
    )
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "state": "absent"},
                                        [("token list", (0, listing, "")), ("token delete", (0, "bootstrap token deleted\n", ""))])
    assert not failed and result["changed"] is True and result["deleted"] == ["aaaaaa", "bbbbbb"]
    assert runner.kubeadm_calls("token delete")[0] == [
        "/usr/bin/kubeadm", "token", "delete", "aaaaaa", "bbbbbb", "--kubeconfig", admin_conf]


def test_absent_without_matches_is_unchanged(admin_conf, run_module):
    result, failed, runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "state": "absent",
                                                        "token": "aaaaaa.0123456789abcdef"},
                                        [("token list", (0, "", ""))])
    assert not failed and result["changed"] is False and runner.kubeadm_calls("token delete") == []


def test_failed_create_masks_secrets(admin_conf, run_module):
    token = "qqqqqq.0123456789abcdef"
    result, failed, _runner = run_module(kubeadm_token, {"kubeconfig": admin_conf, "token": token}, [
        ("token list", (0, "", "")),
        ("token create", (1, "", "failed to create or update bootstrap token with name bootstrap-token-qqqqqq: " + token)),
    ])
    assert failed and "kubeadm token create failed" in result["msg"]
    assert_no_secrets(result, token)


@pytest.mark.parametrize("args,text", [
    ({"ttl": "2d"}, "Go duration"),
    ({"min_ttl_left": "soon"}, "Go duration"),
    ({"ttl": "10m"}, "shorter than min_ttl_left"),
    ({"token": "not-a-token"}, "token must match"),
    ({"kubeconfig": "/nonexistent/admin.conf"}, "cannot be read"),
])
def test_bad_input_fails_before_kubeadm_runs(admin_conf, run_module, args, text):
    full = {"kubeconfig": admin_conf}
    full.update(args)
    result, failed, runner = run_module(kubeadm_token, full)
    assert failed and text in result["msg"]
    assert runner.calls == []
