"""The developer's box after converge (playbooks/minikube.yml, then app.yml -e kubelab_app_target=minikube).

minikube and kubectl here are the TEST DOUBLES of tests/doubles (no real minikube can be downloaded where this runs):
these tests prove what the role and app.yml did with them - the install from the mirror, the profile as the minikube
double keeps it, the context, the images loaded, the objects in the API-server double - not a real minikube cluster.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest
from kubernetes import config, dynamic

KUBECONFIG = pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "artifacts" / "minikube-minikube.conf"


def as_developer(host, command):
    return host.check_output("sudo -u developer -H %s" % command)


@pytest.fixture(scope="module")
def api():
    return dynamic.DynamicClient(config.new_client_from_config(config_file=str(KUBECONFIG)))


@pytest.mark.parametrize("name", ["minikube", "kubectl"])
def test_the_binaries_are_the_mirrors_files(host, name):
    binary = host.file("/usr/local/bin/%s" % name)
    assert binary.mode == 0o755 and binary.user == "root"
    published = host.check_output("cat /srv/mirror/$(cd /srv/mirror && find . -name %s -type f | head -1).sha256" % (
        "minikube-linux-*" if name == "minikube" else "kubectl"))
    assert binary.sha256sum == published.strip()


def test_the_profile_runs_with_the_roles_defaults(host):
    profiles = json.loads(as_developer(host, "minikube profile list -o json"))
    [profile] = [entry for entry in profiles["valid"] if entry["Name"] == "minikube"]
    assert profile["Config"]["Driver"] == "docker"
    assert profile["Config"]["CPUs"] == 2 and profile["Config"]["Memory"] == 4096
    assert profile["Config"]["KubernetesConfig"]["ContainerRuntime"] == "docker"
    status = json.loads(host.run("sudo -u developer -H minikube status -o json").stdout)
    assert status["Host"] == status["APIServer"] == "Running"


def test_the_addons_asked_for_are_enabled(host):
    addons = json.loads(as_developer(host, "minikube addons list -o json"))
    for name in ("dashboard", "metrics-server"):
        assert addons[name]["Status"] == "enabled", addons[name]


def test_the_developers_context_is_the_profile(host):
    assert as_developer(host, "kubectl config current-context").strip() == "minikube"
    assert not host.file("/root/.minikube").exists


def test_the_images_are_in_the_profile(host):
    names = as_developer(host, "minikube image ls --format short").split()
    for name in ("docker.io/library/web-app:1.0", "docker.io/library/frontend:1.0"):
        assert names.count(name) == 1, names


def test_the_controller_kubeconfig_holds_only_the_profile():
    assert oct(KUBECONFIG.stat().st_mode & 0o777) == "0o600"
    text = KUBECONFIG.read_text()
    assert "current-context: minikube" in text


def test_the_app_runs_with_the_loaded_image(api):
    deployment = api.resources.get(api_version="apps/v1", kind="Deployment").get(name="webapp-deployment", namespace="default")
    container = deployment.to_dict()["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web-app:1.0" and container["imagePullPolicy"] == "Never"
    assert deployment.to_dict()["status"].get("readyReplicas") == 1


def test_minikube_service_gives_the_node_port_url(host, api):
    service = api.resources.get(api_version="v1", kind="Service").get(name="webservice-nodeport", namespace="default").to_dict()
    url = as_developer(host, "minikube service webservice-nodeport --url").strip()
    ip = json.loads(as_developer(host, "minikube profile list -o json"))["valid"][0]["Config"]["Nodes"][0]["IP"]
    assert url == "http://%s:%d" % (ip, service["spec"]["ports"][0]["nodePort"])
