"""Helpers for the tests that render a role's own variables or templates with Ansible's templar."""

from __future__ import annotations

import copy
import pathlib

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kubelab.cluster.plugins.module_utils._node_state import decide

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"
# The one node_state read of a role whose verdicts (cgroup_v1, cluster.drift) the role's vars take: task file, register.
NODE_READS = {"control_plane": ("config.yml", "__control_plane_node"), "worker": ("state.yml", "__worker_node"),
              "kube_packages": ("validate.yml", "__kube_packages_node")}


def trusted(value):
    """Strings at any depth marked as templates, as Ansible trusts the role's own files."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def role_templar(role, **overrides):
    """A templar over ROLE's defaults/main.yml and vars/main.yml (vars win), then OVERRIDES."""
    loader = DataLoader()
    variables = {}
    for name in ("defaults", "vars"):
        path = ROLES / role / name / "main.yml"
        if path.exists():
            raw = loader.load_from_file(str(path)) or {}
            variables.update({k: trusted(v) for k, v in raw.items()})
    variables.update(overrides)
    return Templar(loader=loader, variables=variables)


def render(templar, expression):
    """The value of one Jinja expression."""
    return templar.template(trust_as_template("{{ %s }}" % expression))


def node_result(role, read, **overrides):
    """What ROLE's node_state task registers for READ (what the node had), verdicts included.

    The task's options are rendered with the role's defaults and vars and OVERRIDES, and the module's own
    step that adds the verdicts to the read (``_node_state.decide``) runs on them: the role's vars see
    what the module would return on such a node.
    """
    task_file, register = NODE_READS[role]
    tasks = yaml.safe_load((ROLES / role / "tasks" / task_file).read_text(encoding="utf-8"))
    (task,) = [task for task in tasks if task.get("register") == register and "kubelab.cluster.node_state" in task]
    options = role_templar(role, **overrides).template(trusted(task["kubelab.cluster.node_state"]))
    return decide(options, copy.deepcopy(read))


def node_templar(role, read, **overrides):
    """A templar over ROLE's variables and OVERRIDES with its node_state read registered as READ gives it."""
    register = NODE_READS[role][1]
    return role_templar(role, **dict(overrides, **{register: node_result(role, read, **overrides)}))
