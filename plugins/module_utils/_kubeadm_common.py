# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the kubeadm modules (Python standard library only).

CA public-key hashes from PEM certificates (a small DER walker, no ``cryptography``),
the cluster entry of a kubeconfig, Go durations, input validators, argv builders,
secret masking and the classification of ``kubeadm join`` failures. Nothing here runs
a command or touches the file system; the modules do that and the unit tests call
these functions directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import base64
import binascii
import datetime
import hashlib
import re

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import (
    CA_HASH_RE,
    CERT_KEY_RE,
    TOKEN_RE,
    join_words,
    valid_endpoint,
)

MASK = "<redacted>"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
# Written by kubeadm's kubelet-start phase (init and join).
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# Placeholder discovery arguments for `kubeadm join phase preflight` on a worker:
# with --dry-run kubeadm answers discovery from a built-in fake cluster-info, so these
# are never sent anywhere (192.0.2.0/24 is TEST-NET-1, never routed).
DUMMY_JOIN_ENDPOINT = "192.0.2.1:6443"
DUMMY_JOIN_TOKEN = "abcdef.0123456789abcdef"
# coreutils `timeout` exit status when the time limit was hit.
TIMEOUT_RC = 124

_PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.*?)\s*-----END CERTIFICATE-----", re.S)
_CHECK_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_UNIT_SECONDS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}
_TOKEN_IN_TEXT_RE = re.compile(r"\b([a-z0-9]{6})\.[a-z0-9]{16}\b")
_KEY_IN_TEXT_RE = re.compile(r"(?<![0-9a-f:])[0-9a-f]{64}(?![0-9a-f])")
_SECRET_FLAG_RE = re.compile(
    r"(--(?:token|discovery-token|tls-bootstrap-token|certificate-key)(?:=|\s+))(?!-)(\S+)")
_KUBECONFIG_KEY_RE = re.compile(r"^\s*-?\s*(certificate-authority-data|certificate-authority|server)\s*:\s*(.*?)\s*$")


class DerError(ValueError):
    """The bytes are not the DER structure we expect."""


def _der_tlv(data, offset):
    """Read one DER TLV at ``offset``: return (tag, value_start, end)."""
    if offset + 2 > len(data):
        raise DerError("truncated DER header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte DER tags are not used in certificates")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise DerError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("DER value runs past the end of the data")
    return tag, pos, end


def _der_children(data, start, end):
    """Offsets (start, end) of the TLVs inside a constructed value."""
    children = []
    offset = start
    while offset < end:
        tag, value_start, child_end = _der_tlv(data, offset)
        children.append((tag, offset, value_start, child_end))
        offset = child_end
    if offset != end:
        raise DerError("DER children overrun their parent")
    return children


def spki_der_from_certificate(der):
    """The DER SubjectPublicKeyInfo of an X.509 certificate given as DER bytes."""
    der = bytes(der)
    tag, value_start, end = _der_tlv(der, 0)
    if tag != 0x30:
        raise DerError("a certificate is a SEQUENCE")
    fields = _der_children(der, value_start, end)
    if not fields or fields[0][0] != 0x30:
        raise DerError("tbsCertificate missing")
    _tag, _offset, tbs_start, tbs_end = fields[0]
    tbs = _der_children(der, tbs_start, tbs_end)
    index = 1 if tbs and tbs[0][0] == 0xA0 else 0  # optional [0] version
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    index += 5
    if len(tbs) <= index or tbs[index][0] != 0x30:
        raise DerError("subjectPublicKeyInfo missing")
    _tag, spki_offset, _start, spki_end = tbs[index]
    return der[spki_offset:spki_end]


def pem_certificates(pem_text):
    """DER bytes of each ``CERTIFICATE`` block in ``pem_text`` (str or bytes)."""
    if isinstance(pem_text, bytes):
        pem_text = pem_text.decode("ascii", "replace")
    if not isinstance(pem_text, str):
        return []
    ders = []
    for block in _PEM_RE.findall(pem_text):
        try:
            ders.append(base64.b64decode("".join(block.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return ders


def ca_cert_hash(der):
    """``sha256:<hex>`` of a DER certificate's SubjectPublicKeyInfo (kubeadm's CA pin)."""
    return "sha256:" + hashlib.sha256(spki_der_from_certificate(der)).hexdigest()


def ca_cert_hashes_from_pem(pem_text):
    """The CA pins of every certificate in ``pem_text``; raises ``DerError`` when none parse."""
    hashes = []
    for der in pem_certificates(pem_text):
        hashes.append(ca_cert_hash(der))
    if not hashes:
        raise DerError("no PEM certificate found")
    return hashes


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def kubeconfig_section(text, section, key_re):
    """The scalars ``key_re`` matches in a kubeconfig's top-level ``section`` (first wins).

    kubeadm writes kubeconfigs (admin.conf, kubelet.conf) with one scalar per line,
    so a line reader is enough; it keeps the modules free of PyYAML, which is not
    guaranteed on managed nodes. Returns a dict with the keys found.
    """
    found = {}
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return found
    inside = False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("-"):
            inside = line.split(":", 1)[0].strip() == section
            continue
        if not inside:
            continue
        match = key_re.match(line)
        if match and match.group(1) not in found:
            found[match.group(1)] = _unquote(match.group(2))
    return found


def kubeconfig_cluster(text):
    """``server``, ``certificate-authority-data`` and ``certificate-authority`` of the first cluster."""
    return kubeconfig_section(text, "clusters", _KUBECONFIG_KEY_RE)


def kubeconfig_data(value):
    """The bytes of a kubeconfig ``*-data`` value (base64, line breaks allowed), or ``None`` when absent or invalid."""
    if not value:
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def kubeconfig_ca_pem(cluster):
    """PEM text of the CA in a :func:`kubeconfig_cluster` result, or ``None`` (a file path is left to the caller)."""
    data = kubeconfig_data(cluster.get("certificate-authority-data"))
    return None if data is None else data.decode("ascii", "replace")


def kubeconfig_ca_hash_text(text, path, read):
    """``(hash, cluster)`` of the CA the kubeconfig ``text`` (read from ``path``) trusts.

    ``read(path)`` returns a file's text or None; it reads the CA file a kubeconfig names instead of
    embedding it. The one reader of a kubeconfig's CA pin (kubeadm_join, kubeadm_token and node_state
    use it); raises ``ValueError`` with a clear message.
    """
    cluster = kubeconfig_cluster(text)
    pem = kubeconfig_ca_pem(cluster)
    if pem is None and cluster.get("certificate-authority"):
        pem = read(cluster["certificate-authority"])
    if pem is None:
        raise ValueError("%s names no readable cluster CA (certificate-authority-data)" % path)
    try:
        return ca_cert_hashes_from_pem(pem)[0], cluster
    except DerError as exc:
        raise ValueError("the CA certificate in %s cannot be parsed: %s" % (path, exc))


def endpoint_from_server(server):
    """``host:port`` from a kubeconfig ``server`` URL (``https://10.0.0.1:6443`` -> ``10.0.0.1:6443``)."""
    if not isinstance(server, str):
        return None
    rest = server.strip()
    if "://" in rest:
        rest = rest.split("://", 1)[1]
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        if "]:" not in rest:
            rest += ":443"
    elif ":" not in rest:
        rest += ":443"
    return rest if valid_endpoint(rest) else None


def parse_go_duration(value):
    """Seconds in a Go duration string (``2h``, ``30m``, ``1h30m``, ``1.5h``, ``0``).

    ``0`` (or ``0s``) means "never expires" for kubeadm tokens. Raises ``ValueError``.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("a duration must be a string such as 2h, 30m or 1h30m")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = value.strip()
    if text in ("0", "+0"):
        return 0.0
    if text.startswith("-"):
        raise ValueError("a duration cannot be negative: %r" % value)
    text = text.lstrip("+")
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError("%r is not a Go duration (examples: 2h, 30m, 1h30m, 0)" % value)
    return total


def parse_rfc3339(value):
    """An aware ``datetime`` from an RFC 3339 string (``2021-10-21T03:25:51Z``), or ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(\.\d+)?([+-]\d{2}:\d{2})$", text)
    if not match:
        return None
    fraction = match.group(2) or ""
    if fraction:
        fraction = "." + fraction[1:7].ljust(6, "0")
    try:
        return datetime.datetime.fromisoformat(match.group(1).replace(" ", "T") + fraction + match.group(3))
    except ValueError:
        return None


def format_rfc3339(moment):
    """``2021-10-21T03:25:51Z`` for an aware datetime (UTC)."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def validate_token(value):
    """Raise ``ValueError`` unless ``value`` is a bootstrap token."""
    if not isinstance(value, str) or not TOKEN_RE.match(value):
        raise ValueError("token must match [a-z0-9]{6}.[a-z0-9]{16} (as kubeadm token generate prints)")


def validate_ca_hashes(values):
    """Raise ``ValueError`` unless ``values`` is a non-empty list of ``sha256:<64 hex>``."""
    if not isinstance(values, list) or not values:
        raise ValueError("discovery_token_ca_cert_hashes must be a non-empty list of sha256:<64 hex digits>")
    bad = [value for value in values if not isinstance(value, str) or not CA_HASH_RE.match(value)]
    if bad:
        raise ValueError("discovery_token_ca_cert_hashes items must look like sha256:<64 lowercase hex digits>; "
                         "%d item(s) do not" % len(bad))


def validate_endpoint(value):
    """Raise ``ValueError`` unless ``value`` is ``host:port`` or ``[ipv6]:port``."""
    if not valid_endpoint(value):
        raise ValueError("api_server_endpoint must be host:port or [ipv6]:port, got %r" % (value,))


def validate_certificate_key(value):
    """Raise ``ValueError`` unless ``value`` is 64 lowercase hex digits."""
    if not isinstance(value, str) or not CERT_KEY_RE.match(value):
        raise ValueError("certificate_key must be 64 lowercase hex digits (as kubeadm certs certificate-key prints)")


def validate_ignore_preflight_errors(values, allow_all=False):
    """Check ``ignore_preflight_errors``; return the list to pass to kubeadm.

    ``all`` is refused unless it is the only item and ``allow_all`` is true.
    """
    if not isinstance(values, list):
        raise ValueError("ignore_preflight_errors must be a list of check names")
    cleaned = []
    for value in values:
        if not isinstance(value, str) or not _CHECK_NAME_RE.match(value):
            raise ValueError("ignore_preflight_errors items must be kubeadm check names such as Swap or "
                             "NumCPU, got %r" % (value,))
        cleaned.append(value)
    if any(value.lower() == "all" for value in cleaned):
        if len(cleaned) != 1 or not allow_all:
            raise ValueError("ignore_preflight_errors: 'all' hides every preflight failure; it is only accepted "
                             "as the only item together with allow_ignore_all: true")
    return cleaned


def mask_secrets(text, secrets=()):
    """Replace bootstrap token secrets, certificate keys and the given ``secrets`` in ``text``.

    Token IDs stay readable (``abcdef.<redacted>``); CA hashes (``sha256:...``) are kept.
    """
    if text is None:
        return text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return text
    text = _TOKEN_IN_TEXT_RE.sub(lambda match: match.group(1) + "." + MASK, text)
    text = _KEY_IN_TEXT_RE.sub(MASK, text)
    for secret in secrets:
        if isinstance(secret, str) and len(secret) >= 6:
            text = text.replace(secret, MASK)
    return _SECRET_FLAG_RE.sub(lambda match: match.group(1) + _mask_value(match.group(2)), text)


def _mask_value(value):
    match = re.match(r"^([a-z0-9]{6})\.", value)
    if match:
        return match.group(1) + "." + MASK
    return MASK if value != MASK and not value.endswith("." + MASK) else value


def mask_argv(argv, secrets=()):
    """``argv`` as one masked string, fit for ``cmd`` in results."""
    return mask_secrets(" ".join(argv), secrets)


def ignore_flag(values):
    """``--ignore-preflight-errors=a,b`` or nothing."""
    return ["--ignore-preflight-errors=" + ",".join(values)] if values else []


def with_timeout(timeout_bin, seconds, argv):
    """Wrap ``argv`` in coreutils ``timeout`` (SIGTERM, then SIGKILL 10 s later)."""
    if not timeout_bin or not seconds:
        return list(argv)
    return [timeout_bin, "--kill-after=10", "%ds" % int(seconds)] + list(argv)


def init_argv(kubeadm, config, upload_certs=False, ignore=()):
    argv = [kubeadm, "init", "--config", config]
    if upload_certs:
        argv.append("--upload-certs")
    return argv + ignore_flag(list(ignore))


def join_argv(kubeadm, endpoint, token, hashes, control_plane=False, certificate_key=None,
              node_name=None, cri_socket=None, ignore=(), advertise_address=None, bind_port=None):
    """``advertise_address`` and ``bind_port``: a joining control plane's own API server (kubeadm's defaults: the
    default route's address, 6443)."""
    argv = [kubeadm] + join_words(endpoint, token, hashes, control_plane, certificate_key)
    if node_name:
        argv.extend(["--node-name", node_name])
    if cri_socket:
        argv.extend(["--cri-socket", cri_socket])
    if advertise_address:
        argv.extend(["--apiserver-advertise-address", advertise_address])
    if bind_port is not None:
        argv.extend(["--apiserver-bind-port", str(bind_port)])
    return argv + ignore_flag(list(ignore))


def preflight_argv(kubeadm, role, config=None, ignore=()):
    """Read-only preflight: ``--dry-run`` skips the image pull ("Would pull the required images")."""
    if role == "init":
        argv = [kubeadm, "init", "phase", "preflight", "--dry-run"]
        if config:
            argv.extend(["--config", config])
    else:
        argv = [kubeadm, "join", "phase", "preflight", "--dry-run"]
        if config:
            argv.extend(["--config", config])
        else:
            argv.extend([DUMMY_JOIN_ENDPOINT, "--token", DUMMY_JOIN_TOKEN,
                         "--discovery-token-unsafe-skip-ca-verification"])
    return argv + ignore_flag(list(ignore))


def token_list_argv(kubeadm, kubeconfig):
    return [kubeadm, "token", "list", "-o", "json", "--kubeconfig", kubeconfig]


def token_create_argv(kubeadm, kubeconfig, ttl, description, usages=(), groups=(), token=None):
    argv = [kubeadm, "token", "create"]
    if token:
        argv.append(token)
    argv.extend(["--ttl", ttl, "--description", description, "--kubeconfig", kubeconfig])
    if usages:
        argv.extend(["--usages", ",".join(usages)])
    if groups:
        argv.extend(["--groups", ",".join(groups)])
    return argv


def token_delete_argv(kubeadm, kubeconfig, token_ids):
    return [kubeadm, "token", "delete"] + list(token_ids) + ["--kubeconfig", kubeconfig]


def upload_certs_argv(kubeadm, kubeconfig):
    return [kubeadm, "init", "phase", "upload-certs", "--upload-certs", "--kubeconfig", kubeconfig]


def version_argv(kubeadm):
    return [kubeadm, "version", "-o", "short"]


def token_ttl_left(token, now):
    """Seconds the token still lives at ``now`` (aware datetime); ``None`` for never-expiring tokens."""
    expires = parse_rfc3339(token.get("expires"))
    if expires is None:
        return None
    return (expires - now).total_seconds()


def select_reusable_token(tokens, now, min_ttl_left, description=None, token=None):
    """The token to reuse: same ``token`` (or same ``description`` when no token is given),
    usage ``authentication``, and at least ``min_ttl_left`` seconds to live (or no expiry)."""
    best = None
    best_left = -1.0
    for item in tokens:
        if token is not None:
            if item.get("token") != token:
                continue
        elif item.get("description") != description:
            continue
        if "authentication" not in item.get("usages", []):
            continue
        left = token_ttl_left(item, now)
        if left is None:
            return item
        if left >= min_ttl_left and left > best_left:
            best, best_left = item, left
    return best


def join_outcome(text, rc):
    """Why a ``kubeadm join`` ended: ``(reason, message)``; reason is ``joined`` on success.

    Reasons: ``joined``, ``timeout``, ``token``, ``ca_hash``, ``jws``, ``preflight``,
    ``unreachable``, ``failed``. Messages never contain secrets.
    """
    text = text if isinstance(text, str) else ""
    token_id = None
    match = re.search(r'(?:token ID|token id) "([a-z0-9]{6})"', text)
    if match:
        token_id = match.group(1)
    if rc == 0 and "This node has joined the cluster" in text:
        return "joined", "the node joined the cluster"
    if "none of the public keys" in text and "are pinned" in text:
        found = re.search(r'none of the public keys "([^"]*)" are pinned', text)
        return "ca_hash", ("CA hash mismatch: the cluster's CA (%s) is not in discovery_token_ca_cert_hashes; "
                           "take the hash from the control plane (kubelab.cluster.kubeadm_token returns it)"
                           % (found.group(1) if found else "unknown"))
    if "could not find a JWS signature" in text or "is invalid for this cluster or it has expired" in text:
        return "token", ("bootstrap token %s is unknown to the cluster or has expired; create a fresh one "
                         "with kubelab.cluster.kubeadm_token on the control plane"
                         % ('"%s"' % token_id if token_id else "(ID not printed)"))
    if "failed to verify JWS signature" in text:
        return "jws", ("the token ID exists but its secret is wrong (JWS signature did not verify); "
                       "use the full token from kubelab.cluster.kubeadm_token")
    if rc == TIMEOUT_RC:
        return "timeout", ("kubeadm join did not finish within the timeout; the API server may be unreachable "
                           "or the token unknown (kubeadm retries discovery until it gives up)")
    if "Some fatal errors occurred" in text or "preflight checks failed" in text:
        return "preflight", "kubeadm join preflight checks failed"
    if "connection refused" in text or "no route to host" in text or "i/o timeout" in text:
        return "unreachable", "the API server endpoint could not be reached"
    if rc == 0:
        return "joined", "kubeadm join exited 0"
    return "failed", "kubeadm join failed (rc=%s)" % rc


def preflight_message(preflight, prefix):
    """``prefix``: ``[Check] message -> hint`` for every preflight error, one per line."""
    lines = [prefix]
    for item in preflight.get("errors", []):
        lines.append("[%s] %s -> %s" % (item["check"], item["message"], item["hint"]))
    return "\n".join(lines)
