"""Unit tests of the Proxmox VE API TEST DOUBLE (tests/doubles/pve/pve_api.py).

The double runs in the background on a free port with an API token, a ticket user and one cloud-init template, its
state in tmp_path (the fixtures pve_double and start_pve_double of tests/unit/conftest.py). The refusals are driven with proxmoxer, the client community.proxmox
uses; one test runs community.proxmox's modules through ansible-playbook; one test (Docker) makes the clone a
node container and finds its address through the guest-agent endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest
import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")

REPO = pathlib.Path(__file__).resolve().parents[3]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestDouble kubelab@test"


def refusal(call):
    with pytest.raises(ResourceException) as info:
        call()
    return info.value


def test_refusals_as_pve(pve_double):
    pve = pve_double.api.nodes("pve")
    bad = refusal(pve_double.client("wrong-secret").version.get)
    assert (bad.status_code, bad.content) == (401, "authentication failure")

    assert pve_double.wait(pve.qemu(9000).clone.post(newid=101, name="k8s-cp1")) == "OK"
    taken = refusal(lambda: pve.qemu(9000).clone.post(newid=101, name="again"))
    assert (taken.status_code, taken.content) == (500, "VM 101 already exists on node 'pve'")
    missing = refusal(lambda: pve.qemu(9999).clone.post(newid=102))
    assert missing.content == "unable to find configuration file for VM 9999 on node 'pve'"
    linked = refusal(lambda: pve.qemu(9000).clone.post(newid=103, storage="local-lvm"))
    assert linked.content == "parameter 'storage' not allowed for linked clones"
    nextid = refusal(lambda: pve_double.api.cluster.nextid.get(vmid=101))
    assert (nextid.status_code, nextid.errors) == (400, {"vmid": "VM 101 already exists"})
    assert pve_double.api.cluster.nextid.get() == "100"

    conf = pve.qemu(101).config.get()
    assert conf["scsi0"] == "local-lvm:base-9000-disk-0/vm-101-disk-0,size=2G"
    assert conf["ide2"] == "local-lvm:vm-101-cloudinit,media=cdrom" and "template" not in conf
    assert conf["net0"] != pve.qemu(9000).config.get()["net0"]
    raw = refusal(lambda: pve.qemu(101).config.put(sshkeys=KEY))
    assert raw.status_code == 400 and raw.errors["sshkeys"].startswith("invalid urlencoded string")
    stale = refusal(lambda: pve.qemu(101).config.put(cores=2, digest="0" * 40))
    assert stale.content == "checksum missmatch (file change by other user?)"
    unknown = refusal(lambda: pve.qemu(101).config.put(bogus=1))
    assert unknown.errors == {"bogus": "property is not defined in schema and the schema does not allow additional properties"}

    shrink = refusal(lambda: pve.qemu(101).resize.put(disk="scsi0", size="1G"))
    assert (shrink.status_code, shrink.content) == (500, "shrinking disks is not supported")
    cdrom = refusal(lambda: pve.qemu(101).resize.put(disk="ide2", size="+1G"))
    assert cdrom.content == "you can't resize a cdrom"
    assert pve_double.wait(pve.qemu(101).resize.put(disk="scsi0", size="+8G")) == "OK"
    assert pve.qemu(101).config.get()["scsi0"].endswith(",size=10G")

    agent = refusal(lambda: pve.qemu(101).agent("network-get-interfaces").get())
    assert agent.content == "VM 101 is not running"
    assert pve_double.wait(pve.qemu(101).status.start.post()) == "OK"
    assert pve.qemu(101).status.current.get()["status"] == "running"
    assert pve_double.wait(pve.qemu(101).status.start.post()) == "VM 101 already running"
    assert pve_double.wait(pve.qemu(9000).status.start.post()) == "you can't start a vm if it's a template"
    running = refusal(lambda: pve.qemu.delete(101))
    assert running.content == "VM 101 is running - destroy failed"
    assert pve_double.wait(pve.qemu(101).status.stop.post()) == "OK"
    assert pve_double.wait(pve.qemu.delete(101)) == "OK"
    gone = refusal(pve.qemu(101).config.get)
    assert gone.content == "Configuration file 'nodes/pve/qemu-server/101.conf' does not exist"


def test_ticket_auth_and_csrf(pve_double):
    url = "https://%s:%d/api2/json" % (pve_double.host, pve_double.port)
    client = ProxmoxAPI(pve_double.host, port=pve_double.port, user="root@pam", password="letmein", verify_ssl=False)
    assert client.nodes("pve").qemu(9000).clone.post(newid=150).startswith("UPID:pve:")
    login = requests.post(url + "/access/ticket", data={"username": "root@pam", "password": "letmein"}, verify=False)
    ticket = login.json()["data"]
    assert ticket["ticket"].startswith("PVE:root@pam:") and ticket["username"] == "root@pam"
    cookie = {"PVEAuthCookie": ticket["ticket"]}
    no_csrf = requests.post(url + "/nodes/pve/qemu/150/status/start", cookies=cookie, verify=False)
    assert (no_csrf.status_code, no_csrf.reason) == (401, "Permission denied - invalid csrf token")
    started = requests.post(url + "/nodes/pve/qemu/150/status/start", cookies=cookie, verify=False,
                            headers={"CSRFPreventionToken": ticket["CSRFPreventionToken"]})
    assert started.status_code == 200 and ":qmstart:150:root@pam:" in started.json()["data"]
    anonymous = requests.get(url + "/nodes", verify=False)
    assert (anonymous.status_code, anonymous.reason, anonymous.json()) == (401, "No ticket", {"data": None})
    wrong = requests.post(url + "/access/ticket", data={"username": "root@pam", "password": "nope"}, verify=False)
    assert (wrong.status_code, wrong.reason) == (401, "authentication failure")
    unknown = requests.get(url + "/nodes/pve/qemu/150/snapshot", headers={"Authorization": "PVEAPIToken=" + pve_double.token}, verify=False)
    assert unknown.status_code == 501 and unknown.reason.startswith("Method 'GET /nodes/pve/qemu/150/snapshot' not implemented")


def test_restart_keeps_vms(start_pve_double, tmp_path):
    first = start_pve_double(tmp_path / "state")
    first.wait(first.api.nodes("pve").qemu(9000).clone.post(newid=120, name="kept"))
    first.stop()
    second = start_pve_double(tmp_path / "state")
    names = {vm["vmid"]: vm["name"] for vm in second.api.cluster.resources.get(type="vm")}
    assert names == {9000: "debian12-ci", 120: "kept"}


def test_lxc_minimal(pve_double):
    pve = pve_double.api.nodes("pve")
    absent = refusal(lambda: pve.lxc.create(vmid=300, ostemplate="local:vztmpl/none.tar.zst"))
    assert absent.content == "volume 'local:vztmpl/none.tar.zst' does not exist"
    upid = pve.lxc.create(vmid=300, ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                          hostname="ct1", rootfs="local-lvm:4", net0="name=eth0,bridge=vmbr0,ip=dhcp")
    assert pve_double.wait(upid) == "OK" and ":vzcreate:300:" in upid
    assert pve.lxc(300).config.get()["rootfs"] == "local-lvm:vm-300-disk-0,size=4G"
    taken = refusal(lambda: pve.lxc.create(vmid=300, ostemplate="local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"))
    assert taken.content == "CT 300 already exists on node 'pve'"
    assert pve_double.wait(pve.lxc(300).status.start.post()) == "OK"
    assert pve.lxc(300).interfaces.get()[1]["inet"] == "192.0.2.48/24"
    assert refusal(lambda: pve.lxc.delete(300)).content == "CT 300 is running - destroy failed"
    assert pve_double.wait(pve.lxc(300).status.stop.post()) == "OK"
    assert pve_double.wait(pve.lxc.delete(300)) == "OK"
    assert [vm["vmid"] for vm in pve_double.api.cluster.resources.get(type="vm")] == [9000]


def test_lxc_as_community_proxmox_sends_it(pve_double):
    """What community.proxmox's proxmox module sends for an LXC guest: tags as a list (repeated form keys, which PVE joins
    with NUL), node and vmid again in the body of a config update, force on a running container's removal; and what PVE
    refuses a token: feature flags of a privileged container."""
    pve = pve_double.api.nodes("pve")
    ostemplate = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
    flags = refusal(lambda: pve.lxc.create(vmid=310, ostemplate=ostemplate, unprivileged=0, features="nesting=1,keyctl=1"))
    assert (flags.status_code, flags.content) == (
        403, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)")
    keyctl = refusal(lambda: pve.lxc.create(vmid=310, ostemplate=ostemplate, unprivileged=1, features="keyctl=1"))
    assert keyctl.content == "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)"
    assert pve_double.wait(pve.lxc.create(vmid=310, ostemplate=ostemplate, unprivileged=1, features="nesting=1")) == "OK"

    upid = pve.lxc.create(vmid=311, ostemplate=ostemplate, hostname="ct2", unprivileged=0, swap=0,
                          tags=["Kubelab", "k8s-worker", "kubelab"], rootfs="local-lvm:8")
    assert pve_double.wait(upid) == "OK"
    conf = pve.lxc(311).config.get()
    assert (conf["tags"], conf["unprivileged"], conf["swap"]) == ("k8s-worker;kubelab", 0, 0)
    assert pve.lxc(311).config.put(vmid=311, node="pve", cores=2, tags=["b", "a"]) is None
    assert pve.lxc(311).config.get()["tags"] == "a;b"
    twice = refusal(lambda: pve.lxc(311).config.put(vmid=312, cores=2))
    assert twice.errors == {"vmid": "duplicate parameter (already defined in URI) with conflicting values!"}
    privileged = refusal(lambda: pve.lxc(311).config.put(features="nesting=1"))
    assert privileged.status_code == 403

    assert pve_double.wait(pve.lxc(311).status.start.post()) == "OK"
    assert refusal(lambda: pve.lxc.delete(311)).content == "CT 311 is running - destroy failed"
    assert pve_double.wait(pve.lxc.delete(311, force=1, purge=1)) == "OK"
    assert sorted(vm["vmid"] for vm in pve_double.api.cluster.resources.get(type="vm")) == [310, 9000]


PLAYBOOK = """
- name: Clone, configure, grow, start and read a VM through community.proxmox (test pve_double)
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: {python}
    api: &api
      api_host: {host}
      api_port: {port}
      api_user: root@pam
      api_token_id: kubelab
      api_token_secret: {secret}
      validate_certs: false
  tasks:
    - name: Clone the template
      community.proxmox.proxmox_kvm:
        <<: *api
        node: pve
        clone: debian12-ci
        newid: 201
        name: k8s-cp1
        full: true
        storage: local-lvm
        timeout: 30
      register: clone

    - name: Cloud-init and size, in a second call (community.proxmox#115)
      community.proxmox.proxmox_kvm:
        <<: *api
        node: pve
        vmid: 201
        update: true
        ciuser: kube
        sshkeys: "{key}"
        ipconfig:
          ipconfig0: ip=dhcp
        nameservers: [192.0.2.53]
        searchdomains: [lab.test]
        cores: 2
        memory: 4096
      when: clone is changed

    - name: Grow the disk
      community.proxmox.proxmox_disk:
        <<: *api
        vmid: 201
        disk: scsi0
        size: 20G
        state: resized

    - name: Start it
      community.proxmox.proxmox_kvm:
        <<: *api
        vmid: 201
        state: started

    - name: Read its addresses through the guest agent
      community.proxmox.proxmox_vm_info:
        <<: *api
        vmid: 201
        network: true
      register: info
      until: info is succeeded
      retries: 20
      delay: 1

    - name: The agent answered with eth0
      ansible.builtin.assert:
        that:
          - (info.proxmox_vms[0].network | selectattr('name', 'equalto', 'eth0') | first)['ip-addresses'][0]['ip-address'] is match('192\\\\.0\\\\.2\\\\.')
"""


def test_community_proxmox_playbook(pve_double, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(PLAYBOOK.format(python=sys.executable, host=pve_double.host, port=pve_double.port,
                                    secret=pve_double.token.split("=", 1)[1], key=KEY))

    def run():
        done = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", str(play)],
                              capture_output=True, text=True, env=dict(os.environ, ANSIBLE_NOCOLOR="1"), timeout=300,
                              check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return int(re.search(r"localhost\s*:.*changed=(\d+)", done.stdout).group(1))

    assert run() == 4
    conf = pve_double.api.nodes("pve").qemu(201).config.get()
    assert conf["ciuser"] == "kube" and urllib.parse.unquote(conf["sshkeys"]) == KEY
    assert (conf["cores"], conf["memory"], conf["nameserver"], conf["searchdomain"]) == (2, "4096", "192.0.2.53", "lab.test")
    assert conf["scsi0"] == "local-lvm:vm-201-disk-0,size=20G"
    assert pve_double.api.nodes("pve").qemu(201).status.current.get()["status"] == "running"
    assert run() == 0


def docker_ok():
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not docker_ok(), reason="`docker info` failed: no Docker engine on this machine (CI has one, "
                                            "scripts/ensure-docker.sh starts it)")
def test_docker_backed_clone(start_pve_double, tmp_path):
    image = subprocess.run([str(REPO / "scripts" / "build-node-image.sh"), "--print-name"], capture_output=True,
                           text=True, check=True).stdout.strip()
    network = "kubelab-pve-test-" + uuid.uuid4().hex[:8]
    name = "pve-test-" + uuid.uuid4().hex[:8]
    state = tmp_path / "state"
    label = "label=kubelab.pve-double=%s" % state
    subprocess.run(["docker", "network", "create", network], capture_output=True, check=True)
    dbl = None
    try:
        dbl = start_pve_double(state, ["--docker-image", image, "--docker-network", network])
        pve = dbl.api.nodes("pve")
        assert dbl.wait(pve.qemu(9000).clone.post(newid=401, name=name, full=1)) == "OK"
        ids = subprocess.run(["docker", "ps", "-a", "-q", "--filter", label], capture_output=True, text=True, check=False).stdout.split()
        assert len(ids) == 1
        assert refusal(lambda: pve.qemu(401).agent("network-get-interfaces").get()).content == "VM 401 is not running"
        pve.qemu(401).config.put(ciuser="kube", sshkeys=urllib.parse.quote(KEY, safe=""))
        assert dbl.wait(pve.qemu(401).status.start.post()) == "OK"
        addresses = None
        for _i in range(60):
            try:
                addresses = pve.qemu(401).agent("network-get-interfaces").get()["result"]
                break
            except ResourceException as exc:
                assert exc.content == "QEMU guest agent is not running"
                time.sleep(0.5)
        eth0 = [i for i in addresses if i["name"] == "eth0"][0]
        inspect = json.loads(subprocess.run(["docker", "inspect", name], capture_output=True, text=True, check=True).stdout)[0]
        net = inspect["NetworkSettings"]["Networks"][network]
        assert eth0["ip-addresses"][0] == {"ip-address-type": "ipv4", "ip-address": net["IPAddress"], "prefix": net["IPPrefixLen"]}
        assert eth0["hardware-address"] == net["MacAddress"]

        def inside(cmd):
            return subprocess.run(["docker", "exec", name, "sh", "-c", cmd], capture_output=True, text=True, check=False).stdout.strip()
        assert inside("hostname") == name
        assert inside("cat /home/kube/.ssh/authorized_keys") == KEY
        assert inside("sudo -n -u kube sudo -n true && echo ok") == "ok"
        template_id = json.loads((state / "pve-state.json").read_text())["vms"]["9000"]["machine_id"]
        assert inside("cat /etc/machine-id") == template_id

        assert refusal(lambda: pve.qemu.delete(401)).content == "VM 401 is running - destroy failed"
        assert dbl.wait(pve.qemu(401).status.stop.post()) == "OK"
        assert dbl.wait(pve.qemu.delete(401)) == "OK"
        assert subprocess.run(["docker", "ps", "-a", "-q", "--filter", label], capture_output=True, text=True, check=True).stdout == ""
    finally:
        if dbl:
            dbl.stop()
        left = subprocess.run(["docker", "ps", "-a", "-q", "--filter", label], capture_output=True, text=True, check=False).stdout.split()
        if left:
            subprocess.run(["docker", "rm", "-f", "-v"] + left, capture_output=True, check=False)
        subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)
