"""Make `ansible_collections.kubelab.cluster` importable from this checkout; the Proxmox VE API double's fixtures.

`make setup` links the checkout at .venv/collections/ansible_collections/kubelab/cluster;
the collection loader from ansible-core then resolves our plugins and the bundled
collections of the `ansible` package the same way ansible-playbook does.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / ".venv" / "collections"

_AnsibleCollectionFinder(paths=[str(COLLECTIONS_PATH)], scan_sys_paths=True)._install()


class PveDouble:
    """The Proxmox VE API TEST DOUBLE (tests/doubles/pve/pve_api.py) in the background on a free port, its state in
    state_dir: one API token (token), a ticket user root@pam with the password letmein, the cloud-init template
    9000 (debian12-ci), the guest agent answering 1 s after a start; extra: more options of the double."""

    token = "root@pam!kubelab=0f1e2d3c-test-double"

    def __init__(self, state_dir, extra=()):
        self.state_dir = state_dir
        self.pid_file = state_dir / "pve.pid"
        self.stopped = False
        done = subprocess.run([sys.executable, str(REPO_ROOT / "tests" / "doubles" / "pve" / "pve_api.py"), "--listen",
                               "127.0.0.1:0", "--state-dir", str(state_dir), "--token", self.token, "--password",
                               "root@pam=letmein", "--template", "9000=debian12-ci", "--agent-delay", "1", "--background",
                               "--pid-file", str(self.pid_file), "--log-file", str(state_dir / "pve.log")] + list(extra),
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr + (state_dir / "pve.log").read_text()
        self.host, port = (state_dir / "address").read_text().strip().split(":")
        self.port = int(port)
        self.api = self.client()

    def client(self, secret=None):
        """proxmoxer, the client community.proxmox uses, with the token (or another secret for it)."""
        from proxmoxer import ProxmoxAPI  # pylint: disable=import-outside-toplevel

        return ProxmoxAPI(self.host, port=self.port, user="root@pam", token_name="kubelab",
                          token_value=secret or self.token.split("=", 1)[1], verify_ssl=False)

    def wait(self, upid, node="pve"):
        """The exit status of a task, once it stopped."""
        deadline = time.time() + 90
        while time.time() < deadline:
            status = self.api.nodes(node).tasks(upid).status.get()
            if status["status"] == "stopped":
                return status["exitstatus"]
            time.sleep(0.1)
        raise AssertionError("task %s did not stop" % upid)

    def stop(self):
        if self.stopped:
            return
        self.stopped = True
        pid = int(self.pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        for _i in range(50):
            if not self.pid_file.exists():
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def start_pve_double():
    """start(state_dir, extra=()): a PveDouble; every one started is stopped after the test."""
    started = []

    def start(state_dir, extra=()):
        started.append(PveDouble(state_dir, extra))
        return started[-1]

    yield start
    for dbl in started:
        dbl.stop()


@pytest.fixture
def pve_double(start_pve_double, tmp_path):
    """A PveDouble with its state in tmp_path/state, stopped after the test."""
    return start_pve_double(tmp_path / "state")
