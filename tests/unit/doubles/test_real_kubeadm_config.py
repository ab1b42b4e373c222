"""The control_plane role's rendered kubeadm config checked by a REAL kubeadm, beside the double.

Only where a real kubeadm is at hand (KUBELAB_TEST_KUBE_BIN_DIR, the directory the test repository
takes real binaries from): `kubeadm config validate` (kubeadm v1.26 and later) must accept the file
the role renders for that release, and refuse a broken one; the kubeadm TEST DOUBLE, made the same
release, must give the same verdicts. Without real binaries these tests are reported as skipped.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

UNIT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(UNIT / "roles"))
from test_control_plane_config import _render  # noqa: E402 pylint: disable=wrong-import-position

BIN_DIR = os.environ.get("KUBELAB_TEST_KUBE_BIN_DIR", "")
DOUBLE = UNIT.parents[1] / "tests" / "doubles" / "bin" / "kubeadm"
pytestmark = pytest.mark.skipif(not BIN_DIR, reason="no real kubeadm (KUBELAB_TEST_KUBE_BIN_DIR unset)")


@pytest.fixture(name="real")
def fixture_real():
    kubeadm = pathlib.Path(BIN_DIR) / "kubeadm"
    assert os.access(kubeadm, os.X_OK), f"KUBELAB_TEST_KUBE_BIN_DIR has no executable kubeadm: {kubeadm}"
    version = subprocess.run([str(kubeadm), "version", "-o", "short"], capture_output=True, text=True, check=True)
    return str(kubeadm), version.stdout.strip()


def _double(tmp_path, monkeypatch, version):
    monkeypatch.setenv("KUBELAB_DOUBLE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("KUBELAB_DOUBLE_VERSION", version)
    loader = importlib.machinery.SourceFileLoader("kubeadm_double_vs_real", str(DOUBLE))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _verdicts(real, tmp_path, monkeypatch, text):
    """(real kubeadm accepted, double accepted, real kubeadm's output) for one config file."""
    kubeadm, version = real
    path = tmp_path / "kubeadm-config.yaml"
    path.write_text(text)
    validated = subprocess.run([kubeadm, "config", "validate", "--config", str(path)], capture_output=True, text=True,
                               timeout=60, check=False)
    double = _double(tmp_path, monkeypatch, version)
    try:
        double.load_config(str(path))
        accepted = True
    except double.KubeadmError:
        accepted = False
    return validated.returncode == 0, accepted, validated.stdout + validated.stderr


def test_real_kubeadm_validates_what_the_role_renders(real, tmp_path, monkeypatch):
    text = _render(real[1], control_plane_kube_proxy_configuration={"conntrack": {"maxPerCore": 0}},
                   control_plane_apiserver_extra_args={"audit-log-maxage": "30"},
                   control_plane_kubelet_extra_args={"node-ip": "10.0.0.1"})
    real_ok, double_ok, output = _verdicts(real, tmp_path, monkeypatch, text)
    assert real_ok, output
    assert double_ok


def test_real_kubeadm_and_the_double_refuse_a_comment_only_document(real, tmp_path, monkeypatch):
    text = "# a comment alone is a document to kubeadm\n---\n" + _render(real[1]).lstrip().removeprefix("---\n")
    real_ok, double_ok, output = _verdicts(real, tmp_path, monkeypatch, text)
    assert not real_ok, output
    assert not double_ok
