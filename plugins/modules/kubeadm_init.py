#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_init
short_description: Initialize the first Kubernetes control-plane node with kubeadm init
version_added: 0.1.0
description:
  - Runs C(kubeadm init --config) once and returns the join data for workers and, with O(upload_certs),
    for further control-plane nodes.
  - Idempotent - when both C(/etc/kubernetes/admin.conf) and C(/etc/kubernetes/manifests/kube-apiserver.yaml)
    exist the node counts as initialized and nothing is run.
  - Bad input (missing config file, malformed O(ignore_preflight_errors)) fails before kubeadm runs.
  - Preflight failures are returned structured, each error with a one-line remediation hint.
  - Bootstrap tokens and certificate keys never appear in RV(ignore:msg), RV(stdout), RV(stderr) or RV(cmd);
    they are only returned inside RV(join) and RV(control_plane_join).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
attributes:
  check_mode:
    support: full
    details: Nothing is run; RV(ignore:changed) tells whether kubeadm init would run.
  diff_mode:
    support: full
    details: Reports the initialized state before and after.
  platform:
    platforms: posix
options:
  config:
    description:
      - Path on the node of the kubeadm configuration file (C(InitConfiguration) and C(ClusterConfiguration)).
      - Must exist.
    type: path
    required: true
  upload_certs:
    description:
      - Upload the control-plane certificates to the C(kubeadm-certs) Secret and return a certificate key in
        RV(control_plane_join), so more control-plane nodes can join.
    type: bool
    default: false
  ignore_preflight_errors:
    description:
      - Preflight checks whose errors kubeadm reports as warnings, for example V(Swap) or V(NumCPU).
      - V(all) is refused unless it is the only item and O(allow_ignore_all=true).
    type: list
    elements: str
    default: []
  allow_ignore_all:
    description:
      - Accept V(all) in O(ignore_preflight_errors).
    type: bool
    default: false
  timeout:
    description:
      - Seconds kubeadm init may run; it is wrapped in coreutils C(timeout) when that is installed.
    type: int
    default: 600
notes:
  - The result holds secrets in RV(join) and RV(control_plane_join); register it with C(no_log) tasks or pass it
    on without printing it.
seealso:
  - module: kubelab.cluster.kubeadm_join
  - module: kubelab.cluster.kubeadm_token
  - module: kubelab.cluster.kubeadm_preflight_info
"""

EXAMPLES = r"""
- name: Initialize the first control-plane node
  kubelab.cluster.kubeadm_init:
    config: /etc/kubernetes/kubeadm-config.yaml
  register: kubelab_init
  no_log: true

- name: Initialize with certificate upload for more control-plane nodes, tolerating 1 CPU in a lab
  kubelab.cluster.kubeadm_init:
    config: /etc/kubernetes/kubeadm-config.yaml
    upload_certs: true
    ignore_preflight_errors:
      - NumCPU
"""

RETURN = r"""
initialized:
  description: Whether the node is initialized after the call.
  returned: always
  type: bool
  sample: true
preflight:
  description: Preflight errors and warnings kubeadm printed; each item has C(check), C(message) and C(hint).
  returned: always
  type: dict
  sample:
    errors: []
    warnings:
      - check: SystemVerification
        message: "cgroups v1 support is in maintenance mode, please migrate to cgroups v2"
        hint: enable the missing cgroup controllers or migrate the host to cgroups v2
    failed: false
join:
  description:
    - Join data for worker nodes (secret). V(null) when kubeadm init did not run in this call.
  returned: always
  type: dict
  sample:
    api_server_endpoint: 192.168.3.100:6443
    token: abcdef.0123456789abcdef
    discovery_token_ca_cert_hashes:
      - sha256:366824f19b48b07d5e69fd2e928343b28b949cf161a5ff9ec10bf960ff4636c9
    control_plane: false
    certificate_key: null
    command: kubeadm join 192.168.3.100:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:3668...
control_plane_join:
  description:
    - Join data for control-plane nodes (secret), with C(certificate_key) when O(upload_certs=true).
    - V(null) when kubeadm init did not run in this call or printed no control-plane command (kubeadm prints it
      only when the configuration sets C(controlPlaneEndpoint)).
  returned: always
  type: dict
kubeadm_version:
  description: Output of C(kubeadm version -o short).
  returned: always
  type: str
  sample: v1.36.1
cmd:
  description: The kubeadm command line, secrets masked.
  returned: when kubeadm init ran
  type: str
  sample: kubeadm init --config /etc/kubernetes/kubeadm-config.yaml
rc:
  description: kubeadm's exit status (124 when the timeout was hit).
  returned: when kubeadm init ran
  type: int
stdout:
  description: kubeadm's standard output, secrets masked.
  returned: when kubeadm init ran
  type: str
stderr:
  description: kubeadm's standard error, secrets masked.
  returned: when kubeadm init ran
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils.kubeadm_common import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    init_argv,
    preflight_message,
    validate_ignore_preflight_errors,
)
from ansible_collections.kubelab.cluster.plugins.module_utils.kubeadm_module import (
    check_timeout,
    common_argument_spec,
    find_kubeadm,
    kubeadm_version,
    run_kubeadm,
    timed_out,
)
from ansible_collections.kubelab.cluster.plugins.module_utils.kubeadm_output import parse_init_output, parse_preflight


def main():
    argument_spec = dict(
        config=dict(type="path", required=True),
        upload_certs=dict(type="bool", default=False),
        ignore_preflight_errors=dict(type="list", elements="str", default=[]),
        allow_ignore_all=dict(type="bool", default=False),
    )
    argument_spec.update(common_argument_spec(600))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    check_timeout(module)
    try:
        ignore = validate_ignore_preflight_errors(params["ignore_preflight_errors"], params["allow_ignore_all"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if not os.path.isfile(params["config"]):
        module.fail_json(msg="config %s does not exist on the node; write the kubeadm configuration first" % params["config"])
    kubeadm = find_kubeadm(module)

    result = dict(
        changed=False,
        initialized=False,
        preflight=dict(errors=[], warnings=[], failed=False),
        join=None,
        control_plane_join=None,
        kubeadm_version=kubeadm_version(module, kubeadm),
    )
    if os.path.exists(ADMIN_CONF) and os.path.exists(APISERVER_MANIFEST):
        result["initialized"] = True
        module.exit_json(**result)
    result["changed"] = True
    if module._diff:
        result["diff"] = dict(before=dict(initialized=False), after=dict(initialized=True))
    if module.check_mode:
        module.exit_json(**result)

    run, raw = run_kubeadm(module, init_argv(kubeadm, params["config"], params["upload_certs"], ignore))
    parsed = parse_init_output(raw)
    rc = run["rc"]
    result.update(run)
    result["preflight"] = parse_preflight(run["stdout"] + "\n" + run["stderr"])
    if rc != 0:
        result["initialized"] = False
        if timed_out(rc):
            module.fail_json(msg="kubeadm init did not finish within %d seconds" % params["timeout"], **result)
        if result["preflight"]["failed"]:
            module.fail_json(msg=preflight_message(result["preflight"], "kubeadm init preflight checks failed:"), **result)
        module.fail_json(msg="kubeadm init failed (rc=%d); see stderr" % rc, **result)
    result.update(initialized=True, join=parsed["join"], control_plane_join=parsed["control_plane_join"])
    if params["upload_certs"] and parsed["control_plane_join"] is None:
        module.warn("upload_certs is set but kubeadm printed no control-plane join command; kubeadm only prints it "
                    "when the configuration sets controlPlaneEndpoint, which joining more control-plane nodes needs")
    if parsed["join"] is None:
        module.warn("kubeadm init succeeded but printed no kubeadm join command; use kubelab.cluster.kubeadm_token for join data")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
