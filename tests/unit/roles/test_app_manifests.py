"""The objects the app role sends, rendered from its own templates and checked against the Kubernetes schemas.

Every manifest goes through kubernetes-validate (the OpenAPI schemas of real Kubernetes releases, strict: an
unknown field fails), for the oldest and the newest release the collection supports. The tables cover every
Service type, the probes of every example version and the inputs the role refuses before sending anything.
"""

from __future__ import annotations

import pathlib

import kubernetes_validate
import pytest
import yaml
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import app_errors
from role_vars import ROLES, render, role_templar, trusted  # pylint: disable=import-error

PLAYBOOKS = pathlib.Path(__file__).resolve().parents[3] / "playbooks"
RELEASES = ("1.30.0", "1.37.0")


def _templar(**overrides):
    return role_templar("app", ansible_search_path=[str(ROLES / "app")], role_path=str(ROLES / "app"), **overrides)


def _deployment(**overrides):
    return yaml.safe_load(render(_templar(**overrides), "lookup('ansible.builtin.template', 'deployment.yml.j2')"))


def _services(**overrides):
    return yaml.safe_load(render(_templar(**overrides), "lookup('ansible.builtin.template', 'services.yml.j2')"))


def _valid(obj):
    for release in RELEASES:
        kubernetes_validate.validate(obj, release, strict=True)
    return obj


def _example():
    """playbooks/vars/app_example.yml as the playbooks read it (version 1, frontend on)."""
    return yaml.safe_load((PLAYBOOKS / "vars" / "app_example.yml").read_text(encoding="utf-8"))


def test_the_default_deployment_is_the_walkthroughs_with_a_rolling_update():
    deployment = _valid(_deployment())
    assert deployment["metadata"]["name"] == "webapp-deployment"
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "webapp"}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "webapp"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web-app:1.0" and container["imagePullPolicy"] == "Never"
    assert container["ports"] == [{"containerPort": 5000, "protocol": "TCP"}]
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert "readinessProbe" not in container and "livenessProbe" not in container and "env" not in container


def test_env_resources_labels_and_percentages_render_as_the_api_wants_them():
    deployment = _valid(_deployment(app_env={"GREETING": "hi", "WORKERS": 4, "DEBUG": True}, app_labels={"tier": "web"},
                                    app_resources={"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                                    app_max_surge="25%", app_max_unavailable="25%", app_replicas=3))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    # Environment values are strings in the API: 4 and true would be refused as numbers/booleans.
    assert container["env"] == [{"name": "GREETING", "value": "hi"}, {"name": "WORKERS", "value": "4"}, {"name": "DEBUG", "value": "True"}]
    assert container["resources"]["limits"] == {"memory": "64Mi"}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"tier": "web", "app": "webapp"}
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "webapp"}
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}
    assert deployment["spec"]["replicas"] == 3


@pytest.mark.parametrize("version", ["1", "2", "3", "4"])
def test_the_probes_of_every_example_version_are_valid(version):
    probes = _example()["__kubelab_app_probes"][version]
    deployment = _valid(_deployment(app_readiness_probe=probes["readiness_probe"], app_liveness_probe=probes["liveness_probe"],
                                    app_image="web-app:%s.0" % version))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 5000
    if version in ("3", "4"):
        # The walkthrough's values: /health after 40 s (v3 starts in 60 s); v4 adds liveness after 120 s.
        assert container["readinessProbe"] == {"httpGet": {"path": "/health", "port": 5000}, "initialDelaySeconds": 40}
    else:
        assert container["readinessProbe"]["httpGet"]["path"] == "/"
    assert ("livenessProbe" in container) == (version == "4")
    if version == "4":
        assert container["livenessProbe"]["initialDelaySeconds"] == 120


def test_a_rollout_step_brings_its_own_image_and_probes():
    step = {"image": "web-app:3.0", "readiness_probe": {"httpGet": {"path": "/health", "port": 5000}, "initialDelaySeconds": 40}}
    container = _valid(_deployment(__app_step=step, app_readiness_probe={"httpGet": {"path": "/", "port": 5000}}))["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "web-app:3.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"


SERVICE_TABLE = [
    ({"name": "webservice", "type": "ClusterIP", "port": 80},
     {"type": "ClusterIP", "selector": {"app": "webapp"}, "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 5000}]}),
    ({"name": "web-np", "type": "NodePort", "port": 80, "node_port": 30080},
     {"type": "NodePort", "selector": {"app": "webapp"}, "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 5000,
                                                                    "nodePort": 30080}]}),
    # node_port 0 or unset: the API server allocates one.
    ({"name": "web-np-any", "type": "NodePort", "port": 8080, "node_port": 0},
     {"type": "NodePort", "selector": {"app": "webapp"}, "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "targetPort": 5000}]}),
    ({"name": "web-lb", "type": "LoadBalancer", "port": 80, "target_port": "5000"},
     {"type": "LoadBalancer", "selector": {"app": "webapp"}, "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 5000}]}),
    ({"name": "db1", "type": "ExternalName", "external_name": "mysql01.database.test.com"},
     {"type": "ExternalName", "externalName": "mysql01.database.test.com"}),
    ({"name": "web-ext", "port": 80, "target_port": "http", "external_ips": ["192.0.2.10"]},
     {"type": "ClusterIP", "selector": {"app": "webapp"}, "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}],
      "externalIPs": ["192.0.2.10"]}),
]


@pytest.mark.parametrize("entry, spec", SERVICE_TABLE, ids=[row[0]["name"] for row in SERVICE_TABLE])
def test_every_service_type_renders_the_spec_the_api_expects(entry, spec):
    (service,) = _services(app_services=[entry])
    _valid(service)
    assert service["metadata"] == {"name": entry["name"], "namespace": "default", "labels": {"app": "webapp"}}
    assert service["spec"] == spec
    assert app_errors({"app_services": [entry], "app_container_port": 5000}) == []


def test_the_example_services_are_valid_and_cover_every_type():
    example = _example()
    services = _services(app_services=trusted(example["__kubelab_app_services"]), kubelab_app_node_port=0)
    for service in services:
        _valid(service)
    kinds = {service["spec"]["type"] for service in services}
    assert kinds == {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}
    assert any(service["spec"].get("externalIPs") for service in services)
    assert _services(app_services=[]) == []


BAD_INPUTS = [
    ({"app_name": "WebApp"}, "app_name = 'WebApp'"),
    ({"app_namespace": "my_ns"}, "app_namespace = 'my_ns'"),
    ({"app_image": "Web App:1.0"}, "app_image = 'Web App:1.0'"),
    ({"app_replicas": -1}, "app_replicas = -1"),
    ({"app_container_port": 70000}, "app_container_port = 70000"),
    ({"app_max_surge": 0, "app_max_unavailable": 0}, "no rollout can make progress"),
    ({"app_max_unavailable": "150%"}, "app_max_unavailable = '150%'"),
    ({"app_wait_timeout": 0}, "app_wait_timeout = 0"),
    ({"app_env": {"1BAD": "x"}}, "app_env = '1BAD'"),
    ({"app_readiness_probe": {"httpGet": {"path": "/", "port": 5000}, "tcpSocket": {"port": 5000}}}, "exactly one handler"),
    ({"app_liveness_probe": {"httpGet": {"path": "/"}, "initialDelaySeconds": "soon"}}, "app_liveness_probe.initialDelaySeconds"),
    # The walkthrough's own name for its externalIPs example is refused by the API server (capitals).
    ({"app_services": [{"name": "externalIpAssignedService", "port": 80}]}, "app_services[0].name = 'externalIpAssignedService'"),
    ({"app_services": [{"name": "web", "type": "NodePort", "node_port": 8080}]}, "outside the cluster's node port range"),
    ({"app_services": [{"name": "web", "type": "ClusterIP", "node_port": 30080}]}, "only NodePort and LoadBalancer"),
    ({"app_services": [{"name": "db1", "type": "ExternalName"}]}, "needs a DNS name"),
    ({"app_services": [{"name": "db1", "type": "ExternalName", "external_name": "db.example", "node_port": 30001}]}, "does not apply"),
    ({"app_services": [{"name": "web", "type": "Ingress"}]}, "is not a Service type"),
    ({"app_services": [{"name": "web", "port": 0}]}, "app_services[0].port = 0"),
    ({"app_services": [{"name": "web", "target_port": "not_a_name"}]}, "neither a port number nor a port name"),
    ({"app_services": [{"name": "web", "external_ips": ["70.34.1.999"]}]}, "is not an IP address"),
    ({"app_services": [{"name": "web"}, {"name": "web", "port": 81}]}, "the name is used by entries 0, 1"),
    ({"app_services": [{"name": "a", "type": "NodePort", "node_port": 30080}, {"name": "b", "type": "NodePort", "node_port": 30080}]},
     "node port 30080 is given to entries 0, 1"),
    ({"app_node_port_range": "30000"}, "app_node_port_range = '30000'"),
]


@pytest.mark.parametrize("values, expected", BAD_INPUTS, ids=[row[1] for row in BAD_INPUTS])
def test_inputs_the_api_server_would_refuse_are_refused_by_name(values, expected):
    errors = app_errors(values)
    assert len(errors) == 1, errors
    assert expected in errors[0]
    assert "Allowed:" in errors[0] and "Fix:" in errors[0]


def test_the_role_defaults_pass_the_rules():
    defaults = yaml.safe_load((ROLES / "app" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    literal = {key: value for key, value in defaults.items() if not (isinstance(value, str) and "{{" in value)}
    assert app_errors(literal) == []


def test_the_kubeconfig_is_the_one_the_control_plane_role_fetched():
    # The role's own default passes control_plane_kubeconfig_dest on (app.yml reads it on the control plane host);
    # without it the role has no path to guess, and its check asks for app_kubeconfig.
    fetched = "/srv/lab/artifacts/proxmox-lab-admin.conf"
    assert render(_templar(control_plane_kubeconfig_dest=fetched), "app_kubeconfig") == fetched
    assert render(_templar(), "app_kubeconfig") == ""
