#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_preflight_info
short_description: Run kubeadm's preflight checks without changing the node
version_added: 0.1.0
description:
  - Runs C(kubeadm init phase preflight --dry-run) (O(role=init)) or C(kubeadm join phase preflight --dry-run)
    (O(role=join)) and returns the errors and warnings, each with a one-line remediation hint.
  - C(--dry-run) matters - without it the init preflight phase pulls the control-plane images (ignoring the
    C(ImagePull) check does not stop the pull); with it kubeadm prints "Would pull the required images" instead.
  - For O(role=join) without O(config) the phase gets placeholder discovery arguments (a TEST-NET address, a dummy
    token and C(--discovery-token-unsafe-skip-ca-verification)); with C(--dry-run) kubeadm answers discovery from
    its built-in fake cluster-info, so nothing is contacted. The node checks run before discovery in any case.
  - kubeadm's dry run creates an empty C(/etc/kubernetes/tmp/kubeadm-*-dryrun*) directory; the module removes the
    ones it created, so the node is left as it was.
  - Never fails on preflight errors and always reports RV(ignore:changed=false).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Runs in check mode too - the checks are read-only.
  diff_mode:
    support: none
options:
  role:
    description:
      - Which node checks to run - V(init) for the first control-plane node, V(join) for nodes that join.
    type: str
    choices: [init, join]
    default: init
  config:
    description:
      - kubeadm configuration file on the node (C(InitConfiguration)/C(ClusterConfiguration) or
        C(JoinConfiguration)); must exist when given.
    type: path
  ignore_preflight_errors:
    description:
      - Preflight checks whose errors kubeadm reports as warnings. V(all) is refused.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds the preflight phase may run.
    type: int
    default: 120
seealso:
  - module: kubelab.cluster.kubeadm_init
  - module: kubelab.cluster.kubeadm_join
"""

EXAMPLES = r"""
- name: Check a future control-plane node
  kubelab.cluster.kubeadm_preflight_info:
    role: init
    config: /etc/kubernetes/kubeadm-config.yaml
  register: kubelab_preflight

- name: Stop early with kubeadm's own words and our hints
  ansible.builtin.assert:
    that: not kubelab_preflight.preflight.failed
    fail_msg: "{{ kubelab_preflight.preflight.errors | map(attribute='hint') | list }}"

- name: Check a future worker
  kubelab.cluster.kubeadm_preflight_info:
    role: join
"""

RETURN = r"""
preflight:
  description: Errors and warnings; each item has C(check), C(message) and C(hint); C(failed) is true when kubeadm
    reported fatal errors.
  returned: always
  type: dict
  sample:
    errors:
      - check: Swap
        message: running with swap on is not supported. Please disable swap
        hint: "swap is on: prereqs_disable_swap: true (kubelab.cluster.prereqs) turns it off and removes it from /etc/fstab; ..."
    warnings: []
    failed: true
role:
  description: The O(role) checked.
  returned: always
  type: str
  sample: init
kubeadm_version:
  description: Output of C(kubeadm version -o short).
  returned: always
  type: str
  sample: v1.36.1
cmd:
  description: The kubeadm command line.
  returned: always
  type: str
rc:
  description: kubeadm's exit status (124 when the timeout was hit).
  returned: always
  type: int
stdout:
  description: kubeadm's standard output.
  returned: always
  type: str
stderr:
  description: kubeadm's standard error.
  returned: always
  type: str
"""

import os
import shutil

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import preflight_argv
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    kubeadm_version,
    run_kubeadm,
    start_module,
    timed_out,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import parse_preflight

DRY_RUN_PARENT = "/etc/kubernetes/tmp"


def dry_run_dirs():
    """Names of kubeadm's dry-run scratch directories present now."""
    try:
        return set(name for name in os.listdir(DRY_RUN_PARENT) if "dryrun" in name)
    except OSError:
        return set()


def main():
    module, _checked, ignore = start_module(dict(
        role=dict(type="str", choices=["init", "join"], default="init"),
        config=dict(type="path"),
    ), 120, preflight=True)
    params = module.params
    if params["config"] is not None and not os.path.isfile(params["config"]):
        module.fail_json(msg="config %s does not exist on the node" % params["config"])
    kubeadm = find_kubeadm(module)

    parent_existed = os.path.isdir(DRY_RUN_PARENT)
    existing = dry_run_dirs()
    run, _raw = run_kubeadm(module, preflight_argv(kubeadm, params["role"], params["config"], ignore))
    for name in dry_run_dirs() - existing:
        shutil.rmtree(os.path.join(DRY_RUN_PARENT, name), ignore_errors=True)
    if not parent_existed and os.path.isdir(DRY_RUN_PARENT) and not os.listdir(DRY_RUN_PARENT):
        os.rmdir(DRY_RUN_PARENT)

    preflight = parse_preflight(run["stdout"] + "\n" + run["stderr"])
    # failed=False explicitly: Ansible marks results with a non-zero rc as failed otherwise.
    result = dict(changed=False, failed=False, role=params["role"], preflight=preflight,
                  kubeadm_version=kubeadm_version(module, kubeadm), **run)
    if timed_out(run["rc"]):
        module.warn("kubeadm preflight did not finish within %d seconds; the result may be incomplete" % params["timeout"])
    elif run["rc"] != 0 and not preflight["failed"]:
        module.fail_json(msg="kubeadm %s phase preflight failed before its checks (rc=%d); see stderr"
                         % (params["role"], run["rc"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
