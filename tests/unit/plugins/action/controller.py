"""Run a controller-only action plugin of the collection the way a task would, and prove it contacts nothing."""

from __future__ import annotations

from unittest import mock


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
