"""Shared helpers of the cluster scenario's verify step.

The nodes are reached through testinfra's docker backend by container name, so each
test names the node it checks. Playbooks are run with the scenario's own inventory
and the ansible.posix.json callback, so tests read per-host task results as data.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import subprocess

import pytest
import testinfra

PROJECT = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).resolve().parents[3]))
CONTROL_PLANE = "cl-cp1"
WORKERS = ("cl-w1", "cl-w2")
NODES = (CONTROL_PLANE, *WORKERS)
EVENT_LOG = "/var/log/kubelab-doubles/kubeadm.log"
REAL_BINARIES = bool(os.environ.get("KUBELAB_TEST_KUBE_BIN_DIR"))
# Only the kubeadm test double keeps an event log and a state file; with real binaries the checks
# that read them are skipped, and the tests that can use real evidence (kubectl, files) do.
DOUBLES_ONLY = "reads the kubeadm test double's event log, which real kubeadm does not keep"


def node(name: str):
    return testinfra.get_host(f"docker://{name}")


@pytest.fixture(scope="session")
def control_plane():
    return node(CONTROL_PLANE)


def inventory() -> str:
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path:
        ephemeral = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
        path = os.path.join(ephemeral, "inventory", "ansible_inventory.yml")
    return os.path.dirname(path)


def kubeconfig_dest() -> pathlib.Path:
    """Where control_plane's default puts the admin kubeconfig: artifacts/ beside the inventory."""
    return pathlib.Path(inventory()) / "artifacts" / "kubelab-molecule-admin.conf"


def _ansible_playbook(playbook: str, args: tuple, callback: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(PROJECT / ".venv" / "collections"),
        "ANSIBLE_ROLES_PATH": str(PROJECT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_PIPELINING": "true",
        "MOLECULE_PROJECT_DIRECTORY": str(PROJECT),
    })
    return subprocess.run(
        ["ansible-playbook", "-i", inventory(), str(PROJECT / "playbooks" / playbook), *args],
        capture_output=True, text=True, env=env, check=False, timeout=900,
    )


def run_playbook_log(playbook: str, *args: str) -> tuple[int, str]:
    """Run a playbook with the default callback, as a user's terminal or a CI job shows it; return (rc, log)."""
    proc = _ansible_playbook(playbook, args, "ansible.builtin.default")
    return proc.returncode, proc.stdout + proc.stderr


def run_playbook(playbook: str, *args: str) -> tuple[int, dict, str]:
    """Run a playbook of the collection against the scenario's nodes; return (rc, json report, stderr)."""
    proc = _ansible_playbook(playbook, args, "ansible.posix.json")
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        report = {}
    return proc.returncode, report, proc.stderr + proc.stdout[-4000:]


def host_results(report: dict, host: str) -> list[tuple[str, dict]]:
    """(task name, result) for every task that ran on host, in order."""
    found = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            if host in task.get("hosts", {}):
                found.append((task["task"]["name"], task["hosts"][host]))
    return found


def doctor_tables(report: dict) -> dict[str, dict[str, tuple[str, str]]]:
    """preflight.yml's tables: node -> check -> (result, detail), parsed from the printed lines."""
    printed = [result["msg"] for play in report.get("plays", []) for task in play.get("tasks", [])
               if task["task"]["name"] == "Print one table per node"
               for result in task["hosts"].values() if isinstance(result.get("msg"), list)]
    tables, current = {}, None
    for line in printed[-1] if printed else []:
        if line and not line.startswith(" "):
            current = tables.setdefault(line.split()[0], {})
        elif line.strip() and current is not None and not line.split()[0] == "CHECK":
            parts = re.split(r"\s{2,}", line.strip(), maxsplit=2)
            current[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    return tables


def changed_total(report: dict) -> int:
    return sum(stats.get("changed", 0) for stats in report.get("stats", {}).values())


def events(host, since_reset: bool = True) -> list[dict]:
    """Events the kubeadm test double logged on host (init, join, token-create, reset)."""
    text = host.file(EVENT_LOG).content_string if host.file(EVENT_LOG).exists else ""
    items = [json.loads(line) for line in text.splitlines() if line.strip()]
    if since_reset:
        resets = [i for i, item in enumerate(items) if item["event"] == "reset"]
        items = items[resets[-1] + 1:] if resets else items
    return items


def ca_hash(host, path: str = "/etc/kubernetes/pki/ca.crt") -> str:
    """SPKI sha256 of a CA certificate, computed with openssl independently of kubeadm."""
    cmd = bash(host, f"set -o pipefail; openssl x509 -in {shlex.quote(path)} -pubkey -noout"
                     " | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1")
    assert cmd.rc == 0, cmd.stderr
    return "sha256:" + cmd.stdout.strip()


def bash(host, script: str):
    """Run a bash script on host (testinfra's run uses /bin/sh)."""
    return host.run("bash -c " + shlex.quote(script))


# The CNI's configuration and links, as flannel leaves them on a node (the doubles make none; a real flannel may
# have made the links already, in real-binaries mode).
PLANT_CNI = r"""
set -euo pipefail
mkdir -p /etc/cni/net.d
echo '{"name": "cbr0", "cniVersion": "0.3.1", "plugins": [{"type": "flannel"}]}' > /etc/cni/net.d/10-flannel.conflist
ip link show cni0 >/dev/null 2>&1 || ip link add cni0 type bridge
ip link show flannel.1 >/dev/null 2>&1 || ip link add flannel.1 type bridge
"""


def plant_cni(host, more: str = "") -> None:
    """Leave on host what a CNI leaves (PLANT_CNI), then run the bash lines ``more``, for a reset to clean up."""
    planted = bash(host, PLANT_CNI + more)
    assert planted.rc == 0, planted.stderr
