"""Run a controller-only action plugin of the collection the way a task would, and prove it contacts nothing."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from unittest import mock

REPO = pathlib.Path(__file__).resolve().parents[4]


def run_on_controller(action_module, name, args, check_mode=False):
    """The result of ``action_module``'s ActionModule run as ``kubelab.cluster.<name>`` with ``args``."""
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = False
    task.async_val = 0
    task.action = "kubelab.cluster." + name
    connection = mock.MagicMock()
    plugin = action_module.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())
    plugin._execute_module = mock.MagicMock(side_effect=AssertionError("%s must not run a module" % name))
    result = plugin.run(task_vars={})
    # Nothing goes to a host: no command, no file transfer, no temporary directory.
    assert connection.exec_command.call_count == 0 and connection.put_file.call_count == 0
    return result


def run_playbook_in_check_mode(tmp_path, tasks):
    """``ansible-playbook --check`` of a play of ``tasks`` on localhost, the collection resolved from this checkout."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_LOCALHOST_WARNING="false")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "--check", str(playbook)], capture_output=True, text=True, env=env, cwd=str(REPO), check=False)
