"""Tests of the pure helpers: DER walker, kubeconfig reader, durations, validators, argv, masking."""

from __future__ import annotations

import base64
import datetime

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_common as common

from ..conftest import FIXTURES, read_fixture

UTC = datetime.timezone.utc


def _openssl_hash(name):
    """The hash openssl computed when the fixture was made (recorded in its header line)."""
    header = (FIXTURES / name).read_text(encoding="utf-8").splitlines()[0]
    return header.rsplit(": ", 1)[1].strip()


@pytest.mark.parametrize("name", ["ca_rsa.crt", "ca_ec.crt"])
def test_ca_cert_hash_matches_openssl(name):
    expected = _openssl_hash(name)
    assert expected.startswith("sha256:") and len(expected) == 71
    assert common.ca_cert_hashes_from_pem((FIXTURES / name).read_text()) == [expected]


def test_two_certificates_give_two_hashes_in_order():
    pem = (FIXTURES / "ca_ec.crt").read_text() + (FIXTURES / "ca_rsa.crt").read_text()
    assert common.ca_cert_hashes_from_pem(pem) == [_openssl_hash("ca_ec.crt"), _openssl_hash("ca_rsa.crt")]


@pytest.mark.parametrize("pem", [
    "",
    "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x30\x03\x02\x01\x01").decode() + "\n-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x30\x82\xff\xff").decode() + "\n-----END CERTIFICATE-----\n",
    "-----BEGIN CERTIFICATE-----\n" + base64.b64encode(b"\x04\x00").decode() + "\n-----END CERTIFICATE-----\n",
])
def test_bad_certificates_raise_der_error(pem):
    with pytest.raises(common.DerError):
        common.ca_cert_hashes_from_pem(pem)


def test_truncated_certificate_raises_der_error():
    der = common.pem_certificates((FIXTURES / "ca_rsa.crt").read_text())[0]
    for cut in (1, 2, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(common.DerError):
            common.spki_der_from_certificate(der[:cut])


def test_kubeconfig_cluster_and_ca():
    text = (FIXTURES / "kubelet_rsa.conf").read_text()
    cluster = common.kubeconfig_cluster(text)
    assert cluster["server"] == "https://192.168.3.100:6443"
    assert common.ca_cert_hashes_from_pem(common.kubeconfig_ca_pem(cluster)) == [_openssl_hash("ca_rsa.crt")]
    assert common.endpoint_from_server(cluster["server"]) == "192.168.3.100:6443"


def test_kubeconfig_ignores_users_and_reads_quoted_values():
    text = (
        "apiVersion: v1\n"
        "users:\n- name: x\n  user:\n    server: https://wrong:1\n"
        "clusters:\n- cluster:\n    certificate-authority: \"/etc/kubernetes/pki/ca.crt\"\n"
        "    server: 'https://[fd00::1]:6443'\n  name: kubernetes\n"
        "contexts: []\n"
    )
    cluster = common.kubeconfig_cluster(text)
    assert cluster == {"certificate-authority": "/etc/kubernetes/pki/ca.crt", "server": "https://[fd00::1]:6443"}
    assert common.kubeconfig_ca_pem(cluster) is None
    assert common.endpoint_from_server(cluster["server"]) == "[fd00::1]:6443"


@pytest.mark.parametrize("server,endpoint", [
    ("https://10.0.0.1:6443", "10.0.0.1:6443"),
    ("https://k8s.lan", "k8s.lan:443"),
    ("https://[fd00::1]", "[fd00::1]:443"),
    ("https://10.0.0.1:6443/base", "10.0.0.1:6443"),
    ("not a url at all", None),
    (None, None),
])
def test_endpoint_from_server(server, endpoint):
    assert common.endpoint_from_server(server) == endpoint


@pytest.mark.parametrize("text,seconds", [
    ("2h", 7200), ("30m", 1800), ("1h30m", 5400), ("0", 0), ("0s", 0), ("24h0m0s", 86400),
    ("1.5h", 5400), ("300ms", 0.3), ("+10s", 10), (90, 90),
])
def test_parse_go_duration(text, seconds):
    assert common.parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "2", "h", "2d", "-1h", "1h 30m", "abc", None, True, "1hm", "-5"])
def test_parse_go_duration_rejects(text):
    with pytest.raises(ValueError):
        common.parse_go_duration(text)


@pytest.mark.parametrize("text,expected", [
    ("2021-10-21T03:25:51Z", datetime.datetime(2021, 10, 21, 3, 25, 51, tzinfo=UTC)),
    ("2020-09-04T13:42:50+08:00", datetime.datetime(2020, 9, 4, 5, 42, 50, tzinfo=UTC)),
    ("2021-10-21T03:25:51.123456789Z", datetime.datetime(2021, 10, 21, 3, 25, 51, 123456, tzinfo=UTC)),
    ("<never>", None), ("", None), (None, None), ("2021-13-40T99:00:00Z", None),
])
def test_parse_rfc3339(text, expected):
    assert common.parse_rfc3339(text) == expected


def test_validators_accept_good_values():
    common.validate_token("abcdef.0123456789abcdef")
    common.validate_ca_hashes(["sha256:" + "0" * 64])
    common.validate_endpoint("[fd00::1]:6443")
    common.validate_certificate_key("f" * 64)
    assert common.validate_ignore_preflight_errors(["Swap", "FileAvailable--etc-kubernetes-manifests-etcd.yaml"]) == [
        "Swap", "FileAvailable--etc-kubernetes-manifests-etcd.yaml"]
    assert common.validate_ignore_preflight_errors(["all"], allow_all=True) == ["all"]


@pytest.mark.parametrize("call,arg", [
    (common.validate_token, "abcdef.0123456789ABCDEF"),
    (common.validate_token, "abcdef0123456789abcdef"),
    (common.validate_token, None),
    (common.validate_ca_hashes, []),
    (common.validate_ca_hashes, "sha256:" + "0" * 64),
    (common.validate_ca_hashes, ["sha1:" + "0" * 40]),
    (common.validate_ca_hashes, ["sha256:" + "0" * 63]),
    (common.validate_endpoint, "10.0.0.1"),
    (common.validate_certificate_key, "xyz"),
    (common.validate_ignore_preflight_errors, ["all"]),
    (common.validate_ignore_preflight_errors, ["Swap", "all"]),
    (common.validate_ignore_preflight_errors, ["Swap; rm -rf /"]),
    (common.validate_ignore_preflight_errors, "Swap"),
])
def test_validators_reject_bad_values(call, arg):
    with pytest.raises(ValueError):
        call(arg)


def test_all_is_refused_with_allow_all_when_not_alone():
    with pytest.raises(ValueError, match="only item"):
        common.validate_ignore_preflight_errors(["all", "Swap"], allow_all=True)


SECRET_TOKEN = "vo8v1g.x0mo3351gfnduc9t"
SECRET_KEY = "9ed5ccf5932d2f28b5170b210be69935a54088d149b94c222ab5ee2bee27d3bc"
CA_HASH = "sha256:ed15b7fca732839fd595a8927234520cb9b70f35d58687434a4cbb07b30a9473"


def test_mask_secrets_on_real_init_output():
    text = read_fixture("init_v1.31_upload_certs.txt")
    assert SECRET_TOKEN in text and SECRET_KEY in text
    masked = common.mask_secrets(text)
    assert SECRET_TOKEN not in masked and "x0mo3351gfnduc9t" not in masked
    assert SECRET_KEY not in masked
    assert CA_HASH in masked, "CA hashes are public and must stay"
    assert "vo8v1g." + common.MASK in masked, "the token ID stays readable"


@pytest.mark.parametrize("text", [
    "kubeadm join x:1 --token=secretvalue --discovery-token secretvalue2",
    "--tls-bootstrap-token   secretvalue and --certificate-key secretvalue",
])
def test_mask_secret_flags_with_any_value(text):
    masked = common.mask_secrets(text)
    assert "secretvalue" not in masked


def test_mask_explicit_secrets_and_non_text():
    assert common.mask_secrets("pass=hunter22", ["hunter22"]) == "pass=" + common.MASK
    assert common.mask_secrets(None) is None
    assert common.mask_secrets(b"abcdef.0123456789abcdef") == "abcdef." + common.MASK


def test_mask_argv():
    argv = common.join_argv("kubeadm", "10.0.0.1:6443", SECRET_TOKEN, [CA_HASH], True, SECRET_KEY)
    masked = common.mask_argv(argv, [SECRET_TOKEN, SECRET_KEY])
    assert SECRET_TOKEN not in masked and SECRET_KEY not in masked and CA_HASH in masked


def test_join_argv_full():
    argv = common.join_argv("/usr/bin/kubeadm", "10.0.0.1:6443", SECRET_TOKEN, [CA_HASH, CA_HASH.replace("e", "f")],
                            True, SECRET_KEY, "worker-1", "unix:///run/containerd/containerd.sock", ["Swap", "NumCPU"])
    assert argv == [
        "/usr/bin/kubeadm", "join", "10.0.0.1:6443", "--token", SECRET_TOKEN,
        "--discovery-token-ca-cert-hash", CA_HASH,
        "--discovery-token-ca-cert-hash", CA_HASH.replace("e", "f"),
        "--control-plane", "--certificate-key", SECRET_KEY,
        "--node-name", "worker-1", "--cri-socket", "unix:///run/containerd/containerd.sock",
        "--ignore-preflight-errors=Swap,NumCPU",
    ]
    # A control plane's own API server: both flags before the preflight ones; unset, kubeadm's defaults apply.
    argv = common.join_argv("kubeadm", "10.0.0.1:6443", SECRET_TOKEN, [CA_HASH], True, SECRET_KEY,
                            ignore=["NumCPU"], advertise_address="fd00::12", bind_port=8443)
    assert argv[-5:] == ["--apiserver-advertise-address", "fd00::12", "--apiserver-bind-port", "8443",
                         "--ignore-preflight-errors=NumCPU"]
    assert "--apiserver-bind-port" not in common.join_argv("kubeadm", "10.0.0.1:6443", SECRET_TOKEN, [CA_HASH], True)


def test_other_argv_builders():
    assert common.init_argv("kubeadm", "/c.yaml") == ["kubeadm", "init", "--config", "/c.yaml"]
    assert common.init_argv("kubeadm", "/c.yaml", True, ["Swap"]) == [
        "kubeadm", "init", "--config", "/c.yaml", "--upload-certs", "--ignore-preflight-errors=Swap"]
    assert common.preflight_argv("kubeadm", "init", "/c.yaml") == [
        "kubeadm", "init", "phase", "preflight", "--dry-run", "--config", "/c.yaml"]
    assert common.preflight_argv("kubeadm", "join") == [
        "kubeadm", "join", "phase", "preflight", "--dry-run", common.DUMMY_JOIN_ENDPOINT, "--token",
        common.DUMMY_JOIN_TOKEN, "--discovery-token-unsafe-skip-ca-verification"]
    assert common.preflight_argv("kubeadm", "join", "/j.yaml", ["Swap"]) == [
        "kubeadm", "join", "phase", "preflight", "--dry-run", "--config", "/j.yaml", "--ignore-preflight-errors=Swap"]
    assert common.token_create_argv("kubeadm", "/a.conf", "2h", "d", ["authentication"], ["system:bootstrappers:x"]) == [
        "kubeadm", "token", "create", "--ttl", "2h", "--description", "d", "--kubeconfig", "/a.conf",
        "--usages", "authentication", "--groups", "system:bootstrappers:x"]
    assert common.token_create_argv("kubeadm", "/a.conf", "0", "d", token=SECRET_TOKEN)[3] == SECRET_TOKEN
    assert common.token_delete_argv("kubeadm", "/a.conf", ["abcdef"]) == [
        "kubeadm", "token", "delete", "abcdef", "--kubeconfig", "/a.conf"]
    assert common.with_timeout("/usr/bin/timeout", 30, ["kubeadm"]) == ["/usr/bin/timeout", "--kill-after=10", "30s", "kubeadm"]
    assert common.with_timeout(None, 30, ["kubeadm"]) == ["kubeadm"]


NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _tok(token, description, expires=None, usages=("authentication", "signing")):
    return {"token": token, "description": description, "expires": expires, "usages": list(usages), "groups": []}


def test_select_reusable_token():
    ours = "kubelab.cluster join token"
    tokens = [
        _tok("aaaaaa.0123456789abcdef", ours, "2026-01-01T12:10:00Z"),  # 10 minutes left: too short
        _tok("bbbbbb.0123456789abcdef", ours, "2026-01-01T13:30:00Z"),  # 90 minutes
        _tok("cccccc.0123456789abcdef", ours, "2026-01-01T13:00:00Z"),  # 60 minutes
        _tok("dddddd.0123456789abcdef", "other", None),
        _tok("eeeeee.0123456789abcdef", ours, None, usages=("signing",)),
    ]
    assert common.select_reusable_token(tokens, NOW, 1800, description=ours)["token"].startswith("bbbbbb")
    assert common.select_reusable_token(tokens, NOW, 6000, description=ours) is None
    assert common.select_reusable_token(tokens, NOW, 1800, description="other")["token"].startswith("dddddd")
    assert common.select_reusable_token(tokens, NOW, 1800, token="cccccc.0123456789abcdef")["token"].startswith("cccccc")
    assert common.select_reusable_token(tokens, NOW, 1800, token="aaaaaa.0123456789abcdef") is None


@pytest.mark.parametrize("name,rc,reason,text", [
    ("join_v1.33_worker_success.txt", 0, "joined", "joined"),
    ("join_v1.31_control_plane_success.txt", 0, "joined", "joined"),
    ("join_error_ca_not_pinned_v1.21.txt", 1, "ca_hash",
     "sha256:11bdf3cc08ea132b33e1921b2d74c4bfc516802b4800c89e595ae04b3d1cf3d7"),
    ("join_error_token_expired_v1.1x.txt", 124, "token", '"lgfyu1"'),
    ("join_error_jws_missing.txt", 1, "token", '"gqykn8"'),
    ("preflight_v1.35_join_not_root.txt", 1, "preflight", "preflight"),
])
def test_join_outcome_on_real_output(name, rc, reason, text):
    got_reason, message = common.join_outcome(read_fixture(name), rc)
    assert got_reason == reason
    assert text in message


@pytest.mark.parametrize("text,rc,reason", [
    ("", 124, "timeout"),
    ("failed to verify JWS signature of received cluster info object, can't trust this API Server", 1, "jws"),
    ('Get "https://10.0.0.1:6443/api": dial tcp 10.0.0.1:6443: connect: connection refused', 1, "unreachable"),
    ("something else", 3, "failed"),
    (None, 1, "failed"),
])
def test_join_outcome_other_reasons(text, rc, reason):
    assert common.join_outcome(text, rc)[0] == reason


def test_preflight_message_lists_each_error_with_hint():
    from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import parse_preflight

    preflight = parse_preflight(read_fixture("preflight_v1.20_seed_proxmox.txt"))
    message = common.preflight_message(preflight, "kubeadm init preflight checks failed:")
    lines = message.splitlines()
    assert lines[0] == "kubeadm init preflight checks failed:"
    assert lines[1].startswith("[Swap] running with swap on is not supported") and " -> " in lines[1]
    assert lines[2].startswith("[SystemVerification] failed to parse kernel config")
