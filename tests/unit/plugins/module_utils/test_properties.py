"""Hypothesis property tests: the parsers never raise and always return the documented types; the DER walker
finds the key the cryptography library finds."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_common as common
from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_output as out

from ..conftest import read_fixture

# Pieces of real kubeadm output, so the generated text often looks almost right.
FRAGMENTS = [
    "[preflight] Some fatal errors occurred:\n", "\t[ERROR Swap]: running with swap on is not supported\n",
    "        [WARNING SystemVerification]: x\\n y\n", "error: error execution phase preflight: preflight checks failed\n",
    "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash sha256:" + "a" * 64 + "\n",
    "--control-plane --certificate-key " + "b" * 64, "\\\n", "\r\n", "[", "]", ":", "{", "}", '"token": ', ",",
    "TOKEN                     TTL         EXPIRES   USAGES                   DESCRIPTION   EXTRA GROUPS\n",
    "abcdef.0123456789abcdef   <forever>   <never>   authentication,signing   <none>        x\n",
    '{"kind": "BootstrapToken", "token": "abcdef.0123456789abcdef", "usages": ["authentication"]}',
    "Your Kubernetes control-plane has initialized successfully!\n", "[upload-certs] Using certificate key:\n",
    ")\n", ", error: exit status 1\n", "\x00", "\udcff",
]
TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=30).map("".join),
    st.binary(max_size=300),
    st.none(), st.integers(), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
ITEM_KEYS = {"check", "message", "hint"}


def _check_preflight(result):
    assert isinstance(result, dict) and set(result) == {"errors", "warnings", "failed"}
    assert isinstance(result["failed"], bool)
    for item in result["errors"] + result["warnings"]:
        assert set(item) == ITEM_KEYS and all(isinstance(item[key], str) for key in ITEM_KEYS)


def _check_join(result):
    if result is None:
        return
    assert out.valid_endpoint(result["api_server_endpoint"])
    assert out.TOKEN_RE.match(result["token"])
    assert all(out.CA_HASH_RE.match(value) for value in result["discovery_token_ca_cert_hashes"])
    assert isinstance(result["control_plane"], bool)
    assert result["certificate_key"] is None or out.CERT_KEY_RE.match(result["certificate_key"])
    assert "\n" not in result["command"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parse_preflight_never_raises(text):
    _check_preflight(out.parse_preflight(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parse_join_command_never_raises(text):
    _check_join(out.parse_join_command(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parse_token_list_never_raises(text):
    result = out.parse_token_list(text)
    assert isinstance(result, list)
    for item in result:
        assert set(item) == {"token", "expires", "usages", "groups", "description"}
        assert out.TOKEN_RE.match(item["token"])
        assert item["expires"] is None or isinstance(item["expires"], str)
        assert all(isinstance(value, str) for value in item["usages"] + item["groups"])
        assert isinstance(item["description"], str)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parse_init_output_never_raises(text):
    result = out.parse_init_output(text)
    assert set(result) == {"initialized", "join", "control_plane_join", "certificate_key", "preflight"}
    assert isinstance(result["initialized"], bool)
    _check_join(result["join"])
    _check_join(result["control_plane_join"])
    _check_preflight(result["preflight"])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_mask_secrets_leaves_no_token_secret(text):
    secret = "abcdef.0123456789abcdef"
    masked = common.mask_secrets(text + " " + secret + " --token=" + secret + "\n" + text)
    assert secret not in masked


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_der_walker_refuses_or_returns_a_sequence_of_the_input(data):
    try:
        spki = common.spki_der_from_certificate(data)
    except common.DerError:
        return
    assert spki[:1] == b"\x30" and spki in data


def _spki_of(certificate):
    """SubjectPublicKeyInfo as the cryptography library encodes it: the walker's oracle."""
    return certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# Name lengths on both sides of 127 and 255 bytes move the DER lengths from one byte to two and three.
NAMES = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), min_size=1, max_size=64)
CURVES = st.sampled_from([ec.SECP256R1, ec.SECP384R1, ec.SECP521R1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CURVES, st.lists(NAMES, min_size=1, max_size=6), st.integers(min_value=1, max_value=2 ** 159 - 1),
       st.lists(st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7a), min_size=1, max_size=40), max_size=8))
def test_der_walker_finds_the_key_of_any_certificate(curve, names, serial, dns_names):
    key = ec.generate_private_key(curve())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, name) for name in names])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(serial).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n + ".example") for n in dns_names]), critical=False)
    certificate = builder.sign(key, hashes.SHA256())
    assert common.spki_der_from_certificate(certificate.public_bytes(serialization.Encoding.DER)) == _spki_of(certificate)


@pytest.mark.parametrize("name", ["ca_rsa.crt", "ca_ec.crt"])
def test_der_walker_finds_the_key_of_the_real_certificates(name):
    der = common.pem_certificates(read_fixture(name))[0]
    assert common.spki_der_from_certificate(der) == _spki_of(x509.load_der_x509_certificate(der))


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=5000), st.sampled_from(["preflight_v1.22_swap_kernel_config.txt",
                                                                  "init_v1.31_upload_certs.txt",
                                                                  "token_list_json_stream.txt"]))
def test_truncated_real_output_never_raises(cut, name):
    text = read_fixture(name)[:cut]
    _check_preflight(out.parse_preflight(text))
    _check_join(out.parse_join_command(text))
    assert isinstance(out.parse_token_list(text), list)


def test_huge_input_is_bounded():
    text = read_fixture("preflight_v1.21_oneline_swap.txt") * 200000
    assert len(text) > out.MAX_TEXT
    result = out.parse_preflight(text)
    assert result["failed"] is True and result["errors"]
