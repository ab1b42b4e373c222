# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for kubelab.cluster.kubeadm_upgrade (Python standard library only).

``kubeadm upgrade plan`` output (``-o json`` of the output.kubeadm.k8s.io v1alpha2 and v1alpha3 kinds, and
the text tables of older and newer releases, with or without the log lines kubeadm prints before them),
the versions the static pod manifests of a control-plane node name, argv builders and the reading of
``kubeadm upgrade apply``'s refusals, and what the kube_upgrade role still does once kubeadm is installed at the target
(:func:`upgrade_plan`). Nothing here runs a command; the module does, the unit tests call these
functions on real kubeadm output (tests/unit/fixtures/kubeadm/upgrade_*).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import json
import re

VERSION_RE = re.compile(r"^v?(1)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$")
# "3 x v1.26.0": kubeadm's count of kubelets at one version (text tables and the v1alpha2 JSON).
_COUNT_RE = re.compile(r"^([0-9]+) x (\S+)$")
_LINE_VERSION_RE = {
    "cluster_version": re.compile(r"^\[upgrade/versions\] Cluster version: (\S+)", re.M),
    "kubeadm_version": re.compile(r"^\[upgrade/versions\] kubeadm version: (\S+)", re.M),
    "target_version": re.compile(r"^\[upgrade/versions\] Target version: (\S+)", re.M),
}
_APPLY_COMMAND_RE = re.compile(r"^\s*kubeadm upgrade apply (v\S+)", re.M)
_HEADER_RE = re.compile(r"^COMPONENT\s+(NODE\s+)?CURRENT\s+TARGET\s*$")
_SECTION_RE = re.compile(r"^Upgrade to the latest (.+):$")
# The control-plane components kubeadm upgrade writes as static pods (etcd has its own version line).
CONTROL_PLANE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
MANIFEST_DIR = "/etc/kubernetes/manifests"
# pkgs.k8s.io's Debian versions of the Kubernetes packages: <x.y.z>-<revision> (1.37.1-1.1).
_PACKAGE_VERSION_RE = re.compile(r"^1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)-\S+$")
_IMAGE_TAG_RE = re.compile(r"^\s*(?:-\s*)?image:\s*\S+/(kube-apiserver|kube-controller-manager|kube-scheduler):(\S+)\s*$", re.M)
# kubeadm's version policy refusals, one "\t- ..." line each (cmd/kubeadm/app/cmd/upgrade/common.go).
_POLICY_RE = re.compile(r"^\s*-\s*(.+)$")


def parse_version(value):
    """``(1, minor, patch)`` of ``v1.37.2``/``1.37.2`` (patch None for ``1.37``), or None."""
    match = VERSION_RE.match(str(value or "").strip())
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)) if match.group(3) is not None else None)


def _counted(text):
    """``(count, version)`` of ``3 x v1.26.0``, or ``(None, text)``."""
    match = _COUNT_RE.match(text.strip())
    return (int(match.group(1)), match.group(2)) if match else (None, text.strip())


def _component(name, current, target, node=None):
    count, current = _counted(current)
    return {"name": name, "node": node or None, "current": current, "target": target, "count": count}


def _from_json(obj):
    """The plan of an UpgradePlan object: v1alpha3 (availableUpgrades, per node) or v1alpha2 (one components list)."""
    upgrades = []
    if obj.get("availableUpgrades") is not None:
        for item in obj.get("availableUpgrades") or []:
            components = [_component(c.get("name", ""), c.get("currentVersion", ""), c.get("newVersion", ""), c.get("nodeName"))
                          for c in item.get("components") or []]
            upgrades.append({"description": item.get("description", ""), "components": components})
    else:
        components = [_component(c.get("name", ""), c.get("currentVersion", ""), c.get("newVersion", ""), c.get("nodeName"))
                      for c in obj.get("components") or []]
        if components:
            upgrades.append({"description": "", "components": components})
    return upgrades


def _find_json(text):
    """The UpgradePlan object in ``text`` (kubeadm prints its log lines before it), or None."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"^\{", text, re.M):
        try:
            obj, _end = decoder.raw_decode(text[match.start():])
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("kind") == "UpgradePlan":
            return obj
    return None


def _table_rows(lines, start):
    """Rows of the aligned table whose header is ``lines[start]``: (component, node, current, target); the end index."""
    header = lines[start]
    names = ["COMPONENT", "NODE", "CURRENT", "TARGET"] if "NODE" in header.split() else ["COMPONENT", "CURRENT", "TARGET"]
    starts = [header.index(name) for name in names]
    rows, index, last = [], start + 1, ""
    while index < len(lines) and lines[index].strip():
        line = lines[index]
        cells = []
        for position, begin in enumerate(starts):
            end = starts[position + 1] if position + 1 < len(starts) else None
            cells.append(line[begin:end].strip() if end else line[begin:].strip())
        row = dict(zip(names, cells))
        # A kubelet row without a component name continues the one above (older releases: "   2 x v1.19.3   v1.19.3").
        component = row["COMPONENT"] or last
        last = component
        rows.append(_component(component, row["CURRENT"], row["TARGET"], row.get("NODE")))
        index += 1
    return rows, index


def _from_text(text):
    """The upgrades of the text tables: the kubelets' table, then the control plane's, per "Upgrade to ..." section."""
    lines = [line.rstrip("\r").replace("\t", "        ") for line in text.splitlines()]
    upgrades, pending, description = [], [], ""
    index = 0
    while index < len(lines):
        line = lines[index]
        section = _SECTION_RE.match(line.strip())
        if section:
            description = section.group(1)
        if _HEADER_RE.match(line.strip()) and line.startswith("COMPONENT"):
            rows, index = _table_rows(lines, index)
            if all(row["name"] == "kubelet" for row in rows):
                pending = rows
            else:
                upgrades.append({"description": description, "components": pending + rows})
                pending = []
            continue
        index += 1
    return upgrades


def parse_upgrade_plan(text):
    """What ``kubeadm upgrade plan`` printed, as a dict.

    ``format`` (``json`` or ``text``), ``api_version`` (of the JSON), ``cluster_version``, ``kubeadm_version``,
    ``target_version`` (from kubeadm's ``[upgrade/versions]`` lines, None when absent), ``upgrades`` (each
    ``description`` and ``components``: ``name``, ``node``, ``current``, ``target``, ``count``), ``apply_versions``
    (the versions of the ``kubeadm upgrade apply`` commands it suggests), and ``kubelets`` (``node`` or None,
    ``version``, ``count``) and ``control_plane`` (component -> current version) of the first upgrade.
    Raises ``ValueError`` when the text holds no plan at all.
    """
    text = text or ""
    found = _find_json(text)
    plan = {"format": "json" if found is not None else "text",
            "api_version": (found or {}).get("apiVersion")}
    plan["upgrades"] = _from_json(found) if found is not None else _from_text(text)
    for key, pattern in _LINE_VERSION_RE.items():
        match = pattern.search(text)
        plan[key] = match.group(1) if match else None
    plan["apply_versions"] = _APPLY_COMMAND_RE.findall(text)
    if not plan["upgrades"]:
        if "You are already at the latest version" in text or "Awesome, you're up-to-date" in text:
            plan.update(kubelets=[], control_plane={})
            return plan
        raise ValueError("no upgrade plan found in kubeadm's output")
    first = plan["upgrades"][0]["components"]
    plan["kubelets"] = [{"node": c["node"], "version": c["current"], "count": c["count"]} for c in first if c["name"] == "kubelet"]
    plan["control_plane"] = {c["name"]: c["current"] for c in first if c["name"] in CONTROL_PLANE_COMPONENTS + ("kube-proxy",)}
    if plan["target_version"] is None:
        targets = [c["target"] for c in first if c["name"] == "kube-apiserver"]
        plan["target_version"] = targets[0] if targets else None
    if plan["cluster_version"] is None:
        plan["cluster_version"] = plan["control_plane"].get("kube-apiserver")
    return plan


def plan_uses_json(kubeadm_version):
    """Whether ``kubeadm upgrade plan -o json`` is asked of this kubeadm (1.26 and later; experimental there)."""
    version = parse_version(kubeadm_version)
    return version is not None and version[1] >= 26


def manifest_versions(manifests):
    """Component -> image tag of the control-plane static pods (``manifests``: component -> file text or None)."""
    found = {}
    for name, text in (manifests or {}).items():
        for component, tag in _IMAGE_TAG_RE.findall(text or ""):
            if component == name:
                found[name] = tag
    return found


def node_at_version(found, version):
    """Whether every control-plane static pod of a node runs ``version`` (``found``: :func:`manifest_versions`; False
    on a node without them, a worker)."""
    return bool(found) and all(found.get(name) == version for name in CONTROL_PLANE_COMPONENTS)


def plan_argv(kubeadm, version, json_output, kubeconfig=None):
    argv = [kubeadm, "upgrade", "plan", version]
    if json_output:
        argv += ["-o", "json"]
    return argv + (["--kubeconfig", kubeconfig] if kubeconfig else [])


def apply_argv(kubeadm, version, kubeconfig=None, ignore=()):
    argv = [kubeadm, "upgrade", "apply", version, "--yes"]
    if ignore:
        argv.append("--ignore-preflight-errors=" + ",".join(ignore))
    return argv + (["--kubeconfig", kubeconfig] if kubeconfig else [])


def node_argv(kubeadm, ignore=()):
    argv = [kubeadm, "upgrade", "node"]
    if ignore:
        argv.append("--ignore-preflight-errors=" + ",".join(ignore))
    return argv


def policy_errors(text):
    """kubeadm's version policy refusals (the ``- ...`` lines after "the version argument is invalid"), in order."""
    text = text or ""
    marker = re.search(r"version argument is invalid due to these (fatal )?errors:", text)
    if not marker:
        return []
    found = []
    for line in text[marker.end():].splitlines():
        match = _POLICY_RE.match(line)
        if match:
            found.append(match.group(1).strip())
        elif found and not line.strip():
            continue
        elif found:
            break
    return found


def apply_succeeded(text, version):
    """Whether ``kubeadm upgrade apply`` reported success for ``version`` (its SUCCESS! line names it)."""
    return bool(re.search(r"SUCCESS! .*upgraded to \"%s\"" % re.escape(version), text or ""))


def package_version(text):
    """kubeadm's name (``v1.37.1``) of a Kubernetes package's Debian version (``1.37.1-1.1``), or None."""
    match = _PACKAGE_VERSION_RE.match(str(text or "").strip())
    return "v1.%s.%s" % match.groups() if match else None


def installed_target(installed):
    """The exact target: the version the kubeadm package names on the nodes of ``installed`` (node -> its packages as
    node_state reads them). kube_upgrade installs kubeadm at kube_upgrade_version first, so a minor alone ("1.37")
    names its patch only there. Raises ``ValueError`` naming the nodes when a kubeadm is missing or they differ."""
    found = {node: package_version(((packages or {}).get("kubeadm") or {}).get("version")) for node, packages in installed.items()}
    missing = sorted(node for node, version in found.items() if version is None)
    if missing:
        raise ValueError("no kubeadm package at a Kubernetes version on %s (%s): the upgrade installs kubeadm at the target "
                         "first (kube_upgrade's kubeadm.yml)" % (", ".join(missing), ", ".join(
                             "%r" % (((installed[node] or {}).get("kubeadm") or {}).get("version") or "") for node in missing)))
    versions = sorted(set(found.values()))
    if len(versions) != 1:
        raise ValueError("the nodes' kubeadm packages name different versions (%s): install one patch on all of them"
                         % ", ".join("%s %s" % (node, found[node]) for node in sorted(found)))
    return versions[0]


def node_plan(target, packages, node):
    """What the kube_upgrade role still does on one node for the exact ``target`` (``v1.37.1``).

    ``packages``: the node's Kubernetes packages as node_state reads them; ``node``: its Node as upgrade_check reads it
    (``kubelet_version``, ``upgrading``: the mark a cordon of the role leaves until the uncordon). Returns
    ``kubelet_package_at_target`` (the kubelet package is installed at the target: the role installs it after
    ``kubeadm upgrade node``, so that is done too), ``restart`` (the Node reports another kubelet version: the running
    kubelet is not the target's yet) and ``pending`` (either, or the mark of an interrupted run is still on the Node).
    """
    kubelet = (packages or {}).get("kubelet") or {}
    at_target = bool(kubelet.get("installed")) and package_version(kubelet.get("version")) == target
    restart = node.get("kubelet_version") != target
    return {"kubelet_package_at_target": at_target, "restart": restart,
            "pending": not at_target or restart or node.get("upgrading") is not None}


def upgrade_plan(installed, cluster_version, nodes):
    """What the upgrade still does once kubeadm is installed at the target: ``target`` (:func:`installed_target`),
    ``nodes`` (node -> :func:`node_plan`, for the nodes of ``installed``) and ``snapshot``: whether the control plane
    (``cluster_version``) or a Node of ``nodes`` (node -> ``kubelet_version``, ``upgrading``) is not at the target,
    the condition of the etcd snapshot before ``kubeadm upgrade apply`` (a rerun at the target takes none).
    Raises ``ValueError`` as :func:`installed_target` does, or for a node of ``installed`` missing from ``nodes``."""
    target = installed_target(installed)
    unknown = sorted(set(installed) - set(nodes))
    if unknown:
        raise ValueError("the packages of %s were given, but not its Node" % ", ".join(unknown))
    return {"target": target,
            "nodes": {name: node_plan(target, installed[name], nodes[name]) for name in installed},
            "snapshot": cluster_version != target or any(node.get("kubelet_version") != target for node in nodes.values())}
