"""`kubeadm join --control-plane` of the kubeadm TEST DOUBLE, against the API-server double of the first control plane.

What kubeadm documents and the double follows: a further control plane joins only a cluster initialized with a
controlPlaneEndpoint (kubeadm's checkIfReadyForAdditionalControlPlane, in its preflight phase), needs the key of
the certificates `--upload-certs` stored (the kubeadm-certs Secret, deleted after 2 h; another key cannot decrypt
them), and then holds the cluster's CA and service-account keys, its own certificates (every one `kubeadm certs
check-expiration` lists but super-admin.conf, which init alone writes), admin.conf with the endpoint as server and the
four static pods, its API server on the address and port given. Each refusal leaves the node as it was.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess

import pytest

from kubeadm_harness import HAS_OPENSSL, cluster_to_join, load_joiner, run


def _state(root):
    return json.loads((root / "etc/kubernetes/kubelab-double-state.json").read_text())


@pytest.mark.skipif(not HAS_OPENSSL, reason="openssl is needed for the cluster's PKI")
def test_a_control_plane_joins_with_the_certificate_key_through_the_endpoint(tmp_path, cri_socket):
    with cluster_to_join(tmp_path, cri_socket) as (_kubeadm, root, endpoint, key, token, ca_hash, joiner, joiner_root):
        base = ["join", endpoint, "--token", token, "--discovery-token-ca-cert-hash", ca_hash, "--node-name", "cp2",
                "--cri-socket", cri_socket, "--control-plane"]
        # Refused without a key (no shared certificates on the node) and with another key, touching nothing.
        rc, _out, err = run(joiner, *base)
        assert rc == 1 and "One or more conditions for hosting a new control plane instance is not satisfied" in err, err
        rc, _out, err = run(joiner, *base, "--certificate-key", "0" * 64)
        assert rc == 1 and "cipher: message authentication failed" in err, err
        assert not (joiner_root / "etc/kubernetes/pki/ca.key").exists()
        assert "cp2" not in _state(root)["nodes"]

        rc, _out, err = run(joiner, *base, "--certificate-key", key, "--apiserver-advertise-address", "127.0.0.300")
        assert rc == 1 and 'advertiseAddress: Invalid value: "127.0.0.300"' in err, err
        rc, out, err = run(joiner, *base, "--certificate-key", key, "--apiserver-advertise-address", "127.0.0.3",
                           "--apiserver-bind-port", "6444")
        assert rc == 0, err
        assert "This node has joined the cluster and a new control plane instance was created:" in out
        pki = joiner_root / "etc/kubernetes/pki"
        for name in ("ca.crt", "ca.key", "sa.key", "sa.pub"):
            assert (pki / name).read_bytes() == (root / "etc/kubernetes/pki" / name).read_bytes(), name
        # Its own serving certificate, signed by the shared CA, valid for the endpoint's address.
        verified = subprocess.run(["openssl", "verify", "-CAfile", str(pki / "ca.crt"), str(pki / "apiserver.crt")],
                                  capture_output=True, text=True, check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert (pki / "apiserver.crt").read_bytes() != (root / "etc/kubernetes/pki/apiserver.crt").read_bytes()
        assert f"server: https://{endpoint}" in (joiner_root / "etc/kubernetes/admin.conf").read_text()
        assert not (joiner_root / "etc/kubernetes/super-admin.conf").exists()
        for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            assert (joiner_root / f"etc/kubernetes/manifests/{component}.yaml").exists(), component
        # Its own API server on the address and port it was given; its controller-manager and scheduler talk to it.
        apiserver = (joiner_root / "etc/kubernetes/manifests/kube-apiserver.yaml").read_text()
        assert "--advertise-address=127.0.0.3\n" in apiserver and "--secure-port=6444\n" in apiserver
        for name in ("controller-manager.conf", "scheduler.conf"):
            assert "server: https://127.0.0.3:6444" in (joiner_root / "etc/kubernetes" / name).read_text(), name
        # Its API server (what the kubelet starts): a relay to the first control plane's API-server double.
        unit = (joiner_root / "etc/systemd/system/kubelab-double-apiserver.service").read_text()
        assert "--relay 127.0.0.1:6443 --listen 0.0.0.0:6444\n" in unit
        # Every certificate kubeadm renews is there but super-admin.conf, which kubeadm writes on init alone.
        rc, raw, err = run(joiner, "certs", "check-expiration", "-o", "json")
        assert rc == 0, err
        missing = [item["name"] for item in json.loads(raw)["certificates"] if item["missing"]]
        assert missing == ["super-admin.conf"]
        assert _state(root)["nodes"]["cp2"]["role"] == "control-plane"
        # The key is nowhere in what the join wrote.
        for path in joiner_root.rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path

        # Two hours after the upload, kubeadm has deleted the Secret: the key no longer helps.
        os.environ["KUBELAB_DOUBLE_ROOT"] = str(root)
        with _kubeadm.StateLock() as locked:
            locked.data["certificate_key_expires"] = (datetime.datetime.now(datetime.timezone.utc)
                                                      - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            locked.save()
        joiner3, joiner3_root = load_joiner(tmp_path, "cp3", root)
        os.environ["KUBELAB_DOUBLE_ROOT"] = str(joiner3_root)
        rc, _out, err = run(joiner3, *base[:7], "cp3", *base[8:], "--certificate-key", key)
        assert rc == 1 and 'Secret "kubeadm-certs" was not found' in err and "might have expired" in err, err
        assert "cp3" not in _state(root)["nodes"]


@pytest.mark.skipif(not HAS_OPENSSL, reason="openssl is needed for the cluster's PKI")
def test_no_control_plane_joins_a_cluster_without_a_control_plane_endpoint(tmp_path, cri_socket):
    with cluster_to_join(tmp_path, cri_socket, with_endpoint=False) as (_kubeadm, root, endpoint, key, token, ca_hash,
                                                                        joiner, joiner_root):
        rc, _out, err = run(joiner, "join", endpoint, "--token", token, "--discovery-token-ca-cert-hash", ca_hash,
                            "--node-name", "cp2", "--cri-socket", cri_socket, "--control-plane", "--certificate-key", key)
        assert rc == 1
        assert ("unable to add a new control plane instance to a cluster that doesn't have a stable controlPlaneEndpoint "
                "address") in err
        assert not (joiner_root / "etc/kubernetes/pki/ca.key").exists()
        assert "cp2" not in _state(root)["nodes"]
