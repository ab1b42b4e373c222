# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's input rules, each written once (Python standard library only).

kubelab.cluster.check_inputs (an action plugin) is their one caller: the validation play that opens
the collection's playbooks and every role imported alone call it, so both give one verdict with one
message. Types and choices live in each role's meta/argument_specs.yml (checked first, with
ansible's own validator); :func:`input_errors` adds every other rule: CIDRs and their overlaps,
Kubernetes versions, inventory groups, Go durations, URLs, controller paths, lists given as text.
Every problem is collected; nothing here stops at the first. Nothing here contacts a node: node
addresses, hardware and the like are checked on the nodes (:func:`node_errors`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import ipaddress
import os
import re
from urllib.parse import urlsplit

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_certs import validate_below_days
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import parse_go_duration
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import valid_endpoint
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_upgrade import parse_version
from ansible_collections.kubelab.cluster.plugins.module_utils._minikube import (
    MIN_CPUS,
    MIN_MEMORY_MB,
    RELEASES as MINIKUBE_RELEASES,
    VERSION_RE as MINIKUBE_VERSION_RE,
    version_errors as minikube_version_errors,
)

# kube-apiserver refuses a service range with more than 20 host bits (IPv4 /12, IPv6 /108).
SERVICE_MIN_PREFIX = {4: 12, 6: 108}
# kube-controller-manager's default per-node pod range (--node-cidr-mask-size): the pod range
# must be at least that large.
NODE_CIDR_MASK = {4: 24, 6: 64}
PACKAGE_VERSION_RE = re.compile(r"^1\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$")
KUBEADM_VERSION_RE = re.compile(r"^v1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
CHECKSUM_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
PORT_RE = re.compile(r"^([0-9]+)(:([0-9]+))?/(tcp|udp)$")
HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$")

# URL schemes apt and get_url can use for package sources and downloads.
URL_SCHEMES = ("http", "https", "file")

GROUP_VARIABLES = {
    "cluster": ("kubelab_cluster_group", "k8s_cluster"),
    "control_plane": ("kubelab_control_plane_group", "kube_control_plane"),
    "workers": ("kubelab_workers_group", "kube_workers"),
    "app_nodes": ("kubelab_app_nodes_group", "kube_workers"),
    "minikube": ("kubelab_minikube_group", "minikube"),
}


def is_port_number(value):
    """Whether ``value`` is a TCP/UDP port, 1 to 65535 (an int or its digits)."""
    return not isinstance(value, bool) and str(value).isdigit() and 0 < int(value) < 65536


def _show(value):
    """A value as it reads in a message (strings quoted, other types named)."""
    if isinstance(value, str):
        return repr(value)
    return "%r (%s)" % (value, type(value).__name__)


def parse_cidrs(value):
    """The networks of a CIDR or a dual-stack ``"IPv4,IPv6"`` pair. Raises ``ValueError``.

    Host bits must be zero (``10.244.1.0/16`` is a typo for ``10.244.0.0/16``), and a
    dual-stack pair holds one network of each family.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a CIDR must be a non-empty string such as 10.244.0.0/16")
    networks = []
    for part in value.split(","):
        text = part.strip()
        if "/" not in text:
            raise ValueError("%r has no prefix length (write it as address/prefix, e.g. 10.244.0.0/16)" % text)
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError as exc:
            raise ValueError("%r is not a CIDR: %s" % (text, exc))
        if network.network_address != ipaddress.ip_interface(text).ip:
            raise ValueError("%r has host bits set; the network is %s" % (text, network))
        networks.append(network)
    if len(networks) > 2 or (len(networks) == 2 and networks[0].version == networks[1].version):
        raise ValueError("dual-stack takes exactly one IPv4 and one IPv6 CIDR, comma-separated")
    return networks


def ip_address(value):
    """``value`` as an IPv4 or IPv6 address, or ``None`` when it is not one."""
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def overlaps(first, second):
    """``(a, b)`` pairs of overlapping networks between two lists of networks."""
    return [(a, b) for a in first for b in second if a.version == b.version and a.overlaps(b)]


def parse_duration(value, allow_zero=False):
    """Seconds of a Go duration string (``2h``, ``1h30m``, ``90s``). Raises ``ValueError``.

    Numbers are refused (YAML turns ``2h`` into a string but ``7200`` into an int, which
    kubeadm would read as nanoseconds); ``0`` only when ``allow_zero``.
    """
    if not isinstance(value, str):
        raise ValueError("a duration must be a string such as 2h, 30m or 1h30m, not a %s" % type(value).__name__)
    seconds = parse_go_duration(value)
    if seconds == 0 and not allow_zero:
        raise ValueError("%r is zero; give a positive duration such as 2h" % value)
    return seconds


def release_range(releases):
    """``(oldest, newest)`` minors (ints) of a list of ``"1.NN"`` release strings."""
    minors = sorted(int(str(release).split(".")[1]) for release in releases)
    if not minors:
        raise ValueError("no supported Kubernetes releases given")
    return minors[0], minors[-1]


def parse_kube_version(value, releases, style="package"):
    """The minor (int) of a Kubernetes version inside the supported releases. Raises ``ValueError``.

    ``style`` ``package``: ``"1.NN"`` or ``"1.NN.P"`` as a string (apt's version of the packages);
    ``kubeadm``: ``"v1.NN.P"`` (kubeadm's kubernetesVersion).
    """
    oldest, newest = release_range(releases)
    if style == "package":
        if not isinstance(value, str):
            raise ValueError("must be a quoted string such as \"1.%d\": unquoted, YAML reads %r as a %s"
                             % (newest, value, type(value).__name__))
        match = PACKAGE_VERSION_RE.match(value.strip())
        form = '"1.NN" (newest patch of the minor) or "1.NN.P"'
    elif style == "kubeadm":
        match = KUBEADM_VERSION_RE.match(value.strip()) if isinstance(value, str) else None
        form = '"v1.NN.P" (e.g. "v1.%d.0")' % newest
    else:
        raise ValueError("unknown version style %r" % style)
    if not match:
        raise ValueError("is not of the form %s" % form)
    minor = int(match.group(1))
    if not oldest <= minor <= newest:
        raise ValueError("1.%d is outside the releases this collection supports from pkgs.k8s.io (1.%d to 1.%d)"
                         % (minor, oldest, newest))
    return minor


class _Collector:
    """Gathers problems as one line each: variable, value, what is allowed, how to fix it."""

    def __init__(self, hosts):
        self.hosts = hosts
        self.errors = []

    def add(self, role, name, value, problem, allowed, fix):
        host = self.hosts.get(role)
        seen = " (as %s sees it)" % host if host else ""
        self.errors.append("%s = %s%s: %s. Allowed: %s. Fix: %s." % (name, _show(value), seen, problem, allowed, fix))

    def plain(self, text):
        self.errors.append(text)


def _cidr_rules(out, cp, cni):
    parsed = {}
    for role, settings, name, required in (("control_plane", cp, "control_plane_pod_subnet", True),
                                           ("control_plane", cp, "control_plane_service_subnet", True),
                                           ("cni", cni, "cni_pod_subnet", False)):
        if settings is None or name not in settings:
            continue
        value = settings[name]
        if not required and value == "":
            continue
        try:
            parsed[name] = parse_cidrs(value)
        except ValueError as exc:
            out.add(role, name, value, str(exc),
                    'an IPv4 or IPv6 CIDR, or "IPv4,IPv6" for dual-stack' + ("" if required else ", or empty"),
                    "correct the address or the prefix length")
    pods = parsed.get("control_plane_pod_subnet")
    services = parsed.get("control_plane_service_subnet")
    if services:
        for network in services:
            if network.prefixlen < SERVICE_MIN_PREFIX[network.version]:
                out.add("control_plane", "control_plane_service_subnet", cp["control_plane_service_subnet"],
                        "%s is larger than kube-apiserver accepts" % network,
                        "at most 20 host bits (IPv4 /%d or longer, IPv6 /%d or longer)"
                        % (SERVICE_MIN_PREFIX[4], SERVICE_MIN_PREFIX[6]), "use a smaller range such as 10.96.0.0/12")
    if pods:
        extra = cp.get("control_plane_controller_manager_extra_args") or {}
        if not any(str(key).startswith("node-cidr-mask-size") for key in extra):
            for network in pods:
                if network.prefixlen > NODE_CIDR_MASK[network.version]:
                    out.add("control_plane", "control_plane_pod_subnet", cp["control_plane_pod_subnet"],
                            "%s is smaller than one node's pod range (/%d)" % (network, NODE_CIDR_MASK[network.version]),
                            "IPv4 /%d or shorter, IPv6 /%d or shorter" % (NODE_CIDR_MASK[4], NODE_CIDR_MASK[6]),
                            "use a larger range such as 10.244.0.0/16, or set node-cidr-mask-size in "
                            "control_plane_controller_manager_extra_args")
    for name in ("control_plane_pod_subnet", "cni_pod_subnet"):
        if parsed.get(name) and services:
            settings = cp if name.startswith("control_plane") else cni
            for pod, service in overlaps(parsed[name], services):
                out.add("control_plane" if settings is cp else "cni", name, settings[name],
                        "%s overlaps the service network %s (control_plane_service_subnet)" % (pod, service),
                        "pod and service networks that share no address",
                        "move one of them, e.g. pods 10.244.0.0/16 and services 10.96.0.0/12")
    # The bundled flannel and calico manifests configure one IPv4 pool: the network they get must be one.
    plugin = (cni or {}).get("cni_plugin")
    if plugin in ("flannel", "calico"):
        name = "cni_pod_subnet" if parsed.get("cni_pod_subnet") else "control_plane_pod_subnet"
        chosen = parsed.get(name)
        if chosen and [n.version for n in chosen] != [4]:
            settings, role = (cni, "cni") if name == "cni_pod_subnet" else (cp, "control_plane")
            out.add(role, name, settings[name], "the bundled %s manifest (cni_plugin) sets up one IPv4 pod network" % plugin,
                    "one IPv4 CIDR with cni_plugin %s" % plugin,
                    "use an IPv4 pod network, or cni_plugin: none and install a dual-stack CNI yourself")
    if parsed.get("cni_pod_subnet") and pods:
        stray = [str(n) for n in parsed["cni_pod_subnet"] if n not in pods]
        if stray:
            out.add("cni", "cni_pod_subnet", cni["cni_pod_subnet"],
                    "%s is not the cluster's pod network (control_plane_pod_subnet %s)"
                    % (", ".join(stray), cp["control_plane_pod_subnet"]),
                    "empty (read from the cluster) or the networks of control_plane_pod_subnet",
                    "leave cni_pod_subnet empty")


def _version_rules(out, settings, releases):
    oldest, newest = release_range(releases)
    allowed_range = "1.%d to 1.%d" % (oldest, newest)
    minors = {}
    for role, name, style in (("kube_packages", "kube_packages_version", "package"),
                              ("container_runtime", "container_runtime_kubernetes_version", "package"),
                              ("control_plane", "control_plane_kubernetes_version", "kubeadm"),
                              ("control_plane", "control_plane_expected_version", "package")):
        values = settings.get(role)
        if values is None or name not in values:
            continue
        value = values[name]
        if value == "" and name.startswith("control_plane"):
            continue
        try:
            minors[name] = parse_kube_version(value, releases, style)
        except ValueError as exc:
            if style == "package":
                allowed = 'a quoted "1.NN" or "1.NN.P" with NN in %s' % allowed_range
                fix = 'quote it in YAML, e.g. %s: "1.%d"' % (name, newest)
            else:
                allowed = 'empty (the installed kubeadm\'s release) or "v1.NN.P" with 1.NN in %s' % allowed_range
                fix = 'write it as v1.%d.0, or leave it empty' % newest
            out.add(role, name, value, str(exc), allowed, fix)
    packages = minors.get("kube_packages_version")
    runtime = minors.get("container_runtime_kubernetes_version")
    if packages is not None and runtime is not None and packages != runtime:
        out.add("container_runtime", "container_runtime_kubernetes_version",
                settings["container_runtime"]["container_runtime_kubernetes_version"],
                "names another minor than kube_packages_version %s (pause image and CRI-O repository would not match)"
                % _show(settings["kube_packages"]["kube_packages_version"]),
                "the minor of kube_packages_version",
                "set container_runtime_kubernetes_version: \"{{ kube_packages_version }}\" next to kube_packages_version")
    target = minors.get("control_plane_kubernetes_version")
    if packages is not None and target is not None and target not in (packages, packages - 1):
        out.add("control_plane", "control_plane_kubernetes_version",
                settings["control_plane"]["control_plane_kubernetes_version"],
                "kubeadm 1.%d deploys only its own minor or the one before" % packages,
                "v1.%d.P or v1.%d.P" % (packages - 1, packages),
                "match it to kube_packages_version, or leave it empty")


def _upgrade_rules(out, settings, releases):
    """kube_upgrade's own inputs: a supported target, a positive batch size and timeouts (the step from the cluster's
    version is :func:`upgrade_step_errors`, once the cluster was read)."""
    values = settings.get("kube_upgrade")
    if values is None:
        return
    oldest, newest = release_range(releases)
    if "kube_upgrade_version" in values:
        value = values["kube_upgrade_version"]
        if value in ("", None):
            out.add("kube_upgrade", "kube_upgrade_version", value, "is empty: the upgrade needs a target",
                    'a quoted "1.NN" (newest patch of the minor) or "1.NN.P", NN in 1.%d to 1.%d' % (oldest, newest),
                    'pass it, e.g. -e kube_upgrade_version=1.%d' % newest)
        else:
            try:
                parse_kube_version(value, releases, "package")
            except ValueError as exc:
                out.add("kube_upgrade", "kube_upgrade_version", value, str(exc),
                        'a quoted "1.NN" or "1.NN.P" with NN in 1.%d to 1.%d' % (oldest, newest),
                        'e.g. -e kube_upgrade_version=1.%d' % newest)
    if values.get("kube_upgrade_kubeconfig") == "":
        out.add("kube_upgrade", "kube_upgrade_kubeconfig", "", "is empty: the drains and the checks need the admin kubeconfig",
                "the path on the controller of the kubeconfig the control_plane role fetched (control_plane_kubeconfig_dest)",
                "set control_plane_kubeconfig_dest or kube_upgrade_kubeconfig to it")
    _positive(out, settings, "kube_upgrade", ("kube_upgrade_drain_timeout", "kube_upgrade_ready_timeout"))
    batch = values.get("kube_upgrade_batch_size")
    if batch is not None and (isinstance(batch, bool) or not str(batch).isdigit() or int(batch) < 1):
        out.add("kube_upgrade", "kube_upgrade_batch_size", batch, "is not a number of nodes", "an integer of 1 or more",
                "e.g. kube_upgrade_batch_size: 1 (one node at a time)")
    grace = values.get("kube_upgrade_delete_grace_period")
    if grace is not None and (isinstance(grace, bool) or not str(grace).isdigit()):
        out.add("kube_upgrade", "kube_upgrade_delete_grace_period", grace, "is not a number of seconds", "an integer of 0 or more",
                "e.g. kube_upgrade_delete_grace_period: 30")


def upgrade_step_errors(target, cluster_version, node_versions=None):
    """Why the cluster cannot step to ``target``, one message each (an empty list when it can).

    ``target``: kube_upgrade_version (``"1.37"``, any patch of the minor, or ``"1.37.2"``, also ``v1.37.2`` once
    resolved). ``cluster_version``: what the control plane runs (``v1.36.1``). ``node_versions``: node name ->
    the kubelet version it reports. One minor step or a patch of the current minor; never a skipped minor, never
    a downgrade, for the control plane and for each node: a node two minors behind the target must finish the
    previous upgrade first (the kubelet of a skipped minor is what the issue forbids, whatever the skew policy).
    A version that cannot be read is reported too: nothing is guessed.
    """
    errors = []
    wanted = parse_version(target)
    current = parse_version(cluster_version)
    if wanted is None:
        return ["kube_upgrade_version = %s is not a Kubernetes version (1.NN or 1.NN.P)." % _show(target)]
    if current is None or current[2] is None:
        return ["the cluster's version could not be read (%s); nothing was changed." % _show(cluster_version)]
    shown = "%d.%d" % wanted[:2] + (".%d" % wanted[2] if wanted[2] is not None else "")
    step = "1.%d" % (current[1] + 1)
    if wanted[1] > current[1] + 1:
        errors.append("kube_upgrade_version %s skips 1.%s: the cluster runs %s and kubeadm upgrades one minor at a time. "
                      "Fix: upgrade to %s first (-e kube_upgrade_version=%s), then to %s."
                      % (shown, ", 1.".join(str(m) for m in range(current[1] + 1, wanted[1])), cluster_version, step, step,
                         "1.%d" % wanted[1]))
    elif _older(wanted, current):
        errors.append("kube_upgrade_version %s is below the cluster's version %s: downgrades are refused. "
                      "Fix: give 1.%d (a patch of the current minor at or above it) or %s."
                      % (shown, cluster_version, current[1], step))
    for node, version in sorted((node_versions or {}).items()):
        have = parse_version(version)
        if have is None or have[2] is None:
            errors.append("node %s reports kubelet version %s, which cannot be read; nothing was changed." % (node, _show(version)))
        elif have[1] < wanted[1] - 1:
            errors.append("node %s runs kubelet %s, more than one minor below %s: it would skip 1.%d. "
                          "Fix: finish the upgrade to 1.%d first (-e kube_upgrade_version=1.%d)."
                          % (node, version, shown, have[1] + 1, have[1] + 1, have[1] + 1))
        elif _older(wanted, have):
            errors.append("node %s runs kubelet %s, above %s: downgrades are refused. Fix: give 1.%d or later."
                          % (node, version, shown, have[1]))
    return errors


def package_downgrade_errors(wanted, packages, allow=False):
    """Why installing the Kubernetes packages at their wanted version would move one below the version installed on
    the node, one message each naming both and the fix (an empty list when none would, or with ``allow``:
    kube_packages_allow_downgrade).

    ``wanted``: package -> kube_packages_version (``"1.36"``, any patch of the minor, or ``"1.36.1"``); ``packages``:
    what node_state read (package -> ``installed``, ``version`` as dpkg has it, ``1.37.1-1.1``). A package not
    installed, or a version that cannot be read, is not a downgrade (apt decides).
    """
    if allow:
        return []
    errors = []
    for name in sorted(wanted):
        want = parse_version(wanted[name])
        found = (packages or {}).get(name) or {}
        have = parse_version(str(found.get("version") or "").split("-", 1)[0]) if found.get("installed") else None
        if want is None or have is None or have[2] is None or not _older(want, have):
            continue
        errors.append("%s is installed at %s, above kube_packages_version %s: installing it would move it down, which "
                      "kubeadm does not support (after upgrade.yml the inventory still names the old version?). Nothing "
                      "was changed. Fix: set kube_packages_version (and container_runtime_kubernetes_version) to \"1.%d\" "
                      "or later, or set kube_packages_allow_downgrade: true to move it down anyway."
                      % (name, found["version"], _show(wanted[name]), have[1]))
    return errors


def _older(wanted, have):
    """Whether ``wanted`` is below ``have``: an older minor, or the same minor with a lower patch (a minor alone
    means its newest patch, never below)."""
    if wanted[1] != have[1]:
        return wanted[1] < have[1]
    return wanted[2] is not None and have[2] is not None and wanted[2] < have[2]


def _group_rules(out, groups, group_names):
    members = {}
    for key in sorted(GROUP_VARIABLES):
        if key not in group_names:
            continue
        variable, default = GROUP_VARIABLES[key]
        name = group_names[key]
        if not isinstance(name, str) or not name:
            out.add(None, variable, name, "is not a group name", "the name of an inventory group",
                    "pass the group's name, e.g. -e %s=%s" % (variable, default))
            continue
        hosts = groups.get(name)
        if hosts is None:
            out.add(None, variable, name, "there is no inventory group %r" % name,
                    "an inventory group (the inventory has: %s)" % ", ".join(sorted(g for g in groups if g != "ungrouped")),
                    "add the group %r to the inventory, or pass -e %s=<group>" % (name, variable))
        elif not hosts:
            out.add(None, variable, name, "the inventory group %r has no host" % name, "a group with at least one host",
                    "put the nodes in the group, or pass -e %s=<group>" % variable)
        else:
            members[key] = list(hosts)
    control = members.get("control_plane", [])
    both = [host for host in control if host in members.get("workers", [])]
    if both:
        out.add(None, GROUP_VARIABLES["workers"][0], group_names["workers"],
                "%s %s also in the control-plane group %r"
                % (", ".join(both), "is" if len(both) == 1 else "are", group_names["control_plane"]),
                "a host in one of the two groups", "remove the host(s) from one of the groups")
    if "cluster" in members:
        for key in ("control_plane", "workers"):
            outside = [host for host in members.get(key, []) if host not in members["cluster"]]
            if outside:
                out.add(None, GROUP_VARIABLES[key][0], group_names[key],
                        "%s not in the cluster group %r, so the node roles would not prepare %s"
                        % (", ".join(outside), group_names["cluster"], "it" if len(outside) == 1 else "them"),
                        "hosts that are also in the cluster group",
                        "make the group a child of %r in the inventory" % group_names["cluster"])


def _node_rules(out, node, groups, group_names):
    """The node a playbook acts on alone (remove_node.yml's ``node``): a host of the cluster group, not the last control plane.

    Whether the node is in the Kubernetes cluster is not an input rule: the playbook reads it, and a node already gone
    is its rerun (nothing to do), not an error.
    """
    cluster = groups.get(group_names.get("cluster")) or []
    control = groups.get(group_names.get("control_plane")) or []
    if not isinstance(node, str) or not node:
        out.add(None, "node", node, "no node is named", "the inventory name of a host of the cluster group %r (%s)"
                % (group_names.get("cluster"), ", ".join(cluster)), "pass -e node=NAME")
    elif node not in cluster:
        where = ("it is in the inventory but not in the cluster group %r" % group_names.get("cluster")
                 if node in (groups.get("all") or []) else "there is no such host in the inventory")
        out.add(None, "node", node, where, "a host of the cluster group (%s)" % ", ".join(cluster),
                "name the node as the inventory does; to remove a node the inventory no longer holds, add it back to the "
                "cluster group first (the playbook resets it), or, for a machine that is gone, run "
                "`kubectl delete node NAME` yourself")
    elif node in control and len(control) < 2:
        out.add(None, "node", node, "it is the last control plane of %r: removing it would end the cluster"
                % group_names.get("control_plane"), "a worker, or a control plane while another one remains",
                "to tear the whole cluster down, run playbooks/reset.yml -e kubelab_reset_confirm=true")


# A role's own inventory-group variables (checked when the role runs alone; the playbooks pass their
# kubelab_*_group instead) and whether the group needs a host.
ROLE_GROUPS = (
    ("control_plane", "control_plane_group", True),
    ("cni", "cni_control_plane_group", True),
    ("worker", "worker_control_plane_group", True),
    ("worker", "worker_group", False),
    ("kube_upgrade", "kube_upgrade_control_plane_group", True),
)


def _role_group_rules(out, settings, groups):
    for role, name, needs_host in ROLE_GROUPS:
        values = settings.get(role)
        if values is None or name not in values:
            continue
        value = values[name]
        if not isinstance(value, str) or value not in groups:
            out.add(role, name, value, "there is no inventory group %r" % (value,),
                    "an inventory group (the inventory has: %s)" % ", ".join(sorted(g for g in groups if g != "ungrouped")),
                    "add the group to the inventory, or set %s to a group it has" % name)
        elif needs_host and not groups[value]:
            out.add(role, name, value, "the inventory group %r has no host" % value, "a group with at least one host",
                    "put the node(s) in the group")


def _text_for_list_rules(out, provided, specs):
    """A string where the spec wants a list: ansible would split it at commas, so ``-e "x=['all']"`` becomes ``["['all']"]``."""
    for role, entry in provided.items():
        options = specs.get(role) or {}
        for name, value in sorted((entry.get("vars") or {}).items()):
            if (options.get(name) or {}).get("type") == "list" and isinstance(value, str):
                out.add(role, name, value, "is text where a list is expected (key=value extra vars are always text)",
                        "a YAML or JSON list", "give a list, e.g. -e '{\"%s\": [\"Swap\"]}' or in group_vars" % name)


def _url_rules(out, settings):
    for role, values in sorted(settings.items()):
        for name, value in sorted(values.items()):
            if not name.endswith("_url") or value in ("", None):
                continue
            parts = urlsplit(value) if isinstance(value, str) else None
            if parts is None or parts.scheme not in URL_SCHEMES or not (parts.netloc or (parts.scheme == "file" and parts.path.startswith("/"))):
                out.add(role, name, value, "is not a URL apt or a download can use",
                        "empty (the default source), http(s)://host/path, or file:///absolute/path",
                        "e.g. %s: https://mirror.example/path" % name)


def _duration_rules(out, settings):
    seconds = {}
    for role, name, allow_zero in (("worker", "worker_token_ttl", False),
                                   ("worker", "worker_token_min_ttl_left", True),
                                   ("control_plane", "control_plane_bootstrap_token_ttl", False)):
        values = settings.get(role)
        if values is None or name not in values:
            continue
        try:
            seconds[name] = parse_duration(values[name], allow_zero)
        except ValueError as exc:
            out.add(role, name, values[name], str(exc),
                    "a positive Go duration such as 2h, 30m, 1h30m or 90s",
                    "give a number with a unit, e.g. %s: 2h" % name)
    ttl, left = seconds.get("worker_token_ttl"), seconds.get("worker_token_min_ttl_left")
    if ttl is not None and left is not None and left >= ttl:
        out.add("worker", "worker_token_min_ttl_left", settings["worker"]["worker_token_min_ttl_left"],
                "is not shorter than worker_token_ttl %s, so no token could ever be reused"
                % _show(settings["worker"]["worker_token_ttl"]),
                "a duration shorter than worker_token_ttl", "lower it, e.g. 30m with a 2h TTL")


def _token_pair_rules(out, settings):
    """The worker role reuses the token kubeadm init made only when both roles describe it alike."""
    cp, worker = settings.get("control_plane") or {}, settings.get("worker") or {}
    for cp_name, worker_name in (("control_plane_bootstrap_token_description", "worker_token_description"),
                                 ("control_plane_bootstrap_token_ttl", "worker_token_ttl")):
        if cp_name in cp and worker_name in worker and cp[cp_name] != worker[worker_name]:
            out.add("worker", worker_name, worker[worker_name],
                    "differs from %s %s, so the workers would not reuse init's token and a second one would exist"
                    % (cp_name, _show(cp[cp_name])), "the value of %s" % cp_name,
                    "set both to one value, e.g. %s: \"{{ %s }}\"" % (worker_name, cp_name))


def _absolute(out, settings, role, names, what):
    values = settings.get(role)
    for name in names:
        if values is None or name not in values:
            continue
        value = values[name]
        if not isinstance(value, str) or not value.startswith("/"):
            out.add(role, name, value, "is not an absolute path", what, "give the full path, e.g. %s" % os.path.join("/", "etc", "kubernetes"))


def _path_rules(out, settings):
    _absolute(out, settings, "cni", ("cni_manifest_dir", "cni_kubeconfig"), "an absolute path on the control plane")
    _absolute(out, settings, "worker", ("worker_kubeconfig",), "an absolute path on the control plane")
    _absolute(out, settings, "control_plane", ("control_plane_config_path", "control_plane_image_archive_dir"),
              "an absolute path on the control plane")
    _absolute(out, settings, "container_runtime", ("container_runtime_image_archive_dir",), "an absolute path on the node")
    for role, name in (("container_runtime", "container_runtime_image_archives"),
                       ("control_plane", "control_plane_image_archives")):
        values = settings.get(role)
        if values is None or not isinstance(values.get(name), list):
            continue
        missing = [item for item in values[name] if not isinstance(item, str) or not os.path.isfile(os.path.expanduser(item))]
        if missing:
            out.add(role, name, values[name], "no file on the controller at %s" % ", ".join(map(str, missing)),
                    "paths of image archives (.tar) on the controller", "fix the paths or remove the entries")
    runtime = settings.get("container_runtime")
    if runtime and runtime.get("container_runtime_image_archives") and runtime.get("container_runtime_name") == "crio":
        out.add("container_runtime", "container_runtime_image_archives", runtime["container_runtime_image_archives"],
                "archives are imported with containerd's ctr, which CRI-O nodes lack",
                "an empty list with container_runtime_name crio", "remove the archives or use containerd")


def _positive(out, settings, role, names):
    values = settings.get(role)
    for name in names:
        if values is None or name not in values:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            if isinstance(value, str) and value.isdigit() and int(value) > 0:
                continue
            out.add(role, name, value, "is not a positive number of seconds", "an integer above 0", "e.g. %s: 300" % name)


def _misc_rules(out, settings):
    cp = settings.get("control_plane") or {}
    cni = settings.get("cni") or {}
    worker = settings.get("worker") or {}
    prereqs = settings.get("prereqs") or {}
    _positive(out, settings, "worker", ("worker_ready_timeout", "worker_join_timeout"))
    _positive(out, settings, "cni", ("cni_wait_timeout",))
    _positive(out, settings, "control_plane", ("control_plane_init_timeout", "control_plane_wait_timeout"))
    packages = settings.get("kube_packages") or {}
    only, listed = packages.get("kube_packages_install_only"), packages.get("kube_packages_packages")
    if isinstance(only, list) and isinstance(listed, list) and [name for name in only if name not in listed]:
        out.add("kube_packages", "kube_packages_install_only", only,
                "%s not in kube_packages_packages" % ", ".join(str(name) for name in only if name not in listed),
                "names from kube_packages_packages (%s), or empty" % ", ".join(map(str, listed)),
                "remove the others, or add them to kube_packages_packages")
    port = cp.get("control_plane_bind_port")
    if port is not None and not is_port_number(port):
        out.add("control_plane", "control_plane_bind_port", port, "is not a TCP port", "1 to 65535", "e.g. 6443")
    for role, values, name in (("control_plane", cp, "control_plane_ignore_preflight_errors"),
                               ("worker", worker, "worker_ignore_preflight_errors")):
        items = values.get(name)
        if isinstance(items, list) and any(str(item).lower() == "all" for item in items):
            out.add(role, name, items, "'all' would hide every preflight failure", "names of kubeadm checks (Swap, NumCPU, ...)",
                    "list the checks to ignore one by one")
    socket = cp.get("control_plane_cri_socket")
    if socket is not None and not (isinstance(socket, str) and re.match(r"^(unix|npipe)://", socket)):
        out.add("control_plane", "control_plane_cri_socket", socket, "is not a CRI socket URL", "unix:///path/to.sock",
                "e.g. unix:///var/run/containerd/containerd.sock")
    for name in ("control_plane_init_configuration", "control_plane_cluster_configuration"):
        if isinstance(cp.get(name), dict) and "kind" in cp[name]:
            out.add("control_plane", name, cp[name], "sets 'kind', which the role writes itself",
                    "fields of the document without apiVersion/kind", "remove the 'kind' key")
    address = cp.get("control_plane_advertise_address")
    if address and ip_address(address) is None:
        out.add("control_plane", "control_plane_advertise_address", address, "is not an IP address",
                "empty, or an IPv4/IPv6 address of the control plane", "give the node's address, e.g. 192.0.2.10")
    endpoint = cp.get("control_plane_endpoint")
    if endpoint and not (isinstance(endpoint, str) and (valid_endpoint(endpoint) or HOST_RE.match(endpoint))):
        out.add("control_plane", "control_plane_endpoint", endpoint, "is neither host nor host:port",
                "empty, a DNS name or address, optionally with :port", "e.g. k8s-api.lab.example:6443")
    endpoint = worker.get("worker_api_server_endpoint")
    if endpoint and not valid_endpoint(endpoint):
        out.add("worker", "worker_api_server_endpoint", endpoint, "is not host:port", "empty, host:port or [ipv6]:port",
                "e.g. 192.0.2.10:6443")
    if cni.get("cni_manifest_url") and not CHECKSUM_RE.match(str(cni.get("cni_manifest_checksum", ""))):
        out.add("cni", "cni_manifest_checksum", cni.get("cni_manifest_checksum", ""),
                "cni_manifest_url is set without a checksum to verify the download",
                "sha256:<64 lowercase hex digits>", "set it to sha256:$(sha256sum manifest.yaml)")
    if prereqs.get("prereqs_firewall_enabled") is True:
        for name in ("prereqs_firewall_control_plane_ports", "prereqs_firewall_worker_ports"):
            items = prereqs.get(name)
            if not isinstance(items, list):
                continue
            bad = [item for item in items if not isinstance(item, str) or not _valid_port(item)]
            if bad:
                out.add("prereqs", name, items, "%s %s not PORT/PROTO" % (", ".join(map(str, bad)), "is" if len(bad) == 1 else "are"),
                        "entries like 6443/tcp or 30000:32767/udp (ports 1-65535)", "correct the entries")


def _day2_rules(out, settings):
    """certs and etcd_backup: the threshold kubeadm_certs takes, waits, and paths on the node."""
    certs = settings.get("certs") or {}
    if "certs_renew_below_days" in certs and certs["certs_renew_below_days"] not in (0, "0"):
        value = certs["certs_renew_below_days"]
        try:
            validate_below_days(int(value) if isinstance(value, str) and value.isdigit() else value)
        except ValueError:
            out.add("certs", "certs_renew_below_days", value, "is not a whole number of days from 1 to 3650",
                    "0 (report only) or 1 to 3650", "e.g. -e certs_renew_below_days=30")
    _positive(out, settings, "certs", ("certs_restart_timeout",))
    _positive(out, settings, "etcd_backup", ("etcd_backup_timeout",))
    values = certs.get("certs_static_pod_wait")
    if values is not None and (isinstance(values, bool) or not str(values).isdigit()):
        out.add("certs", "certs_static_pod_wait", values, "is not a whole number of seconds", "0 or more",
                "e.g. certs_static_pod_wait: 20 (the kubelet's fileCheckFrequency)")
    _absolute(out, settings, "certs", ("certs_manifest_dir",), "an absolute path on the control plane")
    _absolute(out, settings, "etcd_backup", ("etcd_backup_node_dir", "etcd_backup_ca_file", "etcd_backup_cert_file",
                                             "etcd_backup_key_file"), "an absolute path on the control plane")
    endpoint = (settings.get("etcd_backup") or {}).get("etcd_backup_endpoint")
    if endpoint is not None and (not isinstance(endpoint, str) or not re.match(r"^https://[^/\s]+$", endpoint)):
        out.add("etcd_backup", "etcd_backup_endpoint", endpoint, "is not an https:// endpoint of etcd",
                "https://host:port", "e.g. https://127.0.0.1:2379 (kubeadm's local etcd)")


def _valid_port(text):
    match = PORT_RE.match(text)
    if not match:
        return False
    first = int(match.group(1))
    last = int(match.group(3)) if match.group(3) else first
    return 0 < first <= last < 65536


def _has_template(value):
    """Whether a value holds a Jinja expression in any of its strings."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_has_template(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_template(item) for item in value)
    return False


def control_plane_hosts(settings, groups, group_names, scope):
    """The control-plane hosts of the run: the playbooks' group (play scope) or the role's control_plane_group."""
    if scope == "play":
        name = group_names.get("control_plane")
    else:
        name = (settings.get("control_plane") or {}).get("control_plane_group")
    return list(groups.get(name) or []) if isinstance(name, str) else []


def _ha_rules(out, settings, groups, group_names, scope):
    """More than one control plane: kubeadm joins another only to a cluster made with a stable controlPlaneEndpoint."""
    cp = settings.get("control_plane")
    if cp is None:
        return
    vip = cp.get("control_plane_vip") or ""
    if vip:
        if ip_address(vip) is None:
            out.add("control_plane", "control_plane_vip", vip, "is not an IP address (kube-vip announces an address by ARP)",
                    "empty, or a free IPv4/IPv6 address in the control planes' subnet", "e.g. control_plane_vip: 192.0.2.100")
        if not cp.get("control_plane_vip_interface"):
            out.add("control_plane", "control_plane_vip_interface", cp.get("control_plane_vip_interface", ""),
                    "control_plane_vip is set, but kube-vip needs the interface to announce it on",
                    "the control planes' network interface name", "e.g. control_plane_vip_interface: eth0")
    hosts = control_plane_hosts(settings, groups, group_names, scope)
    if len(hosts) > 1 and not cp.get("control_plane_endpoint") and not vip:
        out.add("control_plane", "control_plane_endpoint", cp.get("control_plane_endpoint", ""),
                "the control-plane group holds %d hosts (%s), and kubeadm adds a control plane only to a cluster "
                "initialized with a stable controlPlaneEndpoint" % (len(hosts), ", ".join(hosts)),
                "with more than one control plane, the DNS name or address[:port] of a load balancer in front of "
                "every control plane's API server, or a virtual IP in control_plane_vip",
                "set control_plane_endpoint (e.g. k8s-api.lab.example:6443), or control_plane_vip and "
                "control_plane_vip_interface for kube-vip; or keep one host in the control-plane group")


def input_warnings(provided, specs, groups, group_names, scope="play"):
    """What the inputs allow but should not (the run goes on): ``input_errors``'s arguments, a list of lines."""
    settings = effective_settings(provided, specs)
    if "control_plane" not in settings:
        return []
    hosts = control_plane_hosts(settings, groups, group_names, scope)
    if len(hosts) > 1 and len(hosts) % 2 == 0:
        return ["%d control planes (%s): stacked etcd needs a majority (%d) of its members, so %d tolerate the loss of "
                "%d, no more than %d would; an odd number of control planes is advised"
                % (len(hosts), ", ".join(hosts), len(hosts) // 2 + 1, len(hosts), (len(hosts) - 1) // 2, len(hosts) - 1)]
    return []


def effective_settings(provided, specs):
    """Per role: the spec defaults (literal ones) overlaid with the variables the hosts set.

    An entry with ``"given_only": true`` (another role's variables, as a role run alone sees them)
    keeps only the values given: that role's defaults are not known to apply there.
    """
    settings = {}
    for role, entry in provided.items():
        options = {} if entry.get("given_only") else specs.get(role, {})
        values = {}
        for name, option in options.items():
            # A default with a template in it (at any depth) is the role's to render: its value is not known here.
            if "default" in option and not _has_template(option["default"]):
                values[name] = option["default"]
        values.update(entry.get("vars") or {})
        settings[role] = values
    return settings


def input_errors(provided, specs, groups, group_names, releases, spec_results=(), scope="play", node=None):
    """Every problem of the inputs, one line each (an empty list when all is well).

    ``provided``: role -> ``{"host": <the host whose variables these are>, "vars": {name: value}}``.
    ``specs``: role -> the options of its meta/argument_specs.yml (main entry point).
    ``groups``: the inventory's groups; ``group_names``: which groups the playbook uses
    (keys ``cluster``, ``control_plane``, ``workers``). ``releases``: ``"1.NN"`` minors supported.
    ``spec_results``: ``{"role", "host", "errors"}`` from the argument spec validation, reported first.
    ``scope``: ``play`` (the playbooks' inventory groups in ``group_names``) or ``role`` (a role run
    alone: its own group variables name the groups).
    ``node``: the one node a playbook acts on (remove_node.yml), ``None`` when it acts on groups.
    """
    hosts = {role: entry.get("host") for role, entry in provided.items()}
    out = _Collector(hosts)
    for result in spec_results:
        host = result.get("host")
        for error in result.get("errors") or []:
            out.plain("%s (role %s%s): see roles/%s/README.md for the type and the allowed values, and set it in "
                      "group_vars/host_vars or -e accordingly." % (error.rstrip("."), result.get("role"),
                                                                   ", as %s sees it" % host if host else "", result.get("role")))
    _text_for_list_rules(out, provided, specs)
    settings = effective_settings(provided, specs)
    _group_rules(out, groups, group_names)
    if node is not None:
        _node_rules(out, node, groups, group_names)
    if scope == "role":
        _role_group_rules(out, settings, groups)
    _url_rules(out, settings)
    _cidr_rules(out, settings.get("control_plane"), settings.get("cni"))
    _version_rules(out, settings, releases)
    _upgrade_rules(out, settings, releases)
    _duration_rules(out, settings)
    _token_pair_rules(out, settings)
    _path_rules(out, settings)
    _misc_rules(out, settings)
    _ha_rules(out, settings, groups, group_names, scope)
    _day2_rules(out, settings)
    if "app" in settings:
        _app_rules(out, settings["app"])
    if "app_image" in settings:
        _app_image_rules(out, settings["app_image"])
    if "minikube" in settings:
        _minikube_rules(out, settings["minikube"])
    if "proxmox_vm" in settings:
        values = settings["proxmox_vm"]
        group = group_names.get("control_plane") if scope == "play" else values.get("proxmox_vm_control_plane_group")
        _proxmox_vm_rules(out, values, hosts.get("proxmox_vm"), (groups.get(group) or []) if isinstance(group, str) else [])
    return out.errors


def _duplicates(nodes, key, normalize=lambda value: value):
    """``{value: [hosts]}`` for the non-empty identity values of ``key`` more than one node reports."""
    seen = {}
    for host in sorted(nodes):
        value = normalize(((nodes[host] or {}).get("identity") or {}).get(key) or "")
        if value:
            seen.setdefault(value, []).append(host)
    return {value: hosts for value, hosts in seen.items() if len(hosts) > 1}


def _own_addresses(node):
    """``(text, address)`` of each address node_state read on a node (its ``identity.addresses``; a link-local
    address's ``%zone`` left out of the parse), those that are not addresses skipped."""
    pairs = [(text, ip_address(text.split("%", 1)[0])) for text in ((node or {}).get("identity") or {}).get("addresses") or []]
    return [(text, ip) for text, ip in pairs if ip is not None]


def node_errors(nodes, pod_subnet, service_subnet, check_ports=True, advertise_addresses=None):
    """What the nodes' own state forbids, one line each (an empty list when all is well).

    ``nodes``: host -> what kubelab.cluster.node_state read there: ``identity`` (``machine_id``,
    ``product_uuid``, ``hostname``, ``addresses``), optionally ``ports`` (entry -> ``in_use``,
    ``listeners``) and ``cluster``/``kubelet`` (whether the node already belongs to a cluster).
    Nodes cloned from one template share their machine-id or product_uuid, which Kubernetes
    expects unique per node; two nodes with one host name register as one Node; a node address
    inside the pod or service network is routed away; a port kubeadm needs, held on a node that
    is not in the cluster yet, makes kubeadm's preflight fail after the node was prepared
    (``check_ports`` false leaves the ports to the caller: the doctor gives them rows of their own).
    ``advertise_addresses``: control plane -> its control_plane_advertise_address (``""``: kubeadm's choice, the
    default route's address); one that is not among the node's own addresses could not be listened on by its API
    server, and kubeadm fails only after the node was prepared. One value for the whole group gives every further
    control plane the first one's address: the same rule names it.
    """
    errors = []
    for host, address in sorted((advertise_addresses or {}).items()):
        own = _own_addresses(nodes.get(host))
        wanted = ip_address(str(address))
        # Nothing read (the node was not reached), or not an address at all (the inputs check names that).
        if not address or not own or wanted is None:
            continue
        if wanted not in [ip for dummy, ip in own]:
            errors.append("%s: control_plane_advertise_address %s is not one of its addresses (%s): its API server could "
                          "not listen there. Set it per host (host_vars), each control plane its own address, or leave "
                          "it empty for the default route's address." % (host, address, ", ".join(text for text, dummy in own)))
    fixes = {
        "machine_id": ("/etc/machine-id", "on each clone run `rm /etc/machine-id && systemd-machine-id-setup` "
                       "(Proxmox: or clone from a template whose /etc/machine-id is empty)"),
        "product_uuid": ("product_uuid", "give each VM its own SMBIOS UUID (Proxmox: qm set <vmid> --smbios1 "
                         "uuid=$(cat /proc/sys/kernel/random/uuid), then restart the VM)"),
        "hostname": ("host name", "give each node its own name: hostnamectl set-hostname <name>"),
    }
    for key, (what, fix) in fixes.items():
        for value, hosts in sorted(_duplicates(nodes, key, str.lower).items()):
            errors.append("%s share one %s (%s): Kubernetes needs it unique per node; %s." % (
                ", ".join(hosts), what, value, fix))
    networks = []
    for name, value in (("control_plane_pod_subnet", pod_subnet), ("control_plane_service_subnet", service_subnet)):
        try:
            networks.extend((name, network) for network in parse_cidrs(value))
        except ValueError:
            continue  # the inputs check reports a bad CIDR
    for host in sorted(nodes):
        for address, ip in _own_addresses(nodes[host]):
            for name, network in networks:
                if ip.version == network.version and ip in network:
                    errors.append("%s has the address %s inside %s (%s = %s): its traffic would be routed into the "
                                  "cluster network. Choose a %s that holds no node address." % (
                                      host, address, network, name, network, name))
    for host in sorted(nodes) if check_ports else []:
        node = nodes[host] or {}
        member = (node.get("cluster") or {}).get("initialized") or (node.get("kubelet") or {}).get("exists")
        for entry, state in sorted((node.get("ports") or {}).items()):
            if member or not state.get("in_use"):
                continue
            held = "; ".join("%s by %s" % (item.get("port"), ", ".join(item.get("processes") or ["?"]))
                             for item in state.get("listeners") or [])
            errors.append("%s: port %s, which Kubernetes needs, is in use (%s) on a node that is not in the cluster "
                          "yet; stop that process (or run playbooks/reset.yml if it is a leftover cluster)." % (
                              host, entry, held))
    return errors


_RESET_WAY = ("kubeadm applies it only at init: set it back to %s, or rebuild the cluster with it "
              "(playbooks/reset.yml, then site.yml; this deletes the cluster's workloads)")


def _same_networks(wanted, running):
    try:
        return sorted(str(net) for net in parse_cidrs(wanted)) == sorted(str(net) for net in parse_cidrs(running))
    except ValueError:
        return str(wanted) == str(running)


def drift(wanted, running):
    """Settings the running control plane does not have, one message each (an empty list when none).

    ``wanted``: ``pod_subnet``, ``service_subnet``, ``cluster_name``, ``bind_port``, ``advertise_address``
    (``""``: kubeadm's choice) and ``apiserver_extra_args`` (name -> value), as the control_plane role's
    variables say. ``running``: node_state's ``cluster.running``, read from the static pod manifests.
    What a manifest does not show is not compared (an empty running value).
    """
    found = []
    checks = [
        ("control_plane_pod_subnet", "pod_subnet", "kube-controller-manager --cluster-cidr", _same_networks),
        ("control_plane_service_subnet", "service_subnet", "kube-apiserver --service-cluster-ip-range", _same_networks),
        ("control_plane_cluster_name", "cluster_name", "kube-controller-manager --cluster-name", None),
        ("control_plane_bind_port", "bind_port", "kube-apiserver --secure-port", None),
        ("control_plane_advertise_address", "advertise_address", "kube-apiserver --advertise-address", None),
    ]
    for variable, key, where, same in checks:
        want, have = wanted.get(key), (running or {}).get(key) or ""
        if want in (None, "") or have == "":
            continue
        if not (same(want, have) if same else str(want) == str(have)):
            found.append("%s is %s, but the cluster runs %s (%s); %s." % (
                variable, want, have, where, _RESET_WAY % have))
    args = (running or {}).get("apiserver_args") or {}
    if args:
        for name, value in sorted((wanted.get("apiserver_extra_args") or {}).items()):
            if args.get(name) != str(value):
                found.append("control_plane_apiserver_extra_args %s=%s is not what kube-apiserver runs with (%s); "
                             "kubeadm writes extra args at init: edit /etc/kubernetes/manifests/kube-apiserver.yaml on "
                             "the control plane (the kubelet restarts it), or rebuild the cluster." % (
                                 name, value, ("--%s=%s" % (name, args[name])) if name in args else "not set"))
    return found


# Kubernetes object names (k8s.io/apimachinery validation): Service and container names are DNS-1035 labels,
# namespaces DNS-1123 labels, Deployments DNS-1123 subdomains.
DNS1035_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# An IANA service name, what a named targetPort must be.
PORT_NAME_RE = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){0,14}$")
IMAGE_RE = re.compile(r"^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+/[a-z0-9._/-]+)?(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


def _node_port_range(text):
    match = re.match(r"^([0-9]+)-([0-9]+)$", str(text))
    if not match or not 0 < int(match.group(1)) <= int(match.group(2)) < 65536:
        return None
    return int(match.group(1)), int(match.group(2))


def _int_or_percent(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return (int(value), False) if int(value) >= 0 else None
    match = re.match(r"^([0-9]+)%$", str(value))
    return (int(match.group(1)), True) if match and int(match.group(1)) <= 100 else None


def _app_service_rules(out, values, services, port_range):
    if not isinstance(services, list):
        return
    names, node_ports = {}, {}
    for index, entry in enumerate(services):
        where = "app_services[%d]" % index
        if not isinstance(entry, dict):
            out.add("app", where, entry, "is not a mapping", "{name, type, port, target_port, node_port, external_name, external_ips}",
                    "write the entry as a mapping")
            continue
        name = entry.get("name", "")
        kind = entry.get("type", "ClusterIP")
        names.setdefault(name, []).append(index)
        if not (isinstance(name, str) and DNS1035_RE.match(name)):
            out.add("app", where + ".name", name, "is not a valid Service name (the API server refuses it)",
                    "a DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters",
                    "e.g. %s" % re.sub(r"[^a-z0-9-]+", "-", str(name).lower()).strip("-") or "webservice")
        if kind not in SERVICE_TYPES:
            out.add("app", where + ".type", kind, "is not a Service type", ", ".join(SERVICE_TYPES),
                    "pick one of them (externalIPs are a list on any selector Service, not a type)")
            continue
        if kind == "ExternalName":
            target = entry.get("external_name", "")
            if not (isinstance(target, str) and DNS1123_SUBDOMAIN_RE.match(target.lower()) and len(target) <= 253):
                out.add("app", where + ".external_name", target, "an ExternalName Service needs a DNS name to point at",
                        "a DNS name such as mysql01.database.example", "set external_name")
            for key in ("node_port", "external_ips"):
                if entry.get(key):
                    out.add("app", where + "." + key, entry[key], "does not apply to an ExternalName Service (it has no proxy)",
                            "unset", "remove it, or make the Service a ClusterIP/NodePort one")
            continue
        if "external_name" in entry:
            out.add("app", where + ".external_name", entry["external_name"], "only an ExternalName Service has one",
                    "unset for type %s" % kind, "remove it, or set type: ExternalName")
        if not is_port_number(entry.get("port", 80)):
            out.add("app", where + ".port", entry.get("port"), "is not a port", "1 to 65535", "e.g. port: 80")
        target = entry.get("target_port", values.get("app_container_port", 5000))
        if not (is_port_number(target) or (isinstance(target, str) and PORT_NAME_RE.match(target))):
            out.add("app", where + ".target_port", target, "is neither a port number nor a port name",
                    "1 to 65535, or the name of a container port", "e.g. target_port: 5000")
        node_port = entry.get("node_port")
        if node_port not in (None, "", 0):
            if kind not in ("NodePort", "LoadBalancer"):
                out.add("app", where + ".node_port", node_port, "only NodePort and LoadBalancer Services have a node port",
                        "unset for type %s" % kind, "remove it, or set type: NodePort")
            elif port_range and not (is_port_number(node_port) and port_range[0] <= int(node_port) <= port_range[1]):
                out.add("app", where + ".node_port", node_port, "is outside the cluster's node port range (the API server refuses it)",
                        "%d to %d (app_node_port_range)" % port_range, "pick a port in the range, or leave it unset to get one allocated")
            else:
                node_ports.setdefault(int(node_port), []).append(index)
        ips = entry.get("external_ips") or []
        if not isinstance(ips, list):
            ips = [ips]
        for address in ips:
            if ip_address(str(address)) is None:
                out.add("app", where + ".external_ips", address, "is not an IP address", "IPv4 or IPv6 addresses the nodes receive traffic for",
                        "e.g. external_ips: [192.0.2.10]")
    for name, indexes in sorted(names.items(), key=lambda item: str(item[0])):
        if len(indexes) > 1:
            out.add("app", "app_services", name, "the name is used by entries %s" % ", ".join(map(str, indexes)),
                    "one entry per Service name", "rename or merge the entries")
    for port, indexes in sorted(node_ports.items()):
        if len(indexes) > 1:
            out.add("app", "app_services", port, "node port %d is given to entries %s (the API server refuses the second)"
                    % (port, ", ".join(map(str, indexes))), "each node port once", "change or unset one of them")


def _probe_rules(out, values, name):
    probe = values.get(name)
    if probe in (None, {}):
        return
    if not isinstance(probe, dict):
        out.add("app", name, probe, "is not a probe mapping", "{} (no probe) or a Kubernetes probe: httpGet/tcpSocket/exec/grpc and timings",
                "e.g. {httpGet: {path: /health, port: 5000}, initialDelaySeconds: 40}")
        return
    handlers = [key for key in PROBE_HANDLERS if key in probe]
    if len(handlers) != 1:
        out.add("app", name, probe, "a probe needs exactly one handler (it has %s)" % (", ".join(handlers) or "none"),
                "one of %s" % ", ".join(PROBE_HANDLERS), "e.g. httpGet: {path: /health, port: 5000}")
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold", "failureThreshold"):
        value = probe.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            out.add("app", "%s.%s" % (name, key), value, "is not a whole number of seconds or tries", "an integer >= 0",
                    "e.g. %s: 10" % key)


def _app_rules(out, values):
    for name, pattern, what in (("app_name", DNS1035_RE, "a DNS-1035 label (it names the container and the pods' label)"),
                                ("app_deployment_name", DNS1123_SUBDOMAIN_RE, "a DNS-1123 subdomain"),
                                ("app_namespace", DNS1123_LABEL_RE, "a DNS-1123 label")):
        value = values.get(name)
        if value is not None and not (isinstance(value, str) and pattern.match(value) and len(value) <= (63 if name != "app_deployment_name" else 253)):
            out.add("app", name, value, "is not a valid Kubernetes name", what + ": lowercase letters, digits and '-'",
                    "e.g. %s: webapp" % name)
    image = values.get("app_image")
    if image is not None and not (isinstance(image, str) and IMAGE_RE.match(image)):
        out.add("app", "app_image", image, "is not an image reference", "[registry/]repository[:tag][@sha256:digest], lowercase",
                "e.g. app_image: web-app:1.0")
    replicas = values.get("app_replicas")
    if replicas is not None and (isinstance(replicas, bool) or not str(replicas).isdigit()):
        out.add("app", "app_replicas", replicas, "is not a number of pods", "an integer >= 0 (0 stops the app)", "e.g. app_replicas: 2")
    port = values.get("app_container_port")
    if port is not None and not is_port_number(port):
        out.add("app", "app_container_port", port, "is not a port", "1 to 65535", "e.g. app_container_port: 5000")
    surge, unavailable = (_int_or_percent(values.get(key, 0)) for key in ("app_max_surge", "app_max_unavailable"))
    for key, parsed in (("app_max_surge", surge), ("app_max_unavailable", unavailable)):
        if key in values and parsed is None:
            out.add("app", key, values[key], "is neither a number of pods nor a percentage", "an integer >= 0 or 'N%' (0-100)",
                    "e.g. %s: 1" % key)
    if surge is not None and unavailable is not None and surge[0] == 0 and unavailable[0] == 0 \
            and "app_max_surge" in values and "app_max_unavailable" in values:
        out.add("app", "app_max_surge", values["app_max_surge"], "with app_max_unavailable also 0 no rollout can make progress "
                "(the API server refuses it)", "at least one of them above 0", "keep app_max_unavailable: 0 and set app_max_surge: 1")
    _positive(out, {"app": values}, "app", ("app_wait_timeout",))
    env = values.get("app_env")
    if isinstance(env, dict):
        for key in env:
            if not (isinstance(key, str) and re.match(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$", key)):
                out.add("app", "app_env", key, "is not an environment variable name", "letters, digits, '_', '-', '.', not starting with a digit",
                        "rename the variable")
    for name in ("app_readiness_probe", "app_liveness_probe"):
        _probe_rules(out, values, name)
    port_range = _node_port_range(values.get("app_node_port_range", "30000-32767"))
    if port_range is None:
        out.add("app", "app_node_port_range", values.get("app_node_port_range"), "is not a port range", "FIRST-LAST, e.g. 30000-32767",
                "set it to kube-apiserver's --service-node-port-range")
    _app_service_rules(out, values, values.get("app_services"), port_range)


# A full image reference as containerd and the CRI store it: registry host, repository path, tag or digest.
FULL_IMAGE_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*"
                           r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$")


def _app_image_rules(out, values):
    images = values.get("app_image_images")
    if not isinstance(images, list):
        return
    names = []
    for index, entry in enumerate(images, start=1):
        entry = entry if isinstance(entry, dict) else {}
        name = entry.get("name", "")
        where = "app_image_images[%d]" % (index - 1)
        names.append(name)
        if not (isinstance(name, str) and FULL_IMAGE_RE.match(name)):
            out.add("app_image", where + ".name", name, "is not a full image reference",
                    "registry/repository:tag as containerd stores it", "e.g. docker.io/library/web-app:1.0")
        # The argument spec fills an option the entry leaves out with None: absent and None are the same.
        archive, build = entry.get("archive"), entry.get("build")
        if (archive is None) == (build is None):
            out.add("app_image", where, entry, "needs exactly one of archive and build",
                    "archive (an image archive on the controller) or build ({context, dockerfile, args})", "keep one of them")
        elif archive is not None and not (isinstance(archive, str) and os.path.isfile(os.path.expanduser(archive))):
            out.add("app_image", where + ".archive", archive, "is not a file on the controller",
                    "the path of an image archive (.tar) on the controller", "fix the path, or build the image instead")
        elif build is not None:
            context = build.get("context", "") if isinstance(build, dict) else ""
            if not (isinstance(context, str) and os.path.isdir(os.path.expanduser(context))):
                out.add("app_image", where + ".build.context", context, "is not a directory on the controller",
                        "the directory holding the Dockerfile", "fix the path")
    twice = sorted(set(str(name) for name in names if names.count(name) > 1))
    if twice:
        out.add("app_image", "app_image_images", ", ".join(twice), "the same image name is listed twice",
                "each image once", "remove the duplicate entry")


ADDON_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _minikube_rules(out, values):
    """What ``minikube start`` would refuse, and the release facts it depends on, before anything is downloaded."""
    for name in ("minikube_version", "minikube_kubectl_version"):
        value = values.get(name)
        if value is not None and not (isinstance(value, str) and value.startswith("v") and MINIKUBE_VERSION_RE.match(value)):
            out.add("minikube", name, value, "is not a release tag", "v<major>.<minor>.<patch>", "e.g. %s: v1.34.0" % name)
    for name in ("minikube_checksum", "minikube_kubectl_checksum"):
        value = values.get(name)
        if value not in (None, "") and not CHECKSUM_RE.match(str(value)):
            out.add("minikube", name, value, "is not a sha256 checksum", "empty (the published .sha256) or sha256:<64 lowercase hex digits>",
                    "set it to sha256:$(sha256sum FILE)")
    version = values.get("minikube_kubernetes_version")
    if version:
        release = values.get("minikube_version", "")
        for problem in minikube_version_errors(release, version):
            facts = MINIKUBE_RELEASES.get(release)
            out.add("minikube", "minikube_kubernetes_version", version, problem,
                    "empty, or v%s to %s" % (facts["oldest"].lstrip("v"), facts["newest"]) if facts else "a version like v1.31.0",
                    "pick a version that minikube release supports, or another minikube_version")
    for name, minimum, unit in (("minikube_cpus", MIN_CPUS, "CPUs"), ("minikube_memory", MIN_MEMORY_MB, "MB")):
        value = values.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value < minimum:
            out.add("minikube", name, value, "is less than minikube's minimum of %d %s" % (minimum, unit),
                    "at least %d" % minimum, "e.g. %s: %d" % (name, minimum))
    addons = values.get("minikube_addons")
    if isinstance(addons, list):
        bad = [addon for addon in addons if not (isinstance(addon, str) and ADDON_RE.match(addon))]
        if bad:
            out.add("minikube", "minikube_addons", addons, "%s %s not an addon name" % (", ".join(map(str, bad)), "is" if len(bad) == 1 else "are"),
                    "names as minikube addons list shows them (dashboard, metrics-server, ...)", "correct the entries")


# kubeadm's preflight on a control plane (NumCPU, Mem): fewer CPUs or less memory fail kubeadm init.
KUBEADM_CONTROL_PLANE_CPUS = 2
KUBEADM_CONTROL_PLANE_MEMORY_MB = 1700
# Proxmox VE's VM ids (pve-vmid: 100 to 999999999); 0 asks the API for the next free id.
PROXMOX_VMID_RANGE = (100, 999999999)
# A VM name that is also the node's host name (cloud-init sets it) and its Kubernetes Node name: one lowercase DNS label.
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# A Proxmox VE tag as the API stores it (pve-tag, lowercased by the GUI and by this role).
PROXMOX_TAG_RE = re.compile(r"^[a-z0-9_][a-z0-9_+.-]*$")
# Public keys cloud-init writes to authorized_keys: "<type> <base64> [comment]".
SSH_KEY_RE = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) "
                        r"[A-Za-z0-9+/]+={0,3}( .*)?$")
# The collection's tag on every VM it creates: playbooks/lab_destroy.yml removes only VMs that carry it.
PROXMOX_VM_TAG = "kubelab"
# A Proxmox VE storage id (pve-storage-id) and an LXC template volume on such a storage (<storage>:vztmpl/<file>, as
# pveam download stores it): the templates pct create unpacks are tar archives (.tar.gz, .tar.xz, .tar.zst, .tgz).
PROXMOX_STORAGE_RE = re.compile(r"^[a-z][a-z0-9._-]*[a-z0-9]$", re.IGNORECASE)
PROXMOX_OSTEMPLATE_RE = re.compile(r"^([a-z][a-z0-9._-]*[a-z0-9]):vztmpl/[^/\s]+\.(tar\.(gz|xz|zst)|tgz)$", re.IGNORECASE)


def _ipconfig_problem(value):
    """Why a Proxmox VE ipconfig0 string is wrong (None when it is right): ip=dhcp, or ip=<IPv4/prefix>[,gw=<IPv4>], and ip6/gw6."""
    if not isinstance(value, str) or not value:
        return "is not an ipconfig string"
    parts = {}
    for item in value.split(","):
        key, sep, text = item.partition("=")
        if not sep or key not in ("ip", "gw", "ip6", "gw6") or key in parts:
            return "%r is not one of ip=, gw=, ip6=, gw6= (each once)" % item
        parts[key] = text
    if "ip" not in parts:
        return "has no ip= (the role waits for an IPv4 address)"
    for key, version in (("ip", 4), ("ip6", 6)):
        if key not in parts or parts[key] == "dhcp" or (version == 6 and parts[key] == "auto"):
            continue
        try:
            network = ipaddress.ip_interface(parts[key])
        except ValueError:
            network = None
        if network is None or network.version != version or "/" not in parts[key]:
            return "%s=%s is not %s or an IPv%d address with its prefix" % (key, parts[key], "dhcp" if version == 4 else "dhcp, auto", version)
    for key, version, source in (("gw", 4, "ip"), ("gw6", 6, "ip6")):
        if key not in parts:
            continue
        gateway = ip_address(parts[key])
        if gateway is None or gateway.version != version:
            return "%s=%s is not an IPv%d address" % (key, parts[key], version)
        if parts.get(source) in (None, "dhcp", "auto"):
            return "%s= is given with %s=%s (a gateway goes with a static address)" % (key, source, parts.get(source))
    return None


def _proxmox_vm_rules(out, values, host, control_plane_hosts):
    """What the Proxmox VE API or kubeadm would refuse about a VM, before any API call.

    ``host``: the inventory host whose variables these are; ``control_plane_hosts``: the control-plane group's hosts
    (kubeadm's CPU and memory minimum applies to them).
    """
    role = "proxmox_vm"
    name = values.get("proxmox_vm_name")
    if name is not None and not (isinstance(name, str) and DNS_LABEL_RE.match(name)):
        out.add(role, "proxmox_vm_name", name, "is not a DNS label (it becomes the VM's host name and its Kubernetes Node name)",
                "1 to 63 lowercase letters, digits and '-', starting and ending with a letter or digit", "e.g. k8s-worker1")
    vmid = values.get("proxmox_vm_id")
    low, high = PROXMOX_VMID_RANGE
    if vmid is not None and (isinstance(vmid, bool) or not isinstance(vmid, int) or not (vmid == 0 or low <= vmid <= high)):
        out.add(role, "proxmox_vm_id", vmid, "is outside the VM ids of Proxmox VE",
                "0 (the next free id) or %d to %d" % (low, high), "e.g. proxmox_vm_id: 0")
    lxc = values.get("proxmox_vm_guest") == "lxc"
    # A container is made from proxmox_vm_lxc_ostemplate, a VM cloned from proxmox_vm_template: each needs only its own.
    for key in ("proxmox_vm_node", "proxmox_vm_template", "proxmox_vm_api_host", "proxmox_vm_api_user",
                "proxmox_vm_api_token_id", "proxmox_vm_api_token_secret"):
        if key == "proxmox_vm_template" and lxc:
            continue
        if key in values and values[key] in ("", None):
            variable = {"proxmox_vm_api_host": "PROXMOX_HOST", "proxmox_vm_api_user": "PROXMOX_USER",
                        "proxmox_vm_api_token_id": "PROXMOX_TOKEN_ID", "proxmox_vm_api_token_secret": "PROXMOX_TOKEN_SECRET"}.get(key)
            out.add(role, key, "" if key != "proxmox_vm_api_token_secret" else "(empty)", "is empty",
                    "the %s" % {"proxmox_vm_node": "Proxmox VE node the VM runs on", "proxmox_vm_template": "name or id of a cloud-init template"}
                    .get(key, "API's " + key.replace("proxmox_vm_api_", "").replace("_", " ")),
                    "export %s (docs/proxmox.md)" % variable if variable else "set it in group_vars (inventory/proxmox/group_vars)")
    template = values.get("proxmox_vm_template")
    if isinstance(template, int) and not isinstance(template, bool) and not low <= template <= high:
        out.add(role, "proxmox_vm_template", template, "is outside the VM ids of Proxmox VE", "a template's name, or its id %d to %d" % (low, high),
                "e.g. proxmox_vm_template: 9000")
    ipconfig = values.get("proxmox_vm_ipconfig")
    problem = _ipconfig_problem(ipconfig) if ipconfig is not None else None
    if problem:
        out.add(role, "proxmox_vm_ipconfig", ipconfig, problem, "ip=dhcp, or ip=<IPv4>/<prefix>,gw=<IPv4> (Proxmox VE's ipconfig0)",
                "e.g. ip=192.0.2.10/24,gw=192.0.2.1")
    tags = values.get("proxmox_vm_tags")
    if isinstance(tags, list):
        bad = [tag for tag in tags if not (isinstance(tag, str) and PROXMOX_TAG_RE.match(tag))]
        if bad:
            out.add(role, "proxmox_vm_tags", tags, "%s %s not a Proxmox VE tag" % (", ".join(map(str, bad)), "is" if len(bad) == 1 else "are"),
                    "lowercase letters, digits and _ + . - (not starting with + . -); the role adds %r itself" % PROXMOX_VM_TAG,
                    "correct the entries")
    vlan = values.get("proxmox_vm_vlan")
    if vlan is not None and (isinstance(vlan, bool) or not isinstance(vlan, int) or not 0 <= vlan <= 4094):
        out.add(role, "proxmox_vm_vlan", vlan, "is not a VLAN tag", "0 (untagged) or 1 to 4094", "e.g. proxmox_vm_vlan: 20")
    for key, minimum, unit in (("proxmox_vm_cores", 1, "CPU"), ("proxmox_vm_memory", 512, "MB"), ("proxmox_vm_disk_size", 4, "GB")):
        value = values.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value < minimum:
            out.add(role, key, value, "is less than a node can run with (%d %s)" % (minimum, unit), "at least %d" % minimum,
                    "e.g. %s: %d" % (key, minimum))
    if host in control_plane_hosts:
        for key, minimum, unit, check in (("proxmox_vm_cores", KUBEADM_CONTROL_PLANE_CPUS, "CPUs", "NumCPU"),
                                          ("proxmox_vm_memory", KUBEADM_CONTROL_PLANE_MEMORY_MB, "MB", "Mem")):
            value = values.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value < minimum:
                out.add(role, key, value, "is less than kubeadm's control-plane minimum of %d %s (preflight %s) for a host of the "
                        "control-plane group" % (minimum, unit, check), "at least %d" % minimum,
                        "e.g. %s: %d in the host's host_vars" % (key, minimum))
    keys = values.get("proxmox_vm_ssh_keys")
    if isinstance(keys, list):
        if not keys:
            out.add(role, "proxmox_vm_ssh_keys", keys, "is empty: %s would let nobody log in, and the run continues over SSH"
                    % ("pct (root's authorized_keys)" if lxc else "cloud-init"),
                    "public keys (ssh-ed25519 AAAA... comment)", "list the lines of your ~/.ssh/id_ed25519.pub")
        bad = [key for key in keys if not (isinstance(key, str) and SSH_KEY_RE.match(key.strip()))]
        if bad:
            out.add(role, "proxmox_vm_ssh_keys", ["%s..." % str(key)[:20] for key in bad], "%d %s not an OpenSSH public key"
                    % (len(bad), "entry is" if len(bad) == 1 else "entries are"), "lines of a .pub file, one key each", "give the .pub files' contents")
    port = values.get("proxmox_vm_api_port")
    if port is not None and not is_port_number(port):
        out.add(role, "proxmox_vm_api_port", port, "is not a TCP port", "1 to 65535", "e.g. 8006")
    if lxc:
        _proxmox_lxc_rules(out, values)


def _proxmox_lxc_rules(out, values):
    """What pct create would refuse about an LXC guest (proxmox_vm_guest: lxc): its template volume and its storage."""
    role = "proxmox_vm"
    ostemplate = values.get("proxmox_vm_lxc_ostemplate")
    if ostemplate in ("", None):
        out.add(role, "proxmox_vm_lxc_ostemplate", "", "is empty, and proxmox_vm_guest is lxc", "the volume of an LXC template on the node",
                "e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst (pveam available; pveam download local <template>)")
    elif not (isinstance(ostemplate, str) and PROXMOX_OSTEMPLATE_RE.match(ostemplate)):
        out.add(role, "proxmox_vm_lxc_ostemplate", ostemplate, "is not an LXC template volume", "<storage>:vztmpl/<file>.tar.zst (or .tar.gz, .tar.xz)",
                "as pveam list <storage> shows it, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst")
    storage = values.get("proxmox_vm_lxc_storage")
    if storage is not None and not (isinstance(storage, str) and PROXMOX_STORAGE_RE.match(storage)):
        out.add(role, "proxmox_vm_lxc_storage", storage, "is not a Proxmox VE storage id", "a storage of the node that holds container volumes",
                "e.g. local-lvm (pvesm status lists them)")


def app_errors(values):
    """Every problem of the app role's variables (``values``: name -> value), one line each."""
    out = _Collector({})
    _app_rules(out, values)
    return out.errors
