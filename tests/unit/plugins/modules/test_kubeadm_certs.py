"""kubelab.cluster.kubeadm_certs with run_command mocked: real check-expiration output in, argv and result out."""

from __future__ import annotations

import datetime
import json
import pathlib

from ansible_collections.kubelab.cluster.plugins.modules import kubeadm_certs

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "kubeadm_certs"


def _json(apiserver_days):
    """-o json as kubeadm 1.30+ prints it (the constructed fixture), the API server's expiry moved to `apiserver_days`."""
    doc = json.loads((FIXTURES / "check_expiration_v1.3x_json_constructed.json").read_text())
    now = datetime.datetime.now(datetime.timezone.utc)
    for item in doc["certificates"] + doc["certificateAuthorities"]:
        if not item["missing"]:
            days = apiserver_days if item["name"] == "apiserver" else (3000 if item in doc["certificateAuthorities"] else 300)
            item["expirationDate"] = (now + datetime.timedelta(days=days, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(doc, indent=4)


def test_reports_without_a_threshold_and_runs_nothing_that_mutates(run_module):
    result, failed, runner = run_module(kubeadm_certs, {}, [("certs check-expiration", (0, _json(10), ""))])
    assert not failed and result["changed"] is False and result["renewed"] == []
    assert runner.kubeadm_calls("certs") == [["/usr/bin/kubeadm", "certs", "check-expiration", "-o", "json"]]
    assert {item["name"]: item["residual_days"] for item in result["certificates"]}["apiserver"] == 10
    assert [item["name"] for item in result["authorities"]] == ["ca", "front-proxy-ca"]
    assert any(line.startswith("apiserver-etcd-client") and "MISSING" in line for line in result["report"])


def test_renews_the_due_names_one_by_one_when_something_is_externally_managed(run_module):
    answers = iter([_json(10), _json(365)])
    result, failed, runner = run_module(kubeadm_certs, {"renew_below_days": 30}, [
        ("certs check-expiration", lambda argv: (0, next(answers), "")),
        ("certs renew apiserver", (0, "certificate for serving the Kubernetes API renewed\n", ""))])
    assert not failed and result["changed"] is True and result["renewed"] == ["apiserver"]
    # front-proxy-client is signed by an external CA: never `renew all`.
    assert [argv[1:] for argv in runner.kubeadm_calls("certs renew")] == [["certs", "renew", "apiserver"]]
    assert {item["name"]: item["residual_days"] for item in result["certificates"]}["apiserver"] == 365
    assert "apiserver-etcd-client" in [item["name"] for item in result["blocked"]]


def test_check_mode_renews_nothing(run_module):
    result, failed, runner = run_module(kubeadm_certs, {"renew_below_days": 30},
                                        [("certs check-expiration", (0, _json(10), ""))], check_mode=True)
    assert not failed and result["changed"] is True and result["renewed"] == ["apiserver"]
    assert runner.kubeadm_calls("certs renew") == []


def test_text_before_1_30_and_failures(run_module):
    text = (FIXTURES / "check_expiration_v1.26_external_etcd.txt").read_text()
    answers = [("version -o short", (0, "v1.26.15\n", "")), ("certs check-expiration", (0, text, ""))]
    result, failed, runner = run_module(kubeadm_certs, {}, answers)
    assert not failed and runner.kubeadm_calls("certs") == [["/usr/bin/kubeadm", "certs", "check-expiration"]]
    assert len(result["certificates"]) == 6
    result, failed, _runner = run_module(kubeadm_certs, {}, [("certs check-expiration", (1, "", "error: open ca.crt"))])
    assert failed and "initialized control-plane node" in result["msg"]
    result, failed, runner = run_module(kubeadm_certs, {"renew_below_days": 0}, [])
    assert failed and "renew_below_days" in result["msg"] and runner.calls == []
