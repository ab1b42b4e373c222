# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for kubelab.cluster.drain_check (Python standard library only).

Which pods a drain evicts (kubectl drain's filters: DaemonSet pods and mirror pods stay, finished pods need no
eviction), and what the API server's answer to a dry-run eviction means: 201 would evict, 429 a
PodDisruptionBudget forbids it now, 404 the pod is gone, 500 with "more than one PodDisruptionBudget" is the
eviction API's refusal of a pod two budgets select. The module makes the calls; the unit tests call these.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
# Set on a Node when the kube_upgrade role cordons it (value: the target version), removed when it uncordons it: a
# rerun after an interruption finds which node it left cordoned, and a node a person cordoned stays cordoned.
UPGRADE_ANNOTATION = "kubelab.cluster/upgrade"


def _meta(pod):
    return pod.get("metadata") or {}


def skip_reason(pod):
    """Why a drain leaves this pod alone (None when it evicts it), as kubectl drain decides with --ignore-daemonsets."""
    meta = _meta(pod)
    if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
        return "mirror pod (a static pod of the kubelet)"
    if any(ref.get("kind") == "DaemonSet" and ref.get("controller") for ref in meta.get("ownerReferences") or []):
        return "DaemonSet pod"
    if ((pod.get("status") or {}).get("phase")) in ("Succeeded", "Failed"):
        return "finished"
    return None


def unmanaged(pod):
    """Whether no controller owns the pod: a drain would delete it for good, and kubectl drain refuses that without --force."""
    return not any(ref.get("controller") for ref in _meta(pod).get("ownerReferences") or [])


UNMANAGED = ("not managed by a controller (ReplicaSet, StatefulSet, Job ...): a drain would delete it for good, and refuses "
             "to without force")


def pods_to_evict(pods):
    """``namespace/name`` of the pods a drain of their node evicts, sorted."""
    return sorted("%s/%s" % (_meta(pod).get("namespace", "default"), _meta(pod).get("name", "")) for pod in pods if skip_reason(pod) is None)


def eviction_verdict(status, message=""):
    """``(blocked, reason)`` of the API server's answer to a dry-run eviction (HTTP ``status`` and its message)."""
    if status is None:
        return True, message
    if status in (200, 201):
        return False, "would be evicted"
    if status == 404:
        return False, "gone already"
    if status == 429:
        return True, message or "Cannot evict pod as it would violate the pod's disruption budget."
    if status == 500 and "PodDisruptionBudget" in (message or ""):
        return True, message
    return True, "the API server answered %s: %s" % (status, message or "(no message)")


def blocked_report(answers):
    """``{node: [{"pod", "reason"}]}`` of the pods whose dry-run eviction was refused (``answers``: node -> pod ->
    (status, message); a status of None carries the reason itself, as for an unmanaged pod)."""
    report = {}
    for node in sorted(answers):
        for pod in sorted(answers[node]):
            blocked, reason = eviction_verdict(*answers[node][pod])
            if blocked:
                report.setdefault(node, []).append({"pod": pod, "reason": reason})
    return report


def blocked_message(report):
    """One refusal naming every blocked pod and its node, with the ways out."""
    lines = ["A drain would be blocked, so no node was touched:"]
    for node in sorted(report):
        for item in report[node]:
            lines.append("%s: pod %s: %s" % (node, item["pod"], item["reason"]))
    lines.append("Fix: scale the workload up or relax its PodDisruptionBudget (minAvailable/maxUnavailable) so one pod may "
                 "go, or set kube_upgrade_delete_fallback: true to delete such pods after kube_upgrade_delete_grace_period "
                 "seconds (their budget is then not honoured).")
    return "\n- ".join(lines)


def _version(value):
    parts = str(value or "").strip().lstrip("v").split(".")
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        return None


def nodes_to_drain(target, cluster_version, kubelets):
    """The nodes an upgrade to ``target`` would still drain, in the order of ``kubelets`` (node -> kubelet version).

    Once the control plane runs the exact target (``kubeadm upgrade apply`` done: the API server reports it), the nodes
    whose kubelet runs another version. Before that, or when the target is a minor alone (its newest patch is only
    known once kubeadm is installed), every node: the dry run then checks every drain, and a rerun changes nothing.
    """
    wanted, cluster = _version(target), _version(cluster_version)
    if wanted and cluster and len(wanted) == 3 and wanted == cluster:
        return [node for node in kubelets if _version(kubelets[node]) != wanted]
    return list(kubelets)
