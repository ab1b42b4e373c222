"""Tests of app_status: the rollout diagnosis and the report, on objects shaped as the API server returns them.

The container states and event texts are the kubelet's own (ErrImageNeverPull's message is
`Container image "<image>" is not present with pull policy of Never`; probe failures are Unhealthy
events "Readiness probe failed: ..."/"Liveness probe failed: ..."; CrashLoopBackOff is a waiting reason
with the last termination in lastState).
"""

from __future__ import annotations

import importlib.util
import pathlib

from ansible_collections.kubelab.cluster.plugins.module_utils import _app_status as app_status

LOOP = pathlib.Path(__file__).resolve().parents[4] / "roles" / "app" / "files" / "request_loop.py"


def _deployment(replicas=2, generation=2, observed=2, updated=2, ready=2, available=2, unavailable=None, conditions=()):
    status = {"observedGeneration": observed, "replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready,
              "availableReplicas": available, "conditions": list(conditions)}
    if unavailable:
        status["unavailableReplicas"] = unavailable
    return {"metadata": {"name": "webapp-deployment", "generation": generation},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "webapp", "image": "web-app:2.0"}]}}},
            "status": status}


def _pod(name, node, waiting=None, running=False, ready=False, restarts=0, last=None, ip="10.244.1.7"):
    state = {"waiting": waiting} if waiting else ({"running": {"startedAt": "2026-12-03T10:00:00Z"}} if running else {})
    status = {"image": "web-app:2.0", "name": "webapp", "ready": ready, "restartCount": restarts, "state": state}
    if last:
        status["lastState"] = {"terminated": last}
    return {"metadata": {"name": name, "namespace": "default"}, "spec": {"nodeName": node},
            "status": {"phase": "Running" if running else "Pending", "podIP": ip if running else None, "containerStatuses": [status],
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _event(pod, reason, message, kind="Warning", when="2026-12-03T10:00:05Z"):
    return {"involvedObject": {"kind": "Pod", "name": pod, "namespace": "default"}, "reason": reason, "message": message,
            "type": kind, "lastTimestamp": when}


NEVER = {"reason": "ErrImageNeverPull", "message": 'Container image "web-app:2.0" is not present with pull policy of Never'}


def test_a_complete_rollout_is_complete():
    result = app_status.rollout_diagnosis(_deployment(), [_pod("a", "w1", running=True, ready=True)], [])
    assert result["complete"] is True and result["problems"] == []
    assert "complete (2/2 updated, 2 ready, 2 available)" in result["message"]


def test_a_spec_the_controller_has_not_seen_is_not_complete():
    assert app_status.rollout_complete(_deployment(generation=3, observed=2)) is False
    assert app_status.rollout_complete(_deployment(unavailable=1)) is False
    assert app_status.rollout_complete({}) is False


def test_err_image_never_pull_names_every_node_that_lacks_the_image():
    pods = [_pod("webapp-1", "worker2", waiting=NEVER), _pod("webapp-2", "worker1", waiting=NEVER),
            _pod("webapp-3", "worker2", waiting=NEVER), _pod("webapp-0", "worker3", running=True, ready=True)]
    events = [_event("webapp-1", "ErrImageNeverPull", NEVER["message"])]
    result = app_status.rollout_diagnosis(_deployment(ready=1, available=1, unavailable=1), pods, events, waited=300)
    assert result["complete"] is False
    (problem,) = result["problems"]
    assert problem.startswith("ErrImageNeverPull: image web-app:2.0 is not on the node")
    assert problem.endswith("(3 pods on worker1, worker2)")
    assert "after 300 s" in result["message"] and "app_image" in result["message"]


def test_pull_errors_say_there_is_no_registry_way():
    pod = _pod("webapp-1", "worker1", waiting={"reason": "ImagePullBackOff", "message": 'Back-off pulling image "web-app:2.0"'})
    (problem,) = app_status.rollout_diagnosis(_deployment(ready=0), [pod], [])["problems"]
    assert problem.startswith("ImagePullBackOff: image web-app:2.0 cannot be pulled (Back-off pulling image")
    assert "app_image_pull_policy: Never" in problem


def test_crash_loop_reports_exit_code_and_restarts():
    pod = _pod("webapp-1", "worker1", waiting={"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"},
               restarts=3, last={"exitCode": 1, "reason": "Error"})
    (problem,) = app_status.rollout_diagnosis(_deployment(ready=0), [pod], [])["problems"]
    assert "CrashLoopBackOff" in problem and "exit code 1, Error, 3 restarts" in problem and "worker1" in problem


def test_a_failing_readiness_probe_is_quoted_from_the_events():
    pod = _pod("webapp-1", "worker1", running=True)
    events = [_event("webapp-1", "Unhealthy", 'Readiness probe failed: Get "http://10.244.1.7:5000/health": dial tcp 10.244.1.7:5000: '
                                              'connect: connection refused'),
              _event("other", "Unhealthy", "Readiness probe failed: not this pod")]
    (problem,) = app_status.rollout_diagnosis(_deployment(ready=1, available=1, updated=1), [pod], events)["problems"]
    assert "readiness probe failing: Readiness probe failed: Get \"http://10.244.1.7:5000/health\"" in problem
    assert "not this pod" not in problem


def test_liveness_restarts_win_over_a_crash_loop():
    pod = _pod("webapp-1", "worker1", waiting={"reason": "CrashLoopBackOff"}, restarts=2, last={"exitCode": 137, "reason": "Error"})
    events = [_event("webapp-1", "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"),
              _event("webapp-1", "Killing", "Container webapp failed liveness probe, will be restarted", kind="Normal")]
    (problem,) = app_status.rollout_diagnosis(_deployment(ready=0), [pod], events)["problems"]
    assert problem.startswith("liveness probe failed, the kubelet restarts the container (2 restarts")


def test_unschedulable_pods_quote_the_scheduler():
    pod = {"metadata": {"name": "webapp-1"}, "spec": {}, "status": {"phase": "Pending"}}
    message = "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu."
    (problem,) = app_status.rollout_diagnosis(_deployment(ready=0), [pod], [_event("webapp-1", "FailedScheduling", message)])["problems"]
    assert problem == "FailedScheduling: %s (1 pod)" % message


def test_progress_deadline_is_reported():
    condition = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                 "message": 'ReplicaSet "webapp-deployment-5d4f" has timed out progressing.'}
    result = app_status.rollout_diagnosis(_deployment(ready=1, conditions=[condition]), [], [])
    assert result["problems"] == ['the Deployment exceeded its progress deadline: ReplicaSet "webapp-deployment-5d4f" has timed out progressing.']


def _service(name, kind, ports=(), **spec):
    body = {"type": kind, "clusterIP": spec.pop("cluster_ip", "10.96.0.50"), "ports": list(ports)}
    body.update(spec)
    return {"metadata": {"name": name, "namespace": "default"}, "spec": body, "status": {"loadBalancer": {}}}


NODES = [
    {"metadata": {"name": "worker2"},
     "status": {"addresses": [{"type": "InternalIP", "address": "192.168.1.12"}, {"type": "Hostname", "address": "worker2"}]}},
    {"metadata": {"name": "worker1"},
     "status": {"addresses": [{"type": "Hostname", "address": "worker1"}, {"type": "InternalIP", "address": "192.168.1.11"}]}},
]


def test_the_report_lists_pods_per_node_endpoints_and_urls():
    pods = [_pod("webapp-b", "worker2", running=True, ready=True, ip="10.244.2.4"), _pod("webapp-a", "worker1", running=True, ip="10.244.1.3")]
    services = [_service("webservice-nodeport", "NodePort", [{"port": 80, "targetPort": 5000, "nodePort": 31234}]),
                _service("webservice-lb", "LoadBalancer", [{"port": 80, "targetPort": 5000, "nodePort": 30555}]),
                _service("db1", "ExternalName", externalName="mysql01.database.test.com", cluster_ip=None),
                _service("webservice-external", "ClusterIP", [{"port": 80, "targetPort": 5000}], externalIPs=["192.0.2.10"])]
    endpoints = [{"metadata": {"name": "webservice-nodeport"},
                  "subsets": [{"addresses": [{"ip": "10.244.2.4"}], "notReadyAddresses": [{"ip": "10.244.1.3"}], "ports": [{"port": 5000}]}]}]
    report = app_status.summary(_deployment(ready=1), pods, services, endpoints, NODES)
    text = "\n".join(report["lines"])
    assert report["lines"][0] == "Deployment webapp-deployment: 1/2 ready, image web-app:2.0"
    assert "  worker1: webapp-a (Running, 10.244.1.3)" in report["lines"]
    assert "  worker2: webapp-b (Ready, 10.244.2.4)" in report["lines"]
    assert "webservice-nodeport NodePort 10.96.0.50 port 80->5000 -> endpoints 10.244.2.4:5000 (not ready: 10.244.1.3:5000)" in text
    assert "from outside the cluster: http://192.168.1.11:31234/ http://192.168.1.12:31234/" in text
    assert "load balancer: <pending>" in text
    assert "db1 ExternalName: DNS CNAME db1.default.svc -> mysql01.database.test.com" in text
    assert "external IP: http://192.0.2.10:80/" in text
    assert [item["url"] for item in report["urls"]] == [
        "http://192.168.1.11:30555/", "http://192.168.1.12:30555/", "http://192.168.1.11:31234/", "http://192.168.1.12:31234/",
        "http://192.0.2.10:80/"]
    assert report["pods_per_node"] == {"worker1": ["webapp-a"], "worker2": ["webapp-b"]}


def test_the_report_marks_terminating_pods():
    gone = _pod("webapp-old", "worker1", running=True, ready=True)
    gone["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:00Z"
    report = app_status.summary(_deployment(), [gone], [], [], NODES)
    assert "  worker1: webapp-old (Terminating, 10.244.1.7)" in report["lines"]


def test_pod_rows_leave_out_terminating_pods():
    gone = _pod("webapp-old", "worker1", running=True, ready=True)
    gone["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:00Z"
    rows = app_status.pod_rows([gone, _pod("webapp-new", "worker2", running=True, ready=True, ip="10.244.2.9")])
    assert rows == [{"name": "webapp-new", "node": "worker2", "phase": "Running", "ready": True, "ip": "10.244.2.9"}]


def _loop_module():
    spec = importlib.util.spec_from_file_location("request_loop", LOOP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_request_loop_counts_every_answer_that_is_not_200(tmp_path):
    loop = _loop_module()
    answers = iter(["200", "200", "503", "error:ConnectionRefusedError", "200"])
    ticks = iter(range(100))
    stop = tmp_path / "stop"

    def request(url, timeout):
        outcome = next(answers)
        if outcome == "200" and not stop.exists() and request.calls == 4:
            stop.write_text("")
        request.calls += 1
        return outcome
    request.calls = 0
    counts = loop.run("http://192.0.2.1:30080/", str(stop), 60, 0, 2, clock=lambda: float(next(ticks)), sleep=lambda _: None, request=request)
    assert counts["requests"] == 5 and counts["failed"] == 2
    assert counts["codes"] == {"200": 3, "503": 1, "error:ConnectionRefusedError": 1}
    assert counts["stopped_by"] == "stop file" and len(counts["samples"]) == 2


def test_the_request_loop_stops_at_its_time_limit(tmp_path):
    loop = _loop_module()
    ticks = iter(range(100))
    counts = loop.run("http://x/", str(tmp_path / "never"), 3, 0, 2, clock=lambda: float(next(ticks)), sleep=lambda _: None,
                      request=lambda url, timeout: "200")
    assert counts["stopped_by"] == "time limit" and counts["failed"] == 0 and counts["requests"] >= 1
