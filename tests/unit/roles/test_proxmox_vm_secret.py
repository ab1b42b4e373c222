"""The proxmox_vm role at -vvv against the Proxmox VE API TEST DOUBLE: the API token's secret never reaches the output.

The role reads the secret where a user keeps it (PROXMOX_TOKEN_SECRET in the environment); every task that carries it
is no_log. The double's VMs are state only here (no Docker): the guest agent reports a documentation address, and
the machine-id step (SSH into the VM) is switched off.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[3]
PLAY = """
- name: Make one VM with the role, at -vvv
  hosts: vm1
  gather_facts: false
  roles:
    - role: kubelab.cluster.proxmox_vm
      vars:
        proxmox_vm_node: pve
        proxmox_vm_template: "9000"
        proxmox_vm_validate_certs: false
        proxmox_vm_regenerate_machine_id: false
        proxmox_vm_ssh_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheTestDouble kubelab@test"]
        proxmox_vm_address_timeout: 60
"""


def test_the_token_secret_stays_out_of_a_vvv_run(pve_double, tmp_path):
    user_token, secret = pve_double.token.split("=", 1)
    user, token_id = user_token.split("!")
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    (tmp_path / "hosts.yml").write_text(
        "all:\n  children:\n    k8s_cluster:\n      children:\n        kube_workers:\n          hosts:\n"
        "            vm1: {ansible_connection: local, ansible_python_interpreter: %s}\n" % sys.executable, encoding="utf-8")
    env = dict(os.environ, PROXMOX_HOST=pve_double.host, PROXMOX_USER=user, PROXMOX_TOKEN_ID=token_id, PROXMOX_TOKEN_SECRET=secret,
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
               ANSIBLE_NOCOLOR="1")

    def run():
        done = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-vvv", "-i", str(tmp_path / "hosts.yml"),
                               "-e", "proxmox_vm_api_port=%d" % pve_double.port, str(tmp_path / "play.yml")],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-4000:]
        assert secret not in output
        return output

    output = run()
    # The run did use the token: the VM exists, and the role kept the agent's address as ansible_host.
    [vm] = [vm for vm in pve_double.api.cluster.resources.get(type="vm") if vm.get("name") == "vm1"]
    assert vm["status"] == "running"
    assert re.search(r'ansible_host"?: "?192\.0\.2\.[0-9]+', output)
    # A rerun (nothing to change) keeps it out too.
    assert "changed=0" in run().rsplit("PLAY RECAP", 1)[-1]
