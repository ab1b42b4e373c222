"""Unit tests of the Kubernetes API-server TEST DOUBLE (tests/doubles/apiserver/apiserver.py).

The double runs as a subprocess (time scale 0.02, node images listed by `cat` from tmp_path, two nodes:
node1 and a tainted control-plane node cp1) and is driven with the kubernetes client's
DynamicClient, the client kubernetes.core uses; one test runs kubernetes.core.k8s through
ansible-playbook.  Every test works in its own namespace.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest
from kubernetes import config as k8s_config
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic import exceptions as k8s_exc

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import deployment_ready

REPO = pathlib.Path(__file__).resolve().parents[3]
DOUBLE = REPO / "tests" / "doubles" / "apiserver" / "apiserver.py"
PRESENT = "docker.io/library/web-app:1.0"


class Double:
    def __init__(self, base, proc, kubeconfig, images):
        self.base, self.proc, self.kubeconfig, self.images = base, proc, kubeconfig, images
        self.api = k8s_config.new_client_from_config(str(kubeconfig))
        self.client = DynamicClient(self.api)
        self.server = self.api.configuration.host
        self.token = "Bearer " + re.search(r"token: (\S+)", kubeconfig.read_text()).group(1)

    def res(self, kind, api_version="v1"):
        return self.client.resources.get(api_version=api_version, kind=kind)

    def raw(self, path, token=True, method="GET", body=None, ctype="application/json"):
        req = urllib.request.Request(self.server + path, method=method, data=None if body is None else json.dumps(body).encode())
        if token:
            req.add_header("Authorization", self.token)
        req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def set_images(self, node1):
        tmp = self.images.with_suffix(".tmp")
        tmp.write_text("\n".join(node1) + "\n")
        os.replace(str(tmp), str(self.images))


@pytest.fixture(scope="module")
def double(tmp_path_factory):
    base = tmp_path_factory.mktemp("apiserver-double")
    images = base / "images-node1"
    images.write_text(PRESENT + "\ndocker.io/library/web-app:2.0\n")
    (base / "images-cp1").write_text("")
    kubeconfig = base / "kubeconfig.yaml"
    logfile = open(str(base / "double.log"), "w")
    proc = subprocess.Popen([sys.executable, str(DOUBLE), "--listen", "127.0.0.1:0", "--kubeconfig", str(kubeconfig),
                             "--nodes", "node1=127.0.0.1,cp1=127.0.0.2:control-plane", "--images-command", "cat %s/images-{node}" % base,
                             "--time-scale", "0.02"], stdout=logfile, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 15
        while not kubeconfig.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert kubeconfig.exists(), (base / "double.log").read_text()
        yield Double(base, proc, kubeconfig, images)
    finally:
        proc.terminate()
        proc.wait(10)
        logfile.close()


@pytest.fixture
def ns(double):
    name = "t-" + uuid.uuid4().hex[:8]
    double.res("Namespace").create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def wait_for(func, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = func()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def error_body(exc):
    return json.loads(exc.body)


def deployment(name, replicas=1, image="web-app:1.0", labels=None, containers=None, **spec):
    labels = labels or {"app": name}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": containers or [{"name": "web", "image": image, "ports": [{"name": "http", "containerPort": 8080}]}]}}}}
    body["spec"].update(spec)
    return body


def service(name, selector=None, **spec):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": selector or {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}
    body["spec"].update(spec)
    return body


def get(double, kind, ns, name, api_version="v1"):
    return double.res(kind, api_version).get(name=name, namespace=ns).to_dict()


def rollout_done(double, ns, name):
    """kubernetes.core's deployment_ready, plus every pod from the newest template (deployment_ready alone can be
    true for a moment while a Recreate rollout scales the old ReplicaSet down, on the real server too)."""
    dep = double.res("Deployment", "apps/v1").get(name=name, namespace=ns)
    data = dep.to_dict()
    conds = {c["type"]: c for c in data.get("status", {}).get("conditions", [])}
    updated = data.get("status", {}).get("updatedReplicas", 0) == data["spec"]["replicas"]
    return dep if conds.get("Progressing", {}).get("reason") == "NewReplicaSetAvailable" and updated and deployment_ready(dep) else None


def pods_of(double, ns, selector):
    return [p.to_dict() for p in double.res("Pod").get(namespace=ns, label_selector=selector).items]


def events_of(double, ns, name):
    evs = double.res("Event").get(namespace=ns).items
    return [(e.type, e.reason, e.message) for e in evs if e.involvedObject.name == name and e.involvedObject.kind == "Pod"]


# ---------------------------------------------------------------------------------------------

def test_discovery(double):
    assert double.client.version["kubernetes"]["gitVersion"].startswith("v1.")
    dep = double.res("Deployment", "apps/v1")
    assert dep.namespaced and dep.short_names == ["deploy"] and "patch" in dep.verbs
    code, text = double.raw("/api/v1")
    entries = {r["name"]: r for r in json.loads(text)["resources"]}
    assert entries["pods"]["shortNames"] == ["po"] and entries["pods"]["namespaced"] is True
    assert entries["nodes"]["namespaced"] is False
    assert entries["services"]["kind"] == "Service" and entries["endpoints"]["shortNames"] == ["ep"]
    code, text = double.raw("/apis/apps/v1")
    entries = {r["name"]: r for r in json.loads(text)["resources"]}
    assert entries["deployments"]["kind"] == "Deployment" and "deployments/status" not in entries
    assert entries["replicasets"]["shortNames"] == ["rs"]
    assert json.loads(double.raw("/apis")[1])["groups"][0]["preferredVersion"]["groupVersion"] == "apps/v1"
    assert double.raw("/openapi/v2")[0] == 404
    assert double.raw("/healthz", token=False) == (200, "ok")
    code, text = double.raw("/api/v1/namespaces", token=False)
    assert code == 401 and json.loads(text)["reason"] == "Unauthorized"
    nodes = {n.metadata.name: n for n in double.res("Node").get().items}
    assert nodes["cp1"].spec.taints[0].key == "node-role.kubernetes.io/control-plane"
    assert nodes["node1"].status.addresses[0].address == "127.0.0.1"
    assert [c.status for c in nodes["node1"].status.conditions if c.type == "Ready"] == ["True"]


def test_create_get_list_and_selectors(double, ns):
    cms = double.res("ConfigMap")
    for name, labels in (("a", {"app": "web", "tier": "fe"}), ("b", {"app": "web", "tier": "be"}), ("c", {"app": "db"})):
        created = cms.create(namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels},
                                                 "data": {"k": name}})
        assert created.metadata.uid and created.metadata.resourceVersion and created.metadata.creationTimestamp
    assert get(double, "ConfigMap", ns, "a")["data"] == {"k": "a"}

    def names(**kw):
        return sorted(i.metadata.name for i in cms.get(namespace=ns, **kw).items)
    assert names() == ["a", "b", "c"]
    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app==web,tier!=fe") == ["b"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    for refused in ({"label_selector": "tier in (fe,be)"}, {"field_selector": "metadata.name=b"}):
        with pytest.raises(k8s_exc.BadRequestError) as err:
            cms.get(namespace=ns, **refused)
        assert error_body(err.value)["message"].endswith("not imitated by the API-server test double")
    with pytest.raises(k8s_exc.NotFoundError) as err:
        cms.get(namespace=ns, name="zzz")
    assert error_body(err.value)["message"] == 'configmaps "zzz" not found'
    with pytest.raises(k8s_exc.ConflictError) as err:
        cms.create(namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert error_body(err.value)["reason"] == "AlreadyExists" and error_body(err.value)["message"] == 'configmaps "a" already exists'
    with pytest.raises(k8s_exc.NotFoundError) as err:
        cms.create(namespace="nope", body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
    assert error_body(err.value)["message"] == 'namespaces "nope" not found'


def test_replace_conflict_and_unknown_patch_type(double, ns):
    cms = double.res("ConfigMap")
    first = cms.create(namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "1"}}).to_dict()
    second = cms.replace(namespace=ns, body=dict(first, data={"a": "2"})).to_dict()
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(k8s_exc.ConflictError) as err:
        cms.replace(namespace=ns, body=dict(first, data={"a": "3"}))
    body = error_body(err.value)
    assert body["reason"] == "Conflict" and "the object has been modified" in body["message"]
    with pytest.raises(k8s_exc.DynamicApiError) as err:
        cms.patch(namespace=ns, name="x", body={"data": {"a": "4"}}, content_type="application/yaml")
    assert err.value.status == 415 and error_body(err.value)["reason"] == "UnsupportedMediaType"


def test_strategic_merge_json_merge_and_json_patch(double, ns):
    deps = double.res("Deployment", "apps/v1")
    two = [{"name": "web", "image": "web-app:1.0", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
           {"name": "side", "image": "web-app:1.0"}]
    deps.create(namespace=ns, body=deployment("smp", containers=two))
    out = deps.patch(namespace=ns, name="smp", body={"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "web-app:2.0", "env": [{"name": "B", "value": "3"}]}]}}}},
        content_type="application/strategic-merge-patch+json").to_dict()
    ctrs = out["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in ctrs] == ["web", "side"]
    assert ctrs[0]["image"] == "web-app:2.0" and ctrs[0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    assert ctrs[0]["imagePullPolicy"] == "IfNotPresent"
    with pytest.raises(k8s_exc.BadRequestError):
        deps.patch(namespace=ns, name="smp", body={"spec": {"template": {"spec": {"containers": [
            {"name": "side", "$patch": "delete"}]}}}})
    out = deps.patch(namespace=ns, name="smp", body={"metadata": {"labels": {"x": "y"}}}, content_type="application/merge-patch+json").to_dict()
    assert out["metadata"]["labels"] == {"x": "y"}
    out = deps.patch(namespace=ns, name="smp", body=[{"op": "replace", "path": "/spec/replicas", "value": 0},
                                                     {"op": "add", "path": "/metadata/labels/z", "value": "w"}],
                     content_type="application/json-patch+json").to_dict()
    assert out["spec"]["replicas"] == 0 and out["metadata"]["labels"] == {"x": "y", "z": "w"}
    with pytest.raises(k8s_exc.DynamicApiError) as err:
        deps.patch(namespace=ns, name="smp", body=[{"op": "test", "path": "/spec/replicas", "value": 5}], content_type="application/json-patch+json")
    assert err.value.status == 422


def test_noop_patch_keeps_resource_version_and_generation(double, ns):
    deps = double.res("Deployment", "apps/v1")
    body = deployment("noop", replicas=0)
    deps.create(namespace=ns, body=body)
    wait_for(lambda: get(double, "Deployment", ns, "noop", "apps/v1").get("status", {}).get("observedGeneration") == 1, what="observed")
    before = get(double, "Deployment", ns, "noop", "apps/v1")
    after = deps.patch(namespace=ns, name="noop", body=body).to_dict()
    assert after == before
    after = deps.patch(namespace=ns, name="noop", body=body, content_type="application/merge-patch+json").to_dict()
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    labelled = deps.patch(namespace=ns, name="noop", body={"metadata": {"labels": {"v": "2"}}}).to_dict()
    assert labelled["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    assert labelled["metadata"]["generation"] == 1
    respec = deps.patch(namespace=ns, name="noop", body={"spec": {"replicas": 0, "minReadySeconds": 1}}).to_dict()
    assert respec["metadata"]["generation"] == 2
    spec = before["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert spec["revisionHistoryLimit"] == 10 and spec["progressDeadlineSeconds"] == 600
    pod = spec["template"]["spec"]
    assert (pod["restartPolicy"], pod["dnsPolicy"], pod["schedulerName"], pod["terminationGracePeriodSeconds"], pod["securityContext"]) == (
        "Always", "ClusterFirst", "default-scheduler", 30, {})
    ctr = pod["containers"][0]
    assert ctr["terminationMessagePath"] == "/dev/termination-log" and ctr["terminationMessagePolicy"] == "File"
    assert ctr["ports"][0]["protocol"] == "TCP" and ctr["imagePullPolicy"] == "IfNotPresent"


def test_dry_run_stores_nothing(double, ns):
    deps, svcs = double.res("Deployment", "apps/v1"), double.res("Service")
    out = deps.create(namespace=ns, body=deployment("dry", image="web-app"), dry_run="All").to_dict()
    assert out["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    with pytest.raises(k8s_exc.NotFoundError):
        deps.get(namespace=ns, name="dry")
    with pytest.raises(k8s_exc.UnprocessibleEntityError):
        deps.create(namespace=ns, body=deployment("dry", containers=[{"name": "web"}]), dry_run="All")
    dry = svcs.create(namespace=ns, body=service("dry", type="NodePort"), dry_run="All").to_dict()
    assert dry["spec"]["clusterIP"] and dry["spec"]["ports"][0]["nodePort"]
    real = svcs.create(namespace=ns, body=service("real", type="NodePort", clusterIP=dry["spec"]["clusterIP"],
                                                  ports=[{"port": 80, "nodePort": dry["spec"]["ports"][0]["nodePort"]}])).to_dict()
    assert real["spec"]["clusterIP"] == dry["spec"]["clusterIP"]
    deps.create(namespace=ns, body=deployment("kept", replicas=0))
    before = get(double, "Deployment", ns, "kept", "apps/v1")
    deps.patch(namespace=ns, name="kept", body={"spec": {"replicas": 3}}, dry_run="All")
    deps.delete(namespace=ns, name="kept", dry_run="All")
    assert get(double, "Deployment", ns, "kept", "apps/v1")["spec"]["replicas"] == 0
    assert get(double, "Deployment", ns, "kept", "apps/v1")["metadata"]["uid"] == before["metadata"]["uid"]


def test_what_the_double_refuses(double, ns):
    """Of the API's field validation only what the controllers need is checked; the rest is not imitated."""
    deps = double.res("Deployment", "apps/v1")
    for body, message in (
            (dict(deployment("nosel"), spec=dict(deployment("nosel")["spec"], selector=None)),
             'Deployment.apps "nosel" is invalid: spec.selector: Required value'),
            (deployment("noimage", containers=[{"name": "web"}]),
             'Deployment.apps "noimage" is invalid: spec.template.spec.containers[0].image: Required value')):
        with pytest.raises(k8s_exc.UnprocessibleEntityError) as err:
            deps.create(namespace=ns, body=body)
        status = error_body(err.value)
        assert status["code"] == 422 and status["reason"] == "Invalid" and status["message"] == message
        assert status["details"]["causes"][0]["field"] in message
    init = deployment("init", containers=[{"name": "web", "image": "web-app:1.0"}])
    init["spec"]["template"]["spec"]["initContainers"] = [{"name": "setup", "image": "web-app:1.0"}]
    with pytest.raises(k8s_exc.BadRequestError) as err:
        deps.create(namespace=ns, body=init)
    assert "not imitated" in error_body(err.value)["message"]
    with pytest.raises(k8s_exc.BadRequestError):
        double.res("Namespace").delete(name=ns)
    assert deps.get(namespace=ns).items == []


def test_deployment_rollout_pods_and_events(double, ns):
    deps = double.res("Deployment", "apps/v1")
    deps.create(namespace=ns, body=deployment("web", replicas=2))
    dep = wait_for(lambda: rollout_done(double, ns, "web"), what="rollout").to_dict()
    status = dep["status"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"], status["availableReplicas"]) == (2, 2, 2, 2)
    assert "unavailableReplicas" not in status and status["observedGeneration"] == dep["metadata"]["generation"] == 1
    conds = {c["type"]: c for c in status["conditions"]}
    assert conds["Available"]["status"] == "True" and conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    rss = double.res("ReplicaSet", "apps/v1").get(namespace=ns).items
    assert len(rss) == 1
    rs = rss[0].to_dict()
    phash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == "web-" + phash and rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": phash}
    assert rs["metadata"]["ownerReferences"][0]["uid"] == dep["metadata"]["uid"] and rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pods = pods_of(double, ns, "app=web")
    assert len(pods) == 2
    for pod in pods:
        assert pod["metadata"]["name"].startswith(rs["metadata"]["name"] + "-") and pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["spec"]["nodeName"] == "node1" and pod["status"]["phase"] == "Running"
        assert pod["status"]["hostIP"] == "127.0.0.1" and pod["status"]["podIP"].startswith("10.244.0.")
        assert pod["status"]["containerStatuses"][0]["ready"] is True and pod["status"]["containerStatuses"][0]["image"] == PRESENT
        reasons = [e[1] for e in events_of(double, ns, pod["metadata"]["name"])]
        assert reasons[:4] == ["Scheduled", "Pulled", "Created", "Started"]
        assert ("Normal", "Pulled", 'Container image "web-app:1.0" already present on machine') in events_of(double, ns, pod["metadata"]["name"])
    rerun = deps.patch(namespace=ns, name="web", body=deployment("web", replicas=2)).to_dict()
    assert rerun["metadata"]["resourceVersion"] == dep["metadata"]["resourceVersion"]


def test_rolling_update_max_unavailable_zero(double, ns):
    deps = double.res("Deployment", "apps/v1")
    probe = {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 10}
    ctr = {"name": "web", "image": "web-app:1.0", "readinessProbe": probe}
    body = deployment("ru", replicas=3, containers=[ctr], strategy={"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    deps.create(namespace=ns, body=body)
    wait_for(lambda: rollout_done(double, ns, "ru"), what="first rollout")
    assert get(double, "Deployment", ns, "ru", "apps/v1")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["timeoutSeconds"] == 1
    deps.patch(namespace=ns, name="ru", body={"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web-app:2.0"}]}}}})
    lowest, most = 99, 0
    deadline = time.time() + 20
    while time.time() < deadline:
        pods = pods_of(double, ns, "app=ru")
        ready = [p for p in pods if all(c["ready"] for c in p["status"].get("containerStatuses") or [{"ready": False}])]
        lowest, most = min(lowest, len(ready)), max(most, len([p for p in pods if not p["metadata"].get("deletionTimestamp")]))
        if rollout_done(double, ns, "ru") and get(double, "Deployment", ns, "ru", "apps/v1")["metadata"]["generation"] == 2:
            break
        time.sleep(0.02)
    assert lowest >= 3 and most <= 4
    dep = wait_for(lambda: rollout_done(double, ns, "ru"), what="second rollout").to_dict()
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    rss = {r.metadata.annotations["deployment.kubernetes.io/revision"]: r for r in double.res("ReplicaSet", "apps/v1").get(namespace=ns).items}
    assert rss["1"].spec.replicas == 0 and rss["2"].spec.replicas == 3
    assert rss["1"].metadata.labels["pod-template-hash"] != rss["2"].metadata.labels["pod-template-hash"]
    images = {p["spec"]["containers"][0]["image"] for p in wait_for(lambda: len(pods_of(double, ns, "app=ru")) == 3 and pods_of(double, ns, "app=ru"))}
    assert images == {"web-app:2.0"}


def test_recreate_and_revision_history(double, ns):
    deps = double.res("Deployment", "apps/v1")
    deps.create(namespace=ns, body=deployment("rc", replicas=2, strategy={"type": "Recreate"}, revisionHistoryLimit=1))
    wait_for(lambda: rollout_done(double, ns, "rc"), what="rollout")
    for image in ("web-app:2.0", "web-app:1.0", "web-app:2.0"):
        dep = deps.patch(namespace=ns, name="rc", body={"spec": {"template": {"spec": {"containers": [{"name": "web", "image": image}]}}}}).to_dict()
        wait_for(lambda: (rollout_done(double, ns, "rc") or {}).get("status", {}).get("observedGeneration") == dep["metadata"]["generation"], what=image)
    rss = double.res("ReplicaSet", "apps/v1").get(namespace=ns).items
    assert len(rss) == 2 and sorted(r.spec.replicas for r in rss) == [0, 2]
    assert get(double, "Deployment", ns, "rc", "apps/v1")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"


def test_err_image_never_pull_until_image_loaded(double, ns):
    deps = double.res("Deployment", "apps/v1")
    ctr = {"name": "web", "image": "web-app:9.9", "imagePullPolicy": "Never"}
    deps.create(namespace=ns, body=deployment("never", containers=[ctr]))

    def waiting():
        pods = pods_of(double, ns, "app=never")
        st = pods and pods[0]["status"].get("containerStatuses")
        return st and st[0]["state"].get("waiting", {}).get("reason") == "ErrImageNeverPull" and pods[0]
    pod = wait_for(waiting, what="ErrImageNeverPull")
    msg = 'Container image "web-app:9.9" is not present with pull policy of Never'
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] == msg and pod["status"]["phase"] == "Pending"
    assert ("Warning", "ErrImageNeverPull", msg) in events_of(double, ns, pod["metadata"]["name"])
    time.sleep(0.3)
    assert not deployment_ready(double.res("Deployment", "apps/v1").get(namespace=ns, name="never"))
    double.set_images([PRESENT, "docker.io/library/web-app:2.0", "docker.io/library/web-app:9.9"])
    try:
        wait_for(lambda: rollout_done(double, ns, "never"), what="start after load")
    finally:
        double.set_images([PRESENT, "docker.io/library/web-app:2.0"])


def test_err_image_pull_then_backoff(double, ns):
    double.res("Deployment", "apps/v1").create(namespace=ns, body=deployment("pull", image="web-app:7.0", progressDeadlineSeconds=30))

    def reason():
        pods = pods_of(double, ns, "app=pull")
        st = pods and pods[0]["status"].get("containerStatuses")
        return st and st[0]["state"].get("waiting", {}).get("reason")
    wait_for(lambda: reason() in ("ErrImagePull", "ImagePullBackOff"), what="ErrImagePull")
    wait_for(lambda: reason() == "ImagePullBackOff", what="ImagePullBackOff")
    pod = pods_of(double, ns, "app=pull")[0]
    assert ("Warning", "Failed", "Error: ErrImagePull") in events_of(double, ns, pod["metadata"]["name"])

    def progressing():
        conds = get(double, "Deployment", ns, "pull", "apps/v1").get("status", {}).get("conditions", [])
        return [c for c in conds if c["type"] == "Progressing" and c["reason"] == "ProgressDeadlineExceeded"]
    cond = wait_for(progressing, what="ProgressDeadlineExceeded")[0]
    assert cond["status"] == "False" and cond["message"] == 'ReplicaSet "%s" has timed out progressing.' % pod["metadata"]["ownerReferences"][0]["name"]
    assert get(double, "Deployment", ns, "pull", "apps/v1")["status"]["unavailableReplicas"] == 1


def test_unschedulable_when_only_tainted_node_fits(double, ns):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cp-only"},
            "spec": {"nodeSelector": {"kubernetes.io/hostname": "cp1"}, "containers": [{"name": "web", "image": "web-app:1.0"}]}}
    pod = double.res("Pod").create(namespace=ns, body=body).to_dict()
    assert pod["status"]["phase"] == "Pending" and pod["spec"]["serviceAccountName"] == "default"
    evs = wait_for(lambda: [e for e in events_of(double, ns, "cp-only") if e[1] == "FailedScheduling"], what="FailedScheduling")
    assert evs[0][0] == "Warning" and "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" in evs[0][2]
    assert "1 node(s) didn't match Pod's node affinity/selector" in evs[0][2] and evs[0][2].startswith("0/2 nodes are available: ")
    double.res("Pod").delete(namespace=ns, name="cp-only")
    with pytest.raises(k8s_exc.NotFoundError):
        double.res("Pod").get(namespace=ns, name="cp-only")


def test_pod_deletion_is_replaced_and_scale(double, ns):
    deps = double.res("Deployment", "apps/v1")
    deps.create(namespace=ns, body=deployment("heal", replicas=1))
    wait_for(lambda: rollout_done(double, ns, "heal"), what="rollout")
    victim = pods_of(double, ns, "app=heal")[0]["metadata"]["name"]
    deleted = double.res("Pod").delete(namespace=ns, name=victim).to_dict()
    assert deleted["metadata"]["deletionTimestamp"] and deleted["metadata"]["deletionGracePeriodSeconds"] == 30
    fresh = wait_for(lambda: [p for p in pods_of(double, ns, "app=heal") if p["metadata"]["name"] != victim
                              and p["status"].get("phase") == "Running"], what="replacement")
    assert len(fresh) == 1
    wait_for(lambda: victim not in [p["metadata"]["name"] for p in pods_of(double, ns, "app=heal")], what="graceful removal")
    deps.patch(namespace=ns, name="heal", body={"spec": {"replicas": 2}})
    wait_for(lambda: (rollout_done(double, ns, "heal") or {}).get("status", {}).get("readyReplicas") == 2, what="scale to 2")
    deps.patch(namespace=ns, name="heal", body={"spec": {"replicas": 1}}, content_type="application/merge-patch+json")
    wait_for(lambda: len([p for p in pods_of(double, ns, "app=heal") if not p["metadata"].get("deletionTimestamp")]) == 1, what="scale to 1")
    wait_for(lambda: (rollout_done(double, ns, "heal") or {}).get("status", {}).get("replicas") == 1, what="status 1")
    deps.delete(namespace=ns, name="heal")
    wait_for(lambda: not double.res("ReplicaSet", "apps/v1").get(namespace=ns).items and not pods_of(double, ns, "app=heal"), what="cascade")


def test_service_defaults_allocation_and_kept_values(double, ns):
    svcs = double.res("Service")
    out = svcs.create(namespace=ns, body=service("web")).to_dict()
    spec = out["spec"]
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None" and spec["internalTrafficPolicy"] == "Cluster"
    assert spec["ports"] == [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]
    assert spec["clusterIPs"] == [spec["clusterIP"]] and spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["clusterIP"].startswith("10.") and spec["clusterIP"] != "10.96.0.1"
    assert get(double, "Service", "default", "kubernetes")["spec"]["clusterIP"] == "10.96.0.1"
    same = svcs.patch(namespace=ns, name="web", body=service("web")).to_dict()
    assert same == out
    np = svcs.create(namespace=ns, body=service("np", type="NodePort")).to_dict()
    port = np["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767 and np["spec"]["externalTrafficPolicy"] == "Cluster"
    moved = svcs.patch(namespace=ns, name="np", body={"spec": {"clusterIP": None, "ports": [{"port": 80, "targetPort": 8080}]}},
                       content_type="application/merge-patch+json").to_dict()
    assert moved["spec"]["clusterIP"] == np["spec"]["clusterIP"] and moved["spec"]["ports"][0]["nodePort"] == port
    replaced = svcs.replace(namespace=ns, body=service("np", type="NodePort")).to_dict()
    assert replaced["spec"]["clusterIP"] == np["spec"]["clusterIP"] and replaced["spec"]["ports"][0]["nodePort"] == port
    lb = svcs.create(namespace=ns, body=service("lb", type="LoadBalancer")).to_dict()
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True and lb["spec"]["ports"][0]["nodePort"]
    time.sleep(0.3)
    assert get(double, "Service", ns, "lb")["status"] == {"loadBalancer": {}}
    ext = svcs.create(namespace=ns, body={"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                                          "spec": {"type": "ExternalName", "externalName": "db.example.com"}}).to_dict()
    assert "clusterIP" not in ext["spec"] and ext["spec"]["externalName"] == "db.example.com"
    time.sleep(0.3)
    with pytest.raises(k8s_exc.NotFoundError):
        double.res("Endpoints").get(namespace=ns, name="ext")


def test_endpoints_readiness_and_named_target_port(double, ns):
    ctr = {"name": "web", "image": "web-app:1.0", "ports": [{"name": "http", "containerPort": 8080}],
           "readinessProbe": {"tcpSocket": {"port": 8080}, "initialDelaySeconds": 60}}
    double.res("Deployment", "apps/v1").create(namespace=ns, body=deployment("ep", replicas=2, containers=[ctr]))
    double.res("Service").create(namespace=ns, body=service("ep", ports=[{"name": "web", "port": 80, "targetPort": "http"}]))

    def subsets():
        try:
            return (get(double, "Endpoints", ns, "ep").get("subsets") or [{}])[0]
        except k8s_exc.NotFoundError:  # the controller creates it on its next tick
            return {}
    early = wait_for(lambda: len(subsets().get("notReadyAddresses") or []) == 2 and subsets(), what="not-ready addresses")
    assert "addresses" not in early and early["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    ready = wait_for(lambda: len(subsets().get("addresses") or []) == 2 and subsets(), what="ready addresses")
    assert "notReadyAddresses" not in ready and ready["addresses"][0]["targetRef"]["kind"] == "Pod"
    assert ready["addresses"][0]["nodeName"] == "node1"


def test_node_port_traffic(double, ns):
    double.res("Deployment", "apps/v1").create(namespace=ns, body=deployment("tr", replicas=2))
    port = double.res("Service").create(namespace=ns, body=service("tr", type="NodePort")).to_dict()["spec"]["ports"][0]["nodePort"]
    empty = double.res("Service").create(namespace=ns, body=service("none", selector={"app": "nothing"}, type="NodePort")).to_dict()
    wait_for(lambda: rollout_done(double, ns, "tr"), what="rollout")

    def fetch(p):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % p, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return None
    wait_for(lambda: fetch(port), what="listener")
    answers = [fetch(port) for _i in range(4)]
    assert {a[0] for a in answers} == {200}
    names = {a[1].split()[1] for a in answers}
    assert len(names) == 2 and all(re.match(r"^double: tr-\S+ web-app:1\.0\n$", a[1]) for a in answers)
    assert wait_for(lambda: fetch(empty["spec"]["ports"][0]["nodePort"]), what="empty listener")[0] == 503


def test_background_mode_and_pid_file(tmp_path):
    kubeconfig, pid_file, log_file = tmp_path / "kc.yaml", tmp_path / "pid", tmp_path / "log"
    done = subprocess.run([sys.executable, str(DOUBLE), "--listen", "127.0.0.1:0", "--kubeconfig", str(kubeconfig), "--background",
                           "--pid-file", str(pid_file), "--log-file", str(log_file), "--time-scale", "0.02",
                           "--images-command", "sh -c 'echo web-app:1.0; echo sha256:0123; echo {node} >> %s'" % (tmp_path / "asked")],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    pid = int(pid_file.read_text())
    try:
        server = re.search(r"server: (\S+)", kubeconfig.read_text()).group(1)
        with urllib.request.urlopen(server + "/healthz", timeout=5) as resp:
            assert resp.read() == b"ok"
        client = DynamicClient(k8s_config.new_client_from_config(str(kubeconfig)))
        assert [n.metadata.name for n in client.resources.get(api_version="v1", kind="Node").get().items] == ["node1"]
        deps = client.resources.get(api_version="apps/v1", kind="Deployment")
        deps.create(namespace="default", body=deployment("loaded"))
        deps.create(namespace="default", body=deployment("missing", image="web-app:3.0"))
        pods = client.resources.get(api_version="v1", kind="Pod")

        def state(app):
            items = pods.get(namespace="default", label_selector="app=" + app).items
            return items and items[0].status.containerStatuses and items[0].status.containerStatuses[0].state.to_dict()
        assert "running" in wait_for(lambda: state("loaded") if "running" in (state("loaded") or {}) else None, what="loaded image runs")
        assert wait_for(lambda: state("missing") if "waiting" in (state("missing") or {}) else None)["waiting"]["reason"] == "ErrImagePull"
        assert (tmp_path / "asked").read_text().split()[0] == "node1"
    finally:
        os.kill(pid, 15)
    wait_for(lambda: not pid_file.exists(), timeout=10, what="pid file removal")


PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{python}"
  tasks:
    - name: Deployment
      kubernetes.core.k8s:
        state: present
        wait: true
        wait_sleep: 1
        wait_timeout: 60
        definition: {deployment}
    - name: Service
      kubernetes.core.k8s:
        state: present
        definition: {service}
"""


def test_kubernetes_core_idempotence_and_check_mode(double, ns, tmp_path):
    def write(replicas):
        dep = deployment("e2e", replicas=replicas)
        dep["metadata"]["namespace"] = ns
        svc = service("e2e", type="NodePort")
        svc["metadata"]["namespace"] = ns
        path = tmp_path / ("play-%d.yml" % replicas)
        path.write_text(PLAYBOOK.format(python=sys.executable, deployment=json.dumps(dep), service=json.dumps(svc)))
        return path

    def run(path, *extra):
        env = dict(os.environ, K8S_AUTH_KUBECONFIG=str(double.kubeconfig), ANSIBLE_NOCOLOR="1")
        done = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(path)] + list(extra),
                              capture_output=True, text=True, env=env, timeout=120, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return int(re.search(r"localhost\s*:.*changed=(\d+)", done.stdout).group(1))

    play = write(2)
    assert run(play) == 2
    dep = get(double, "Deployment", ns, "e2e", "apps/v1")
    assert deployment_ready(double.res("Deployment", "apps/v1").get(namespace=ns, name="e2e"))
    svc = get(double, "Service", ns, "e2e")
    assert run(play) == 0
    assert get(double, "Service", ns, "e2e")["metadata"]["resourceVersion"] == svc["metadata"]["resourceVersion"]
    assert get(double, "Deployment", ns, "e2e", "apps/v1")["metadata"]["resourceVersion"] == dep["metadata"]["resourceVersion"]
    assert run(write(3), "--check") == 1
    after = get(double, "Deployment", ns, "e2e", "apps/v1")
    assert after["spec"]["replicas"] == 2 and after["metadata"]["resourceVersion"] == dep["metadata"]["resourceVersion"]


def _ready_pods(double, ns, selector, count):
    def ready():
        pods = pods_of(double, ns, selector)
        ok = [p for p in pods if any(c["type"] == "Ready" and c["status"] == "True" for c in (p.get("status") or {}).get("conditions") or [])]
        return pods if len(ok) == count else None
    return wait_for(ready, what="%d ready pods" % count)


def test_eviction_honours_the_pod_disruption_budget(double, ns):
    double.res("Deployment", "apps/v1").create(namespace=ns, body=deployment("guarded", replicas=2))
    pods = _ready_pods(double, ns, "app=guarded", 2)
    pdbs = double.res("PodDisruptionBudget", "policy/v1")
    pdbs.create(namespace=ns, body={"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "guarded"},
                                    "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "guarded"}}}})
    name = pods[0]["metadata"]["name"]
    path = "/api/v1/namespaces/%s/pods/%s/eviction" % (ns, name)
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": ns}}
    code, text = double.raw(path + "?dryRun=All", method="POST", body=body)
    status = json.loads(text)
    assert code == 429 and status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"][0]["message"] == "The disruption budget guarded needs 2 healthy pods and has 2 currently"
    pdbs.patch(namespace=ns, name="guarded", body={"spec": {"minAvailable": 1}})
    assert double.raw(path + "?dryRun=All", method="POST", body=body)[0] == 201
    assert name in [p["metadata"]["name"] for p in pods_of(double, ns, "app=guarded")], "a dry run evicts nothing"
    assert double.raw(path, method="POST", body=body)[0] == 201
    wait_for(lambda: name not in [p["metadata"]["name"] for p in pods_of(double, ns, "app=guarded")], what="the evicted pod gone")
    # A pod two budgets select: the eviction API refuses it.
    pdbs.create(namespace=ns, body={"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "second"},
                                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}})
    other = _ready_pods(double, ns, "app=guarded", 2)[0]["metadata"]["name"]
    code, text = double.raw("/api/v1/namespaces/%s/pods/%s/eviction?dryRun=All" % (ns, other), method="POST",
                            body=dict(body, metadata={"name": other, "namespace": ns}))
    assert code == 500 and "more than one PodDisruptionBudget" in json.loads(text)["message"]


def test_pods_listed_by_node(double, ns):
    double.res("Deployment", "apps/v1").create(namespace=ns, body=deployment("spread", replicas=1))
    _ready_pods(double, ns, "app=spread", 1)
    on_node1 = double.res("Pod").get(namespace=ns, field_selector="spec.nodeName=node1").to_dict()["items"]
    assert [p["spec"]["nodeName"] for p in on_node1] == ["node1"]
    assert double.res("Pod").get(namespace=ns, field_selector="spec.nodeName=cp1").to_dict()["items"] == []
    with pytest.raises(k8s_exc.BadRequestError):
        double.res("Pod").get(namespace=ns, field_selector="status.phase=Running")


def test_nodes_read_into_the_typed_client_model(double):
    """kubernetes.core.k8s_drain reads the Node with CoreV1Api.read_node, into typed models that require every
    NodeSystemInfo field: a Node without them is refused (upgrade.yml's first drain found this)."""
    from kubernetes.client import CoreV1Api

    for name in ("node1", "cp1"):
        info = CoreV1Api(double.api).read_node(name).status.node_info
        assert info.kubelet_version.startswith("v1.") and info.kube_proxy_version == ""
        assert info.machine_id and info.system_uuid and info.boot_id and info.kernel_version and info.os_image


def test_relay_takes_each_connection_to_the_first_backend_that_accepts(double, tmp_path):
    # --relay: a further control plane's API server (to the first one's double), and the ha scenario's load balancer.
    # Two free ports, both bound at once so that they differ.
    probes = [socket.socket(), socket.socket()]
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    listen, closed = (probe.getsockname()[1] for probe in probes)
    for probe in probes:
        probe.close()
    backend = double.server.rsplit("/", 1)[1]
    log = tmp_path / "relay.log"
    relay = subprocess.Popen([sys.executable, str(DOUBLE), "--listen", f"127.0.0.1:{listen}",
                              "--relay", f"127.0.0.1:{closed}", backend, "--relay-log", str(log)])
    try:
        deadline = time.time() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{listen}/version", timeout=5) as resp:
                    assert json.loads(resp.read())["gitVersion"].startswith("v1.")
                break
            except OSError:
                assert time.time() < deadline, "the relay did not answer"
                time.sleep(0.1)
        assert log.read_text().splitlines()[-1].endswith(f" -> {backend}")
    finally:
        relay.kill()
        relay.wait()
