# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kubelab.cluster.check_inputs: the one entry to the collection's input rules.

A role imported alone calls it with the variables its task sees; the validation play of the
collection's playbooks calls it with ``roles`` and reads each role's variables as the first host of
the role's group sees them. Both end in :func:`_validation.input_errors` with the same arguments'
shape, so both give the same verdict with the same message. Nothing here contacts a managed host.
"""

from __future__ import annotations

import os

import yaml
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import (
    cri_socket,
    kubeadm_ports,
    pause_tag,
    served_ports,
    supported_minors,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import (
    GROUP_VARIABLES,
    effective_settings,
    input_errors,
    input_warnings,
)

# The collection's roles, beside its plugins (in a checkout and in an installed collection alike).
ROLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles")
# Every role of the collection (their variables carry the role's name as prefix).
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isfile(os.path.join(ROLES_DIR, name, "meta", "argument_specs.yml")))
# libyaml's safe loader where PyYAML has it: every role's specs are read at each call, ten times faster.
SPEC_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ARGUMENT_SPEC = {
    "role": {"type": "str"},
    "roles": {"type": "list", "elements": "dict"},
    "groups": {"type": "dict", "default": {}},
    "node": {"type": "str"},
}


def role_options(role):
    """The options of a role's main entry point, from its meta/argument_specs.yml."""
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=SPEC_LOADER)["argument_specs"]["main"]["options"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise AnsibleActionFail("check_inputs: cannot read the argument specs of role %r (%s): %s" % (role, path, exc))


def spec_errors(options, values):
    """What the argument specs refuse in ``values``, as validate_argument_spec words it."""
    return list(ArgumentSpecValidator(options).validate(values).error_messages)


def plain(value):
    """A templated value in plain Python types (ansible-core hands out tagged subclasses of str, list, float ...)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    for kind in (bool, str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value


# What ansible's own validation puts in place of a no_log option's value.
MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def masked(result, specs, provided):
    """``result`` (settings or messages) with the values of every option whose spec says ``no_log: true`` masked."""
    secrets = set()
    for role, entry in provided.items():
        for name, value in (entry.get("vars") or {}).items():
            if (specs.get(role) or {}).get(name, {}).get("no_log") and value not in (None, ""):
                secrets.add(str(value))
    if not secrets:
        return result
    if isinstance(result, dict):
        return {role: {name: (MASK if (specs.get(role) or {}).get(name, {}).get("no_log") and value not in (None, "") else value)
                       for name, value in values.items()} for role, values in result.items()}
    for secret in sorted(secrets, key=len, reverse=True):
        result = [line.replace(secret, MASK) for line in result]
    return result


def release_facts(settings):
    """Release facts for these settings (their one home: module_utils/_kube_release.py).

    The supported minors, the ports kubeadm checks and the ports a node serves, per node role (with the API server's port), and
    for the container runtime the pause image tag of its Kubernetes version and its CRI socket.
    """
    api_port = (settings.get("control_plane") or {}).get("control_plane_bind_port", 6443)
    api_port = int(api_port) if str(api_port).isdigit() else 6443
    facts = {"supported_minors": supported_minors(), "kubeadm_ports": kubeadm_ports(api_port),
             "served_ports": served_ports(api_port)}
    runtime = settings.get("container_runtime") or {}
    if runtime.get("container_runtime_kubernetes_version"):
        facts["pause_tag"] = pause_tag(runtime["container_runtime_kubernetes_version"])
    if runtime.get("container_runtime_name") in ("containerd", "crio", "docker"):
        facts["cri_socket"] = cri_socket(runtime["container_runtime_name"])
    return facts


class ActionModule(ActionBase):
    """kubelab.cluster.check_inputs"""

    TRANSFERS_FILES = False
    _requires_connection = False

    def _values(self, names, variables):
        """The templated values of the ``names`` a host's variables define.

        A value that cannot be templated yet (it names a fact no play has set) is left out: the rules
        check what is known before the run, the role's tasks see the rest.
        """
        templar = self._templar.copy_with_new_env(available_variables=variables)
        values = {}
        for name in names:
            if name in variables:
                try:
                    values[name] = templar.template(variables[name])
                except AnsibleError:
                    continue
        return values

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC,
                                                  mutually_exclusive=[("role", "roles")])
        groups = task_vars.get("groups") or {}
        if args["roles"] is None:
            # A role imported alone: its own variables, as this task sees them (role defaults included).
            role = args["role"] or (self._task._role.get_name(include_role_fqcn=False) if self._task._role else None)
            if not role:
                raise AnsibleActionFail("check_inputs: give role (the task is not part of a role)")
            specs = {name: role_options(name) for name in ROLES}
            provided = {role: {"host": task_vars.get("inventory_hostname"), "vars": self._values(specs[role], task_vars)}}
            # The other roles' variables this host defines: the rules that span roles check them too.
            for other in ROLES:
                values = self._values([name for name in specs[other] if name in task_vars], task_vars) if other != role else {}
                if values:
                    provided[other] = {"host": task_vars.get("inventory_hostname"), "vars": values, "given_only": True}
            group_names = {}
            scope = "role"
        else:
            hostvars = task_vars.get("hostvars") or {}
            group_names = args["groups"]
            provided, specs = {}, {}
            for entry in args["roles"]:
                role, group = entry.get("role"), entry.get("group")
                specs[role] = role_options(role)
                if group == "controller":
                    members = ["localhost"]
                else:
                    members = groups.get(group_names.get(group) or GROUP_VARIABLES.get(group, (None, None))[1]) or []
                host = members[0] if members else None
                values = self._values(specs[role], hostvars[host]) if host in hostvars else {}
                provided[role] = {"host": host, "vars": values}
            scope = "play"
        results = [{"role": role, "host": provided[role]["host"], "errors": spec_errors(specs[role], provided[role]["vars"])}
                   for role in provided if not provided[role].get("given_only")]
        # The rules see plain values; the spec check above saw them as ansible's own role validation does.
        provided = {role: dict(entry, vars=plain(entry["vars"])) for role, entry in provided.items()}
        errors = masked(input_errors(provided, specs, groups, group_names, supported_minors(), results, scope=scope,
                                     node=args["node"]),
                        specs, provided)
        settings = effective_settings(provided, specs)
        warnings = masked(input_warnings(provided, specs, groups, group_names, scope=scope), specs, provided)
        if warnings:
            result["warnings"] = warnings
        result["errors"] = errors
        result["changed"] = False
        if not errors:
            result["settings"] = masked(settings, specs, provided)
            result["release"] = release_facts(settings)
        else:
            result["failed"] = True
            result["msg"] = "\n- ".join(["The inputs were refused before any change; fix these:"] + errors)
        return result
