"""`kubeadm certs check-expiration` and `kubeadm certs renew` of the kubeadm TEST DOUBLE.

Its output is read with the collection's own parser (module_utils._kubeadm_certs), which the real
output of several releases tests (test_kubeadm_certs.py); the certificates are checked with openssl
run independently of the double.
"""

from __future__ import annotations

import datetime
import subprocess

import pytest
from kubeadm_harness import HAS_OPENSSL, fake_proc, load, run

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_certs import parse_check_expiration, renewal_plan

pytestmark = pytest.mark.skipif(not HAS_OPENSSL, reason="openssl makes the double's PKI")

LEAVES = ["admin.conf", "apiserver", "apiserver-etcd-client", "apiserver-kubelet-client", "controller-manager.conf",
          "etcd-healthcheck-client", "etcd-peer", "etcd-server", "front-proxy-client", "scheduler.conf",
          "super-admin.conf"]


def openssl(*args: str, stdin: bytes | None = None) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def cluster(control_plane):
    kubeadm, root = control_plane
    return kubeadm, root / "etc/kubernetes/pki"


def age(pki, name: str, ca: str, days: int) -> None:
    """Sign pki/name.crt again for `days` days: a cluster that is almost a year old."""
    crt, key = pki / f"{name}.crt", pki / f"{name}.key"
    csr = openssl("x509", "-x509toreq", "-in", str(crt), "-signkey", str(key), "-copy_extensions", "copyall")
    pem = subprocess.run(["openssl", "x509", "-req", "-CA", str(pki / f"{ca}.crt"), "-CAkey", str(pki / f"{ca}.key"),
                          "-set_serial", "7", "-days", str(days), "-copy_extensions", "copyall"],
                         input=csr.encode(), capture_output=True, check=True).stdout
    crt.write_bytes(pem)


def test_init_makes_kubeadms_pki_signed_by_its_three_cas(cluster):
    _kubeadm, pki = cluster
    for leaf, ca in (("apiserver-kubelet-client", "ca"), ("front-proxy-client", "front-proxy-ca"),
                     ("etcd/server", "etcd/ca"), ("etcd/peer", "etcd/ca"), ("etcd/healthcheck-client", "etcd/ca"),
                     ("apiserver-etcd-client", "etcd/ca")):
        assert openssl("verify", "-CAfile", str(pki / f"{ca}.crt"), str(pki / f"{leaf}.crt")).strip().endswith(": OK")
    sans = openssl("x509", "-in", str(pki / "etcd/server.crt"), "-noout", "-ext", "subjectAltName")
    assert "DNS:localhost" in sans and "IP Address:127.0.0.1" in sans
    usage = openssl("x509", "-in", str(pki / "etcd/server.crt"), "-noout", "-ext", "extendedKeyUsage")
    assert "TLS Web Server Authentication" in usage and "TLS Web Client Authentication" in usage


def test_check_expiration_text_and_json_say_the_same(cluster):
    kubeadm, _pki = cluster
    rc, text, err = run(kubeadm, "certs", "check-expiration")
    assert rc == 0, err
    assert text.splitlines()[3].split("   ")[0] == "CERTIFICATE"
    rc, raw, err = run(kubeadm, "certs", "check-expiration", "-o", "json")
    assert rc == 0, err
    from_text, from_json = parse_check_expiration(text), parse_check_expiration(raw)
    assert [e["name"] for e in from_text if not e["authority"]] == LEAVES
    assert [e["name"] for e in from_json if e["authority"]] == ["ca", "etcd-ca", "front-proxy-ca"]
    for a, b in zip(from_text, from_json):
        # The table prints minutes: the two agree to the minute.
        assert a["name"] == b["name"] and a["expires"][:16] == b["expires"][:16]
        assert a["externally_managed"] is b["externally_managed"] is False
    assert all(363 <= e["residual_days"] <= 365 for e in from_json if not e["authority"])


def test_renew_all_moves_not_after_and_keeps_subject_and_sans(cluster):
    kubeadm, pki = cluster
    before_sans = openssl("x509", "-in", str(pki / "apiserver.crt"), "-noout", "-subject", "-ext", "subjectAltName")
    age(pki, "apiserver", "ca", 10)
    entries = parse_check_expiration(run(kubeadm, "certs", "check-expiration", "-o", "json")[1])
    assert renewal_plan(entries, 30)["renew"] == ["apiserver"]
    rc, out, err = run(kubeadm, "certs", "renew", "all")
    assert rc == 0, err
    assert "certificate for serving the Kubernetes API renewed" in out
    assert out.rstrip().endswith("so that they can use the new certificates.")
    entries = parse_check_expiration(run(kubeadm, "certs", "check-expiration", "-o", "json")[1])
    assert renewal_plan(entries, 30)["renew"] == []
    end = openssl("x509", "-in", str(pki / "apiserver.crt"), "-noout", "-enddate").strip().split("=", 1)[1]
    expires = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z")
    assert (expires - datetime.datetime.utcnow()).days >= 364
    assert openssl("x509", "-in", str(pki / "apiserver.crt"), "-noout", "-subject", "-ext", "subjectAltName") == before_sans
    assert openssl("verify", "-CAfile", str(pki / "ca.crt"), str(pki / "apiserver.crt")).strip().endswith(": OK")


def test_an_external_ca_is_reported_and_left_alone(cluster):
    kubeadm, pki = cluster
    (pki / "front-proxy-ca.key").unlink()
    before = (pki / "front-proxy-client.crt").read_bytes()
    entries = {e["name"]: e for e in parse_check_expiration(run(kubeadm, "certs", "check-expiration")[1])}
    assert entries["front-proxy-client"]["externally_managed"] and entries["front-proxy-ca"]["externally_managed"]
    assert not entries["apiserver"]["externally_managed"]
    rc, out, _err = run(kubeadm, "certs", "renew", "all")
    assert rc == 0 and "front proxy client" not in out
    assert (pki / "front-proxy-client.crt").read_bytes() == before


def test_a_missing_certificate_is_marked(cluster):
    kubeadm, pki = cluster
    (pki / "etcd/peer.crt").unlink()
    rc, text, _err = run(kubeadm, "certs", "check-expiration")
    assert rc == 0 and "!MISSING! etcd-peer" in text
    assert {e["name"]: e for e in parse_check_expiration(text)}["etcd-peer"]["missing"]


def test_without_a_cluster_and_with_unknown_names_it_fails(tmp_path):
    kubeadm = load("kubeadm", tmp_path / "root", fake_proc(tmp_path))
    rc, _out, err = run(kubeadm, "certs", "check-expiration")
    assert rc == 1 and "ca.crt: no such file or directory" in err
    (tmp_path / "root/etc/kubernetes/pki").mkdir(parents=True)
    (tmp_path / "root/etc/kubernetes/pki/ca.crt").write_text("x")
    rc, _out, err = run(kubeadm, "certs", "renew", "kubelet.conf")
    assert rc == 1 and "not implemented by the kubeadm test double" in err
