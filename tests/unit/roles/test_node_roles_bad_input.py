"""Bad input to the node roles is refused before any change, with a clear message.

One `ansible-playbook --check` run against localhost (connection local) tries every case
in its own block; the rescue records which task failed and its message. Each case must
fail in an argument-spec validation or a role's input check, and no task other than
those checks (and the roles' read-only probes of the node) may have run for that case.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
ARGSPEC_TASK = "Validating arguments against arg spec"
INPUTS_TASK = "Refuse bad inputs before any change"

# name: (role, vars, substring of the failure message, where it must fail)
CASES = {
    "unknown_runtime": (
        "container_runtime", {"container_runtime_name": "podman"},
        "value of container_runtime_name must be one of: containerd, crio, docker, got: podman", ARGSPEC_TASK),
    "malformed_version": (
        "kube_packages", {"kube_packages_version": "1.36.x"},
        "kube_packages_version = '1.36.x' (as localhost sees it): is not of the form", INPUTS_TASK),
    "unquoted_version": (
        "kube_packages", {"kube_packages_version": 1.30},
        "kube_packages_version = 1.3 (float) (as localhost sees it): must be a quoted string", INPUTS_TASK),
    "runtime_version_not_a_string": (
        "container_runtime", {"container_runtime_kubernetes_version": 1.36},
        "container_runtime_kubernetes_version = 1.36 (float) (as localhost sees it): must be a quoted string", INPUTS_TASK),
    "bool_not_a_bool": (
        "prereqs", {"prereqs_hardware_check": "maybe"},
        "prereqs_hardware_check", ARGSPEC_TASK),
    "int_not_an_int": (
        "prereqs", {"prereqs_min_cpus_control_plane": "two"},
        "prereqs_min_cpus_control_plane", ARGSPEC_TASK),
    "list_not_a_list": (
        "kube_packages", {"kube_packages_packages": {"kubelet": True}},
        "kube_packages_packages", ARGSPEC_TASK),
    "unknown_oom_mode": (
        "container_runtime", {"container_runtime_restrict_oom_score_adj": "yes"},
        "container_runtime_restrict_oom_score_adj must be one of: auto, enabled, disabled", ARGSPEC_TASK),
    "missing_image_archive": (
        "container_runtime", {"container_runtime_image_archives": ["/nonexistent/kubelab-image.tar"]},
        "/nonexistent/kubelab-image.tar", INPUTS_TASK),
    "bad_firewall_port": (
        "prereqs", {"prereqs_firewall_enabled": True, "prereqs_firewall_worker_ports": ["http"],
                    "prereqs_worker_group": "all"},
        "prereqs_firewall_worker_ports = ['http'] (list) (as localhost sees it): http is not PORT/PROTO", INPUTS_TASK),
    "below_hardware_minimum": (
        "prereqs", {"prereqs_control_plane_group": "all", "prereqs_min_memory_mb_control_plane": 100000000},
        "kubeadm's preflight minimums", "Check the control-plane node meets kubeadm's hardware minimums"),
}

# Tasks allowed to run before a case fails: checks and read-only fact gathering.
# "Read the node's": the roles' read-only probes (check_mode: false, changed_when: false).
READ_ONLY_TASK_PREFIXES = (ARGSPEC_TASK, INPUTS_TASK, "Check ", "Read the node's ", "Case ")


def _playbook():
    tasks = []
    for name, (role, variables, _message, _task) in CASES.items():
        tasks.append({
            "name": "Case " + name,
            "block": [
                {"name": "Case %s: start" % name, "ansible.builtin.debug": {"msg": name}},
                {"name": "Case %s: run the role" % name,
                 "ansible.builtin.include_role": {"name": "kubelab.cluster." + role}, "vars": variables},
                {"name": "Case %s: record that it passed" % name,
                 "ansible.builtin.set_fact": {"__cases": "{{ __cases | combine({%r: {'failed': false}}) }}" % name}},
            ],
            "rescue": [
                {"name": "Case %s: record the failure" % name,
                 "ansible.builtin.set_fact": {"__cases": (
                     "{{ __cases | combine({%r: {'failed': true, 'task': ansible_failed_task.name, "
                     "'msg': ansible_failed_result.msg | default('') | string}}) }}" % name)}},
            ],
        })
    tasks.append({"name": "Report the cases", "ansible.builtin.debug": {"var": "__cases"}})
    return [{"name": "Bad input", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"__cases": {}, "ansible_python_interpreter": sys.executable}, "tasks": tasks}]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    playbook = tmp_path_factory.mktemp("bad-input") / "bad_input.yml"
    playbook.write_text(yaml.safe_dump(_playbook(), sort_keys=False), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".venv" / "collections"), ANSIBLE_NOCOLOR="1")
    playbook_bin = pathlib.Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run([str(playbook_bin), "--check", "-i", "localhost,", str(playbook)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    report = [t for t in tasks if t["task"]["name"] == "Report the cases"][0]
    return report["hosts"]["localhost"]["__cases"], tasks


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_early_with_a_clear_message(run, case):
    results = run[0]
    message, failing_task = CASES[case][2:]
    assert results[case]["failed"], "%s was accepted" % case
    assert results[case]["task"].startswith(failing_task), results[case]
    assert message in results[case]["msg"], results[case]["msg"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_nothing_but_checks_ran_before_the_failure(run, case):
    tasks = run[1]
    # Role task names carry a "kubelab.cluster.<role> : " prefix.
    names = [t["task"]["name"].split(" : ", 1)[-1] for t in tasks if "localhost" in t["hosts"]]
    start = names.index("Case %s: start" % case)
    end = names.index("Case %s: record the failure" % case)
    ran = [n for n in names[start + 1:end] if not n.startswith("Case %s: run the role" % case)]
    assert ran and all(n.startswith(READ_ONLY_TASK_PREFIXES) for n in ran), ran
