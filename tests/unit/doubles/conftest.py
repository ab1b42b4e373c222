"""Fixtures of the kubeadm double's unit tests (their helpers are in kubeadm_harness.py)."""

from __future__ import annotations

import socket

import pytest
from kubeadm_harness import fake_proc, load, run, write_config


@pytest.fixture
def cri_socket(tmp_path):
    """A listening containerd socket under the double's root (tmp_path/root); its URL as kubeadm takes it."""
    path = tmp_path / "root/run/containerd/containerd.sock"
    path.parent.mkdir(parents=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(5)
    yield "unix:///run/containerd/containerd.sock"
    server.close()


@pytest.fixture
def control_plane(tmp_path, cri_socket):
    """``(kubeadm, root)``: the kubeadm double, rooted in tmp_path/root, after a kubeadm init of v1.36.1."""
    root = tmp_path / "root"
    kubeadm = load("kubeadm", root, fake_proc(tmp_path))
    rc, _out, err = run(kubeadm, "init", "--config", write_config(tmp_path / "k.yaml", cri_socket))
    assert rc == 0, err
    return kubeadm, root
