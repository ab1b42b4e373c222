"""playbooks/app.yml finds the admin kubeconfig where the control_plane role fetched it, for any cluster name.

The shipped Proxmox inventory names its cluster proxmox-lab, so site.yml leaves
artifacts/proxmox-lab-admin.conf beside it. The API-server double writes its kubeconfig to exactly that
path; app.yml then runs in check mode (server-side dry runs) from the controller against it, limited to
the controller and the control plane host, which no task contacts (the image play on the workers is left
out by --limit). Before the fix the app role looked for artifacts/kubelab-admin.conf and stopped.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
DOUBLE = REPO / "tests" / "doubles" / "apiserver" / "apiserver.py"
BIN = pathlib.Path(sys.executable).parent


@pytest.fixture
def lab(tmp_path):
    """A copy of inventory/proxmox and the double, its kubeconfig where control_plane would fetch it."""
    inventory = tmp_path / "proxmox"
    shutil.copytree(REPO / "inventory" / "proxmox", inventory)
    kubeconfig = inventory / "artifacts" / "proxmox-lab-admin.conf"
    kubeconfig.parent.mkdir(mode=0o700)
    pid_file = tmp_path / "apiserver.pid"
    subprocess.run([sys.executable, str(DOUBLE), "--listen", "127.0.0.1:0", "--kubeconfig", str(kubeconfig),
                    "--nodes", "k8s-worker1=127.0.0.1", "--time-scale", "0.05", "--background",
                    "--pid-file", str(pid_file), "--log-file", str(tmp_path / "apiserver.log")], check=True, timeout=60)
    try:
        yield inventory
    finally:
        if pid_file.exists():
            os.kill(int(pid_file.read_text().strip()), 15)


def _app_playbook(inventory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
               ANSIBLE_ROLES_PATH=str(REPO / "roles"), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(BIN / "ansible-playbook"), str(REPO / "playbooks" / "app.yml"), "-i", str(inventory / "hosts.yml"),
                           # The playbook's inputs check of every role is tested on its own (tests/unit/playbooks).
                           "--limit", "localhost,k8s-master", "--skip-tags", "kubelab_validate", "--check",
                           "-e", "kubelab_app_frontend=false", *extra],
                          capture_output=True, text=True, env=env, cwd=str(REPO), check=False, timeout=600)


def test_the_shipped_inventory_names_another_cluster():
    # What makes this test meaningful: the default name would hide the bug.
    text = (REPO / "inventory" / "proxmox" / "group_vars" / "k8s_cluster.yml").read_text(encoding="utf-8")
    assert "control_plane_cluster_name: proxmox-lab" in text


def test_app_yml_uses_the_kubeconfig_of_a_cluster_not_named_kubelab(lab):
    run = _app_playbook(lab)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "is not a file on the controller" not in output
    # The objects went to the API server that kubeconfig names, as server-side dry runs.
    log = (lab.parent / "apiserver.log").read_text(encoding="utf-8")
    assert '"POST /api/v1/namespaces/default/services?dryRun=All' in log, log
    assert '"POST /apis/apps/v1/namespaces/default/deployments?dryRun=All' in log, log


def test_an_app_kubeconfig_given_wins(lab, tmp_path):
    run = _app_playbook(lab, "-e", "app_kubeconfig=%s" % (tmp_path / "elsewhere.conf"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "app_kubeconfig = \"%s\" is not a file on the controller" % (tmp_path / "elsewhere.conf") in output, output
