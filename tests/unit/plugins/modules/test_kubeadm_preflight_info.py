"""kubelab.cluster.kubeadm_preflight_info with run_command mocked."""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_preflight_info

from ..conftest import read_fixture


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    parent = tmp_path / "etc-kubernetes-tmp"
    monkeypatch.setattr(kubeadm_preflight_info, "DRY_RUN_PARENT", str(parent))
    return parent


def test_init_role_is_a_dry_run_and_never_fails_on_preflight_errors(scratch, run_module, tmp_path):
    config = tmp_path / "kubeadm.yaml"
    config.write_text("kind: InitConfiguration\n")
    result, failed, runner = run_module(kubeadm_preflight_info, {"role": "init", "config": str(config)},
                                        [("init phase preflight", (1, "", read_fixture("preflight_v1.20_seed_proxmox.txt")))],
                                        check_mode=True)
    assert not failed and result["changed"] is False
    assert result["rc"] == 1 and result["failed"] is False, "a non-zero rc alone would make Ansible fail the task"
    assert runner.kubeadm_calls("init")[0] == [
        "/usr/bin/kubeadm", "init", "phase", "preflight", "--dry-run", "--config", str(config)]
    assert [item["check"] for item in result["preflight"]["errors"]] == ["Swap", "SystemVerification"]
    assert result["preflight"]["failed"] is True
    assert result["role"] == "init" and result["kubeadm_version"] == "v1.36.1"


def test_join_role_uses_placeholder_discovery(scratch, run_module):
    result, failed, runner = run_module(kubeadm_preflight_info, {"role": "join", "ignore_preflight_errors": ["Swap"]},
                                        [("join phase preflight", (0, "[preflight] Running pre-flight checks\n", ""))])
    assert not failed and result["preflight"] == {"errors": [], "warnings": [], "failed": False}
    assert runner.kubeadm_calls("join")[0][1:] == [
        "join", "phase", "preflight", "--dry-run", "192.0.2.1:6443", "--token", "abcdef.0123456789abcdef",
        "--discovery-token-unsafe-skip-ca-verification", "--ignore-preflight-errors=Swap"]


def test_dry_run_scratch_directories_are_removed(scratch, run_module):
    scratch.mkdir()
    (scratch / "kubeadm-init-dryrun111").mkdir()

    def answer(_argv):
        (scratch / "kubeadm-init-dryrun222").mkdir()
        return 0, "[preflight] Running pre-flight checks\n[preflight] Would pull the required images (like 'kubeadm config images pull')\n", ""

    run_module(kubeadm_preflight_info, {}, [("init phase preflight", answer)])
    assert sorted(path.name for path in scratch.iterdir()) == ["kubeadm-init-dryrun111"]


def test_scratch_parent_created_by_kubeadm_is_removed(scratch, run_module):
    def answer(_argv):
        (scratch / "kubeadm-join-dryrun9").mkdir(parents=True)
        return 0, "", ""

    run_module(kubeadm_preflight_info, {"role": "join"}, [("join phase preflight", answer)])
    assert not scratch.exists()


def test_non_preflight_failure_fails_and_timeout_warns(scratch, run_module):
    result, failed, _runner = run_module(kubeadm_preflight_info, {}, [("init phase preflight", (1, "", "unknown flag: --dry-run\n"))])
    assert failed and "failed before its checks" in result["msg"]
    result, failed, _runner = run_module(kubeadm_preflight_info, {"timeout": 3}, [("init phase preflight", (124, "", ""))])
    assert not failed
    assert any("within 3 seconds" in warning for warning in result["warnings"])


@pytest.mark.parametrize("args,text", [
    ({"config": "/nonexistent.yaml"}, "does not exist"),
    ({"ignore_preflight_errors": ["all"]}, "'all'"),
    ({"timeout": -1}, "positive"),
])
def test_bad_input(scratch, run_module, args, text):
    result, failed, runner = run_module(kubeadm_preflight_info, args)
    assert failed and text in result["msg"] and runner.calls == []
