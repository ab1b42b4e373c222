"""playbooks/lab.yml after converge against the Proxmox VE API TEST DOUBLE and the cluster TEST DOUBLES.

The double (tests/doubles/pve/pve_api.py) is not Proxmox VE: its "VMs" are node containers, cloud-init is the double
writing a user, an SSH key and a host name into them, and the guest agent's address is the container's. site.yml then
installs the offline test repository's packages on them, whose kubeadm, kubelet and kubectl are test doubles (the
kubeadm double starts an API-server double on the control plane), and app.yml deploys the application against that
API-server double, which runs no container. These tests prove what the role asked the API for and what it did over
SSH - the VMs with their settings and tags, their addresses reachable with the key the role passed as cloud-init
sshkeys, a machine-id of their own - that site.yml's input and nodes checks accept them, that every VM joined the
cluster the doubles keep and that the application's objects reached it. They do not prove a Proxmox VE boot, disk,
network or permission, nor a running Kubernetes or application.
"""
from __future__ import annotations

import json
import os
import pathlib
import ssl
import subprocess
import sys
import urllib.request

import pytest
import testinfra
import yaml
from kubernetes import config, dynamic

PVE_DIR = pathlib.Path(os.environ["KUBELAB_PVE_DIR"])
PROJECT = pathlib.Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
VMS = {"pve-cp1": "k8s-control-plane", "pve-w1": "k8s-worker", "pve-w2": "k8s-worker"}
# The VM prepare.yml cloned beforehand without the tag kubelab (not made by the collection).
FOUND = {"pve-old": "k8s-worker"}
TEMPLATE = "9000"
# Where the control_plane role's default puts it: artifacts/ beside the inventory, named after control_plane_cluster_name.
KUBECONFIG = pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "artifacts" / "kubelab-admin.conf"


def _state():
    return json.loads((PVE_DIR / "pve-state.json").read_text(encoding="utf-8"))["vms"]


def _vms():
    return {rec["conf"]["name"]: (vmid, rec) for vmid, rec in _state().items() if vmid != TEMPLATE}


def _api(path):
    """GET on the double's API with the scenario's token, as proxmoxer sends it."""
    base = "https://" + (PVE_DIR / "address").read_text(encoding="utf-8").strip()
    token = "kubelab@pve!molecule=" + (PVE_DIR / "token-secret").read_text(encoding="utf-8").strip()
    request = urllib.request.Request(base + "/api2/json" + path, headers={"Authorization": "PVEAPIToken=" + token})
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the double's self-signed certificate
    with urllib.request.urlopen(request, timeout=10, context=context) as answer:  # noqa: S310
        return json.load(answer)["data"]


def _address(vmid):
    """The VM's IPv4 address as the guest agent reports it (what the role set ansible_host to)."""
    interfaces = _api("/nodes/pve/qemu/%s/agent/network-get-interfaces" % vmid)["result"]
    return [a["ip-address"] for i in interfaces if i["name"] != "lo" for a in i["ip-addresses"] if a["ip-address-type"] == "ipv4"][0]


def test_one_vm_per_host_with_the_asked_settings():
    vms = _vms()
    assert sorted(vms) == sorted(list(VMS) + list(FOUND))
    for name, (_vmid, rec) in vms.items():
        conf = rec["conf"]
        assert rec["running"], name
        # The collection's tag only on the VMs it made.
        wanted = ["kubelab", VMS[name]] if name in VMS else [FOUND[name]]
        assert sorted(conf["tags"].replace(";", ",").split(",")) == sorted(wanted), conf["tags"]
        assert (conf["cores"], str(conf["memory"])) == (2, "2048")
        assert conf["ciuser"] == "debian" and conf["ipconfig0"] == "ip=dhcp"
        assert str(conf["agent"]).split(",", maxsplit=1)[0] in ("1", "enabled=1")
        # The template's 2G disk grown to proxmox_vm_disk_size.
        assert "size=8G" in conf["scsi0"].split(","), conf["scsi0"]
        # net0 kept its model and the MAC the clone got, on the asked bridge.
        assert conf["net0"].startswith("virtio=") and "bridge=vmbr0" in conf["net0"]


def _ssh(vmid):
    """The VM as lab.yml reaches it: SSH as the cloud-init user at the agent's address, with the scenario's key."""
    return testinfra.get_host("ssh://debian@%s" % _address(vmid), ssh_identity_file=str(PVE_DIR / "id_ed25519"),
                              ssh_extra_args="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null")


def test_the_vms_answer_over_ssh_at_the_agents_address_with_the_cloud_init_key():
    for name, (vmid, _rec) in _vms().items():
        host = _ssh(vmid)
        assert host.check_output("hostname") == name
        assert host.run("sudo -n true").rc == 0


def test_every_vm_is_a_ready_node_of_the_cluster():
    """kubectl on the control-plane VM, over SSH: the kubectl double asks the API-server double the kubeadm double
    started there, whose nodes are those kubeadm init and join registered (Ready once the CNI's DaemonSet is applied)."""
    vmid, _rec = _vms()["pve-cp1"]
    listed = json.loads(_ssh(vmid).check_output("sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json"))
    ready = {node["metadata"]["name"]: [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"]
             for node in listed["items"]}
    assert ready == {name: ["True"] for name in list(VMS) + list(FOUND)}, ready


def test_the_apps_deployment_is_on_the_cluster():
    """app.yml's web app, read from the controller with the admin kubeconfig site.yml fetched, as app.yml reached it.
    Readiness is the API-server double's simulation: no container of the app runs."""
    api = dynamic.DynamicClient(config.new_client_from_config(config_file=str(KUBECONFIG)))
    deployments = api.resources.get(api_version="apps/v1", kind="Deployment")
    deployment = deployments.get(name="webapp-deployment", namespace="default").to_dict()
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "web-app:1.0"
    assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"] >= 1
    pods = api.resources.get(api_version="v1", kind="Pod").get(namespace="default", label_selector="app=webapp").to_dict()["items"]
    # Scheduled on workers only (the control plane keeps kubeadm's taint).
    assert pods and {pod["spec"]["nodeName"] for pod in pods} <= {"pve-w1", "pve-w2", "pve-old"}, pods


def test_every_vm_has_a_machine_id_of_its_own():
    template_id = _state()[TEMPLATE]["machine_id"]
    ids = {}
    for name, (vmid, _rec) in _vms().items():
        if name in FOUND:
            # Not made by the collection: its machine-id is left as it is (the template's, in the double).
            assert testinfra.get_host("docker://%s" % name).file("/etc/machine-id").content_string.strip() == template_id
            continue
        host = testinfra.get_host("docker://%s" % name)
        ids[name] = host.file("/etc/machine-id").content_string.strip()
        proof = host.file("/var/lib/kubelab/proxmox-vm-machine-id").content_string.split()
        assert proof == [vmid, ids[name]], (name, proof)
    assert len(set(ids.values())) == len(ids), ids
    assert template_id not in ids.values()


@pytest.fixture(scope="module")
def node_inventory(tmp_path_factory):
    """The scenario's group variables with each VM's agent address as ansible_host (what lab.yml set for its run)."""
    scenario = yaml.safe_load((PROJECT / "molecule" / "proxmox" / "molecule.yml").read_text(encoding="utf-8"))
    group_vars = yaml.safe_load(os.path.expandvars(yaml.safe_dump(scenario["provisioner"]["inventory"]["group_vars"])))
    hosts = {name: {"ansible_host": _address(vmid)} for name, (vmid, _rec) in _vms().items()}
    inventory = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                         "children": {"k8s_cluster": {"vars": group_vars["k8s_cluster"], "children": {
                             "kube_control_plane": {"hosts": {"pve-cp1": hosts["pve-cp1"]}},
                             "kube_workers": {"hosts": {name: hosts[name] for name in ("pve-w1", "pve-w2", "pve-old")}}}}}}}
    path = tmp_path_factory.mktemp("nodes") / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    return path


def _site_validate(inventory):
    env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".venv" / "collections"))
    proc = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "playbooks/site.yml", "-i",
                           str(inventory), "--tags", "kubelab_validate"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads(proc.stdout)
    plays = [play for play in report["plays"] if play["play"]["name"] in (
        "Check the inputs of every role before any host is contacted", "Check the nodes before any change")]
    assert len(plays) == 2, [play["play"]["name"] for play in report["plays"]]
    return [(task["task"]["name"], host, result) for play in plays for task in play["tasks"]
            for host, result in task["hosts"].items()]


def test_site_yml_refuses_clones_that_kept_the_templates_machine_id(node_inventory):
    """The trap the role removes: pve-w2 given pve-w1's machine-id again, site.yml's nodes check refuses, naming the fix."""
    worker1, worker2 = testinfra.get_host("docker://pve-w1"), testinfra.get_host("docker://pve-w2")
    own = worker2.file("/etc/machine-id").content_string
    shared = worker1.file("/etc/machine-id").content_string.strip()
    worker2.check_output("printf '%%s\\n' %s > /etc/machine-id", shared)
    try:
        results = _site_validate(node_inventory)
    finally:
        worker2.check_output("printf '%%s' %s > /etc/machine-id", own)
    refused = [r[2]["msg"] for r in results if r[0].startswith("Refuse cloned nodes") and r[2].get("failed")]
    assert refused and "pve-w1, pve-w2 share one /etc/machine-id" in refused[0], results
    assert "systemd-machine-id-setup" in refused[0]


def test_site_yml_checks_accept_the_vms(node_inventory):
    """site.yml's validation plays: the inputs, then the nodes check over SSH (machine-id, product_uuid, host name).

    Under --tags kubelab_validate ansible also runs the later plays' argument-spec checks (it tags them always), which
    fail without the facts the earlier roles set when they really run: only the two validation plays are read here.
    """
    results = _site_validate(node_inventory)
    assert not [r for r in results if r[2].get("failed") or r[2].get("unreachable")], results
    # Each node read over SSH at its agent address, then compared once on the controller (run_once).
    read = sorted(host for name, host, result in results if name.startswith("Read each node's identity") and not result.get("skipped"))
    assert read == sorted(list(VMS) + list(FOUND)), results
    assert [name for name, _host, result in results
            if name.startswith("Refuse cloned nodes") and not result.get("skipped") and not result.get("failed")], results
