"""kubelab.cluster.kubeadm_init with run_command mocked."""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_init

from ..conftest import read_fixture
from .conftest import assert_no_secrets

TOKEN = "vo8v1g.x0mo3351gfnduc9t"
KEY = "9ed5ccf5932d2f28b5170b210be69935a54088d149b94c222ab5ee2bee27d3bc"


class FakeCluster:
    """Stands in for read_init_state (the HTTPS reads of the API server); records each call."""

    def __init__(self):
        self.answer = ("complete", [], "kubeadm-config, cluster-info and its RBAC Role exist")
        self.calls = []

    def __call__(self, text, wait_seconds):
        self.calls.append((text, wait_seconds))
        return self.answer + ("https://192.0.2.10:6443",)


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster()
    monkeypatch.setattr(kubeadm_init, "read_init_state", fake)
    return fake


@pytest.fixture
def node(tmp_path, monkeypatch, cluster):
    """A node with a kubeadm config and no cluster yet (paths redirected into tmp_path)."""
    monkeypatch.setattr(kubeadm_init, "ADMIN_CONF", str(tmp_path / "admin.conf"))
    monkeypatch.setattr(kubeadm_init, "KUBELET_CONFIG", str(tmp_path / "config.yaml"))
    config = tmp_path / "kubeadm.yaml"
    config.write_text("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n")
    return tmp_path


def test_init_runs_kubeadm_with_the_expected_argv_and_returns_join_data(node, run_module):
    output = read_fixture("init_v1.31_upload_certs.txt")
    result, failed, runner = run_module(kubeadm_init, {
        "config": str(node / "kubeadm.yaml"), "upload_certs": True, "ignore_preflight_errors": ["NumCPU", "Mem"],
    }, [("init ", (0, output, ""))])
    assert not failed and result["changed"] is True and result["initialized"] is True
    (wrapped,) = [argv for argv in runner.calls if "init" in argv]
    assert wrapped == ["/usr/bin/timeout", "--kill-after=10", "600s", "/usr/bin/kubeadm", "init", "--config",
                       str(node / "kubeadm.yaml"), "--upload-certs", "--ignore-preflight-errors=NumCPU,Mem"]
    assert result["join"] == {
        "api_server_endpoint": "k8s-control.pve1.lan:6443", "token_id": "vo8v1g", "control_plane": False,
        "discovery_token_ca_cert_hashes": [result["join"]["discovery_token_ca_cert_hashes"][0]],
        "certificate_key_printed": False,
    }
    assert result["control_plane_join"]["control_plane"] is True
    assert result["control_plane_join"]["certificate_key_printed"] is True
    assert result["kubeadm_version"] == "v1.36.1"
    assert_no_secrets(result, TOKEN, KEY)
    assert "vo8v1g." in result["stdout"], "the masked output is still returned"


@pytest.mark.parametrize("fixture", ["init_v1.31_upload_certs.txt", "init_v1.34_worker_join.txt"])
def test_no_secret_anywhere_in_the_result(node, run_module, fixture):
    """A -v log prints the whole result: neither the token's secret half nor a certificate key may be in it."""
    output = read_fixture(fixture)
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml"), "upload_certs": True},
                                         [("init ", (0, output, ""))])
    assert not failed and result["join"]["token_id"]
    printed = json.dumps(result)
    assert not re.search(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b", printed), "a bootstrap token is in the result"
    for secret in re.findall(r"\b[a-z0-9]{6}\.([a-z0-9]{16})\b", output) + re.findall(r"\b[0-9a-f]{64}\b", output):
        if "sha256:" + secret not in output:  # CA pins are public
            assert secret not in printed


def test_initialized_node_runs_nothing_and_is_unchanged(node, run_module, cluster):
    (node / "admin.conf").write_text("admin kubeconfig")
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml"), "api_timeout": 7})
    assert not failed and result["changed"] is False and result["initialized"] is True
    assert result["init_state"] == "complete" and result["join"] is None
    assert runner.kubeadm_calls("init") == []
    assert cluster.calls == [("admin kubeconfig", 7)], "the cluster, not the files, decides"


def test_without_admin_conf_the_cluster_is_not_asked(node, run_module, cluster):
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")},
                                        [("init ", (0, read_fixture("init_v1.34_worker_join.txt"), ""))])
    assert not failed and result["init_state"] == "absent" and result["changed"] is True
    assert cluster.calls == []
    assert not any("--skip-phases" in word for word in runner.kubeadm_calls("init")[0])


@pytest.mark.parametrize("answer,kubelet_configured,missing", [
    (("partial", ["upload-config", "bootstrap-token"], "kubeadm-config missing, cluster-info missing"), True,
     "upload-config, bootstrap-token"),
    (("partial", ["upload-config", "bootstrap-token"], "kubeadm-config forbidden"), True, "upload-config"),
    (("unreachable", [], "the API server did not answer"), False, "kubelet-start"),
])
def test_a_half_done_init_is_finished_without_preflight(node, run_module, cluster, answer, kubelet_configured, missing):
    (node / "admin.conf").write_text("admin kubeconfig")
    if kubelet_configured:
        (node / "config.yaml").write_text("kind: KubeletConfiguration\n")
    cluster.answer = answer
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")},
                                        [("init ", (0, read_fixture("init_v1.34_worker_join.txt"), ""))])
    assert not failed and result["changed"] is True and result["initialized"] is True
    assert result["init_state"] == "partial"
    (argv,) = runner.kubeadm_calls("init")
    assert argv[-1] == "--skip-phases=preflight" and argv[1:4] == ["init", "--config", str(node / "kubeadm.yaml")]
    assert any("did not finish" in w and missing in w for w in result["warnings"]), result["warnings"]
    assert result["join"]["api_server_endpoint"] == "192.168.3.100:6443"


def test_a_half_done_init_in_check_mode_is_reported_not_run(node, run_module, cluster):
    (node / "admin.conf").write_text("admin kubeconfig")
    cluster.answer = ("partial", ["bootstrap-token"], "cluster-info missing")
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")}, check_mode=True, diff=True)
    assert not failed and result["changed"] is True and runner.kubeadm_calls("init") == []
    assert result["diff"]["before"] == {"initialized": False, "init_state": "partial"}


def test_a_silent_api_server_on_a_configured_node_stops_the_task(node, run_module, cluster):
    (node / "admin.conf").write_text("admin kubeconfig")
    (node / "config.yaml").write_text("kind: KubeletConfiguration\n")
    cluster.answer = ("unreachable", [], "the API server did not answer")
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")})
    assert failed and result["changed"] is False
    assert "did not answer within 120 seconds" in result["msg"] and "reset.yml" in result["msg"]
    assert runner.kubeadm_calls("init") == []


def test_an_api_server_that_refuses_admin_conf_stops_the_task(node, run_module, cluster):
    (node / "admin.conf").write_text("admin kubeconfig")
    cluster.answer = ("refused", [], "GET /api/v1/namespaces/kube-system/configmaps/kubeadm-config answered HTTP 401")
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")})
    assert failed and "HTTP 401" in result["msg"] and "another cluster" in result["msg"]
    assert runner.kubeadm_calls("init") == []


def test_check_mode_on_a_bare_node_needs_neither_kubeadm_nor_the_config(tmp_path, run_module, monkeypatch, cluster):
    monkeypatch.setattr(kubeadm_init, "ADMIN_CONF", str(tmp_path / "admin.conf"))
    args = {"config": str(tmp_path / "missing.yaml"), "kubeadm_path": str(tmp_path / "bin" / "kubeadm")}
    result, failed, runner = run_module(kubeadm_init, args, check_mode=True)
    assert not failed and result["changed"] is True and result["kubeadm_version"] is None
    assert runner.calls == []
    result, failed, runner = run_module(kubeadm_init, args)
    assert failed and "does not exist" in result["msg"]


def test_check_mode_runs_nothing_and_reports_change(node, run_module):
    result, failed, runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")}, check_mode=True, diff=True)
    assert not failed and result["changed"] is True
    assert runner.kubeadm_calls("init") == []
    assert result["diff"] == {"before": {"initialized": False, "init_state": "absent"}, "after": {"initialized": True}}


@pytest.mark.parametrize("fixture,checks", [
    ("preflight_v1.34_imagepull_multiline_form.txt", ["ImagePull"]),
    ("preflight_v1.22_swap_kernel_config.txt", ["Swap", "SystemVerification"]),
])
def test_preflight_failure_is_structured(node, run_module, fixture, checks):
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")},
                                         [("init ", (1, "", read_fixture(fixture)))])
    assert failed and result["initialized"] is False
    assert result["changed"] is False, "kubeadm stops at preflight before it writes anything"
    assert result["preflight"]["failed"] is True
    assert [item["check"] for item in result["preflight"]["errors"]] == checks
    lines = result["msg"].splitlines()
    assert lines[0] == "kubeadm init preflight checks failed:"
    for line, check in zip(lines[1:], checks):
        assert line.startswith("[%s] " % check) and " -> " in line


def test_timeout_and_other_failures(node, run_module):
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml"), "timeout": 5},
                                         [("init ", (124, "[init] Using Kubernetes version: v1.36.1\n", ""))])
    assert failed and "within 5 seconds" in result["msg"]
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")},
                                         [("init ", (1, "", "error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster\n"))])
    assert failed and result["msg"] == "kubeadm init failed (rc=1); see stderr"


@pytest.mark.parametrize("args,text", [
    ({"config": "/nonexistent/kubeadm.yaml"}, "does not exist"),
    ({"ignore_preflight_errors": ["all"]}, "'all'"),
    ({"ignore_preflight_errors": ["all", "Swap"], "allow_ignore_all": True}, "only item"),
    ({"ignore_preflight_errors": ["Swap,NumCPU"]}, "check names"),
    ({"timeout": 0}, "positive"),
])
def test_bad_input_fails_before_kubeadm_runs(node, run_module, args, text):
    full = {"config": str(node / "kubeadm.yaml")}
    full.update(args)
    result, failed, runner = run_module(kubeadm_init, full)
    assert failed and text in result["msg"]
    assert runner.calls == []


def test_all_alone_with_allow_ignore_all_is_passed_on(node, run_module):
    result, failed, runner = run_module(kubeadm_init, {
        "config": str(node / "kubeadm.yaml"), "ignore_preflight_errors": ["all"], "allow_ignore_all": True,
    }, [("init ", (0, read_fixture("init_v1.34_worker_join.txt"), ""))])
    assert not failed
    assert runner.kubeadm_calls("init")[0][-1] == "--ignore-preflight-errors=all"
    assert result["control_plane_join"] is None and result["join"]["api_server_endpoint"] == "192.168.3.100:6443"


def test_success_without_join_command_warns(node, run_module):
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml")},
                                         [("init ", (0, "Your Kubernetes control-plane has initialized successfully!\n", ""))])
    assert not failed and result["initialized"] is True and result["join"] is None
    assert any("printed no kubeadm join command" in warning for warning in result["warnings"])


def test_upload_certs_without_control_plane_endpoint_warns(node, run_module):
    result, failed, _runner = run_module(kubeadm_init, {"config": str(node / "kubeadm.yaml"), "upload_certs": True},
                                         [("init ", (0, read_fixture("init_v1.34_worker_join.txt"), ""))])
    assert not failed and result["control_plane_join"] is None and result["join"] is not None
    assert any("controlPlaneEndpoint" in warning for warning in result["warnings"])
