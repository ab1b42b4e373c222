"""Hypothesis property tests: the parsers never raise and always return the documented types."""

from __future__ import annotations

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
def test_der_walker_raises_only_der_error(data):
    try:
        common.spki_der_from_certificate(data)
    except common.DerError:
        pass


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
