# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parsers of kubeadm's output text (Python standard library only).

These functions are the collection's parsing API, shared by the modules, the filter
plugins and the unit tests:

* ``parse_join_command(text)`` - the first ``kubeadm join`` command in any text.
* ``parse_preflight(text)`` - preflight errors and warnings, each with a remediation hint.
* ``parse_token_list(text)`` - ``kubeadm token list`` in JSON stream or table form.
* ``parse_init_output(text)`` - what ``kubeadm init`` printed: success, join commands, warnings.

None of them raises on bad input (empty, truncated, binary, huge): they return empty
results instead. The shapes of the texts they read are listed in
docs/design/kubeadm-output-notes.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import json
import re

# A bootstrap token: 6-character public ID, a dot, 16-character secret.
TOKEN_PATTERN = r"[a-z0-9]{6}\.[a-z0-9]{16}"
TOKEN_RE = re.compile(r"^" + TOKEN_PATTERN + r"$")
CA_HASH_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
CERT_KEY_RE = re.compile(r"^[0-9a-f]{64}$")
_HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+(?:%[0-9A-Za-z_.-]+)?\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")

# Input larger than this is cut before parsing (kubeadm never prints this much).
MAX_TEXT = 4 * 1024 * 1024

_CONTINUATION_RE = re.compile(r"\\[ \t]*\r?\n[ \t]*")
_JOIN_RE = re.compile(r"kubeadm[ \t]+join\b([^\r\n]*)")
_ITEM_RE = re.compile(r"^[ \t]*\[(ERROR|WARNING) ([^\]\s]+)\]:[ \t]?(.*)$")
_KLOG_RE = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}")
_FATAL_MARKERS = (
    "Some fatal errors occurred",
    "preflight checks failed",
)
_INIT_SUCCESS = (
    "Your Kubernetes control-plane has initialized successfully!",
    "Your Kubernetes master has initialized successfully!",
)
_CERT_KEY_LINE_RE = re.compile(r"\[upload-certs\] Using certificate key:\s*\r?\n\s*([0-9a-f]{64})\b")
_STOP_WORDS = ("&&", "||", ";", "|", "`", "#")


def to_text(data):
    """Return ``data`` as ``str`` (bytes are decoded leniently), or ``None`` for other types."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if not isinstance(data, str):
        return None
    if len(data) > MAX_TEXT:
        data = data[:MAX_TEXT]
    return data


def valid_endpoint(value):
    """True when ``value`` is ``host:port`` or ``[ipv6]:port`` with a port in 1..65535."""
    if not isinstance(value, str) or ":" not in value:
        return False
    host, _sep, port = value.rpartition(":")
    if not port.isdigit() or len(port) > 5 or not 0 < int(port) < 65536:
        return False
    if not host or ("]" not in host and ":" in host):
        return False
    return bool(_HOST_RE.match(host))


def join_words(endpoint, token, hashes, control_plane=False, certificate_key=None):
    """``join <endpoint> --token ...``: the words of a kubeadm join after the binary (argv and printed command)."""
    words = ["join", endpoint, "--token", token]
    for value in hashes:
        words.extend(["--discovery-token-ca-cert-hash", value])
    if control_plane:
        words.append("--control-plane")
    if certificate_key:
        words.extend(["--certificate-key", certificate_key])
    return words


def build_join_command(endpoint, token, hashes, control_plane=False, certificate_key=None):
    """Return the one-line ``kubeadm join`` command for the given join data."""
    return " ".join(["kubeadm"] + join_words(endpoint, token, hashes, control_plane, certificate_key))


def join_data(endpoint, token, hashes, control_plane=False, certificate_key=None):
    """Build the collection's join data dict (see docs/design/contracts.md)."""
    hashes = list(hashes)
    return {
        "api_server_endpoint": endpoint,
        "token": token,
        "discovery_token_ca_cert_hashes": hashes,
        "control_plane": bool(control_plane),
        "certificate_key": certificate_key or None,
        "command": build_join_command(endpoint, token, hashes, control_plane, certificate_key),
    }


def _flag_value(words, index):
    """Value of the flag at ``words[index]`` (``--flag=value`` or ``--flag value``) and the next index."""
    word = words[index]
    if "=" in word:
        return word.split("=", 1)[1], index + 1
    if index + 1 < len(words):
        return words[index + 1], index + 2
    return "", index + 1


def _parse_join_words(words):
    endpoint = None
    token = None
    discovery_token = None
    hashes = []
    control_plane = False
    certificate_key = None
    index = 0
    while index < len(words):
        word = words[index]
        if word in _STOP_WORDS or word.startswith(("`", "#")):
            break
        name = word.split("=", 1)[0]
        if name == "--token":
            token, index = _flag_value(words, index)
        elif name == "--discovery-token":
            discovery_token, index = _flag_value(words, index)
        elif name == "--discovery-token-ca-cert-hash":
            value, index = _flag_value(words, index)
            hashes.extend(item for item in value.split(",") if item)
        elif name == "--certificate-key":
            certificate_key, index = _flag_value(words, index)
        elif name == "--control-plane":
            control_plane = word != "--control-plane=false"
            index += 1
        elif word.startswith("-"):
            index += 1
        else:
            if endpoint is None:
                endpoint = word
            index += 1
    token = token or discovery_token
    if not valid_endpoint(endpoint) or not token or not TOKEN_RE.match(token):
        return None
    if not all(CA_HASH_RE.match(value) for value in hashes):
        return None
    if certificate_key is not None and not CERT_KEY_RE.match(certificate_key):
        return None
    return join_data(endpoint, token, hashes, control_plane, certificate_key)


def find_join_commands(text):
    """Every valid ``kubeadm join`` command in ``text``, in order, as join data dicts."""
    text = to_text(text)
    if not text:
        return []
    flat = _CONTINUATION_RE.sub(" ", text)
    found = []
    for match in _JOIN_RE.finditer(flat):
        parsed = _parse_join_words(match.group(1).split())
        if parsed is not None:
            found.append(parsed)
    return found


def parse_join_command(text):
    """Find the first ``kubeadm join`` command in ``text``.

    The command may sit on one line or be split with backslash continuations and
    tab or space indentation, as ``kubeadm init`` prints it. Returns join data
    (``api_server_endpoint``, ``token``, ``discovery_token_ca_cert_hashes``,
    ``control_plane``, ``certificate_key``, ``command``) or ``None``.
    """
    try:
        found = find_join_commands(text)
    except Exception:  # pylint: disable=broad-except
        return None
    return found[0] if found else None


def _hint_system_verification(message):
    lowered = message.lower()
    if "kernel config" in lowered or '"configs"' in lowered:
        return ("kubeadm cannot read the kernel config (module \"configs\" missing, typical of Proxmox "
                "\"-pve\" kernels and LXC containers): install the kernel package for `uname -r` "
                "(apt-get install linux-image-$(uname -r)) or add SystemVerification to "
                "ignore_preflight_errors on such hosts")
    if "docker version" in lowered or "validated versions" in lowered:
        return ("the Docker version is newer than the ones kubeadm validated; harmless warning - "
                "this collection uses containerd, so Docker is not needed on nodes")
    if "cgroups v1" in lowered:
        return ("the host runs cgroups v1, which kubelet 1.35+ refuses by default: boot it with cgroups v2 "
                "(systemd.unified_cgroup_hierarchy=1; Proxmox VE 7+ does by default), or set "
                "control_plane_allow_cgroup_v1: true and worker_allow_cgroup_v1: true, which set the kubelet's "
                "failCgroupV1: false and skip this check")
    if "cgroup" in lowered:
        return ("enable the missing cgroup controllers (e.g. cgroup_enable=memory on the kernel "
                "command line) or migrate the host to cgroups v2")
    return "the host failed kubeadm's system verification; read the message and fix the host"


def _hint_port(check, message):
    port = check.split("-", 1)[1] if "-" in check else "?"
    return ("port %s is already in use (a previous kubeadm run or another service): free it, or run "
            "playbooks/reset.yml if this node was set up before" % port)


_EXACT_HINTS = {
    "Swap": ("swap is on: prereqs_disable_swap: true (kubelab.cluster.prereqs) turns it off and removes it from "
             "/etc/fstab; on a Proxmox LXC container set the container's swap to 0"),
    "FileContent--proc-sys-net-ipv4-ip_forward": (
        "set net.ipv4.ip_forward = 1 (prereqs_sysctl of kubelab.cluster.prereqs writes it to /etc/sysctl.d)"),
    "FileContent--proc-sys-net-bridge-bridge-nf-call-iptables": (
        "load br_netfilter and set net.bridge.bridge-nf-call-iptables = 1 (prereqs_kernel_modules and "
        "prereqs_sysctl of kubelab.cluster.prereqs)"),
    "FileContent--proc-sys-net-bridge-bridge-nf-call-ip6tables": (
        "load br_netfilter and set net.bridge.bridge-nf-call-ip6tables = 1 (prereqs_kernel_modules and "
        "prereqs_sysctl of kubelab.cluster.prereqs)"),
    "CRI": ("the container runtime does not answer on the CRI socket: run kubelab.cluster.container_runtime "
            "(containerd with its CRI plugin enabled) or point cri_socket at the right socket"),
    "ContainerRuntimeVersion": (
        "the container runtime is missing or too old for this kubeadm: run kubelab.cluster.container_runtime "
        "(container_runtime_name: containerd)"),
    "DirAvailable--var-lib-etcd": (
        "/var/lib/etcd is not empty (left over from an earlier cluster): run playbooks/reset.yml"),
    "NumCPU": ("the control plane needs at least 2 CPUs: give the VM more cores (prereqs_min_cpus_control_plane "
               "checks this before kubeadm runs)"),
    "Mem": ("kubeadm needs at least 1700 MB of RAM on a control-plane node: give the VM more memory "
            "(prereqs_min_memory_mb_control_plane checks this before kubeadm runs)"),
    "KubeletVersion": ("kubelet and kubeadm versions differ too much: install matching packages "
                       "(kube_packages_version of kubelab.cluster.kube_packages pins both)"),
    "KubernetesVersion": "the requested Kubernetes version is not supported by this kubeadm: align the versions",
    "ImagePull": ("the control-plane images could not be pulled: check registry access, point kubeadm at a mirror "
                  "with imageRepository in control_plane_cluster_configuration (container_runtime_image_repository "
                  "only sets the pause image), or side-load the images (control_plane_image_archives, "
                  "container_runtime_image_archives)"),
    "Service-Kubelet": ("enable the kubelet service: systemctl enable kubelet.service "
                        "(kube_packages_enable_kubelet: true)"),
    "Service-Docker": "the docker service is not enabled; not needed when containerd is the runtime",
    "IsPrivilegedUser": "run kubeadm as root (become: true)",
    "HTTPProxy": "a proxy would be used to reach the API server: add the address to NO_PROXY / no_proxy",
    "HTTPProxyCIDR": "a proxy would be used for the pod or service CIDR: add the CIDRs to NO_PROXY / no_proxy",
    "Hostname": "the node name does not resolve: add it to /etc/hosts or DNS",
    "Firewalld": ("firewalld is active: open ports 6443 and 10250 (prereqs_firewall_control_plane_ports) or stop "
                  "firewalld on lab nodes"),
    "IsDockerSystemdCheck": "configure the runtime to use the systemd cgroup driver",
    "RequiredIPVSKernelModulesAvailable": "load the IPVS kernel modules or use kube-proxy in iptables mode",
    "ExternalEtcdVersion": "the external etcd is too old for this Kubernetes version",
}
GENERIC_HINT = "kubeadm reported this check as failed; read the message, fix the node and re-run"


def preflight_hint(check, message=""):
    """A one-line remediation for a preflight ``check`` (with its ``message``)."""
    if not isinstance(check, str):
        return GENERIC_HINT
    message = message if isinstance(message, str) else ""
    if check == "SystemVerification":
        return _hint_system_verification(message)
    if check in _EXACT_HINTS:
        return _EXACT_HINTS[check]
    if check.startswith("Port-"):
        return _hint_port(check, message)
    if check.startswith("FileAvailable--etc-kubernetes") or check.startswith("DirAvailable--etc-kubernetes"):
        return ("%s already exists (this node ran kubeadm before): run playbooks/reset.yml, or treat the "
                "node as initialized" % check.split("--", 1)[1].replace("-", "/"))
    if check.startswith("FileExisting-"):
        tool = check[len("FileExisting-"):]
        return "install %s (kubelab.cluster.prereqs installs kubeadm's tools; add it to prereqs_extra_packages)" % tool
    if check.startswith("FileContent--proc-sys-"):
        return "set the sysctl %s to 1" % check[len("FileContent--proc-sys-"):].replace("-", ".")
    if check.startswith("DirAvailable-"):
        return "the directory is not empty (left over from an earlier run): run playbooks/reset.yml"
    return GENERIC_HINT


def _continues(line):
    """True when ``line`` continues the message of the preflight item above it."""
    stripped = line.strip()
    if not stripped or stripped.startswith("["):
        return False
    if _KLOG_RE.match(stripped) or stripped.startswith(("error execution phase", "error:", "To see the stack trace")):
        return False
    return not line[:1].isspace() or stripped[:1] in ",)"


def parse_preflight(text):
    """Preflight errors and warnings found in ``text``.

    Returns ``{"errors": [...], "warnings": [...], "failed": bool}``; each item is
    ``{"check": "Swap", "message": "...", "hint": "..."}``. Works on the one-line
    (``error execution phase preflight: [preflight] Some fatal errors occurred:``) and
    multi-line (``error: error execution phase preflight: preflight checks failed``)
    forms, tab or space indentation, and warnings mixed into normal output.
    """
    result = {"errors": [], "warnings": [], "failed": False}
    try:
        text = to_text(text)
        if not text:
            return result
        current = None
        for line in text.splitlines():
            match = _ITEM_RE.match(line)
            if match:
                kind, check, message = match.groups()
                current = {"check": check, "message": message.strip(), "hint": ""}
                result["errors" if kind == "ERROR" else "warnings"].append(current)
            elif current is not None and _continues(line):
                current["message"] = (current["message"] + "\n" + line.strip()).strip()
            else:
                current = None
        for item in result["errors"] + result["warnings"]:
            item["hint"] = preflight_hint(item["check"], item["message"])
        result["failed"] = bool(result["errors"]) or any(marker in text for marker in _FATAL_MARKERS)
    except Exception:  # pylint: disable=broad-except
        return {"errors": [], "warnings": [], "failed": False}
    return result


def _token_item(token, expires, usages, groups, description):
    return {
        "token": token,
        "expires": expires or None,
        "usages": [item for item in usages if item],
        "groups": [item for item in groups if item],
        "description": description or "",
    }


def _str_list(value):
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    if isinstance(value, str):
        return [item for item in value.split(",") if item]
    return []


def _from_json_object(obj):
    if not isinstance(obj, dict):
        return None
    token = obj.get("token")
    if isinstance(token, dict):  # defensive: a structured token {id, secret}
        token = "%s.%s" % (token.get("id", ""), token.get("secret", ""))
    if not isinstance(token, str) or not TOKEN_RE.match(token):
        return None
    expires = obj.get("expires")
    description = obj.get("description")
    return _token_item(
        token,
        expires if isinstance(expires, str) else None,
        _str_list(obj.get("usages")),
        _str_list(obj.get("groups")),
        description if isinstance(description, str) else "",
    )


def _parse_token_json(text):
    decoder = json.JSONDecoder()
    items = []
    index = 0
    length = len(text)
    while index < length:
        while index < length and text[index].isspace():
            index += 1
        if index >= length:
            break
        try:
            obj, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        objects = obj if isinstance(obj, list) else obj.get("items", [obj]) if isinstance(obj, dict) else []
        for entry in objects if isinstance(objects, list) else []:
            item = _from_json_object(entry)
            if item is not None:
                items.append(item)
    return items


_TABLE_HEADER_RE = re.compile(r"^TOKEN +TTL +EXPIRES +USAGES", re.M)
_JSON_START_RE = re.compile(r"^[ \t]*[\[{]", re.M)
_TABLE_COLUMNS = ("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS")


def _none(value):
    value = value.strip()
    return "" if value in ("<none>", "<never>", "<forever>") else value


def _aligned(line, starts):
    """True when every column of the header starts right after a blank in ``line``."""
    if starts[0] != 0 or min(starts[1:5]) <= 0:
        return False
    return all(pos >= len(line) or line[pos - 1] == " " for pos in starts[1:] if pos > 0)


def _parse_token_table(text):
    items = []
    starts = None
    for line in text.splitlines():
        if starts is None:
            if line.startswith("TOKEN") and "TTL" in line and "USAGES" in line:
                starts = [line.find(name) for name in _TABLE_COLUMNS]
            continue
        word = line.strip().split(" ", 1)[0]
        if not TOKEN_RE.match(word):
            continue
        if _aligned(line, starts):
            bounds = [pos for pos in starts if pos >= 0] + [len(line)]
            fields = [line[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]
        else:
            fields = re.split(r"\s{2,}", line.strip())
        fields = (fields + [""] * 6)[:6]
        items.append(_token_item(
            word,
            _none(fields[2]),
            _none(fields[3]).split(","),
            _none(fields[5]).split(","),
            _none(fields[4]),
        ))
    return items


def parse_token_list(text):
    """Tokens from ``kubeadm token list`` output.

    Accepts the JSON stream ``kubeadm token list -o json`` prints (concatenated
    ``BootstrapToken`` objects of ``output.kubeadm.k8s.io/v1alpha3``, not an array) and
    the text table (``TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS``). Each item is
    ``{"token", "expires", "usages", "groups", "description"}``; ``expires`` is an
    RFC 3339 string or ``None`` for tokens that never expire.
    """
    try:
        text = to_text(text)
        if not text or not text.strip():
            return []
        if _TABLE_HEADER_RE.search(text):
            return _parse_token_table(text)
        start = _JSON_START_RE.search(text)
        return _parse_token_json(text[start.start():]) if start else []
    except Exception:  # pylint: disable=broad-except
        return []


def parse_init_output(text):
    """What ``kubeadm init`` printed.

    Returns ``{"initialized": bool, "join": join data or None, "control_plane_join":
    join data or None, "certificate_key": str or None, "preflight": {...}}`` where
    ``join`` is the worker command and ``control_plane_join`` the ``--control-plane``
    one (present with ``--upload-certs``).
    """
    result = {
        "initialized": False,
        "join": None,
        "control_plane_join": None,
        "certificate_key": None,
        "preflight": {"errors": [], "warnings": [], "failed": False},
    }
    try:
        text = to_text(text)
        if not text:
            return result
        result["initialized"] = any(marker in text for marker in _INIT_SUCCESS)
        for command in find_join_commands(text):
            key = "control_plane_join" if command["control_plane"] else "join"
            if result[key] is None:
                result[key] = command
        key_match = _CERT_KEY_LINE_RE.search(text)
        if key_match:
            result["certificate_key"] = key_match.group(1)
        elif result["control_plane_join"]:
            result["certificate_key"] = result["control_plane_join"]["certificate_key"]
        result["preflight"] = parse_preflight(text)
    except Exception:  # pylint: disable=broad-except
        return result
    return result
