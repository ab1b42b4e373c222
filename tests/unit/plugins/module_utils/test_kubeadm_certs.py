"""The check-expiration parser on real kubeadm output of several releases
(tests/unit/fixtures/kubeadm_certs, sources in SOURCES.md) and the renewal plan."""

from __future__ import annotations

import datetime
import pathlib

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_certs as certs

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "kubeadm_certs"
UTC = datetime.timezone.utc


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def by_name(entries):
    return {item["name"]: item for item in entries}


def test_every_fixture_is_listed_in_sources():
    sources = read("SOURCES.md")
    for path in FIXTURES.iterdir():
        if path.name != "SOURCES.md":
            assert f"`{path.name}`" in sources, path.name


# fixture, now, leaves, authorities, {name: (expires, ca, external, missing)}
CASES = [
    ("check_expiration_v1.15_alpha.txt", datetime.datetime(2019, 5, 16, tzinfo=UTC), 10, 0,
     {"admin.conf": ("2020-05-15T13:03:00Z", None, False, False),
      "etcd-peer": ("2020-05-15T13:00:00Z", None, False, False)}),
    ("check_expiration_v1.17_alpha_docs.txt", datetime.datetime(2020, 1, 1, tzinfo=UTC), 10, 3,
     {"admin.conf": ("2020-12-30T23:36:00Z", None, False, False),
      "apiserver-etcd-client": ("2020-12-30T23:36:00Z", "etcd-ca", False, False),
      "front-proxy-client": ("2020-12-30T23:36:00Z", "front-proxy-ca", False, False),
      "etcd-ca": ("2029-12-28T23:36:00Z", None, False, False)}),
    ("check_expiration_v1.2x_expired_missing.txt", datetime.datetime(2024, 8, 7, tzinfo=UTC), 10, 3,
     {"apiserver": ("2024-08-08T16:03:00Z", "ca", False, False),
      "etcd-server": (None, None, False, True),
      "etcd-ca": (None, None, False, True),
      "front-proxy-ca": ("2032-05-21T03:16:00Z", None, False, False)}),
    ("check_expiration_v1.26_external_etcd.txt", datetime.datetime(2023, 4, 26, tzinfo=UTC), 6, 2,
     {"admin.conf": ("2024-04-09T09:17:00Z", "ca", False, False),
      "ca": ("2029-11-03T14:13:00Z", None, False, False)}),
    ("check_expiration_v1.33.txt", datetime.datetime(2025, 8, 24, tzinfo=UTC), 11, 3,
     {"apiserver": ("2026-08-23T21:52:00Z", "ca", False, False),
      "super-admin.conf": ("2026-08-19T09:03:00Z", "ca", False, False),
      "front-proxy-ca": ("2035-08-17T09:03:00Z", None, False, False)}),
    ("check_expiration_v1.3x_json_constructed.json", datetime.datetime(2025, 8, 24, tzinfo=UTC), 8, 2,
     {"apiserver": ("2026-08-23T21:52:10Z", "ca", False, False),
      "apiserver-etcd-client": (None, None, False, True),
      "front-proxy-client": ("2026-08-19T09:03:42Z", "front-proxy-ca", True, False),
      "front-proxy-ca": ("2035-08-17T09:03:42Z", None, True, False)}),
]


@pytest.mark.parametrize("fixture,now,leaves,authorities,expected", CASES, ids=[case[0] for case in CASES])
def test_parse_check_expiration(fixture, now, leaves, authorities, expected):
    entries = certs.parse_check_expiration(read(fixture), now)
    assert len([item for item in entries if not item["authority"]]) == leaves
    assert len([item for item in entries if item["authority"]]) == authorities
    found = by_name(entries)
    for name, (expires, ca, external, missing) in expected.items():
        item = found[name]
        assert (item["expires"], item["ca"], item["externally_managed"], item["missing"]) == (expires, ca, external, missing)
        if expires:
            moment = datetime.datetime.strptime(expires, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert item["residual_seconds"] == int((moment - now).total_seconds())
            assert item["residual_days"] == item["residual_seconds"] // 86400
        else:
            assert item["residual_seconds"] is None


def test_residual_time_as_printed_is_kept():
    found = by_name(certs.parse_check_expiration(read("check_expiration_v1.2x_expired_missing.txt")))
    assert found["apiserver"]["residual"] == "<invalid>"
    assert found["ca"]["residual"] == "7y"
    # Expired long ago: negative residual seconds, computed from the expiry, not from "<invalid>".
    assert found["apiserver"]["residual_seconds"] < 0


def test_renew_output_and_junk_parse_to_nothing():
    assert certs.parse_check_expiration(read("renew_all_v1.2x.txt")) == []
    for junk in ("", None, b"\x00\xff", "{not json", '{"kind": "BootstrapToken"}', "CERTIFICATE EXPIRES\n" * 3):
        assert certs.parse_check_expiration(junk) == []


def entry(name, days, authority=False, external=False, missing=False):
    seconds = None if missing else days * 86400
    return {"name": name, "authority": authority, "externally_managed": external, "missing": missing,
            "residual_seconds": seconds}


def test_plan_renews_all_when_a_leaf_is_below_the_threshold():
    entries = [entry("apiserver", 10), entry("admin.conf", 200), entry("ca", 3000, authority=True)]
    plan = certs.renewal_plan(entries, 30)
    assert plan == {"renew": ["apiserver"], "argv_names": ["all"], "blocked": []}


def test_plan_is_empty_above_the_threshold_and_without_one():
    entries = [entry("apiserver", 364), entry("ca", 3000, authority=True)]
    assert certs.renewal_plan(entries, 30)["renew"] == []
    assert certs.renewal_plan(entries, None) == {"renew": [], "argv_names": [], "blocked": []}
    # The threshold is strict: exactly N days left is not below N days.
    assert certs.renewal_plan([entry("apiserver", 30)], 30)["renew"] == []


def test_plan_never_renews_a_ca_an_external_or_a_missing_certificate():
    entries = [entry("apiserver", 10), entry("front-proxy-client", 10, external=True),
               entry("ca", 10, authority=True), entry("etcd-peer", 0, missing=True)]
    plan = certs.renewal_plan(entries, 30)
    assert plan["renew"] == ["apiserver"]
    # Some certificate is externally managed: kubeadm is asked for the due names only, never "all".
    assert plan["argv_names"] == ["apiserver"]
    reasons = {item["name"]: item["reason"] for item in plan["blocked"]}
    assert set(reasons) == {"front-proxy-client", "ca", "etcd-peer"}
    assert "external CA" in reasons["front-proxy-client"]
    assert "does not renew CAs" in reasons["ca"]
    assert "missing" in reasons["etcd-peer"]


def test_plan_on_a_joined_control_plane_passes_over_its_missing_super_admin_conf():
    # kubeadm join --control-plane writes no super-admin.conf (kubeadm init alone does): not a blocked certificate.
    entries = [entry("admin.conf", 10), entry("super-admin.conf", 0, missing=True)]
    assert certs.renewal_plan(entries, 30) == {"renew": ["admin.conf"], "argv_names": ["all"], "blocked": []}


def test_plan_on_real_expired_output_renews_every_present_leaf():
    now = datetime.datetime(2024, 8, 9, tzinfo=UTC)
    plan = certs.renewal_plan(certs.parse_check_expiration(read("check_expiration_v1.2x_expired_missing.txt"), now), 30)
    assert plan["renew"] == ["admin.conf", "apiserver", "apiserver-kubelet-client", "controller-manager.conf",
                             "front-proxy-client", "scheduler.conf"]
    assert plan["argv_names"] == ["all"]
    assert sorted(item["name"] for item in plan["blocked"]) == [
        "apiserver-etcd-client", "etcd-ca", "etcd-healthcheck-client", "etcd-peer", "etcd-server"]


@pytest.mark.parametrize("value", [0, -1, 3651, True, "30", 1.5])
def test_bad_thresholds_are_refused(value):
    with pytest.raises(ValueError, match="renew_below_days"):
        certs.validate_below_days(value)


def test_good_thresholds_pass():
    for value in (None, 1, 30, 3650):
        certs.validate_below_days(value)


@pytest.mark.parametrize("version,expected", [("v1.29.9", False), ("v1.30.0", True), ("v1.36.1", True),
                                              ("v2.0.0", True), (None, False), ("", False)])
def test_json_output_from_1_30(version, expected):
    assert certs.json_supported(version) is expected


def test_argv():
    assert certs.check_expiration_argv("/usr/bin/kubeadm", True) == ["/usr/bin/kubeadm", "certs", "check-expiration",
                                                                     "-o", "json"]
    assert certs.check_expiration_argv("kubeadm", False, "/pki") == ["kubeadm", "certs", "check-expiration",
                                                                     "--cert-dir", "/pki"]
    assert certs.renew_argv("kubeadm", "all") == ["kubeadm", "certs", "renew", "all"]
