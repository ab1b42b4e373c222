"""Unit tests of the kubeadm and kubectl TEST DOUBLES (tests/doubles/bin).

The doubles are loaded as modules with their state rooted in a temporary directory
(KUBELAB_DOUBLE_ROOT) and a fake procfs (KUBELAB_DOUBLE_PROC), so preflight checks,
init, tokens, the API-server double and join run here without a node. CA hashes are
checked against openssl run independently of the double.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from kubeadm_harness import (
    HAS_OPENSSL,
    client_call,
    fake_proc,
    free_port,
    load,
    openssl_spki_hash,
    run,
    start_apiserver,
    write_config,
)


def test_version_subcommands(tmp_path):
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path))
    assert run(kubeadm, "version", "-o", "short") == (0, "v1.36.1\n", "")
    rc, _out, err = run(kubeadm, "version")
    assert rc == 1 and "only `kubeadm version -o short` is imitated" in err
    kubectl = load("kubectl", tmp_path / "root", fake_proc(tmp_path))
    assert run(kubectl, "version", "--client") == (0, "Client Version: v1.36.1\nKustomize Version: v5.7.1\n", "")


def test_unknown_subcommands_say_they_are_not_implemented(tmp_path):
    kubectl = load("kubectl", tmp_path / "root", fake_proc(tmp_path))
    rc, _out, err = run(kubectl, "delete", "pod", "x")
    assert rc == 1 and "not implemented by the kubectl test double" in err
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path))
    rc, _out, err = run(kubeadm, "upgrade", "diff")
    assert rc == 1 and "not implemented by the kubeadm test double" in err


def test_cgroup_v1_host_fails_system_verification_unless_skipped(tmp_path, cri_socket):
    """kubeadm 1.35+ on cgroups v1: [ERROR SystemVerification] with upstream's text; skipped, a warning."""
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path), cgroup_v2=False)
    rc, _out, err = run(kubeadm, "init", "phase", "preflight", "--config", write_config(tmp_path / "k.yaml", cri_socket))
    assert rc == 1
    assert "[ERROR SystemVerification]: cgroups v1 support is deprecated" in err
    assert "you must set the kubelet configuration option 'FailCgroupV1' to 'false'" in err
    rc, _out, err = run(kubeadm, "init", "phase", "preflight", "--config", str(tmp_path / "k.yaml"),
                        "--ignore-preflight-errors=SystemVerification")
    assert rc == 0, err
    assert "[WARNING SystemVerification]: cgroups v1 support is deprecated" in err


def test_v1beta4_rejects_extra_args_as_a_map(tmp_path, cri_socket):
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path))
    config = write_config(tmp_path / "k.yaml", cri_socket, extra="apiServer:\n  extraArgs:\n    audit-log-maxage: '30'\n")
    rc, _out, err = run(kubeadm, "init", "--config", config)
    assert rc == 1 and "cannot unmarshal object" in err and "[]v1beta4.Arg" in err
    assert not (tmp_path / "root/etc/kubernetes/admin.conf").exists()


def test_preflight_reports_kubeadm_errors_and_warnings(tmp_path):
    proc = fake_proc(tmp_path, listening=(6443, 10250), swap=True, ip_forward="0", bridge=None, mem_kb=1024 * 1024)
    root = tmp_path / "root"
    (root / "etc/kubernetes/manifests").mkdir(parents=True)
    (root / "etc/kubernetes/manifests/etcd.yaml").write_text("x")
    (root / "var/lib/etcd/member").mkdir(parents=True)
    kubeadm = load("kubeadm", root, proc)
    config = write_config(tmp_path / "k.yaml", "unix:///run/containerd/containerd.sock")
    rc, out, err = run(kubeadm, "init", "--config", config, "--ignore-preflight-errors=Mem")
    assert rc == 1
    assert "[preflight] Running pre-flight checks" in out
    assert "\t[WARNING Mem]: the system RAM (1024 MB) is less than the minimum 1700 MB" in err
    assert "\t[WARNING Swap]: swap is supported for cgroup v2 only." in err
    assert "[preflight] Some fatal errors occurred:" in err
    for line in (
        "\t[ERROR Port-6443]: Port 6443 is in use",
        "\t[ERROR Port-10250]: Port 10250 is in use",
        "\t[ERROR FileAvailable--etc-kubernetes-manifests-etcd.yaml]: /etc/kubernetes/manifests/etcd.yaml already exists",
        "\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty",
        "\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1",
        "\t[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: "
        "/proc/sys/net/bridge/bridge-nf-call-iptables does not exist",
    ):
        assert line in err, err
    assert "[ERROR CRI]: could not connect to the container runtime" in err
    assert "Port-8080" not in err
    assert "error: error execution phase preflight: preflight checks failed" in err
    assert not (root / "etc/kubernetes/admin.conf").exists()


def test_ignoring_all_with_other_checks_is_refused(tmp_path, cri_socket):
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path))
    config = write_config(tmp_path / "k.yaml", cri_socket)
    rc, _out, err = run(kubeadm, "init", "--config", config, "--ignore-preflight-errors=all,Swap")
    assert rc == 1 and "don't specify individual checks" in err


@pytest.mark.skipif(not HAS_OPENSSL, reason="openssl is needed to make the CA")
def test_init_tokens_api_server_join_and_reset(tmp_path, cri_socket):
    root = tmp_path / "root"
    kubeadm = load("kubeadm", root, fake_proc(tmp_path))
    config = write_config(tmp_path / "k.yaml", cri_socket)
    rc, out, err = run(kubeadm, "init", "--config", config, "--upload-certs")
    assert rc == 0, err
    ca_hash = openssl_spki_hash(root / "etc/kubernetes/pki/ca.crt")
    assert "Your Kubernetes control-plane has initialized successfully!" in out
    # The worker join command ends the output, with no trailing space after the hash.
    assert out.endswith(f"\t--discovery-token-ca-cert-hash {ca_hash}\n")
    assert "[upload-certs] Using certificate key:" in out
    for name in ("admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"):
        text = (root / "etc/kubernetes" / name).read_text()
        assert "server: https://127.0.0.1:6443" in text and "certificate-authority-data:" in text
    assert "--cluster-cidr=10.244.0.0/16" in (root / "etc/kubernetes/manifests/kube-controller-manager.yaml").read_text()
    assert "cgroupDriver: systemd" in (root / "var/lib/kubelet/config.yaml").read_text()
    assert "--container-runtime-endpoint=" in (root / "var/lib/kubelet/kubeadm-flags.env").read_text()
    assert "[Service]" in (root / "etc/systemd/system/kubelab-double-apiserver.service").read_text()

    rc, out, _err = run(kubeadm, "token", "create", "--ttl", "2h", "--description", "kubelab.cluster join token")
    assert rc == 0 and kubeadm.TOKEN_RE.match(out.strip())
    token = out.strip()
    rc, out, _err = run(kubeadm, "token", "list", "-o", "json")
    stream = [json.loads("{" + part) for part in ("\n" + out).split("\n{")[1:]]
    assert [t["kind"] for t in stream] == ["BootstrapToken", "BootstrapToken"]
    assert token in [t["token"] for t in stream]
    assert any(t.get("description") == "kubelab.cluster join token" for t in stream)
    rc, out, _err = run(kubeadm, "token", "list")
    assert out.splitlines()[0].split() == ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA", "GROUPS"]
    assert token in out and "kubelab.cluster join token" in out

    port = free_port()
    server = start_apiserver(port, dict(os.environ))
    endpoint = f"127.0.0.1:{port}"
    # An unknown token and a wrong CA pin fail with kubeadm's messages, touching nothing.
    for bad_token, pin, message in (
        ("abcdef.0123456789abcdef", ca_hash,
         'could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"'),
        (token, "sha256:" + "0" * 64,
         f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "{ca_hash}" are pinned'),
    ):
        bad_root = tmp_path / f"worker-{bad_token[:3]}{pin[-2:]}"
        worker = load("kubeadm", bad_root, fake_proc(tmp_path / "w"))
        rc, _out, err = run(worker, "join", endpoint, "--token", bad_token, "--discovery-token-ca-cert-hash", pin,
                            "--ignore-preflight-errors=CRI")
        assert rc == 1 and message in err, err
        assert not (bad_root / "etc/kubernetes/kubelet.conf").exists()
    worker_root = tmp_path / "worker"
    worker = load("kubeadm", worker_root, fake_proc(tmp_path / "w2"))
    os.environ["KUBELAB_DOUBLE_ROOT"] = str(worker_root)
    (worker_root / "run/containerd").mkdir(parents=True)
    os.symlink(root / "run/containerd/containerd.sock", worker_root / "run/containerd/containerd.sock")
    rc, out, err = run(worker, "join", endpoint, "--token", token, "--discovery-token-ca-cert-hash", ca_hash,
                       "--node-name", "w1", "--cri-socket", cri_socket)
    assert rc == 0, err
    assert "This node has joined the cluster:" in out
    assert openssl_spki_hash(worker_root / "etc/kubernetes/pki/ca.crt") == ca_hash
    assert f"server: https://{endpoint}" in (worker_root / "etc/kubernetes/kubelet.conf").read_text()
    state = json.loads((root / "etc/kubernetes/kubelab-double-state.json").read_text())
    assert state["nodes"]["w1"]["token_id"] == token.split(".")[0]
    # TLS bootstrap: the kubelet's client certificate is signed by the cluster CA, for system:node:w1.
    client = worker_root / "var/lib/kubelet/pki/kubelet-client-current.pem"
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(root / "etc/kubernetes/pki/ca.crt"), str(client)],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "CN=system:node:w1" in subprocess.run(["openssl", "x509", "-in", str(client), "-noout", "-subject"],
                                                 capture_output=True, text=True, check=True).stdout.replace(" ", "")

    # kubectl (test double) against the API-server double: apply is idempotent, nodes are listed.
    kubectl = load("kubectl", root, fake_proc(tmp_path))
    admin = tmp_path / "admin.conf"
    admin.write_text((root / "etc/kubernetes/admin.conf").read_text().replace("127.0.0.1:6443", endpoint))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n---\napiVersion: apps/v1\n"
                        "kind: DaemonSet\nmetadata:\n  name: kube-flannel-ds\n  namespace: kube-flannel\nspec: {}\n")
    assert run(kubectl, "--kubeconfig", str(admin), "apply", "-f", str(manifest))[1] == (
        "namespace/kube-flannel created\ndaemonset.apps/kube-flannel-ds created\n")
    assert run(kubectl, "--kubeconfig", str(admin), "apply", "-f", str(manifest))[1] == (
        "namespace/kube-flannel unchanged\ndaemonset.apps/kube-flannel-ds unchanged\n")
    rc, out, _err = run(kubectl, "--kubeconfig", str(admin), "get", "nodes", "-o", "name")
    assert rc == 0 and out.split() == ["node/cp1", "node/w1"]

    os.environ["KUBELAB_DOUBLE_ROOT"] = str(root)
    rc, out, _err = run(kubeadm, "reset", "-f")
    assert rc == 0 and "[reset] Deleting contents of directories" in out
    assert not (root / "etc/kubernetes/admin.conf").exists()
    assert not (root / "etc/kubernetes/kubelab-double-state.json").exists()
    assert not list((root / "var/lib/etcd").iterdir())
    assert not (root / "etc/systemd/system/kubelab-double-apiserver.service").exists()
    server.kill()
    server.wait()


@pytest.mark.skipif(not HAS_OPENSSL, reason="openssl is needed for the cluster's PKI")
def test_node_api_serves_the_application_api_on_the_registered_nodes(tmp_path, cri_socket):
    """The node API's store takes app objects from an admin; its scheduler places them on the nodes kubeadm
    registered and its kubelet starts a container only once the node's kubelet reported the image."""
    root = tmp_path / "root"
    kubeadm = load("kubeadm", root, fake_proc(tmp_path))
    rc, _out, err = run(kubeadm, "init", "--config", write_config(tmp_path / "k.yaml", cri_socket))
    assert rc == 0, err
    port = free_port()
    server = start_apiserver(port, dict(os.environ))
    endpoint, k8s = f"127.0.0.1:{port}", root / "etc/kubernetes"
    try:
        tolerate_all = [{"operator": "Exists"}]  # cp1 is a tainted control plane, NotReady without a CNI
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"tolerations": tolerate_all, "containers": [
                                                {"name": "web", "image": "web-app:1.0", "imagePullPolicy": "Never"}]}}}}
        path = "/apis/apps/v1/namespaces/default/deployments"
        code, status = client_call(endpoint, None, "POST", path, deployment)
        assert code == 403 and status["reason"] == "Forbidden"
        code, status = client_call(endpoint, k8s / "kubelet.conf", "POST", path, deployment)
        assert code == 403, status
        code, created = client_call(endpoint, k8s / "admin.conf", "POST", path, deployment)
        assert code == 201 and created["metadata"]["uid"], created

        def pods():
            return client_call(endpoint, k8s / "admin.conf", "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")[1]["items"]

        def waiting_for(check):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                items = pods()
                if items and check(items[0]):
                    return items[0]
                time.sleep(0.1)
            raise AssertionError(pods())

        pod = waiting_for(lambda p: p["status"].get("containerStatuses"))
        assert pod["spec"]["nodeName"] == "cp1" and pod["status"]["hostIP"] == "127.0.0.1"
        assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImageNeverPull"
        # Another node's kubelet may not report for cp1; cp1's own kubelet does (NodeRestriction).
        code, _status = client_call(endpoint, None, "PATCH", "/api/v1/nodes/cp1/status",
                                    {"status": {"images": [{"names": ["docker.io/library/web-app:1.0"]}]}},
                                    "application/strategic-merge-patch+json")
        assert code == 403
        code, node = client_call(endpoint, k8s / "kubelet.conf", "PATCH", "/api/v1/nodes/cp1/status",
                                 {"status": {"images": [{"names": ["docker.io/library/web-app:1.0"]}]}},
                                 "application/strategic-merge-patch+json")
        assert code == 200 and node["status"]["images"] == [{"names": ["docker.io/library/web-app:1.0"]}]
        pod = waiting_for(lambda p: p["status"].get("phase") == "Running")
        assert pod["status"]["containerStatuses"][0]["ready"] is True
        # One store: the node list the kubectl double reads is the scheduler's, with the kubelet's report.
        nodes = client_call(endpoint, None, "GET", "/api/v1/nodes")[1]["items"]
        assert [n["metadata"]["name"] for n in nodes] == ["cp1"] and nodes[0]["status"]["images"]

        # kubectl drain (test double, admin.conf's client certificate): cordons, refuses what kubectl refuses,
        # deletes the node's pods and waits for them; kubectl delete node removes the node and its registration.
        kubectl = load("kubectl", root, fake_proc(tmp_path))
        admin = tmp_path / "admin.conf"
        admin.write_text((k8s / "admin.conf").read_text().replace("127.0.0.1:6443", endpoint))
        evicted = pod["metadata"]["name"]
        rc, out, err = run(kubectl, "--kubeconfig", str(admin), "drain", "cp1", "--grace-period=1", "--timeout=20s")
        assert rc == 0 and out.splitlines() == ["node/cp1 cordoned", f"evicting pod default/{evicted}", f"pod/{evicted} evicted",
                                                "node/cp1 drained"], (out, err)
        (node,) = client_call(endpoint, None, "GET", "/api/v1/nodes")[1]["items"]
        assert node["spec"]["unschedulable"] is True
        assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in node["spec"]["taints"]
        assert evicted not in [p["metadata"]["name"] for p in pods()]
        bare = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare"},
                "spec": {"nodeName": "cp1", "containers": [{"name": "c", "image": "web-app:1.0"}]}}
        assert client_call(endpoint, k8s / "admin.conf", "POST", "/api/v1/namespaces/default/pods", bare)[0] == 201
        rc, out, err = run(kubectl, "--kubeconfig", str(admin), "drain", "cp1")
        assert rc == 1 and out.startswith("node/cp1 already cordoned"), out
        assert "cannot delete Pods that declare no controller (use --force to override): default/bare" in err, err
        rc, out, err = run(kubectl, "--kubeconfig", str(admin), "delete", "node", "cp1")
        assert (rc, out) == (0, 'node "cp1" deleted\n'), err
        assert client_call(endpoint, None, "GET", "/api/v1/nodes")[1]["items"] == []
        assert "cp1" not in json.loads((k8s / "kubelab-double-state.json").read_text()).get("nodes", {})
        assert run(kubectl, "--kubeconfig", str(admin), "delete", "node", "cp1") == (
            1, "", 'Error from server (NotFound): nodes "cp1" not found\n')
        assert run(kubectl, "--kubeconfig", str(admin), "delete", "node", "cp1", "--ignore-not-found") == (0, "", "")
    finally:
        server.kill()
        server.wait()
