# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the node_state module reads, as pure functions (Python standard library only).

Every role reads the node once, with ``kubelab.cluster.node_state``. The parsers below turn
the texts the node has (os-release, /proc files, dpkg and systemctl output, kubeconfigs) into
plain values, and :func:`gather` puts the answer together from an ``io`` object that does the
reading (the module passes one over the real node, the unit tests a fake one). File states use
the one format :func:`config_files.read_state` defines, which the write side compares.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import base64
import json
import os
import posixpath
import pwd
import re
import shutil
import socket
import stat

from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import read_state
from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import (
    SUPPORTED_RELEASES,
    cgroup_v1_rule,
    release_name,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    DerError,
    ca_cert_hashes_from_pem,
    kubeconfig_ca_hash_text,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import drift, package_downgrade_errors

CLUSTER_CA = "/etc/kubernetes/pki/ca.crt"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
CONTROLLER_MANAGER_MANIFEST = "/etc/kubernetes/manifests/kube-controller-manager.yaml"
APT_LISTS = "/var/lib/apt/lists"
MODULE_STATES = ("loaded", "builtin", "present", "missing")

_FSTAB_SWAP_RE = re.compile(r"^\s*[^#\s]\S*\s+\S+\s+swap\s")
_MANIFEST_FLAG_RE = re.compile(r"^\s*-\s+--([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*))?$")
APISERVER_MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"
# kubeadm prints `/sys/fs/cgroup` types the way `stat -f -c %T` names them.
_FS_TYPE_NAMES = {"cgroup2": "cgroup2fs", "cgroup": "cgroupfs"}


def parse_os_release(text):
    """``id``, ``version_id``, ``codename`` and ``pretty_name`` of an os-release file (``unknown`` when unset)."""
    values = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return {
        "id": values.get("ID") or "unknown",
        "version_id": values.get("VERSION_ID", ""),
        "codename": values.get("VERSION_CODENAME", ""),
        "pretty_name": values.get("PRETTY_NAME") or "unknown",
    }


def parse_meminfo_mb(text):
    """MemTotal of /proc/meminfo in MB (rounded down), 0 when absent."""
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "MemTotal:" and parts[1].isdigit():
            return int(parts[1]) // 1024
    return 0


def parse_swaps(text):
    """The active swap devices/files of /proc/swaps (its header line skipped)."""
    return [line.split()[0] for line in (text or "").splitlines()[1:] if line.strip()]


def count_fstab_swap(text):
    """How many active (not commented out) swap entries /etc/fstab has."""
    return sum(1 for line in (text or "").splitlines() if _FSTAB_SWAP_RE.match(line))


def parse_swap_units(text):
    """Swap unit names from ``systemctl list-units --type swap --all --plain --no-legend``."""
    units = []
    for line in (text or "").splitlines():
        words = line.split()
        if words and words[0].endswith(".swap") and words[0] not in units:
            units.append(words[0])
    return units


def module_state(name, loaded_dirs, proc_modules, builtin_text, evidence_exists):
    """``loaded``, ``builtin``, ``present`` or ``missing`` for kernel module ``name``.

    ``loaded_dirs``: whether /sys/module/<name> exists; ``proc_modules``: the text of
    /proc/modules; ``builtin_text``: the kernel's modules.builtin; ``evidence_exists``: whether
    the module's evidence path (a /proc/sys or /sys entry it provides) exists.
    """
    if loaded_dirs or any(line.split(" ", 1)[0] == name for line in (proc_modules or "").splitlines()):
        return "loaded"
    if any(line.endswith("/%s.ko" % name) or ("/%s.ko." % name) in line for line in (builtin_text or "").splitlines()):
        return "builtin"
    if evidence_exists:
        return "present"
    return "missing"


def sysctl_path(name):
    """The /proc/sys file of a kernel parameter (``net.ipv4.ip_forward`` -> ``/proc/sys/net/ipv4/ip_forward``)."""
    return "/proc/sys/" + name.replace(".", "/")


def normalize_sysctl(text):
    """A /proc/sys value with each run of white space folded to one space, no trailing space."""
    return re.sub(r"\s+", " ", text or "").rstrip(" ")


def sysctl_state(value, writable, wanted, loadable):
    """What a role needs to know of one kernel parameter.

    ``value`` is the file's text or None when it does not exist; ``loadable`` says a module this
    run loads may still provide a missing one. ``right``: it has the wanted value; ``ok``: it has
    it or can be set (writable, or missing but loadable).
    """
    if value is None:
        return {"exists": False, "writable": False, "value": "", "ok": bool(loadable), "right": False}
    value = normalize_sysctl(value)
    right = value == wanted_text(wanted)
    return {"exists": True, "writable": bool(writable), "value": value, "ok": bool(writable) or right, "right": right}


def wanted_text(value):
    """A wanted kernel parameter value as text the way /proc/sys prints it (``1`` for 1 or True)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return normalize_sysctl(str(value))


def parse_dpkg_status(text, names):
    """Per package of ``names``: ``installed``, ``version``, ``held`` from dpkg-query lines.

    The lines are ``<package>\\t<version>\\t<want> <error> <status>`` (format
    ``${Package}\\t${Version}\\t${Status}\\n``). A package dpkg does not know is not installed.
    """
    found = {}
    for line in (text or "").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        name = parts[0].split(":", 1)[0]
        status = parts[2].split()
        installed = len(status) == 3 and status[1] == "ok" and status[2] == "installed"
        found[name] = {"installed": installed, "version": parts[1] if installed else "",
                       "held": bool(status) and status[0] == "hold"}
    return {name: found.get(name, {"installed": False, "version": "", "held": False}) for name in names}


def unit_state(text):
    """The first word systemctl printed (``enabled``, ``active``...), ``missing`` when it printed nothing."""
    words = (text or "").split()
    return words[0] if words else "missing"


def cgroup_fs_type(mounts_text, mountpoint="/sys/fs/cgroup"):
    """File system type at /sys/fs/cgroup named as ``stat -f -c %T`` does (``cgroup2fs``, ``tmpfs``), else ``unknown``.

    ``mounts_text`` is /proc/self/mounts; the last mount on the path is the visible one.
    """
    found = "unknown"
    for line in (mounts_text or "").splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == mountpoint:
            found = _FS_TYPE_NAMES.get(fields[2], fields[2])
    return found


def manifest_flags(manifest_text):
    """``{flag: value}`` of the ``- --flag=value`` command lines of a static pod manifest (``""`` without a value)."""
    flags = {}
    for line in (manifest_text or "").splitlines():
        match = _MANIFEST_FLAG_RE.match(line)
        if match:
            flags[match.group(1)] = (match.group(2) or "").strip().strip("'\"")
    return flags


def running_settings(apiserver_text, controller_manager_text):
    """The kubeadm settings the control plane runs with, read from its static pod manifests.

    ``pod_subnet``, ``service_subnet``, ``cluster_name``, ``bind_port``, ``advertise_address`` (``""``
    where the manifest has no such flag), and ``apiserver_args``, every flag of kube-apiserver.
    """
    apiserver = manifest_flags(apiserver_text)
    manager = manifest_flags(controller_manager_text)
    return {
        "pod_subnet": manager.get("cluster-cidr", ""),
        "service_subnet": apiserver.get("service-cluster-ip-range") or manager.get("service-cluster-ip-range", ""),
        "cluster_name": manager.get("cluster-name", ""),
        "bind_port": apiserver.get("secure-port", ""),
        "advertise_address": apiserver.get("advertise-address", ""),
        "apiserver_args": apiserver,
    }


def pem_ca_hash(pem_text):
    """``sha256:<hex>`` of the first certificate of a PEM text (kubeadm's CA pin); raises ValueError."""
    try:
        return ca_cert_hashes_from_pem(pem_text)[0]
    except DerError as exc:
        raise ValueError("cannot parse the CA certificate: %s" % exc)


def admin_kubeconfig_current(admin_conf, user_home, user_config, dir_stat, config_stat, uid, gid):
    """Whether ``~/.kube/config`` of the admin user is admin.conf, and ``~/.kube`` 0700 and the file 0600, theirs."""
    if not user_home or user_config is None or user_config != admin_conf:
        return False
    wanted = [(uid, gid, 0o700), (uid, gid, 0o600)]
    return [dir_stat, config_stat] == wanted


# Links the CNI, kube-proxy, Docker and VPNs create: their addresses are not the node's own.
_VIRTUAL_LINK_RE = re.compile(r"^(lo|cni|flannel|cali|vxlan|tunl|kube-ipvs|docker|br-|veth|cilium|weave|virbr|tailscale|wg)")


def node_addresses(addr_json, default_devs):
    """The node's own addresses from ``ip -j addr show`` output.

    Those of the links holding a default route (``default_devs``), else those of every link but
    loopback and the virtual links of the CNI, kube-proxy and Docker (cni0 and flannel.1 carry pod
    CIDR addresses on a running node). Global scope only; a text that is not JSON gives ``[]``.
    """
    try:
        links = json.loads(addr_json or "[]")
    except ValueError:
        return []
    found = []
    for link in links if isinstance(links, list) else []:
        name = link.get("ifname") or ""
        if (name not in default_devs) if default_devs else _VIRTUAL_LINK_RE.match(name):
            continue
        for info in link.get("addr_info") or []:
            if info.get("scope") == "global" and info.get("local") and info["local"] not in found:
                found.append(info["local"])
    return found


def default_route_devs(route_json):
    """The ``dev`` of each route in ``ip -j route show default`` output (``[]`` when none or not JSON)."""
    try:
        routes = json.loads(route_json or "[]")
    except ValueError:
        return []
    return [route["dev"] for route in routes if isinstance(route, dict) and route.get("dev")] if isinstance(routes, list) else []


def _identity(io):
    devs = []
    for family in ("-4", "-6"):
        rc, out, _err = io.run(["ip", "-j", family, "route", "show", "default"])
        devs.extend(dev for dev in (default_route_devs(out) if rc == 0 else []) if dev not in devs)
    rc, out, _err = io.run(["ip", "-j", "addr", "show"])
    return {
        "machine_id": (io.read("/etc/machine-id") or "").strip(),
        "product_uuid": (io.read("/sys/class/dmi/id/product_uuid") or "").strip().lower(),
        "hostname": io.hostname(),
        "addresses": node_addresses(out if rc == 0 else "", devs),
    }


def listening_sockets(tcp_texts):
    """``{port: [socket inode, ...]}`` of the TCP sockets in LISTEN state in /proc/net/tcp and tcp6 texts."""
    found = {}
    for text in tcp_texts:
        for line in (text or "").splitlines()[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A" or ":" not in fields[1]:
                continue
            try:
                port = int(fields[1].rsplit(":", 1)[1], 16)
            except ValueError:
                continue
            found.setdefault(port, [])
            if fields[9] not in found[port]:
                found[port].append(fields[9])
    return found


def port_range(entry):
    """``(first, last)`` of a ports entry: ``6443``, ``"6443"`` or ``"30000-32767"``. Raises ValueError."""
    text = str(entry).strip()
    first, _sep, last = text.partition("-")
    first, last = int(first), int(last or first)
    if not 0 < first <= last < 65536:
        raise ValueError("%r is not a port or a port range" % (entry,))
    return first, last


def _ports(params, io):
    sockets = listening_sockets([io.read("/proc/net/tcp"), io.read("/proc/net/tcp6")])
    wanted = {}
    for entry in params.get("ports") or []:
        first, last = port_range(entry)
        wanted[str(entry)] = sorted(port for port in sockets if first <= port <= last)
    owners = io.socket_owners(set(inode for ports in wanted.values() for port in ports for inode in sockets[port]))
    result = {}
    for entry, ports in wanted.items():
        holders = []
        for port in ports:
            names = sorted(set(owners.get(inode, "unknown process") for inode in sockets[port]))
            holders.append({"port": port, "processes": names})
        result[entry] = {"in_use": bool(holders), "listeners": holders}
    return result


def options_error(params):
    """A message for options that cannot be read as asked, or None."""
    for name, value in (params.get("sysctls") or {}).items():
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9_.-]+$", name) or ".." in name:
            return "sysctls: %r is not a kernel parameter name" % (name,)
        if isinstance(value, (dict, list)):
            return "sysctls: the value of %s must be a scalar" % name
    for path in params.get("files") or []:
        if not posixpath.isabs(path):
            return "files: %s is not an absolute path" % path
    for entry in params.get("ports") or []:
        try:
            port_range(entry)
        except ValueError:
            return "ports: %r is not a port (6443) or a port range (30000-32767)" % (entry,)
    return None


# A module without a /sys/module entry (built in, no parameters) is present when this path exists.
MODULE_EVIDENCE = {"br_netfilter": "/proc/sys/net/bridge", "overlay": "/sys/module/overlay"}


def _kernel_modules(params, io, container):
    evidence = dict(MODULE_EVIDENCE, **(params.get("module_evidence") or {}))
    proc_modules = io.read("/proc/modules")
    builtin = io.read("/lib/modules/%s/modules.builtin" % io.kernel_release())
    states = {}
    for name in params.get("modules") or []:
        states[name] = module_state(name, io.is_dir("/sys/module/" + name), proc_modules, builtin,
                                    io.exists(evidence.get(name) or "/sys/module/" + name))
    loadable = container == "none" and "missing" in states.values()
    return states, loadable


def _swap(io):
    units = parse_swap_units(io.run(["systemctl", "list-units", "--type", "swap", "--all", "--plain", "--no-legend"])[1])
    unmasked = [unit for unit in units + ["swap.target"]
                if unit_state(io.run(["systemctl", "is-enabled", unit])[1]) != "masked"]
    fstab = io.read("/etc/fstab")
    return {"active": parse_swaps(io.read("/proc/swaps")), "unmasked_units": unmasked,
            "fstab_entries": count_fstab_swap(fstab), "fstab": fstab is not None}


def _container(io):
    rc, out, _err = io.run(["systemd-detect-virt", "--container"])
    name = (out or "").strip()
    return name if rc == 0 and name else "none"


def _kubeadm(params, io):
    rc, out, err = io.run([params.get("kubeadm_path") or "kubeadm", "version", "-o", "short"])
    lines = (out or "").strip().splitlines()
    if rc == 0 and lines:
        return {"version": lines[-1].strip(), "error": ""}
    return {"version": "", "error": " ".join(((err or "") + " " + (out or "")).split()) or "kubeadm version failed"}


def _ca_hash(text):
    if text is None:
        return None, ""
    try:
        return pem_ca_hash(text), ""
    except ValueError as exc:
        return None, str(exc)


def _admin(params, io):
    text = io.read_bytes(ADMIN_CONF)
    name = params.get("admin_user") or io.login_user()
    user = io.user(name)
    home, uid, gid = user if user else (None, None, None)
    result = {"user": name, "conf": "", "user_kubeconfig": False, "home": home, "uid": uid, "gid": gid}
    if not text:
        return result
    result["conf"] = base64.b64encode(text).decode("ascii")
    if user:
        kube = posixpath.join(home, ".kube")
        config = posixpath.join(kube, "config")
        result["user_kubeconfig"] = admin_kubeconfig_current(
            text, home, io.read_bytes(config), io.owner_mode(kube), io.owner_mode(config), uid, gid)
    return result


def _kubelet(io):
    text = io.read(KUBELET_CONF)
    if text is None:
        return {"exists": False, "ca_cert_hash": None, "error": ""}
    try:
        ca_hash = kubeconfig_ca_hash_text(text, KUBELET_CONF, io.read)[0]
    except ValueError as exc:
        return {"exists": True, "ca_cert_hash": None, "error": str(exc)}
    return {"exists": True, "ca_cert_hash": ca_hash, "error": ""}


def gather(params, io):
    """The node_state result for the module options ``params``, reading through ``io``.

    ``io`` has ``read(path)`` (text or None), ``read_bytes(path)``, ``exists(path)``, ``is_dir(path)``,
    ``is_char_device(path)``, ``writable(path)``, ``size(path)`` (None when absent), ``run(argv)``
    (``(rc, stdout, stderr)``, rc 127 for a missing command), ``which(name)``, ``cpus()``,
    ``kernel_release()``, ``hostname()``, ``socket_owners(inodes)``, ``architecture()``, ``oom_lower()``, ``user(name)`` (``(home, uid, gid)``
    or None), ``owner_mode(path)`` (``(uid, gid, permission bits)`` or None), ``apt_lists()`` and
    ``file_state(path)`` (the state line of :func:`config_files.read_state`).
    """
    result = {}
    if params.get("system"):
        os_release = parse_os_release(io.read("/etc/os-release") or io.read("/usr/lib/os-release"))
        rc, arch, _err = io.run(["dpkg", "--print-architecture"])
        result.update(
            os=os_release,
            release=release_name(os_release),
            supported_releases=list(SUPPORTED_RELEASES),
            arch=arch.strip() if rc == 0 and arch.strip() else io.architecture(),
            cpus=io.cpus(),
            memory_mb=parse_meminfo_mb(io.read("/proc/meminfo")),
            container=_container(io),
            apt_lists=io.apt_lists(),
            oom_lower=io.oom_lower(),
            dev_kmsg="device" if io.is_char_device("/dev/kmsg") else ("other" if io.exists("/dev/kmsg") else "missing"),
        )
    if params.get("system") or params.get("cgroup"):
        result["cgroup"] = cgroup_fs_type(io.read("/proc/self/mounts"))
    container = result.get("container")
    if container is None and (params.get("modules") or params.get("sysctls")):
        container = _container(io)
    loadable = False
    if params.get("modules"):
        result["modules"], loadable = _kernel_modules(params, io, container)
    if params.get("sysctls"):
        result["sysctls"] = {}
        for name, wanted in params["sysctls"].items():
            path = sysctl_path(name)
            result["sysctls"][name] = sysctl_state(io.read(path), io.writable(path), wanted, loadable)
    if params.get("swap"):
        result["swap"] = _swap(io)
    if params.get("packages"):
        names = list(params["packages"])
        _rc, out, _err = io.run(["dpkg-query", "--show", "--showformat", "${Package}\t${Version}\t${Status}\n"] + names)
        result["packages"] = parse_dpkg_status(out, names)
    if params.get("services"):
        result["services"] = {
            name: {"enabled": unit_state(io.run(["systemctl", "is-enabled", name])[1]),
                   "active": unit_state(io.run(["systemctl", "is-active", name])[1])}
            for name in params["services"]
        }
    if params.get("files"):
        result["files"] = {path: io.file_state(path) for path in params["files"]}
    if params.get("paths"):
        result["paths"] = {path: {"exists": io.exists(path), "is_dir": io.is_dir(path), "size": io.size(path) or 0}
                           for path in params["paths"]}
    if params.get("containerd_default_config"):
        text = ""
        if io.which("containerd"):
            rc, out, _err = io.run(["containerd", "config", "default"])
            text = out if rc == 0 else ""
        result["containerd_default_config"] = text
    if params.get("kubeadm"):
        result["kubeadm"] = _kubeadm(params, io)
    if params.get("cluster"):
        manifest = io.read(CONTROLLER_MANAGER_MANIFEST)
        ca_hash, error = _ca_hash(io.read(CLUSTER_CA))
        result["cluster"] = {"initialized": io.exists(CONTROLLER_MANAGER_MANIFEST), "ca_cert_hash": ca_hash, "ca_error": error,
                             "running": running_settings(io.read(APISERVER_MANIFEST), manifest)}
    if params.get("admin_kubeconfig"):
        result["admin"] = _admin(params, io)
    if params.get("kubelet"):
        result["kubelet"] = _kubelet(io)
    if params.get("identity"):
        result["identity"] = _identity(io)
    if params.get("ports"):
        result["ports"] = _ports(params, io)
    if params.get("time_sync"):
        rc, out, _err = io.run(["timedatectl", "show", "--property", "NTPSynchronized", "--value"])
        result["time_sync"] = {"yes": "synchronized", "no": "not synchronized"}.get(out.strip(), "unknown") if rc == 0 else "unknown"
    return decide(params, result)


def decide(params, result):
    """The verdicts the roles take from a read, added to ``result`` (and returned): nothing more is read.

    With ``cgroup`` (or ``system``) read: ``cgroup_v1``, what Kubernetes' cgroup v1 rule
    (:func:`_kube_release.cgroup_v1_rule`) decides for the node with ``allow_cgroup_v1``, for the release
    ``kubernetes_version``, else the kubeadm version this read found, else ``expected_version`` (kubeadm
    not installed yet); ``version`` names the release decided for. With ``cluster`` read:
    ``cluster.drift``, the settings of ``expected_settings`` the running control plane does not have
    (:func:`_validation.drift`; empty before kubeadm init). With ``packages`` read and ``package_versions`` given:
    ``downgrades``, a message for each package installed above the version it is to be installed at
    (:func:`_validation.package_downgrade_errors`; empty with ``allow_downgrade``).
    """
    if "cgroup" in result:
        candidates = (params.get("kubernetes_version"), (result.get("kubeadm") or {}).get("version"), params.get("expected_version"))
        version = next((text for text in (str(value or "").strip() for value in candidates) if text), "")
        result["cgroup_v1"] = dict(cgroup_v1_rule(version, result["cgroup"], bool(params.get("allow_cgroup_v1"))),
                                   version=version)
    if "cluster" in result:
        wanted = dict(params.get("expected_settings") or {})
        result["cluster"]["drift"] = (drift(wanted, result["cluster"].get("running") or {})
                                      if wanted and result["cluster"].get("initialized") else [])
    if "packages" in result and params.get("package_versions"):
        result["downgrades"] = package_downgrade_errors(params["package_versions"], result["packages"],
                                                        bool(params.get("allow_downgrade")))
    return result


class LocalIO:
    """The ``io`` of :func:`gather` over this machine; ``run`` is the module's run_command."""

    def __init__(self, run):
        self._run = run

    @staticmethod
    def read_bytes(path):
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except (IOError, OSError):
            return None

    def read(self, path):
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8", "replace")

    @staticmethod
    def exists(path):
        return posixpath.exists(path)

    @staticmethod
    def is_dir(path):
        return posixpath.isdir(path)

    @staticmethod
    def is_char_device(path):
        try:
            return stat.S_ISCHR(os.stat(path).st_mode)
        except OSError:
            return False

    @staticmethod
    def writable(path):
        return os.access(path, os.W_OK)

    @staticmethod
    def size(path):
        try:
            return os.stat(path).st_size
        except OSError:
            return None

    def run(self, argv):
        return self._run(argv)

    @staticmethod
    def which(name):
        return shutil.which(name)

    @staticmethod
    def cpus():
        try:
            return len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            return os.cpu_count() or 1

    @staticmethod
    def hostname():
        return socket.gethostname()

    @staticmethod
    def socket_owners(inodes):
        """``{inode: "name[pid]"}`` of the processes holding the given socket inodes (those this user may see)."""
        owners = {}
        if not inodes:
            return owners
        links = set("socket:[%s]" % inode for inode in inodes)
        for pid in (name for name in os.listdir("/proc") if name.isdigit()):
            try:
                fds = os.listdir("/proc/%s/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink("/proc/%s/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if target in links:
                    try:
                        with open("/proc/%s/comm" % pid) as handle:
                            name = handle.read().strip()
                    except (IOError, OSError):
                        name = "?"
                    owners[target[8:-1]] = "%s[%s]" % (name, pid)
        return owners

    @staticmethod
    def kernel_release():
        return os.uname().release

    @staticmethod
    def architecture():
        return os.uname().machine

    @staticmethod
    def oom_lower():
        """May this node lower oom_score_adj (not so in an unprivileged container)? The old value is put back."""
        path = "/proc/self/oom_score_adj"
        try:
            with open(path) as handle:
                before = handle.read().strip()
            with open(path, "w") as handle:
                handle.write("-999")
        except (IOError, OSError):
            return False
        try:
            with open(path, "w") as handle:
                handle.write(before)
        except (IOError, OSError):
            pass
        return True

    @staticmethod
    def login_user():
        """The user Ansible logs in as: sudo's (doas's) caller under become, else the process's own user.

        The walkthrough's $HOME is that user's, not root's after become.
        """
        return os.environ.get("SUDO_USER") or os.environ.get("DOAS_USER") or pwd.getpwuid(os.geteuid()).pw_name

    @staticmethod
    def user(name):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        return entry.pw_dir, entry.pw_uid, entry.pw_gid

    @staticmethod
    def owner_mode(path):
        try:
            info = os.lstat(path)
        except OSError:
            return None
        return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)

    @staticmethod
    def apt_lists():
        try:
            return sum(1 for name in os.listdir(APT_LISTS) if "_Packages" in name)
        except OSError:
            return 0

    @staticmethod
    def file_state(path):
        return read_state(path)
