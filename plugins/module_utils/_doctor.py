# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node doctor of playbooks/preflight.yml: one table row per check (Python standard library only).

:func:`doctor_rows` turns what ``kubelab.cluster.node_state`` read on one node (and kubeadm's own
preflight, once kubeadm is installed) into rows ``{check, result, detail}``. ``FAIL`` marks what
would stop site.yml (or kubeadm); ``WARN`` what site.yml fixes itself or what may bite later;
``OK`` the rest. The rules mirror the roles' own checks: the same settings decide.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import cgroup_v1_rule

FAIL = "FAIL"
WARN = "WARN"
OK = "OK"


def _row(rows, check, result, detail):
    rows.append({"check": check, "result": result, "detail": detail})


def _system_rows(rows, read, settings, is_control_plane):
    prereqs = settings.get("prereqs") or {}
    release = read.get("release") or "unknown"
    supported = read.get("supported_releases") or []
    _row(rows, "os", OK if release in supported else FAIL,
         release if release in supported else "%s is not supported (%s)" % (release, ", ".join(supported)))
    cpus, memory = read.get("cpus") or 0, read.get("memory_mb") or 0
    if is_control_plane:
        need_cpus = int(prereqs.get("prereqs_min_cpus_control_plane") or 2)
        need_memory = int(prereqs.get("prereqs_min_memory_mb_control_plane") or 1700)
        low = cpus < need_cpus or memory < need_memory
        _row(rows, "cpus/memory", FAIL if low and prereqs.get("prereqs_hardware_check", True) else (WARN if low else OK),
             "%d CPUs, %d MB (a control plane needs %d CPUs and %d MB)" % (cpus, memory, need_cpus, need_memory))
    else:
        _row(rows, "cpus/memory", OK, "%d CPUs, %d MB" % (cpus, memory))
    container = read.get("container") or "none"
    swap = (read.get("swap") or {}).get("active") or []
    if not swap:
        _row(rows, "swap", OK, "off")
    elif container != "none":
        _row(rows, "swap", FAIL, "on (%s) in a %s container, which cannot turn it off: turn it off on the host"
             % (", ".join(swap), container))
    else:
        _row(rows, "swap", WARN if prereqs.get("prereqs_disable_swap", True) else FAIL,
             "on (%s); site.yml turns it off" % ", ".join(swap) if prereqs.get("prereqs_disable_swap", True)
             else "on (%s) and prereqs_disable_swap is false" % ", ".join(swap))
    missing = sorted(name for name, state in (read.get("modules") or {}).items() if state == "missing")
    if not missing:
        _row(rows, "kernel modules", OK, ", ".join(sorted(read.get("modules") or {})) or "none asked")
    elif container == "none":
        _row(rows, "kernel modules", WARN, "%s not loaded; site.yml loads them" % ", ".join(missing))
    else:
        _row(rows, "kernel modules", FAIL if prereqs.get("prereqs_kernel_modules_required", True) else WARN,
             "%s missing in a %s container: the host must load them" % (", ".join(missing), container))
    sysctls = read.get("sysctls") or {}
    blocked = sorted(name for name, state in sysctls.items() if not state.get("ok"))
    pending = sorted(name for name, state in sysctls.items() if state.get("ok") and not state.get("right"))
    if blocked:
        _row(rows, "kernel parameters", FAIL if prereqs.get("prereqs_sysctl_required", True) else WARN,
             "cannot be set here: %s" % ", ".join(blocked))
    else:
        _row(rows, "kernel parameters", WARN if pending else OK,
             ("site.yml sets %s" % ", ".join(pending)) if pending else "as wanted")


def _cluster_rows(rows, read, settings, is_control_plane):
    version = (settings.get("kube_packages") or {}).get("kube_packages_version") or ""
    allow = (settings.get("control_plane" if is_control_plane else "worker") or {}).get(
        "control_plane_allow_cgroup_v1" if is_control_plane else "worker_allow_cgroup_v1", False)
    rule = cgroup_v1_rule(version, read.get("cgroup") or "unknown", allow)
    detail = "%s on /sys/fs/cgroup" % (read.get("cgroup") or "unknown")
    if rule["blocked"]:
        _row(rows, "cgroup", FAIL, detail + ": Kubernetes %s refuses cgroup v1 unless allowed" % version)
    else:
        _row(rows, "cgroup", WARN if rule["cgroup_v1"] else OK, detail + (" (cgroup v1)" if rule["cgroup_v1"] else ""))
    time_sync = read.get("time_sync") or "unknown"
    _row(rows, "time sync", OK if time_sync == "synchronized" else WARN, time_sync)
    sockets = read.get("paths") or {}
    for path, state in sorted(sockets.items()):
        _row(rows, "runtime socket", OK if state.get("exists") else WARN,
             path + (" answers" if state.get("exists") else " absent (site.yml installs the runtime)"))
    member = (read.get("cluster") or {}).get("initialized") or (read.get("kubelet") or {}).get("exists")
    for entry, state in sorted((read.get("ports") or {}).items()):
        held = "; ".join("%s by %s" % (item.get("port"), ", ".join(item.get("processes") or ["?"]))
                         for item in state.get("listeners") or [])
        if not state.get("in_use"):
            _row(rows, "port %s" % entry, OK, "free")
        elif member:
            _row(rows, "port %s" % entry, OK, "in use by the cluster (%s)" % held)
        elif entry == "30000-32767":
            _row(rows, "port %s" % entry, WARN, "in use (%s): NodePort services on those ports fail" % held)
        else:
            _row(rows, "port %s" % entry, FAIL, "in use (%s)" % held)


def doctor_rows(read, preflight, settings, is_control_plane, problems=()):
    """Rows for one node. ``read``: node_state's result; ``preflight``: kubeadm_preflight_info's
    ``preflight`` (``{errors, warnings}``), or None when it did not run (kubeadm not installed yet, or
    the node is in the cluster already, where kubeadm's init/join checks do not apply); ``settings``:
    role -> effective variables (the inputs check's); ``problems``: the nodes' check messages naming
    this node."""
    rows = []
    _system_rows(rows, read or {}, settings or {}, is_control_plane)
    _cluster_rows(rows, read or {}, settings or {}, is_control_plane)
    for message in problems:
        _row(rows, "unique node", FAIL, message)
    if not problems:
        _row(rows, "unique node", OK, "machine-id, product_uuid, host name and addresses")
    read = read or {}
    member = (read.get("cluster") or {}).get("initialized") or (read.get("kubelet") or {}).get("exists")
    if member:
        _row(rows, "kubeadm preflight", OK, "in the cluster already: site.yml runs no kubeadm init or join here")
    elif preflight is None:
        _row(rows, "kubeadm preflight", WARN, "kubeadm not installed yet: run again after site.yml installs it")
    else:
        for item in preflight.get("errors") or []:
            _row(rows, "kubeadm %s" % item.get("check"), FAIL, "%s -> %s" % (item.get("message"), item.get("hint")))
        for item in preflight.get("warnings") or []:
            _row(rows, "kubeadm %s" % item.get("check"), WARN, "%s -> %s" % (item.get("message"), item.get("hint")))
        if not preflight.get("errors") and not preflight.get("warnings"):
            _row(rows, "kubeadm preflight", OK, "all checks passed")
    return rows
