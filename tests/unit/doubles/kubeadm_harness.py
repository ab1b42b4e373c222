"""The harness of the kubeadm and kubectl TEST DOUBLES' unit tests (tests/doubles/bin): load a double as a module with
its state rooted in a temporary directory, a fake procfs, run it, write a kubeadm config, start the API-server double.

Shared by the test_kubeadm_double*.py modules; their fixtures are in conftest.py beside them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import pathlib
import re
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

BIN = pathlib.Path(__file__).resolve().parents[3] / "tests" / "doubles" / "bin"
APISERVER = BIN.parent / "apiserver" / "apiserver.py"
HAS_OPENSSL = subprocess.run(["openssl", "version"], capture_output=True, check=False).returncode == 0


def load(name: str, root: pathlib.Path, proc: pathlib.Path, cgroup_v2=True):
    # A fake cgroup root: v2 (cgroup.controllers at the root) unless a test asks for v1,
    # so the checks do not depend on the machine running the tests.
    cgroup = proc.parent / ("cgroup2" if cgroup_v2 else "cgroup1")
    cgroup.mkdir(parents=True, exist_ok=True)
    if cgroup_v2:
        (cgroup / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    os.environ["KUBELAB_DOUBLE_CGROUP_ROOT"] = str(cgroup)
    os.environ["KUBELAB_DOUBLE_ROOT"] = str(root)
    os.environ["KUBELAB_DOUBLE_PROC"] = str(proc)
    os.environ["KUBELAB_DOUBLE_NO_SYSTEMD"] = "1"
    loader = importlib.machinery.SourceFileLoader(f"{name}_double_{id(root)}", str(BIN / name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def fake_proc(base: pathlib.Path, listening=(), swap=False, ip_forward="1", bridge="1", mem_kb=8 * 1024 * 1024):
    proc = base / "proc"
    (proc / "net").mkdir(parents=True, exist_ok=True)
    (proc / "sys/net/ipv4").mkdir(parents=True, exist_ok=True)
    (proc / "sys/net/bridge").mkdir(parents=True, exist_ok=True)
    rows = ["  sl  local_address rem_address   st"]
    rows += [f"   {i}: 00000000:{port:04X} 00000000:0000 0A" for i, port in enumerate(listening)]
    rows.append("   9: 0100007F:1F90 0100007F:D431 01")  # an established connection on 8080
    (proc / "net/tcp").write_text("\n".join(rows) + "\n")
    (proc / "net/tcp6").write_text("  sl  local_address rem_address   st\n")
    swaps = "Filename Type Size Used Priority\n" + ("/swap.img file 1024 0 -2\n" if swap else "")
    (proc / "swaps").write_text(swaps)
    (proc / "meminfo").write_text(f"MemTotal:       {mem_kb} kB\n")
    (proc / "sys/net/ipv4/ip_forward").write_text(ip_forward + "\n")
    if bridge is not None:
        (proc / "sys/net/bridge/bridge-nf-call-iptables").write_text(bridge + "\n")
    (proc / "net/route").write_text("Iface\tDestination\tGateway\nlo\t00000000\t00000000\n")
    return proc


def run(module, *argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = module.main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def write_config(path: pathlib.Path, cri: str, api="kubeadm.k8s.io/v1beta4", extra="") -> str:
    path.write_text(
        f"---\napiVersion: {api}\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 127.0.0.1\n"
        f"  bindPort: 6443\nnodeRegistration:\n  criSocket: {cri}\n  name: cp1\n---\napiVersion: {api}\n"
        "kind: ClusterConfiguration\nkubernetesVersion: v1.36.1\nnetworking:\n  podSubnet: 10.244.0.0/16\n"
        f"  serviceSubnet: 10.96.0.0/12\n{extra}---\napiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\ncgroupDriver: systemd\n")
    return str(path)


def openssl_spki_hash(pem_path: pathlib.Path) -> str:
    pub = subprocess.run(["openssl", "x509", "-in", str(pem_path), "-pubkey", "-noout"], capture_output=True,
                         check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True,
                         check=True).stdout
    return "sha256:" + hashlib.sha256(der).hexdigest()


def client_call(endpoint: str, kubeconfig: pathlib.Path | None, method: str, path: str, body=None,
                ctype="application/json") -> tuple[int, dict]:
    """An HTTPS call to the node API with the client certificate of kubeconfig (None: anonymous)."""
    context = ssl.create_default_context(cafile=str(kubeconfig.parent / "pki/ca.crt") if kubeconfig else None)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if kubeconfig:
        text = kubeconfig.read_text()
        pem = kubeconfig.parent / (kubeconfig.name + ".pem")
        pem.write_bytes(b"".join(base64.b64decode(re.search(rf"{key}: (\S+)", text).group(1))
                                 for key in ("client-certificate-data", "client-key-data")))
        context.load_cert_chain(str(pem))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"https://{endpoint}{path}", data=data, method=method)
    request.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode())


def start_apiserver(port: int, env: dict) -> subprocess.Popen:
    """The API-server double serving the node the kubeadm double set up (KUBELAB_DOUBLE_ROOT in env)."""
    server = subprocess.Popen([sys.executable, str(APISERVER), "--kubeadm", str(BIN / "kubeadm"), "--listen",
                               f"127.0.0.1:{port}"], env=env)
    wait_for(port)
    return server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def init_for_join(tmp_path: pathlib.Path, cri: str, endpoint_setting: str) -> tuple:
    """The first control plane (kubeadm init --upload-certs, controlPlaneEndpoint when given) and a token: ``(kubeadm,
    root, certificate key, token, CA pin)``, what a joiner needs."""
    root = tmp_path / "root"
    kubeadm = load("kubeadm", root, fake_proc(tmp_path))
    extra = f"controlPlaneEndpoint: {endpoint_setting}\n" if endpoint_setting else ""
    rc, out, err = run(kubeadm, "init", "--config", write_config(tmp_path / "k.yaml", cri, extra=extra), "--upload-certs")
    assert rc == 0, err
    key = out.split("[upload-certs] Using certificate key:\n", 1)[1].split("\n", 1)[0]
    rc, out, _err = run(kubeadm, "token", "create", "--ttl", "2h")
    token = out.strip()
    return kubeadm, root, key, token, openssl_spki_hash(root / "etc/kubernetes/pki/ca.crt")


def load_joiner(tmp_path: pathlib.Path, name: str, root: pathlib.Path) -> tuple:
    """The kubeadm double of another node, rooted in tmp_path/NAME, with the first node's containerd socket."""
    joiner_root = tmp_path / name
    # A control plane's preflight: 2 CPUs, no port 6443/10257/10259/2379/2380 held (the fake procfs holds none).
    joiner = load("kubeadm", joiner_root, fake_proc(tmp_path / (name + "-proc")))
    (joiner_root / "run/containerd").mkdir(parents=True)
    os.symlink(root / "run/containerd/containerd.sock", joiner_root / "run/containerd/containerd.sock")
    return joiner, joiner_root


@contextlib.contextmanager
def cluster_to_join(tmp_path: pathlib.Path, cri: str, with_endpoint: bool = True):
    """The first control plane (:func:`init_for_join`, its endpoint the API-server double's address unless not
    ``with_endpoint``) with that double serving, and the kubeadm double of cp2, whose root is the current one. Yields
    ``(kubeadm, root, endpoint, certificate key, token, CA pin, cp2's kubeadm, cp2's root)``."""
    port = free_port()
    endpoint = f"127.0.0.1:{port}"
    kubeadm, root, key, token, ca_hash = init_for_join(tmp_path, cri, endpoint if with_endpoint else "")
    server = start_apiserver(port, dict(os.environ, KUBELAB_DOUBLE_ROOT=str(root)))
    try:
        joiner, joiner_root = load_joiner(tmp_path, "cp2", root)
        os.environ["KUBELAB_DOUBLE_ROOT"] = str(joiner_root)
        yield kubeadm, root, endpoint, key, token, ca_hash, joiner, joiner_root
    finally:
        server.kill()
        server.wait()
