#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_upgrade
short_description: Plan and run a kubeadm upgrade of the control plane or of one node
version_added: 0.2.0
description:
  - O(state=plan) runs C(kubeadm upgrade plan VERSION) (read-only; C(-o json) from kubeadm 1.26 on, marked
    experimental there, with the text tables as fall back) and returns the plan - the cluster's version, each
    control-plane component's and each kubelet's version, the target.
  - O(state=apply), on the first control plane, plans first, refuses a skipped minor or a downgrade (the rules of
    C(module_utils/_validation.py), naming the versions) before anything changes, and runs
    C(kubeadm upgrade apply VERSION --yes) unless the node's static pods and the cluster's kube-proxy already run
    VERSION.
  - O(state=node) runs C(kubeadm upgrade node); on a control-plane node whose static pods already run O(version) it
    runs nothing. A worker's C(kubeadm upgrade node) leaves no version behind to compare, so the caller decides
    (the kube_upgrade role runs it only on a node whose kubelet is not at the target).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: The plan runs (it changes nothing); apply and node run nothing and report whether they would.
  diff_mode:
    support: none
options:
  state:
    description: What to do.
    type: str
    choices: [plan, apply, node]
    required: true
  version:
    description:
      - Target version, C(v1.NN.P). Empty means the installed kubeadm's own version (C(kubeadm version -o short)),
        which is how the kube_upgrade role uses it after installing kubeadm at the target.
    type: str
    default: ""
  kubeconfig:
    description: Admin kubeconfig kubeadm talks to the cluster with (O(state=plan) and O(state=apply)).
    type: path
    default: /etc/kubernetes/admin.conf
  ignore_preflight_errors:
    description: Preflight checks whose errors kubeadm reports as warnings (O(state=apply) and O(state=node)). V(all) is refused.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds a kubeadm run may take before coreutils C(timeout) stops it.
    type: int
    default: 900
notes:
  - A failed or interrupted C(kubeadm upgrade apply) can be run again; kubeadm documents that it is idempotent.
seealso:
  - module: kubelab.cluster.kubeadm_init
  - module: kubelab.cluster.kubeadm_join
  - name: kubeadm upgrade
    description: Upgrading kubeadm clusters.
    link: https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/
"""

EXAMPLES = r"""
- name: Plan the upgrade to the installed kubeadm's version
  kubelab.cluster.kubeadm_upgrade:
    state: plan
  register: upgrade_plan

- name: Upgrade the control plane (first control-plane node)
  kubelab.cluster.kubeadm_upgrade:
    state: apply
    version: v1.37.1

- name: Upgrade this node's kubelet configuration (and its static pods on another control plane)
  kubelab.cluster.kubeadm_upgrade:
    state: node
    version: v1.37.1
"""

RETURN = r"""
version:
  description: The target version (O(version), or the installed kubeadm's).
  returned: always
  type: str
  sample: v1.37.1
kubeadm_version:
  description: C(kubeadm version -o short).
  returned: always
  type: str
  sample: v1.37.1
plan:
  description:
    - What C(kubeadm upgrade plan) printed (O(state=plan) and O(state=apply)) - C(format) (V(json) or V(text)),
      C(cluster_version), C(kubeadm_version), C(target_version), C(control_plane) (component to version),
      C(kubelets) (each C(node), C(version), C(count)) and C(upgrades) (kubeadm's tables).
  returned: when kubeadm upgrade plan ran
  type: dict
  sample: {"format": "json", "cluster_version": "v1.36.1", "control_plane": {"kube-apiserver": "v1.36.1"}}
manifests:
  description: Component to the version its static pod on this node names (empty on a worker).
  returned: always
  type: dict
  sample: {"kube-apiserver": "v1.37.1", "kube-controller-manager": "v1.37.1", "kube-scheduler": "v1.37.1"}
rc:
  description: kubeadm's exit status (of the last kubeadm run).
  returned: when kubeadm upgrade apply or node ran
  type: int
stdout:
  description: kubeadm's output.
  returned: when kubeadm upgrade apply or node ran
  type: str
stderr:
  description: kubeadm's errors.
  returned: when kubeadm upgrade apply or node ran
  type: str
cmd:
  description: The kubeadm command line.
  returned: when kubeadm upgrade apply or node ran
  type: list
  elements: str
"""

import os

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    kubeadm_version,
    read_text,
    run_kubeadm,
    start_module,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_upgrade import (
    CONTROL_PLANE_COMPONENTS,
    MANIFEST_DIR,
    apply_argv,
    apply_succeeded,
    manifest_versions,
    node_argv,
    node_at_version,
    parse_upgrade_plan,
    parse_version,
    plan_argv,
    plan_uses_json,
    policy_errors,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import upgrade_step_errors


def fail_run(module, what, run, result):
    result.update(run)
    found = policy_errors(run["stdout"] + "\n" + run["stderr"])
    detail = ("; kubeadm refused the version: " + "; ".join(found)) if found else "; see stderr"
    module.fail_json(msg="%s failed (rc=%s)%s" % (what, run["rc"], detail), **result)


def run_plan(module, kubeadm, version, kubeadm_at, result):
    """``kubeadm upgrade plan VERSION`` (JSON where kubeadm has it, the text tables otherwise), parsed."""
    use_json = plan_uses_json(kubeadm_at)
    run, raw = run_kubeadm(module, plan_argv(kubeadm, version, use_json, module.params["kubeconfig"]))
    if run["rc"] != 0 and use_json:
        # -o json is experimental: a kubeadm that refuses the flag still plans in text.
        run, raw = run_kubeadm(module, plan_argv(kubeadm, version, False, module.params["kubeconfig"]))
    if run["rc"] != 0:
        fail_run(module, "kubeadm upgrade plan %s" % version, run, result)
    try:
        return parse_upgrade_plan(raw)
    except ValueError as exc:
        result.update(run)
        module.fail_json(msg="kubeadm upgrade plan %s: %s" % (version, exc), **result)
    return None


def main():
    module, _checked, ignore = start_module(dict(
        state=dict(type="str", choices=["plan", "apply", "node"], required=True),
        version=dict(type="str", default=""),
        kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
    ), 900, preflight=True)
    params = module.params
    kubeadm = find_kubeadm(module)
    kubeadm_at = kubeadm_version(module, kubeadm)
    version = params["version"] or kubeadm_at or ""
    parsed = parse_version(version)
    if parsed is None or parsed[2] is None:
        module.fail_json(msg="version %r is not v1.NN.P (and kubeadm version -o short gave %r)" % (params["version"], kubeadm_at))
    version = "v%d.%d.%d" % parsed
    manifests = manifest_versions({name: read_text(os.path.join(MANIFEST_DIR, name + ".yaml")) for name in CONTROL_PLANE_COMPONENTS})
    result = dict(changed=False, version=version, kubeadm_version=kubeadm_at, manifests=manifests)

    if params["state"] == "node":
        if node_at_version(manifests, version):
            module.exit_json(**result)
        result["changed"] = True
        if not module.check_mode:
            run, _raw = run_kubeadm(module, node_argv(kubeadm, ignore))
            if run["rc"] != 0:
                fail_run(module, "kubeadm upgrade node", run, result)
            result.update(run)
        module.exit_json(**result)

    plan = run_plan(module, kubeadm, version, kubeadm_at, result)
    result["plan"] = plan
    problems = upgrade_step_errors(version, plan.get("cluster_version"),
                                   {k["node"]: k["version"] for k in plan.get("kubelets") or [] if k.get("node")})
    if problems:
        module.fail_json(msg="\n- ".join(["The upgrade was refused before any change:"] + problems), **result)
    if params["state"] == "plan":
        module.exit_json(**result)

    # kube-proxy's DaemonSet is the last thing apply moves (its addon phase): with it and this node's static pods at
    # the version, an earlier apply finished.
    if node_at_version(manifests, version) and plan.get("control_plane", {}).get("kube-proxy") == version:
        module.exit_json(**result)
    result["changed"] = True
    if not module.check_mode:
        run, raw = run_kubeadm(module, apply_argv(kubeadm, version, params["kubeconfig"], ignore))
        if run["rc"] != 0 or not apply_succeeded(raw, version):
            fail_run(module, "kubeadm upgrade apply %s" % version, run, result)
        result.update(run)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
