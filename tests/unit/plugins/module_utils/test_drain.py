"""The drain dry-run's pure parts (module_utils/_drain.py): which pods a drain evicts, what an eviction answer means."""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _drain


def _pod(name, namespace="default", owner=None, mirror=False, phase="Running"):
    meta = {"name": name, "namespace": namespace}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    if mirror:
        meta["annotations"] = {_drain.MIRROR_ANNOTATION: "abc"}
    return {"metadata": meta, "status": {"phase": phase}}


def test_a_drain_leaves_daemonset_mirror_and_finished_pods():
    pods = [_pod("web-1", owner="ReplicaSet"), _pod("kube-proxy-x", "kube-system", owner="DaemonSet"),
            _pod("kube-apiserver-cp1", "kube-system", mirror=True), _pod("job-1", phase="Succeeded"), _pod("bare")]
    assert _drain.pods_to_evict(pods) == ["default/bare", "default/web-1"]
    assert _drain.skip_reason(pods[1]) == "DaemonSet pod"
    assert _drain.unmanaged(pods[4]) and not _drain.unmanaged(pods[0])


@pytest.mark.parametrize("status, message, blocked", [
    (201, "", False), (200, "", False), (404, 'pods "web-1" not found', False),
    (429, "Cannot evict pod as it would violate the pod's disruption budget.", True),
    (500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.", True),
    (403, "forbidden", True), (None, _drain.UNMANAGED, True),
])
def test_eviction_verdicts(status, message, blocked):
    verdict, reason = _drain.eviction_verdict(status, message)
    assert verdict is blocked
    if blocked:
        assert (message or str(status)) in reason


def test_the_refusal_names_node_pod_and_the_ways_out():
    report = _drain.blocked_report({"w1": {"default/web-1": (429, "Cannot evict pod as it would violate the pod's disruption budget."),
                                           "default/web-2": (201, "")},
                                    "w2": {}})
    assert report == {"w1": [{"pod": "default/web-1", "reason": "Cannot evict pod as it would violate the pod's disruption budget."}]}
    message = _drain.blocked_message(report)
    assert "w1: pod default/web-1: Cannot evict" in message and "kube_upgrade_delete_fallback" in message


@pytest.mark.parametrize("target, cluster, expected", [
    ("1.37.1", "v1.37.1", ["w1"]),               # apply done: the node still on the old kubelet
    ("1.37.1", "v1.36.1", ["cp1", "w1", "w2"]),  # apply not done: every drain is checked
    ("1.37", "v1.37.1", ["cp1", "w1", "w2"]),    # a minor alone: its newest patch is not known yet
])
def test_nodes_to_drain(target, cluster, expected):
    assert _drain.nodes_to_drain(target, cluster, {"cp1": "v1.37.1", "w1": "v1.36.1", "w2": "v1.37.1"}) == expected
