"""The application chapter after converge and side_effect: images in the node's containerd, objects in the
API-server double. The double stores what kubernetes.core sent and simulates the controllers; it runs no
container, so these tests prove the calls and the side-loading, not a serving app on a real cluster."""

from __future__ import annotations

import os
import pathlib
import urllib.request

import pytest
from kubernetes import config, dynamic

# Where a user's defaults put it: artifacts/ beside the inventory, named after the scenario's control_plane_cluster_name.
KUBECONFIG = pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "artifacts" / "molecule-app-lab-admin.conf"


@pytest.fixture(scope="module")
def api():
    return dynamic.DynamicClient(config.new_client_from_config(config_file=str(KUBECONFIG)))


def _get(api, version, kind, name=None, namespace="default"):
    return api.resources.get(api_version=version, kind=kind).get(name=name, namespace=namespace).to_dict()


def test_every_image_is_in_the_nodes_containerd_once(host):
    names = host.check_output("ctr -n k8s.io images ls -q").split()
    for name in ("docker.io/library/web-app:1.0", "docker.io/library/web-app:2.0", "docker.io/library/web-app:3.0",
                 "docker.io/library/frontend:1.0"):
        assert names.count(name) == 1, names
    assert "docker.io/library/web-app:9.0" not in names


def test_the_web_app_is_back_on_v1_and_ready(api):
    deployment = _get(api, "apps/v1", "Deployment", "webapp-deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web-app:1.0" and container["imagePullPolicy"] == "Never"
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": 5000, "scheme": "HTTP"}
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    status = deployment["status"]
    assert status["readyReplicas"] == status["availableReplicas"] == status["updatedReplicas"] == deployment["spec"]["replicas"] == 1
    assert status["observedGeneration"] == deployment["metadata"]["generation"]


def test_the_frontend_runs(api):
    deployment = _get(api, "apps/v1", "Deployment", "frontend-deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "frontend:1.0"
    assert deployment["status"]["readyReplicas"] == 1


def test_a_service_of_every_type_exists(api):
    services = {item["metadata"]["name"]: item["spec"] for item in _get(api, "v1", "Service")["items"]}
    assert services["webservice"]["type"] == "ClusterIP" and services["webservice"]["ports"][0]["targetPort"] == 5000
    assert services["webservice-nodeport"]["type"] == "NodePort"
    assert 30000 <= services["webservice-nodeport"]["ports"][0]["nodePort"] <= 32767
    assert services["webservice-lb"]["type"] == "LoadBalancer"
    assert services["db1"] == {**services["db1"], "type": "ExternalName", "externalName": "mysql01.database.test.com"}
    assert services["webservice-external"]["externalIPs"] == ["192.0.2.10"]
    assert services["frontendservice"]["type"] == "NodePort"


def test_the_load_balancer_stays_pending(api):
    assert not _get(api, "v1", "Service", "webservice-lb")["status"].get("loadBalancer", {}).get("ingress")


def test_the_node_port_answers(api):
    port = _get(api, "v1", "Service", "webservice-nodeport")["spec"]["ports"][0]["nodePort"]
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as answer:
        assert answer.status == 200
