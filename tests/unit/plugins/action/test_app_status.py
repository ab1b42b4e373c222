"""The app_status action plugin: the app role's reading of its objects, on the controller.

The rules themselves are tested in tests/unit/plugins/module_utils/test_app_status.py; here: each mode
gives what the rule gives, through the plugin's argument checking, without a connection, changing nothing,
and the same in check mode; plus one run by ansible-playbook under the collection's name.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.kubelab.cluster.plugins.action import app_status as action_module
from ansible_collections.kubelab.cluster.plugins.module_utils import _app_status

from .controller import run_on_controller, run_playbook_in_check_mode

DEPLOYMENT = {"metadata": {"name": "webapp-deployment", "generation": 2},
              "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "webapp", "image": "web-app:9.0"}]}}},
              "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1}}
NODES = [{"metadata": {"name": "worker1"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.11"}]}}]
SERVICES = [{"metadata": {"name": "webservice-nodeport", "namespace": "default"},
             "spec": {"type": "NodePort", "clusterIP": "10.96.0.50", "ports": [{"port": 80, "targetPort": 5000, "nodePort": 31234}]},
             "status": {"loadBalancer": {}}}]


def _pod(name, ready, deleting=False, waiting=None):
    state = {"waiting": waiting} if waiting else {"running": {"startedAt": "2026-12-03T10:00:00Z"}}
    pod = {"metadata": {"name": name, "namespace": "default"}, "spec": {"nodeName": "worker1"},
           "status": {"phase": "Running", "podIP": "10.244.1.%d" % len(name),
                      "containerStatuses": [{"name": "webapp", "image": "web-app:9.0", "ready": ready, "restartCount": 0, "state": state}],
                      "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}
    if deleting:
        pod["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:00Z"
    return pod


NEVER = {"reason": "ErrImageNeverPull", "message": 'Container image "web-app:9.0" is not present with pull policy of Never'}
PODS = [_pod("webapp-b", True), _pod("webapp-a", False, waiting=NEVER), _pod("webapp-old", True, deleting=True)]


def _run(args, check_mode=False):
    return run_on_controller(action_module, "app_status", args, check_mode)


def test_pods_mode_gives_the_rows_of_the_rule():
    result = _run({"mode": "pods", "pods": PODS})
    assert result["pods"] == _app_status.pod_rows(PODS)
    assert [row["name"] for row in result["pods"]] == ["webapp-a", "webapp-b"]
    assert [row["name"] for row in result["pods"] if row["ready"]] == ["webapp-b"]
    assert result["changed"] is False
    assert "diagnosis" not in result and "summary" not in result


def test_diagnosis_mode_names_the_cause_and_the_wait():
    result = _run({"mode": "diagnosis", "deployment": DEPLOYMENT, "pods": PODS, "events": [], "waited": 300})
    assert result["diagnosis"] == _app_status.rollout_diagnosis(DEPLOYMENT, PODS, [], 300)
    assert result["diagnosis"]["complete"] is False
    assert "after 300 s" in result["diagnosis"]["message"]
    assert "ErrImageNeverPull: image web-app:9.0 is not on the node" in result["diagnosis"]["message"]
    assert "on worker1" in result["diagnosis"]["message"]


def test_diagnosis_of_a_deployment_that_could_not_be_read():
    result = _run({"mode": "diagnosis", "pods": []})
    assert result["diagnosis"]["complete"] is False
    assert result["diagnosis"]["message"].startswith("rollout of the Deployment not complete")


def test_summary_mode_gives_the_report_and_the_urls():
    args = {"mode": "summary", "deployment": DEPLOYMENT, "pods": PODS, "services": SERVICES, "endpoints": [], "nodes": NODES}
    result = _run(args)
    assert result["summary"] == _app_status.summary(DEPLOYMENT, PODS, SERVICES, [], NODES)
    assert result["summary"]["lines"][0] == "Deployment webapp-deployment: 1/2 ready, image web-app:9.0"
    assert result["summary"]["urls"] == [{"service": "webservice-nodeport", "url": "http://192.168.1.11:31234/"}]


def test_check_mode_gives_the_same_answer():
    args = {"mode": "summary", "deployment": DEPLOYMENT, "pods": PODS, "services": SERVICES, "nodes": NODES}
    assert _run(dict(args), check_mode=True)["summary"] == _run(dict(args))["summary"]


@pytest.mark.parametrize("args, words", [
    ({"mode": "inputs"}, "mode"),
    ({}, "mode"),
    ({"mode": "pods", "pods": "webapp-a"}, "pods"),
    ({"mode": "pods", "pod": []}, "pod"),
    ({"mode": "diagnosis", "waited": "soon"}, "waited"),
])
def test_wrong_arguments_are_refused(args, words):
    with pytest.raises(AnsibleActionFail) as refused:
        _run(args)
    assert words in str(refused.value)


def test_the_role_calls_it_by_its_collection_name_in_check_mode(tmp_path):
    show = "READY={{ rows.pods | selectattr('ready') | map(attribute='name') | join(',') }} CHANGED={{ rows.changed }}"
    run = run_playbook_in_check_mode(tmp_path, [
        {"name": "rows", "kubelab.cluster.app_status": {"mode": "pods", "pods": PODS}, "register": "rows"},
        {"name": "show", "ansible.builtin.debug": {"msg": show}}])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "READY=webapp-b CHANGED=False" in run.stdout
