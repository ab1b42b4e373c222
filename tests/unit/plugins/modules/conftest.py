"""Harness for module tests: module args in, run_command mocked, exit/fail captured."""

from __future__ import annotations

import pytest
from ansible.module_utils import _internal, basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of exit_json / fail_json; carries the result."""

    def __init__(self, result, failed):
        super().__init__(result)
        self.result = result
        self.failed = failed


class FakeRunner:
    """Stands in for AnsibleModule.run_command; answers by kubeadm subcommand."""

    def __init__(self, responses):
        self.responses = responses
        self.calls = []

    def __call__(self, module, argv, **kwargs):
        argv = list(argv)
        self.calls.append(argv)
        start = next((i for i, word in enumerate(argv) if word.endswith("kubeadm")), 0)
        words = " ".join(argv[start + 1:])
        for prefix, answer in self.responses:
            if words.startswith(prefix):
                return answer(argv) if callable(answer) else answer
        raise AssertionError("unexpected command: %r" % argv)

    def kubeadm_calls(self, sub=""):
        """The kubeadm argvs (timeout wrapper removed) whose subcommand starts with ``sub``."""
        found = []
        for argv in self.calls:
            start = next(i for i, word in enumerate(argv) if word.endswith("kubeadm"))
            if " ".join(argv[start + 1:]).startswith(sub):
                found.append(argv[start:])
        return found


VERSION = ("version -o short", (0, "v1.36.1\n", ""))


@pytest.fixture
def run_module(monkeypatch):
    """Run ``module.main()`` with ``args``; return (result, failed, runner)."""

    def _run(module, args, responses=(), check_mode=False, diff=False):
        runner = FakeRunner(list(responses) + [VERSION])

        def _run_command(self, argv, **kwargs):
            return runner(self, argv, **kwargs)

        monkeypatch.setattr(basic.AnsibleModule, "run_command", _run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                            lambda self, name, required=False, opt_dirs=None: "/usr/bin/" + name)
        result, failed = call_main(monkeypatch, module, args, check_mode, diff)
        return result, failed, runner

    return _run


def call_main(monkeypatch, module, args, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args`` (run_command already patched); return (result, failed)."""

    def _exit(self, **result):
        raise ModuleExit(result, False)

    def _fail(self, msg, **result):
        result["msg"] = msg
        raise ModuleExit(result, True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)
    # Module side: warnings go to the result, not to the controller's Display.
    monkeypatch.setattr(_internal, "is_controller", False)
    monkeypatch.setattr(module_warnings, "_global_warnings", {})
    with patch_module_args(dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)):
        with pytest.raises(ModuleExit) as caught:
            module.main()
    result = dict(caught.value.result, warnings=list(module_warnings.get_warning_messages()))
    return result, caught.value.failed


def assert_no_secrets(result, *secrets):
    """None of ``secrets`` appears in msg, stdout, stderr, cmd or warnings."""
    for key in ("msg", "stdout", "stderr", "cmd"):
        value = result.get(key) or ""
        for secret in secrets:
            assert secret not in value, "%s leaks a secret" % key
    for warning in result.get("warnings", []):
        for secret in secrets:
            assert secret not in warning
