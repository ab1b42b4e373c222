"""One table of input rules, driven through both entry points of kubelab.cluster.check_inputs.

Each rule case runs twice:
- the validation play that opens site.yml (app.yml for the app roles), alone (--tags kubelab_validate
  --limit localhost), with the case's variables as extra vars;
- the role imported alone (include_role in a block on localhost, --check), with the same variables.
Both must refuse the case at their input check and word the problem the same way: the line of the play's
message that names the problem is in the role's message too. Inventory-group rules exist only in the
playbooks (their kubelab_*_group variables) and run through the play alone.

No managed host is contacted: the play's inventory points at TEST-NET-1 addresses through an ssh
executable of /bin/false, and the role runs stop at their input check on localhost.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
MANAGED = {"cp1", "w1", "w2"}
PLAY_TASK = "Refuse the run, listing every wrong input"
ROLE_TASK = "Refuse bad inputs before any change"
ARGSPEC_TASK = "Validating arguments against arg spec"

# name: (role, variables, what the message must say). A spec rule (type, choice) is worded by ansible's own
# validator in both entry points; every other rule by module_utils/_validation.py.
RULES = {
    "runtime_choice": ("container_runtime", {"container_runtime_name": "podman"}, "container_runtime_name"),
    "containerd_source": ("container_runtime", {"container_runtime_containerd_source": "snap"}, "container_runtime_containerd_source"),
    "oom_choice": ("container_runtime", {"container_runtime_restrict_oom_score_adj": "yes"}, "container_runtime_restrict_oom_score_adj"),
    "cni_choice": ("cni", {"cni_plugin": "weave"}, "cni_plugin"),
    "flannel_backend": ("cni", {"cni_flannel_backend": "udp"}, "cni_flannel_backend"),
    "calico_ipip": ("cni", {"cni_calico_ipip": "sometimes"}, "cni_calico_ipip"),
    "cgroup_driver": ("control_plane", {"control_plane_cgroup_driver": "openrc"}, "control_plane_cgroup_driver"),
    "config_api": ("control_plane", {"control_plane_config_api_version": "kubeadm.k8s.io/v1beta2"}, "control_plane_config_api_version"),
    "bool_type": ("prereqs", {"prereqs_hardware_check": "maybe"}, "prereqs_hardware_check"),
    "int_type": ("prereqs", {"prereqs_min_cpus_control_plane": "two"}, "prereqs_min_cpus_control_plane"),
    "list_type": ("kube_packages", {"kube_packages_packages": {"kubelet": True}}, "kube_packages_packages"),
    "dict_type": ("control_plane", {"control_plane_apiserver_extra_args": ["a"]}, "control_plane_apiserver_extra_args"),
    "wait_bool": ("worker", {"worker_wait_for_ready": "sometimes"}, "worker_wait_for_ready"),
    "pod_cidr_prefix": ("control_plane", {"control_plane_pod_subnet": "10.244.0.0/99"}, "control_plane_pod_subnet = '10.244.0.0/99'"),
    "pod_cidr_garbage": ("control_plane", {"control_plane_pod_subnet": "banana"}, "control_plane_pod_subnet = 'banana'"),
    "service_cidr_host_bits": ("control_plane", {"control_plane_service_subnet": "10.96.1.0/12"}, "host bits set"),
    "service_cidr_too_big": ("control_plane", {"control_plane_service_subnet": "10.0.0.0/8"}, "larger than kube-apiserver accepts"),
    "overlap": ("control_plane", {"control_plane_pod_subnet": "10.96.0.0/16"}, "overlaps the service network"),
    "overlap_dual_stack": ("control_plane", {"control_plane_pod_subnet": "10.244.0.0/16,fd00::/56",
                                             "control_plane_service_subnet": "10.96.0.0/12,fd00::/108"}, "fd00::/56 overlaps"),
    # The bundled manifests set up one IPv4 pool: a dual-stack or IPv6 pod network is refused with them.
    "cni_dual_stack": ("cni", {"cni_pod_subnet": "10.244.0.0/16,fd00:10:244::/56"}, "sets up one IPv4 pod network"),
    "cni_pod_subnet_stray": ("cni", {"cni_pod_subnet": "10.10.0.0/16", "control_plane_pod_subnet": "10.244.0.0/16"},
                             "is not the cluster's pod network"),
    "pkg_version_short": ("kube_packages", {"kube_packages_version": "1.3"}, "kube_packages_version = '1.3'"),
    "pkg_version_float": ("kube_packages", {"kube_packages_version": 1.30}, "must be a quoted string"),
    "pkg_version_newer": ("kube_packages", {"kube_packages_version": "1.99"}, "outside the releases"),
    "pkg_version_minor_only": ("kube_packages", {"kube_packages_version": "2.5"}, "kube_packages_version = '2.5'"),
    "runtime_version": ("container_runtime", {"container_runtime_kubernetes_version": "1.36.x"}, "container_runtime_kubernetes_version = '1.36.x'"),
    "runtime_minor_mismatch": ("container_runtime", {"kube_packages_version": "1.33"}, "names another minor than kube_packages_version"),
    "kubeadm_version_form": ("control_plane", {"control_plane_kubernetes_version": "1.36"}, "control_plane_kubernetes_version = '1.36'"),
    "kubeadm_version_unreleased": ("control_plane", {"control_plane_kubernetes_version": "v1.99.1"}, "outside the releases"),
    "kubeadm_version_skew": ("control_plane", {"control_plane_kubernetes_version": "v1.31.0", "kube_packages_version": "1.36"},
                             "deploys only its own minor or the one before"),
    "expected_version": ("control_plane", {"control_plane_expected_version": "one"}, "control_plane_expected_version = 'one'"),
    "ttl_forever": ("worker", {"worker_token_ttl": "forever"}, "worker_token_ttl = 'forever'"),
    "ttl_number": ("worker", {"worker_token_ttl": 7200}, "a duration must be a string"),
    "bootstrap_ttl": ("control_plane", {"control_plane_bootstrap_token_ttl": "1d"}, "control_plane_bootstrap_token_ttl = '1d'"),
    "min_ttl_left": ("worker", {"worker_token_min_ttl_left": "3h"}, "no token could ever be reused"),
    "token_pair": ("worker", {"worker_token_description": "other", "control_plane_bootstrap_token_description": "mine"},
                   "would not reuse init's token"),
    "archive_missing": ("container_runtime", {"container_runtime_image_archives": ["/nonexistent/kubelab.tar"]},
                        "no file on the controller at /nonexistent/kubelab.tar"),
    "relative_path": ("control_plane", {"control_plane_config_path": "kubeadm.yaml"}, "control_plane_config_path = 'kubeadm.yaml'"),
    "manifest_dir": ("cni", {"cni_manifest_dir": "manifests"}, "cni_manifest_dir = 'manifests'"),
    "bind_port": ("control_plane", {"control_plane_bind_port": 70000}, "is not a TCP port"),
    "ignore_all": ("worker", {"worker_ignore_preflight_errors": ["all"]}, "'all' would hide every preflight failure"),
    "ignore_all_text": ("control_plane", {"control_plane_ignore_preflight_errors": "['all']"}, "is text where a list is expected"),
    "endpoint": ("worker", {"worker_api_server_endpoint": "nohost"}, "worker_api_server_endpoint = 'nohost'"),
    "advertise": ("control_plane", {"control_plane_advertise_address": "not-an-ip"}, "is not an IP address"),
    "vip_address": ("control_plane", {"control_plane_vip": "k8s-api", "control_plane_vip_interface": "eth0"},
                    "control_plane_vip = 'k8s-api'"),
    "vip_interface": ("control_plane", {"control_plane_vip": "192.0.2.100"}, "control_plane_vip_interface = ''"),
    "checksum": ("cni", {"cni_manifest_url": "https://example.invalid/x.yaml"}, "without a checksum"),
    "repo_url_scheme": ("kube_packages", {"kube_packages_repo_url": "ftp:/broken"}, "kube_packages_repo_url = 'ftp:/broken'"),
    "repo_url_no_host": ("kube_packages", {"kube_packages_repo_url": "https:///path"}, "is not a URL apt"),
    "firewall_port": ("prereqs", {"prereqs_firewall_enabled": True, "prereqs_firewall_worker_ports": ["http"]}, "not PORT/PROTO"),
    "app_state": ("app", {"app_state": "running"}, "app_state"),
    "app_replicas_type": ("app", {"app_replicas": "two"}, "app_replicas"),
    "app_name": ("app", {"app_name": "WebApp"}, "app_name = 'WebApp'"),
    "app_node_port": ("app", {"app_services": [{"name": "web", "type": "NodePort", "node_port": 8080}]}, "node port range"),
    "app_service_name": ("app", {"app_services": [{"name": "externalIpAssignedService"}]}, "app_services[0].name"),
    "app_pull_policy": ("app", {"app_image_pull_policy": "Sometimes"}, "app_image_pull_policy"),
    "app_image_list": ("app_image", {"app_image_images": "web-app:1.0"}, "is text where a list is expected"),
    "app_image_name": ("app_image", {"app_image_images": [{"name": "web-app:1.0", "archive": "/nonexistent.tar"}]},
                       "is not a full image reference"),
    "app_image_twice": ("app_image", {"app_image_images": [{"name": "docker.io/library/a:1", "build": {"context": "/"}},
                                                           {"name": "docker.io/library/a:1", "build": {"context": "/"}}]},
                        "the same image name is listed twice"),
    "app_image_target": ("app_image", {"app_image_target": "kind"}, "app_image_target"),
    "minikube_cpus": ("minikube", {"minikube_cpus": 1}, "is less than minikube's minimum of 2 CPUs"),
    "minikube_memory": ("minikube", {"minikube_memory": 1024}, "is less than minikube's minimum of 1800 MB"),
    "minikube_kubernetes_old": ("minikube", {"minikube_kubernetes_version": "v1.19.16"}, "is older than minikube v1.34.0 supports"),
    "minikube_kubernetes_new": ("minikube", {"minikube_kubernetes_version": "v1.36.1"}, "is newer than minikube v1.34.0 supports"),
    "minikube_kubernetes_form": ("minikube", {"minikube_kubernetes_version": "1.31"}, "is not a Kubernetes version"),
    "minikube_checksum": ("minikube", {"minikube_checksum": "md5:0123"}, "is not a sha256 checksum"),
    "minikube_release_tag": ("minikube", {"minikube_version": "1.34.0"}, "is not a release tag"),
    "minikube_url": ("minikube", {"minikube_url": "ftp://mirror/minikube"}, "minikube_url = 'ftp://mirror/minikube'"),
    "minikube_driver": ("minikube", {"minikube_driver": "hyperkit"}, "minikube_driver"),
    "minikube_addons_text": ("minikube", {"minikube_addons": "dashboard"}, "is text where a list is expected"),
    "minikube_addon_name": ("minikube", {"minikube_addons": ["Dashboard"]}, "Dashboard is not an addon name"),
    # proxmox_vm through lab.yml's validation play (the control plane's variables) and the role alone (localhost stands in
    # the control-plane group there): kubeadm's control-plane minimum before any API call.
    "proxmox_cp_cores": ("proxmox_vm", {"proxmox_vm_cores": 1}, "is less than kubeadm's control-plane minimum of 2 CPUs"),
    "proxmox_cp_memory": ("proxmox_vm", {"proxmox_vm_memory": 1024}, "is less than kubeadm's control-plane minimum of 1700 MB"),
    "proxmox_name": ("proxmox_vm", {"proxmox_vm_name": "K8s_Master"}, "proxmox_vm_name = 'K8s_Master'"),
    "proxmox_vmid": ("proxmox_vm", {"proxmox_vm_id": 99}, "is outside the VM ids of Proxmox VE"),
    "proxmox_vmid_type": ("proxmox_vm", {"proxmox_vm_id": "next"}, "proxmox_vm_id"),
    "proxmox_ipconfig_prefix": ("proxmox_vm", {"proxmox_vm_ipconfig": "ip=192.0.2.10,gw=192.0.2.1"}, "is not dhcp or an IPv4 address with its prefix"),
    "proxmox_ipconfig_gateway": ("proxmox_vm", {"proxmox_vm_ipconfig": "ip=dhcp,gw=192.0.2.1"}, "a gateway goes with a static address"),
    "proxmox_ipconfig_key": ("proxmox_vm", {"proxmox_vm_ipconfig": "dhcp"}, "is not one of ip=, gw=, ip6=, gw6="),
    "proxmox_tags": ("proxmox_vm", {"proxmox_vm_tags": ["k8s cp"]}, "k8s cp is not a Proxmox VE tag"),
    "proxmox_tags_text": ("proxmox_vm", {"proxmox_vm_tags": "k8s"}, "is text where a list is expected"),
    "proxmox_vlan": ("proxmox_vm", {"proxmox_vm_vlan": 5000}, "is not a VLAN tag"),
    "proxmox_ssh_keys_empty": ("proxmox_vm", {"proxmox_vm_ssh_keys": []}, "cloud-init would let nobody log in"),
    "proxmox_ssh_key_private": ("proxmox_vm", {"proxmox_vm_ssh_keys": ["-----BEGIN OPENSSH PRIVATE KEY-----"]}, "not an OpenSSH public key"),
    "proxmox_api_host": ("proxmox_vm", {"proxmox_vm_api_host": ""}, "export PROXMOX_HOST"),
    "proxmox_template": ("proxmox_vm", {"proxmox_vm_template": 42}, "proxmox_vm_template = 42"),
    "proxmox_full_clone": ("proxmox_vm", {"proxmox_vm_full_clone": "sometimes"}, "proxmox_vm_full_clone"),
    # proxmox_vm_guest: lxc - a container from an LXC template volume instead of a clone of proxmox_vm_template.
    "proxmox_guest_choice": ("proxmox_vm", {"proxmox_vm_guest": "docker"}, "proxmox_vm_guest"),
    "proxmox_lxc_ostemplate_empty": ("proxmox_vm", {"proxmox_vm_guest": "lxc"}, "is empty, and proxmox_vm_guest is lxc"),
    "proxmox_lxc_ostemplate_form": ("proxmox_vm", {"proxmox_vm_guest": "lxc", "proxmox_vm_lxc_ostemplate": "debian-12-standard_12.7-1_amd64.tar.zst"},
                                    "is not an LXC template volume"),
    "proxmox_lxc_storage": ("proxmox_vm", {"proxmox_vm_guest": "lxc", "proxmox_vm_lxc_storage": "local lvm"}, "is not a Proxmox VE storage id"),
    "proxmox_lxc_ssh_keys_empty": ("proxmox_vm", {"proxmox_vm_guest": "lxc", "proxmox_vm_ssh_keys": []},
                                   "pct (root's authorized_keys) would let nobody log in"),
    # kube_upgrade through upgrade.yml's validation play and the role alone: the target's form and range (the step
    # from the cluster's version needs the cluster: module_utils tests and kubelab.cluster.upgrade_check).
    "upgrade_version_empty": ("kube_upgrade", {"kube_upgrade_version": ""}, "is empty: the upgrade needs a target"),
    "upgrade_version_float": ("kube_upgrade", {"kube_upgrade_version": 1.36}, "must be a quoted string"),
    "upgrade_version_unsupported": ("kube_upgrade", {"kube_upgrade_version": "1.99"}, "outside the releases"),
    "upgrade_version_form": ("kube_upgrade", {"kube_upgrade_version": "v1.36"}, "kube_upgrade_version = 'v1.36'"),
    "upgrade_batch_size": ("kube_upgrade", {"kube_upgrade_version": "1.36", "kube_upgrade_batch_size": 0}, "is not a number of nodes"),
    "upgrade_drain_timeout": ("kube_upgrade", {"kube_upgrade_version": "1.36", "kube_upgrade_drain_timeout": 0},
                              "kube_upgrade_drain_timeout = 0"),
    "packages_install_only": ("kube_packages", {"kube_packages_install_only": ["helm"]}, "helm not in kube_packages_packages"),
}
# Inventory-group rules of the playbooks: (control plane hosts, workers, extra vars, substring).
PLAY_ONLY = {
    "ha_without_endpoint": (("cp1", "w1"), ("w2",), {}, "kubeadm adds a control plane only to a cluster initialized with a stable"),
    "host_in_both": (("cp1",), ("cp1", "w1"), {}, "also in the control-plane group"),
    "no_control_plane": ((), ("w1", "w2"), {}, "kubelab_control_plane_group"),
    "missing_group": (("cp1",), ("w1", "w2"), {"kubelab_workers_group": "no_such_group"}, "kubelab_workers_group"),
    "empty_group_name": (("cp1",), ("w1", "w2"), {"kubelab_cluster_group": ""}, "kubelab_cluster_group"),
    "minikube_group_missing": (("cp1",), ("w1", "w2"), {"kubelab_minikube_group": "no_such_group"}, "kubelab_minikube_group"),
}
GOOD = {
    "defaults": {},
    "dual_stack_without_bundled_cni": {"control_plane_pod_subnet": "10.244.0.0/16,fd00:10:244::/56",
                                       "control_plane_service_subnet": "10.96.0.0/12,fd00:10:96::/108", "cni_plugin": "none"},
    "pinned": {"kube_packages_version": "1.33.2", "container_runtime_kubernetes_version": "1.33",
               "control_plane_kubernetes_version": "v1.33.2"},
    "fractional_duration": {"worker_token_ttl": "1.5h", "control_plane_bootstrap_token_ttl": "1.5h"},
    "file_repo": {"kube_packages_repo_url": "file:///srv/mirror/kubernetes"},
    "minikube_pinned": {"minikube_kubernetes_version": "v1.30.0", "minikube_checksum": "sha256:" + "0" * 64,
                        "minikube_url": "file:///srv/mirror/minikube-linux-amd64", "minikube_memory": 1800},
    # A control plane VM at kubeadm's minimum, a static address, the API from variables (placeholders, no real token).
    "proxmox_minimum": {"proxmox_vm_node": "pve1", "proxmox_vm_template": 9000, "proxmox_vm_cores": 2, "proxmox_vm_memory": 1700,
                        "proxmox_vm_ipconfig": "ip=192.0.2.10/24,gw=192.0.2.1", "proxmox_vm_tags": ["k8s-control-plane"],
                        "proxmox_vm_ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKubelab0example0key0only000000000000000000 lab"],
                        "proxmox_vm_api_host": "pve.example", "proxmox_vm_api_user": "kubelab@pve",
                        "proxmox_vm_api_token_id": "lab", "proxmox_vm_api_token_secret": "00000000-0000-0000-0000-000000000000"},
    # A container needs no cloud-init template: proxmox_vm_template stays empty.
    "proxmox_lxc": {"proxmox_vm_guest": "lxc", "proxmox_vm_lxc_ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                    "proxmox_vm_lxc_storage": "local-zfs", "proxmox_vm_node": "pve1", "proxmox_vm_ipconfig": "ip=192.0.2.20/24,gw=192.0.2.1",
                    "proxmox_vm_ssh_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKubelab0example0key0only000000000000000000 lab"],
                    "proxmox_vm_api_host": "pve.example", "proxmox_vm_api_user": "kubelab@pve",
                    "proxmox_vm_api_token_id": "lab", "proxmox_vm_api_token_secret": "00000000-0000-0000-0000-000000000000"},
}
# The roles whose input check each good case goes through alone.
GOOD_ROLES = ("control_plane", "worker", "cni", "kube_packages", "container_runtime")


def _playbook(name, role=""):
    """The playbook whose validation play checks a case: app.yml for the app roles, minikube.yml for minikube."""
    if role.startswith("app"):
        return "playbooks/app.yml"
    if "proxmox" in (role or name):
        return "playbooks/lab.yml"
    if role == "kube_upgrade" or name.startswith("upgrade"):
        return "playbooks/upgrade.yml"
    return "playbooks/minikube.yml" if "minikube" in (role or name) else "playbooks/site.yml"


def _good_roles(name):
    if name.startswith("proxmox"):
        return ("proxmox_vm",)
    return ("minikube",) if name.startswith("minikube") else GOOD_ROLES


def _env():
    return dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
                ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"),
                ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")


def _inventory(control_plane=("cp1",), workers=("w1", "w2")):
    hosts = {name: {"ansible_host": "192.0.2.%d" % (10 + index)} for index, name in enumerate(sorted(MANAGED))}
    # localhost is listed (connection local) so that --limit localhost selects the validation play alone.
    return {"all": {"vars": {"ansible_connection": "ssh", "ansible_ssh_executable": "/bin/false"},
                    "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                    "children": {"k8s_cluster": {"children": {
                        "kube_control_plane": {"hosts": {h: hosts[h] for h in control_plane}},
                        "kube_workers": {"hosts": {h: hosts[h] for h in workers}}}},
                        "minikube": {"hosts": {"localhost": {}}}}}}


def _json(proc):
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"plays": [], "raw": proc.stdout[-3000:] + proc.stderr[-3000:]}


def _play(tmp, name, extra, inventory, playbook):
    path = tmp / ("%s.yml" % name)
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    argv = [str(BIN / "ansible-playbook"), playbook, "-i", str(path), "-e", json.dumps(extra),
            "--tags", "kubelab_validate", "--limit", "localhost"]
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=180, check=False)
    return proc.returncode, _json(proc)


def _results(report):
    """(task name without the role prefix, host, result) of every task result."""
    return [(task["task"]["name"].split(" : ", 1)[-1], host, result) for play in report.get("plays", [])
            for task in play["tasks"] for host, result in task["hosts"].items()]


def _roles_alone_playbook(cases):
    """One play on localhost: each case includes its role in a block and records how the role's start ended.

    Bad cases run the whole role (ansible's argument spec check comes first); good ones its validate.yml only,
    so that nothing past the input check runs on this machine.
    """
    tasks = []
    for name, (role, variables, tasks_from) in cases.items():
        include = {"name": "kubelab.cluster." + role}
        if tasks_from:
            include["tasks_from"] = tasks_from
        tasks.append({"name": "Case " + name, "block": [
            {"name": "Case %s: run the role" % name, "ansible.builtin.include_role": include, "vars": variables}],
            "rescue": [{"name": "Case %s: record the failure" % name, "ansible.builtin.set_fact": {"__cases": (
                "{{ __cases | combine({%r: {'task': ansible_failed_task.name, "
                "'msg': ansible_failed_result.msg | default('') | string}}) }}" % name)}}]})
    tasks.append({"name": "Report the cases", "ansible.builtin.debug": {"var": "__cases"}})
    return [{"name": "Roles alone", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"__cases": {}}, "tasks": tasks}]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    jobs = {}
    for name, (role, variables, _needle) in RULES.items():
        jobs["play:" + name] = (variables, _inventory(), _playbook(name, role))
    for name, (control, workers, extra, _needle) in PLAY_ONLY.items():
        jobs["group:" + name] = (extra, _inventory(control, workers), _playbook(name))
    for name, variables in GOOD.items():
        jobs["good:" + name] = (variables, _inventory(), _playbook(name))
    # The roles alone: localhost stands in every group, so that their group variables name real groups.
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                         "children": {"k8s_cluster": {"children": {"kube_control_plane": {"hosts": {"localhost": {}}},
                                                                   "kube_workers": {"hosts": {"localhost": {}}}}}}}}
    (tmp / "alone-inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    cases = {name: (role, variables, None) for name, (role, variables, _needle) in RULES.items()}
    cases.update({"good_%s_%s" % (name, role): (role, variables, "validate.yml") for name, variables in GOOD.items()
                  for role in _good_roles(name)})
    (tmp / "alone.yml").write_text(yaml.safe_dump(_roles_alone_playbook(cases), sort_keys=False), encoding="utf-8")
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {key: pool.submit(_play, tmp, key.replace(":", "_"), *job) for key, job in jobs.items()}
        alone = pool.submit(subprocess.run, [str(BIN / "ansible-playbook"), "--check", "-i", str(tmp / "alone-inventory.yml"),
                                             str(tmp / "alone.yml")], cwd=REPO_ROOT, env=_env(), capture_output=True,
                            text=True, timeout=600, check=False)
        results = {key: future.result() for key, future in futures.items()}
    report = _json(alone.result())
    recorded = [r for r in _results(report) if r[0] == "Report the cases"]
    assert recorded, report
    results["alone"] = recorded[0][2]["__cases"]
    return results


def _play_line(runs, key, needle):
    rc, report = runs[key]
    assert rc != 0, report
    results = _results(report)
    assert not [r for r in results if r[1] in MANAGED], "a task ran on a managed host"
    failed = [r for r in results if r[2].get("failed")]
    assert failed and failed[-1][0] == PLAY_TASK, results
    lines = [line for line in failed[-1][2]["msg"].split("\n- ") if needle in line]
    assert lines, failed[-1][2]["msg"]
    return lines[0]


@pytest.mark.parametrize("case", sorted(RULES))
def test_both_entry_points_refuse_with_the_same_words(runs, case):
    role, _variables, needle = RULES[case]
    line = _play_line(runs, "play:" + case, needle)
    alone = runs["alone"].get(case)
    assert alone, "the role alone accepted %s" % case
    assert alone["task"] in (ROLE_TASK,) or alone["task"].startswith(ARGSPEC_TASK), alone
    if alone["task"] == ROLE_TASK:
        # The same line, but for the host that saw the value (cp1 through the play, localhost alone).
        same = line.split(" (as ", 1)[0] + line.split(" sees it)", 1)[-1] if " sees it)" in line else line
        found = [part.split(" (as ", 1)[0] + part.split(" sees it)", 1)[-1] for part in alone["msg"].split("\n- ")]
        assert same in found, (line, alone["msg"])
    else:
        # A type or choice: ansible's validator words it first when a role starts; the play reports the same
        # validator's words, each followed by "(role ...".
        play_msg = [r for r in _results(runs["play:" + case][1]) if r[2].get("failed")][-1][2]["msg"]
        # ansible lists the valid booleans from a set, in an order that changes between runs: compare what precedes it.
        spec_errors = [part.split(" (role ", 1)[0].split(" Valid booleans include", 1)[0]
                       for part in play_msg.split("\n- ") if " (role " in part]
        assert spec_errors and all(error in alone["msg"] for error in spec_errors), (play_msg, alone["msg"])


@pytest.mark.parametrize("case", sorted(PLAY_ONLY))
def test_the_playbooks_refuse_bad_inventory_groups(runs, case):
    _play_line(runs, "group:" + case, PLAY_ONLY[case][3])


@pytest.mark.parametrize("case", sorted(GOOD))
def test_good_input_passes_both_entry_points(runs, case):
    rc, report = runs["good:" + case]
    assert rc == 0, report
    results = _results(report)
    assert [r for r in results if r[0] == PLAY_TASK and not r[2].get("failed")]
    assert not [r for r in results if r[1] in MANAGED], "a task ran on a managed host"
    for role in _good_roles(case):
        failure = runs["alone"].get("good_%s_%s" % (case, role))
        # validate.yml of a node role reads the node afterwards (localhost may not be a supported system); the
        # input check itself must pass.
        assert not failure or failure["task"] != ROLE_TASK, (role, failure)


def test_limit_without_the_controller_still_refuses_before_any_change(tmp_path):
    """--limit cp1 leaves the controller's play out: the nodes' play checks the inputs itself, with no connection."""
    (tmp_path / "limit.yml").write_text(yaml.safe_dump(_inventory()), encoding="utf-8")
    argv = [str(BIN / "ansible-playbook"), "playbooks/site.yml", "-i", str(tmp_path / "limit.yml"),
            "-e", json.dumps({"control_plane_pod_subnet": "banana"}), "--limit", "cp1"]
    proc = subprocess.run(argv, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True, timeout=180, check=False)
    results = _results(_json(proc))
    assert proc.returncode != 0, results
    # The only task with a result is the inputs check, failed; the ssh of /bin/false was never needed.
    assert [(name, host) for name, host, _result in results] == [(PLAY_TASK, "cp1")], results
    assert "control_plane_pod_subnet = 'banana'" in results[0][2]["msg"]


def test_ha_rules_through_both_entry_points(tmp_path):
    """Three control planes without an endpoint: the play and the role alone refuse with one line; two with an
    endpoint pass, with etcd's quorum warning."""
    needle = "the control-plane group holds 3 hosts"
    line = None
    rc, report = _play(tmp_path, "ha3", {}, _inventory(("cp1", "w1", "w2"), ("w2",)), "playbooks/site.yml")
    failed = [r for r in _results(report) if r[2].get("failed")]
    assert rc != 0 and failed and failed[-1][0] == PLAY_TASK, report
    line = [part for part in failed[-1][2]["msg"].split("\n- ") if needle in part][0]
    # The role alone: localhost and two hosts it never contacts in its control_plane_group.
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                         "children": {"kube_control_plane": {"hosts": {"localhost": {}, "cp2": {}, "cp3": {}}}}}}
    (tmp_path / "ha-inventory.yml").write_text(yaml.safe_dump(inventory), encoding="utf-8")
    (tmp_path / "ha.yml").write_text(yaml.safe_dump(_roles_alone_playbook({"ha": ("control_plane", {}, "validate.yml")}),
                                                    sort_keys=False), encoding="utf-8")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "--check", "-i", str(tmp_path / "ha-inventory.yml"),
                           str(tmp_path / "ha.yml")], cwd=REPO_ROOT, env=_env(), capture_output=True, text=True,
                          timeout=180, check=False)
    alone = [r for r in _results(_json(proc)) if r[0] == "Report the cases"][0][2]["__cases"]["ha"]
    assert alone["task"] == ROLE_TASK, alone
    assert line.split(" (as ", 1)[0] in alone["msg"] and needle in alone["msg"], (line, alone["msg"])

    rc, report = _play(tmp_path, "ha2", {"control_plane_endpoint": "k8s-api.lab.example:6443"},
                       _inventory(("cp1", "w1"), ("w2",)), "playbooks/site.yml")
    assert rc == 0, report
    checked = [r for r in _results(report) if r[0] == PLAY_TASK]
    assert checked and any("2 control planes (cp1, w1)" in w for w in checked[0][2].get("warnings", [])), checked
