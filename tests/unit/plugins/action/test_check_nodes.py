"""The check_nodes action plugin: every node's read compared once, on the controller.

The rules are tested in tests/unit/plugins/module_utils/test_validation.py (the nodes' problems) and
test_doctor.py (the doctor's rows); here: the plugin gives what the rules give, through its argument
checking, without a connection, changing nothing, the same in check mode; it fails with every problem
unless told only to report; and one run by ansible-playbook under the collection's name.
"""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.kubelab.cluster.plugins.action import check_nodes as action_module
from ansible_collections.kubelab.cluster.plugins.module_utils._doctor import doctor_rows
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import node_errors

from .controller import run_on_controller, run_playbook_in_check_mode

PODS = "10.244.0.0/16"
SERVICES = "10.96.0.0/12"
HELD = {"in_use": True, "listeners": [{"port": 6443, "processes": ["python3[812]"]}]}
SETTINGS = {"kube_packages": {"kube_packages_version": "1.36"}, "control_plane": {"control_plane_allow_cgroup_v1": False}}


def _read(machine_id, hostname, addresses, **changes):
    """A node as node_state reads it for the doctor (identity, ports, cluster membership and the system)."""
    read = {"identity": {"machine_id": machine_id, "product_uuid": "", "hostname": hostname, "addresses": addresses},
            "ports": {"6443": {"in_use": False, "listeners": []}}, "cluster": {"initialized": False},
            "kubelet": {"exists": False}, "release": "Debian 12", "supported_releases": ["Debian 12"], "cpus": 2,
            "memory_mb": 3900, "container": "none", "cgroup": "cgroup2fs", "time_sync": "synchronized",
            "changed": False, "failed": False}  # a registered result carries these too
    read.update(changes)
    return read


FIT = {"cp1": _read("a" * 32, "cp1", ["192.168.3.100"]), "w1": _read("b" * 32, "w1", ["192.168.3.101"]),
       "w2": _read("c" * 32, "w2", ["192.168.3.102"])}


def _nodes(**changes):
    nodes = {host: dict(read) for host, read in FIT.items()}
    for host, change in changes.items():
        nodes[host].update(change)
    return nodes


CLONED = _nodes(w2={"identity": dict(FIT["w2"]["identity"], machine_id="b" * 32)},
                cp1={"ports": {"6443": HELD}})


def _run(args, check_mode=False):
    return run_on_controller(action_module, "check_nodes", args, check_mode)


def test_fit_nodes_pass_with_nothing_to_report():
    result = _run({"nodes": FIT, "pod_subnet": PODS, "service_subnet": SERVICES})
    assert not result.get("failed") and result["errors"] == [] and result["rows"] == {}
    assert result["changed"] is False


def test_problems_fail_the_task_with_every_message_of_the_rule():
    result = _run({"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES})
    assert result["errors"] == node_errors(CLONED, PODS, SERVICES)
    assert len(result["errors"]) == 2
    assert result["errors"][0].startswith("w1, w2 share one /etc/machine-id (" + "b" * 32 + ")")
    assert result["errors"][1].startswith("cp1: port 6443, which Kubernetes needs, is in use (6443 by python3[812])")
    assert result["failed"] is True
    assert result["msg"] == "\n- ".join(["The run was refused before any node was changed:"] + result["errors"])


def test_report_only_and_ports_left_out():
    result = _run({"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES, "report_only": True})
    assert not result.get("failed") and len(result["errors"]) == 2
    result = _run({"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES, "check_ports": False})
    assert result["errors"] == node_errors(CLONED, PODS, SERVICES, False) and len(result["errors"]) == 1


def test_the_doctor_rows_are_the_rules_rows_with_the_problems_naming_each_node():
    preflight = {"errors": [{"check": "Port-6443", "message": "Port 6443 is in use", "hint": "stop it"}], "warnings": []}
    result = _run({"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES, "doctor": True, "report_only": True,
                   "preflight": {"cp1": {"changed": False, "preflight": preflight}, "w1": {"skipped": True}, "w2": {"failed": True}},
                   "settings": SETTINGS, "first_control_plane": "cp1"})
    problems = node_errors(CLONED, PODS, SERVICES, False)
    # The held port is the doctor's own row, not a problem: only the clone is.
    assert result["errors"] == problems and len(problems) == 1
    assert result["rows"] == {
        "cp1": doctor_rows(CLONED["cp1"], preflight, SETTINGS, True, []),
        "w1": doctor_rows(CLONED["w1"], None, SETTINGS, False, problems),
        "w2": doctor_rows(CLONED["w2"], None, SETTINGS, False, problems),
    }
    rows = {row["check"]: row for row in result["rows"]["cp1"]}
    assert rows["port 6443"]["result"] == "FAIL" and rows["kubeadm Port-6443"]["result"] == "FAIL"
    assert rows["unique node"]["result"] == "OK"
    assert {row["check"]: row["result"] for row in result["rows"]["w2"]}["unique node"] == "FAIL"


def test_a_problem_names_a_node_only_as_a_whole_word():
    nodes = {"w1": _read("d" * 32, "w1", []), "w10": _read("d" * 32, "w10", []), "w2": _read("e" * 32, "w2", [])}
    result = _run({"nodes": nodes, "pod_subnet": PODS, "service_subnet": SERVICES, "doctor": True, "report_only": True})
    unique = {host: [row["result"] for row in rows if row["check"] == "unique node"] for host, rows in result["rows"].items()}
    assert unique == {"w1": ["FAIL"], "w10": ["FAIL"], "w2": ["OK"]}


def test_check_mode_gives_the_same_answer():
    args = {"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES, "doctor": True, "report_only": True}
    assert _run(dict(args), check_mode=True) == _run(dict(args))


@pytest.mark.parametrize("args, words", [
    ({"pod_subnet": PODS, "service_subnet": SERVICES}, "nodes"),
    ({"nodes": FIT, "service_subnet": SERVICES}, "pod_subnet"),
    ({"nodes": "cp1", "pod_subnet": PODS, "service_subnet": SERVICES}, "nodes"),
    ({"nodes": FIT, "pod_subnet": PODS, "service_subnet": SERVICES, "rows": True}, "rows"),
])
def test_wrong_arguments_are_refused(args, words):
    with pytest.raises(AnsibleActionFail) as refused:
        _run(args)
    assert words in str(refused.value)


def test_a_playbook_calls_it_by_its_collection_name_in_check_mode(tmp_path):
    args = {"nodes": CLONED, "pod_subnet": PODS, "service_subnet": SERVICES}
    tasks = [{"name": "report", "kubelab.cluster.check_nodes": dict(args, report_only=True), "register": "checked"},
             {"name": "show", "ansible.builtin.debug": {"msg": "ERRORS={{ checked.errors | length }} CHANGED={{ checked.changed }}"}},
             {"name": "refuse", "kubelab.cluster.check_nodes": args}]
    run = run_playbook_in_check_mode(tmp_path, tasks)
    assert run.returncode != 0, run.stdout + run.stderr
    assert "ERRORS=2 CHANGED=False" in run.stdout
    assert "The run was refused before any node was changed:" in run.stdout and "w1, w2 share one /etc/machine-id" in run.stdout
