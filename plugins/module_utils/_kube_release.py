# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about releases that several roles share, in one place (Python standard library only).

The node roles read them through the ``kubelab.cluster.node_state`` result (``release``,
``supported_releases``) and the ``kubelab.cluster.check_inputs`` result (``release``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import re

# Distributions and major versions the node roles support ("<distribution> <major>").
SUPPORTED_RELEASES = ("Debian 12", "Debian 13", "Ubuntu 22", "Ubuntu 24")

# CRI socket of each container runtime, as kubeadm's criSocket wants it.
CRI_SOCKETS = {
    "containerd": "unix:///var/run/containerd/containerd.sock",
    "crio": "unix:///var/run/crio/crio.sock",
    "docker": "unix:///var/run/cri-dockerd.sock",
}

# Pause image tag kubeadm uses per Kubernetes minor (kubeadm's constants.PauseVersion of each release). The
# minors listed are the ones the collection supports; a release is added here first.
PAUSE_TAGS = {
    "1.24": "3.7",
    "1.25": "3.8",
    "1.26": "3.9",
    "1.27": "3.9",
    "1.28": "3.9",
    "1.29": "3.9",
    "1.30": "3.9",
    "1.31": "3.10",
    "1.32": "3.10",
    "1.33": "3.10",
    "1.34": "3.10.1",
    "1.35": "3.10.1",
    "1.36": "3.10.1",
}

# The ports kubeadm's preflight checks are free on a node (Port-NNNN checks) and the firewall opens, per node
# role: (first, last) TCP ports. "api" is the API server's port (control_plane_bind_port, 6443 by default).
KUBEADM_PORTS = {
    "control_plane": ("api", (2379, 2380), (10250, 10250), (10257, 10257), (10259, 10259)),
    "worker": ((10250, 10250),),
}
# The Service node port range (kube-apiserver's --service-node-port-range default): open on workers, not
# checked by kubeadm.
NODE_PORT_RANGE = (30000, 32767)

# Kubernetes 1.35 is the first minor whose kubelet refuses cgroup v1 unless told otherwise (KEP-5573).
CGROUP_V1_REFUSED_FROM_MINOR = 35

_MINOR_RE = re.compile(r"^v?1[.]([0-9]+)")


def release_name(os_release):
    """``"Debian 12"`` from an os-release dict (``id``, ``version_id``), as in :data:`SUPPORTED_RELEASES`."""
    os_release = os_release if isinstance(os_release, dict) else {}
    distribution = str(os_release.get("id") or "unknown")
    major = str(os_release.get("version_id") or "").split(".", maxsplit=1)[0]
    return "%s %s" % (distribution[:1].upper() + distribution[1:].lower(), major)


def is_supported(os_release):
    """Whether the node roles support this os-release."""
    return release_name(os_release) in SUPPORTED_RELEASES


def minor(version):
    """The minor of a Kubernetes version (``v1.36.1``, ``1.36``) as int, or None for anything else."""
    match = _MINOR_RE.match(str(version or "").strip())
    return int(match.group(1)) if match else None


def refuses_cgroup_v1(version):
    """Whether this Kubernetes release refuses cgroup v1 nodes by default (unknown versions do not)."""
    found = minor(version)
    return found is not None and found >= CGROUP_V1_REFUSED_FROM_MINOR


def is_cgroup_v1(fs_type):
    """Whether a /sys/fs/cgroup file system type means cgroup v1: anything read but cgroup2fs (tmpfs on v1)."""
    return fs_type is not None and fs_type != "cgroup2fs"


def supported_minors():
    """The Kubernetes minors the collection supports (``"1.NN"``), oldest first."""
    return list(PAUSE_TAGS)


def pause_tag(version):
    """kubeadm's pause image tag for a Kubernetes version (``1.36``, ``v1.36.1``); None outside the supported minors."""
    found = minor(version)
    return PAUSE_TAGS.get("1.%d" % found) if found is not None else None


def kubeadm_ports(api_port=6443):
    """Per node role, the ports kubeadm needs free, as node_state's ``ports`` entries (``"6443"``, ``"2379-2380"``)."""
    def entry(item):
        first, last = (api_port, api_port) if item == "api" else item
        return str(first) if first == last else "%d-%d" % (first, last)
    return {role: [entry(item) for item in items] for role, items in KUBEADM_PORTS.items()}


def served_ports(api_port=6443):
    """Per node role, the ports the node serves (kubeadm's, and the node port range on workers), as in :func:`kubeadm_ports`."""
    ports = kubeadm_ports(api_port)
    ports["worker"] = ports["worker"] + ["%d-%d" % NODE_PORT_RANGE]
    return ports


def cri_socket(runtime):
    """The CRI socket of a runtime name (containerd, crio, docker); raises KeyError for others."""
    return CRI_SOCKETS[runtime]


def cgroup_v1_rule(version, fs_type, allow):
    """What the cgroup v1 rule decides for a node of ``fs_type`` (node_state's cgroup) running ``version``.

    ``cgroup_v1``: the node runs cgroup v1; ``refused``: the release refuses cgroup v1 by default;
    ``blocked``: a cgroup v1 node the release refuses and ``allow`` does not let through (the roles
    stop before any change); ``skip_system_verification``: kubeadm's SystemVerification check is
    skipped on an allowed cgroup v1 node; ``fail_cgroup_v1_false``: the cluster's kubelet
    configuration says failCgroupV1: false (allowed, on a release that refuses cgroup v1).
    """
    cgroup_v1 = is_cgroup_v1(fs_type)
    refused = refuses_cgroup_v1(version)
    allow = bool(allow)
    return {
        "cgroup_v1": cgroup_v1,
        "refused": refused,
        "blocked": cgroup_v1 and refused and not allow,
        "skip_system_verification": cgroup_v1 and refused and allow,
        "fail_cgroup_v1_false": refused and allow,
    }
