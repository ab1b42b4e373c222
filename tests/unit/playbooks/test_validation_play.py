"""The validation play of site.yml refuses bad inputs before any managed host is contacted.

Each case runs `ansible-playbook playbooks/site.yml` against a generated inventory of hosts
that do not exist (TEST-NET-1 addresses, and an ssh executable of /bin/false so any contact
fails loudly), with the JSON callback: the run must fail in the validation play on localhost,
the message must name the variable, and no task may have run on a managed host. The cases run
in parallel in one module-scoped fixture.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = REPO_ROOT / ".venv" / "bin"
MANAGED = {"cp1", "w1", "w2"}


def _inventory(control_plane=("cp1",), workers=("w1", "w2")):
    hosts = {}
    for index, name in enumerate(sorted(MANAGED)):
        hosts[name] = {"ansible_host": "192.0.2.%d" % (10 + index)}
    # localhost is listed (connection local) so that --limit localhost can select the validation play alone.
    return {"all": {"vars": {"ansible_connection": "ssh", "ansible_ssh_executable": "/bin/false"},
                    "hosts": {"localhost": {"ansible_connection": "local"}},
                    "children": {"k8s_cluster": {"children": {
                        "kube_control_plane": {"hosts": {h: hosts[h] for h in control_plane}},
                        "kube_workers": {"hosts": {h: hosts[h] for h in workers}}}}}}}


BAD = {
    "runtime_choice": ({"container_runtime_name": "podman"}, "container_runtime_name"),
    "containerd_source": ({"container_runtime_containerd_source": "snap"}, "container_runtime_containerd_source"),
    "oom_choice": ({"container_runtime_restrict_oom_score_adj": "yes"}, "container_runtime_restrict_oom_score_adj"),
    "cni_choice": ({"cni_plugin": "weave"}, "cni_plugin"),
    "flannel_backend": ({"cni_flannel_backend": "udp"}, "cni_flannel_backend"),
    "calico_ipip": ({"cni_calico_ipip": "sometimes"}, "cni_calico_ipip"),
    "pull_policy": ({"cni_image_pull_policy": "Maybe"}, "cni_image_pull_policy"),
    "cgroup_driver": ({"control_plane_cgroup_driver": "openrc"}, "control_plane_cgroup_driver"),
    "config_api": ({"control_plane_config_api_version": "kubeadm.k8s.io/v1beta2"}, "control_plane_config_api_version"),
    "bool_type": ({"prereqs_hardware_check": "maybe"}, "prereqs_hardware_check"),
    "int_type": ({"prereqs_min_cpus_control_plane": "two"}, "prereqs_min_cpus_control_plane"),
    "list_type": ({"kube_packages_packages": {"kubelet": True}}, "kube_packages_packages"),
    "dict_type": ({"control_plane_apiserver_extra_args": ["a"]}, "control_plane_apiserver_extra_args"),
    "wait_bool": ({"worker_wait_for_ready": "sometimes"}, "worker_wait_for_ready"),
    "pod_cidr_prefix": ({"control_plane_pod_subnet": "10.244.0.0/99"}, "control_plane_pod_subnet"),
    "pod_cidr_garbage": ({"control_plane_pod_subnet": "banana"}, "control_plane_pod_subnet"),
    "service_cidr_host_bits": ({"control_plane_service_subnet": "10.96.1.0/12"}, "control_plane_service_subnet"),
    "service_cidr_too_big": ({"control_plane_service_subnet": "10.0.0.0/8"}, "control_plane_service_subnet"),
    "overlap": ({"control_plane_pod_subnet": "10.96.0.0/16"}, "overlaps the service network"),
    "overlap_dual_stack": ({"control_plane_pod_subnet": "10.244.0.0/16,fd00::/56",
                            "control_plane_service_subnet": "10.96.0.0/12,fd00::/108"}, "control_plane_pod_subnet"),
    "cni_pod_subnet": ({"cni_pod_subnet": "10.10.0.0/16"}, "cni_pod_subnet"),
    "pkg_version_short": ({"kube_packages_version": "1.3"}, "kube_packages_version"),
    "pkg_version_float": ({"kube_packages_version": 1.30}, "kube_packages_version"),
    "pkg_version_newer": ({"kube_packages_version": "1.99"}, "kube_packages_version"),
    "runtime_version": ({"container_runtime_kubernetes_version": "1.36.x"}, "container_runtime_kubernetes_version"),
    "runtime_minor_mismatch": ({"kube_packages_version": "1.33"}, "container_runtime_kubernetes_version"),
    "kubeadm_version_form": ({"control_plane_kubernetes_version": "1.36"}, "control_plane_kubernetes_version"),
    "kubeadm_version_skew": ({"control_plane_kubernetes_version": "v1.31.0"}, "control_plane_kubernetes_version"),
    "ttl_forever": ({"worker_token_ttl": "forever"}, "worker_token_ttl"),
    "ttl_number": ({"worker_token_ttl": 7200}, "worker_token_ttl"),
    "bootstrap_ttl": ({"control_plane_bootstrap_token_ttl": "1d"}, "control_plane_bootstrap_token_ttl"),
    "min_ttl_left": ({"worker_token_min_ttl_left": "3h"}, "worker_token_min_ttl_left"),
    "missing_group": ({"kubelab_workers_group": "no_such_group"}, "kubelab_workers_group"),
    "empty_group_name": ({"kubelab_cluster_group": ""}, "kubelab_cluster_group"),
    "archive_missing": ({"container_runtime_image_archives": ["/nonexistent/kubelab.tar"]},
                        "container_runtime_image_archives"),
    "relative_path": ({"control_plane_config_path": "kubeadm.yaml"}, "control_plane_config_path"),
    "manifest_dir": ({"cni_manifest_dir": "manifests"}, "cni_manifest_dir"),
    "bind_port": ({"control_plane_bind_port": 70000}, "control_plane_bind_port"),
    "ignore_all": ({"worker_ignore_preflight_errors": ["all"]}, "worker_ignore_preflight_errors"),
    "endpoint": ({"worker_api_server_endpoint": "nohost"}, "worker_api_server_endpoint"),
    "advertise": ({"control_plane_advertise_address": "not-an-ip"}, "control_plane_advertise_address"),
    "checksum": ({"cni_manifest_url": "https://example.invalid/x.yaml"}, "cni_manifest_checksum"),
}
# Inventories with a group problem: (control plane hosts, workers, substring).
BAD_INVENTORIES = {
    "ha_refused": ((("cp1", "w1"), ("w2",)), "HA"),
    "host_in_both": ((("cp1",), ("cp1", "w1")), "also in the control-plane group"),
    "no_control_plane": (((), ("w1", "w2")), "kubelab_control_plane_group"),
}
# playbooks/app.yml opens with the same check, for the app_image and app roles.
APP_BAD = {
    "app_state": ({"app_state": "running"}, "app_state"),
    "app_replicas_type": ({"app_replicas": "two"}, "app_replicas"),
    "app_name": ({"app_name": "WebApp"}, "app_name = 'WebApp'"),
    "app_node_port": ({"app_services": [{"name": "web", "type": "NodePort", "node_port": 8080}]}, "node port range"),
    "app_service_name": ({"app_services": [{"name": "externalIpAssignedService"}]}, "app_services[0].name"),
    "app_pull_policy": ({"app_image_pull_policy": "Sometimes"}, "app_image_pull_policy"),
    "app_nodes_group": ({"kubelab_app_nodes_group": "no_such_group"}, "kubelab_app_nodes_group"),
    "app_image_list": ({"app_image_images": "web-app:1.0"}, "app_image_images"),
}
GOOD = {
    "defaults": {},
    "dual_stack": {"control_plane_pod_subnet": "10.244.0.0/16,fd00:10:244::/56",
                   "control_plane_service_subnet": "10.96.0.0/12,fd00:10:96::/108"},
    "pinned": {"kube_packages_version": "1.33.2", "container_runtime_kubernetes_version": "1.33",
               "control_plane_kubernetes_version": "v1.33.2", "worker_token_ttl": "1h30m"},
}


def _run(tmp, name, extra, inventory, tags=False, playbook="playbooks/site.yml"):
    path = tmp / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0")
    argv = [str(BIN / "ansible-playbook"), playbook, "-i", str(path), "-e", json.dumps(extra)]
    if tags:
        # Only the validation play: the later plays match no host of the limit.
        argv += ["--tags", "kubelab_validate", "--limit", "localhost"]
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = {"plays": [], "raw": proc.stdout + proc.stderr}
    return proc.returncode, report


def _host_tasks(report):
    """(task name, host, result) of every task result on any host."""
    return [(task["task"]["name"], host, result) for play in report.get("plays", []) for task in play["tasks"]
            for host, result in task["hosts"].items()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validation")
    jobs = {"bad:" + k: (v[0], _inventory(), False) for k, v in BAD.items()}
    jobs.update({"inv:" + k: ({}, _inventory(*v[0]), False) for k, v in BAD_INVENTORIES.items()})
    jobs.update({"good:" + k: (v, _inventory(), True) for k, v in GOOD.items()})
    jobs.update({"app:" + k: (v[0], _inventory(), False, "playbooks/app.yml") for k, v in APP_BAD.items()})
    jobs.update({"app_checks:" + k: (APP_BAD[k][0], _inventory(), False, "playbooks/app_checks.yml") for k in ("app_node_port", "app_nodes_group")})
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {k: pool.submit(_run, tmp, k.replace(":", "_"), *v) for k, v in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


def test_there_are_enough_bad_cases():
    assert len(BAD) + len(BAD_INVENTORIES) >= 30


BAD_CASES = (["bad:" + k for k in BAD] + ["inv:" + k for k in BAD_INVENTORIES] + ["app:" + k for k in APP_BAD]
             + ["app_checks:app_node_port", "app_checks:app_nodes_group"])


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_refused_by_the_validation_play(runs, case):
    rc, report = runs[case]
    kind, name = case.split(":")
    needle = {"bad": BAD, "app": APP_BAD, "app_checks": APP_BAD}.get(kind, BAD_INVENTORIES)[name][1]
    assert rc != 0, report
    results = _host_tasks(report)
    assert not [r for r in results if r[1] in MANAGED], "a task ran on a managed host"
    failed = [r for r in results if r[2].get("failed")]
    assert failed and failed[-1][0] == "Refuse the run, listing every wrong input", results
    assert needle in failed[-1][2]["msg"], failed[-1][2]["msg"]


@pytest.mark.parametrize("case", sorted("good:" + k for k in GOOD))
def test_good_input_passes_and_contacts_no_host(runs, case):
    rc, report = runs[case]
    assert rc == 0, report
    results = _host_tasks(report)
    refuse = [r for r in results if r[0] == "Refuse the run, listing every wrong input"]
    assert refuse and all(r[2].get("skipped") for r in refuse)
    assert not [r for r in results if r[1] in MANAGED], "a task ran on a managed host"
