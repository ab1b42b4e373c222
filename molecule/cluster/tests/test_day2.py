"""Day-2 operations on the converged lab: certs.yml and etcd_backup.yml.

Runs after test_cluster.py and before test_lifecycle.py (pytest orders files by name), and leaves the
cluster as it found it but for renewed certificates.
1. certs.yml reports and changes nothing; a bad threshold is refused before any host is contacted;
2. with the API server's certificate re-signed to expire in 10 days (a cluster almost a year old), certs.yml
   -e certs_renew_below_days=30 renews (kubeadm certs renew all): notAfter moves on the node, the static pod
   manifests went aside and came back, the admin kubeconfigs (the admin user's and the controller's) carry the
   renewed admin.conf; the same command again changes nothing;
3. manifests an interrupted restart left aside are put back by the next run;
4. etcd_backup.yml saves a snapshot of a REAL etcd (Debian's etcd-server, started with the cluster's etcd
   certificates as the stand-in for kubeadm's etcd static pod, which the test doubles do not run) with Debian's
   etcdctl, copies it to the controller (0600) and reports its revision and size; with etcd down it fails and
   leaves nothing behind.
"""

from __future__ import annotations

import base64
import datetime
import json
import stat
import subprocess

import pytest
import yaml
from conftest import CONTROL_PLANE, REAL_BINARIES, bash, changed_total, events, host_results, kubeconfig_dest, run_playbook

PKI = "/etc/kubernetes/pki"
MANIFESTS = ("kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml", "etcd.yaml")
# The stand-in for kubeadm's etcd static pod: Debian's etcd, with the etcd CA's server certificate kubeadm init made.
ETCD_UNIT = f"""[Unit]
Description=kubelab test: Debian's etcd with the cluster's etcd certificates (stand-in for the etcd static pod)
[Service]
ExecStart=/usr/bin/etcd --name {CONTROL_PLANE} --data-dir /var/lib/kubelab-etcd-standin \\
  --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \\
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \\
  --initial-cluster {CONTROL_PLANE}=http://127.0.0.1:2380 \\
  --cert-file {PKI}/etcd/server.crt --key-file {PKI}/etcd/server.key \\
  --client-cert-auth --trusted-ca-file {PKI}/etcd/ca.crt
"""
CLIENT = f"--cacert {PKI}/etcd/ca.crt --cert {PKI}/etcd/healthcheck-client.crt --key {PKI}/etcd/healthcheck-client.key"


def task_result(report: dict, name: str) -> dict:
    # Role tasks are reported as "<role> : <name>".
    found = [result for task, result in host_results(report, CONTROL_PLANE) if task.endswith(name)]
    assert found, f"task {name!r} did not run on {CONTROL_PLANE}"
    return found[-1]


def not_after(pem: bytes) -> datetime.datetime:
    end = subprocess.run(["openssl", "x509", "-noout", "-enddate"], input=pem, capture_output=True, check=True)
    return datetime.datetime.strptime(end.stdout.decode().strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")


def client_cert(kubeconfig_text: str) -> bytes:
    return base64.b64decode(yaml.safe_load(kubeconfig_text)["users"][0]["user"]["client-certificate-data"])


def test_report_changes_nothing():
    rc, report, log = run_playbook("certs.yml")
    assert rc == 0, log
    assert changed_total(report) == 0
    result = task_result(report, "Read the certificates' expiry, renew them when one is below the threshold")
    names = [item["name"] for item in result["certificates"]]
    assert {"apiserver", "admin.conf", "etcd-server", "front-proxy-client", "super-admin.conf"} <= set(names)
    assert [item["name"] for item in result["authorities"]] == ["ca", "etcd-ca", "front-proxy-ca"]
    assert all(363 <= item["residual_days"] <= 365 for item in result["certificates"])
    assert result["renewed"] == [] and result["blocked"] == []
    assert any(line.startswith("apiserver ") and "signed by ca" in line for line in result["report"])


def test_a_bad_threshold_is_refused_before_any_host_is_contacted():
    rc, report, log = run_playbook("certs.yml", "-e", "certs_renew_below_days=-5")
    assert rc != 0
    assert "certs_renew_below_days" in log and "1 to 3650" in log
    assert host_results(report, CONTROL_PLANE) == []


def test_renewal_below_the_threshold_restarts_and_refreshes_kubeconfigs_then_reruns_clean(control_plane):
    # A cluster almost a year old: the API server's certificate re-signed by the cluster CA to expire in 10 days.
    aged = bash(control_plane, f"set -e; cd {PKI}; openssl x509 -x509toreq -in apiserver.crt -signkey apiserver.key "
                               "-copy_extensions copyall -out /tmp/aged.csr; openssl x509 -req -in /tmp/aged.csr "
                               "-CA ca.crt -CAkey ca.key -set_serial 99 -days 10 -copy_extensions copyall "
                               "-out apiserver.crt; rm /tmp/aged.csr")
    assert aged.rc == 0, aged.stderr
    before = not_after(control_plane.file(f"{PKI}/apiserver.crt").content)
    admin_before = not_after(client_cert(control_plane.file("/etc/kubernetes/admin.conf").content_string))
    controller_before = kubeconfig_dest().read_text()
    # The kubeadm test double logs its renewals; real kubeadm keeps no such log.
    renewals_before = None if REAL_BINARIES else len([e for e in events(control_plane, False) if e["event"] == "certs-renew"])

    args = ("-e", "certs_renew_below_days=30", "-e", "certs_static_pod_wait=1")
    rc, report, log = run_playbook("certs.yml", *args)
    assert rc == 0, log
    result = task_result(report, "Read the certificates' expiry, renew them when one is below the threshold")
    assert result["changed"] and result["renewed"] == ["apiserver"]
    assert all(item["residual_days"] >= 364 for item in result["certificates"])
    # kubeadm certs renew all ran once and renewed every leaf: the API server's and admin.conf's notAfter moved.
    if renewals_before is not None:
        renewals = [e for e in events(control_plane, False) if e["event"] == "certs-renew"]
        assert len(renewals) == renewals_before + 1 and renewals[-1]["which"] == "all"
    after = not_after(control_plane.file(f"{PKI}/apiserver.crt").content)
    assert (after - before).days >= 354
    admin_after = not_after(client_cert(control_plane.file("/etc/kubernetes/admin.conf").content_string))
    assert admin_after > admin_before
    # The static pods went aside and came back, all four, and nothing is left aside.
    moved = task_result(report, "Move the manifests out of the kubelet's directory")
    assert sorted(item["item"]["path"].rsplit("/", 1)[1] for item in moved["results"]) == sorted(MANIFESTS)
    for name in MANIFESTS:
        assert control_plane.file(f"/etc/kubernetes/manifests/{name}").exists
    assert control_plane.run("ls /etc/kubernetes/kubelab-certs-restart").stdout.strip() == ""
    # The admin kubeconfigs carry the renewed admin.conf: the admin user's copy and the controller's (0600).
    admin_conf = control_plane.file("/etc/kubernetes/admin.conf").content_string
    assert control_plane.file("/home/kubelab/.kube/config").content_string == admin_conf
    controller = kubeconfig_dest().read_text()
    assert controller != controller_before
    assert client_cert(controller) == client_cert(admin_conf)
    assert stat.S_IMODE(kubeconfig_dest().stat().st_mode) == 0o600

    rc, report, log = run_playbook("certs.yml", *args)
    assert rc == 0, log
    assert changed_total(report) == 0, "the same threshold after the renewal changed something"


def test_manifests_an_interrupted_restart_left_aside_are_put_back(control_plane):
    moved = bash(control_plane, "set -e; mkdir -p -m 0700 /etc/kubernetes/kubelab-certs-restart; "
                                "mv /etc/kubernetes/manifests/kube-scheduler.yaml /etc/kubernetes/kubelab-certs-restart/")
    assert moved.rc == 0, moved.stderr
    rc, report, log = run_playbook("certs.yml")
    assert rc == 0, log
    assert changed_total(report) == 1
    assert control_plane.file("/etc/kubernetes/manifests/kube-scheduler.yaml").exists
    rc, report, log = run_playbook("certs.yml")
    assert rc == 0 and changed_total(report) == 0, log


@pytest.fixture(scope="module")
def etcd(control_plane):
    """Debian's etcd-server on the control plane, serving with the cluster's etcd certificates, and 3 keys in it.

    With real binaries kubeadm's etcd static pod serves 127.0.0.1:2379 with the same certificates: no stand-in.
    """
    unit = control_plane.file("/etc/systemd/system/kubelab-etcd-standin.service")
    script = ("set -e; export DEBIAN_FRONTEND=noninteractive; "
              "apt-get install -y -q etcd-server >/dev/null 2>&1 || "
              "{ apt-get update -q >/dev/null && apt-get install -y -q etcd-server >/dev/null; }; "
              "systemctl disable --now etcd >/dev/null 2>&1 || true; "
              f"cat > {unit.path} <<'UNIT'\n{ETCD_UNIT}UNIT\n"
              "systemctl daemon-reload; systemctl start kubelab-etcd-standin; "
              f"for i in $(seq 60); do curl -fsS {CLIENT} https://127.0.0.1:2379/health && break; sleep 1; done")
    setup = bash(control_plane, "true" if REAL_BINARIES else script)
    assert setup.rc == 0, setup.stdout + setup.stderr
    for key, value in (("a", "1"), ("b", "2"), ("c", "3")):
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(), "value": base64.b64encode(value.encode()).decode()})
        put = bash(control_plane, f"curl -fsS {CLIENT} -X POST -d '{body}' https://127.0.0.1:2379/v3/kv/put")
        assert put.rc == 0, put.stderr
    yield control_plane
    # The packages stay (disabled): purging etcd-server deletes /var/lib/etcd, kubeadm's etcd directory.
    bash(control_plane, f"systemctl disable --now kubelab-etcd-standin; rm -f {unit.path}; systemctl daemon-reload; "
                        "rm -rf /var/lib/kubelab-etcd-standin /var/lib/kubelab/etcd-backups")


def snapshots() -> set:
    return set((kubeconfig_dest().parent).glob(f"etcd-{CONTROL_PLANE}-*.db"))


def test_etcd_backup_saves_a_real_snapshot_on_the_controller(etcd):
    revision = json.loads(bash(etcd, f"curl -fsS {CLIENT} -X POST -d '{{\"key\": \"YQ==\"}}' "
                                     "https://127.0.0.1:2379/v3/kv/range").stdout)["header"]["revision"]
    known = snapshots()
    rc, report, log = run_playbook("etcd_backup.yml")
    assert rc == 0, log
    new = snapshots() - known
    assert len(new) == 1, new
    path = new.pop()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    recorded = task_result(report, "Record the snapshot")["ansible_facts"]["etcd_backup_snapshot"]
    assert recorded["path"] == str(path.resolve())
    assert int(recorded["revision"]) == int(revision) and int(recorded["total_keys"]) >= 3
    assert int(recorded["size"]) == path.stat().st_size
    # etcdctl appends the database's sha256 to the snapshot: the file is the database and 32 bytes.
    assert int(recorded["db_size"]) == path.stat().st_size - 32
    # The controller's copy is a whole snapshot: etcdctl on the node reads it back with the same revision
    # (from /var/tmp: docker cp cannot write into the node's /tmp, a tmpfs).
    copied = subprocess.run(["docker", "cp", str(path), f"{CONTROL_PLANE}:/var/tmp/copied.db"], capture_output=True, check=False)
    assert copied.returncode == 0, copied.stderr
    status = bash(etcd, "ETCDCTL_API=3 etcdctl snapshot status /var/tmp/copied.db -w json && rm /var/tmp/copied.db")
    assert status.rc == 0, status.stderr
    assert json.loads(status.stdout)["revision"] == int(revision)
    # The node's copy is gone by default; the file name holds the node and the UTC time.
    assert etcd.run("ls /var/lib/kubelab/etcd-backups").stdout.strip() == ""
    assert path.name.startswith(f"etcd-{CONTROL_PLANE}-20") and path.name.endswith("Z.db")


@pytest.mark.skipif(REAL_BINARIES, reason="stops the etcd stand-in; kubeadm's etcd static pod is left running")
def test_etcd_backup_fails_without_etcd_and_leaves_nothing(etcd):
    known = snapshots()
    stopped = bash(etcd, "systemctl stop kubelab-etcd-standin")
    assert stopped.rc == 0
    try:
        # etcdctl waits for etcd until its timeout: a short one here.
        rc, report, log = run_playbook("etcd_backup.yml", "-e", "etcd_backup_timeout=15")
        assert rc != 0
        assert task_result(report, "Save the snapshot").get("failed"), log
        assert snapshots() == known
        assert etcd.run("ls /var/lib/kubelab/etcd-backups").stdout.strip() == ""
    finally:
        bash(etcd, "systemctl start kubelab-etcd-standin")
