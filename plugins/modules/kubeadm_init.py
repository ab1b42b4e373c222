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
  - Runs C(kubeadm init --config) once and returns what kubeadm printed to join workers and, with O(upload_certs),
    further control-plane nodes - without the secrets - the API server endpoint, the CA pins and the bootstrap
    token's ID. Get join data with the token from M(kubelab.cluster.kubeadm_token).
  - Idempotent, decided from the cluster - with C(/etc/kubernetes/admin.conf) present, the module asks the API server
    (with admin.conf's own credentials) for the objects the later init phases create - the C(kubeadm-config)
    ConfigMap, the C(cluster-info) ConfigMap and its RBAC Role. All present - initialized, nothing runs.
  - A half-done init (interrupted after admin.conf was written - the API server answers but the objects are missing
    or admin.conf is not yet authorized, or the kubelet was never configured) is finished - kubeadm init runs again
    with C(--skip-phases=preflight), reusing the certificates and kubeconfigs it finds, with a warning.
  - An API server that never answers on a node whose kubelet was configured fails the task without running
    anything - it may be a working cluster whose control plane is down.
  - Bad input (missing config file, malformed O(ignore_preflight_errors)) fails before kubeadm runs.
  - Preflight failures are returned structured, each error with a one-line remediation hint.
  - Bootstrap tokens and certificate keys appear nowhere in the result - RV(ignore:msg), RV(stdout), RV(stderr) and
    RV(cmd) are masked and RV(join) and RV(control_plane_join) hold only the token ID, so a C(-vvv) log or a
    registered variable never carries a live token.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is run; RV(ignore:changed) tells whether kubeadm init would run (or finish a half-done init).
      - A missing config file or kubeadm binary is not an error in check mode (earlier tasks would have written or
        installed them).
  diff_mode:
    support: full
    details: Reports the initialized state before and after.
options:
  config:
    description:
      - Path on the node of the kubeadm configuration file (C(InitConfiguration) and C(ClusterConfiguration)).
      - Must exist.
    type: path
    required: true
  upload_certs:
    description:
      - Upload the control-plane certificates to the C(kubeadm-certs) Secret, so more control-plane nodes can join.
        The certificate key is not returned (RV(control_plane_join) says whether kubeadm printed one); get a new one
        with M(kubelab.cluster.kubeadm_token) and O(kubelab.cluster.kubeadm_token#module:certificate_key=true).
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
  api_timeout:
    description:
      - Seconds to wait for the API server to answer when C(/etc/kubernetes/admin.conf) exists (its static pod
        may still be starting after a reboot or an interrupted init).
    type: int
    default: 120
notes:
  - The result holds no secret, so the task needs no C(no_log) (the bootstrap token lives for its TTL; only its ID is
    returned).
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
init_state:
  description:
    - What the module found before it ran anything - V(absent) (no admin.conf), V(partial) (an interrupted init,
      finished by this call) or V(complete).
  returned: always
  type: str
  sample: complete
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
    - The worker join command kubeadm printed, without its secrets - C(token_id) is the public half of the bootstrap
      token (before the dot), C(certificate_key_printed) whether a certificate key was on the command line.
    - V(null) when kubeadm init did not run in this call.
  returned: always
  type: dict
  sample:
    api_server_endpoint: 192.168.3.100:6443
    token_id: abcdef
    discovery_token_ca_cert_hashes:
      - sha256:366824f19b48b07d5e69fd2e928343b28b949cf161a5ff9ec10bf960ff4636c9
    control_plane: false
    certificate_key_printed: false
control_plane_join:
  description:
    - The control-plane join command kubeadm printed, in the same form as RV(join) (C(certificate_key_printed) is
      true when O(upload_certs=true)).
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

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_cluster import (
    COMPLETE,
    PARTIAL,
    UNREACHABLE,
    finish_argv,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    ADMIN_CONF,
    KUBELET_CONFIG,
    init_argv,
    preflight_message,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    kubeadm_version,
    read_init_state,
    read_text,
    run_kubeadm,
    start_module,
    timed_out,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import parse_init_output, parse_preflight

ABSENT = "absent"


def without_secrets(join):
    """kubeadm's printed join data with the token cut to its ID and no certificate key or command line."""
    if join is None:
        return None
    return dict(
        api_server_endpoint=join["api_server_endpoint"],
        token_id=(join["token"] or "").split(".", 1)[0] or None,
        discovery_token_ca_cert_hashes=list(join["discovery_token_ca_cert_hashes"]),
        control_plane=join["control_plane"],
        certificate_key_printed=bool(join["certificate_key"]),
    )


def node_state(module):
    """``(state, missing phases, detail)`` of this node's kubeadm init, read from the cluster.

    No admin.conf: ``absent``. Otherwise the API server decides (kubeadm_cluster.init_state). A server that
    never answers is a half-done init only when the kubelet was never configured (kubeadm's kubelet-start
    phase writes its config, and without it nothing starts the static pods); otherwise the node may hold a
    working cluster whose API server is down, and the module stops rather than touch it.
    """
    text = read_text(ADMIN_CONF)
    if text is None:
        return ABSENT, [], "no %s" % ADMIN_CONF
    state, missing, detail, server = read_init_state(text, module.params["api_timeout"])
    if state == UNREACHABLE and not os.path.exists(KUBELET_CONFIG):
        return PARTIAL, ["kubelet-start"], "%s exists but kubeadm init never configured the kubelet (%s)" % (
            ADMIN_CONF, KUBELET_CONFIG)
    if state == UNREACHABLE:
        module.fail_json(msg="%s exists but the API server at %s did not answer within %d seconds: the node holds a "
                             "control plane that is not running. Check the kubelet and the static pods "
                             "(journalctl -u kubelet; crictl ps -a); if this was an interrupted first init, "
                             "playbooks/reset.yml -e kubelab_reset_confirm=true starts over. Nothing was changed."
                             % (ADMIN_CONF, server, module.params["api_timeout"]), changed=False)
    if state not in (COMPLETE, PARTIAL):
        module.fail_json(msg="%s exists but the API server at %s does not accept it (%s): it belongs to another "
                             "cluster or was replaced; run playbooks/reset.yml to start over. Nothing was changed."
                             % (ADMIN_CONF, server, detail), changed=False)
    return state, missing, detail


def main():
    module, _checked, ignore = start_module(dict(
        config=dict(type="path", required=True),
        upload_certs=dict(type="bool", default=False),
        allow_ignore_all=dict(type="bool", default=False),
        api_timeout=dict(type="int", default=120),
    ), 600, preflight=True)
    params = module.params
    # In check mode the role did not write the config and the packages may not be installed yet:
    # report what would run instead of failing on what an earlier task would have done.
    if not os.path.isfile(params["config"]) and not module.check_mode:
        module.fail_json(msg="config %s does not exist on the node; write the kubeadm configuration first" % params["config"])
    kubeadm = find_kubeadm(module, required=not module.check_mode)

    state, missing, detail = node_state(module)
    result = dict(
        changed=False,
        initialized=state == COMPLETE,
        init_state=state,
        preflight=dict(errors=[], warnings=[], failed=False),
        join=None,
        control_plane_join=None,
        kubeadm_version=kubeadm_version(module, kubeadm) if kubeadm else None,
    )
    if state == COMPLETE:
        module.exit_json(**result)
    result["changed"] = True
    if module._diff:
        result["diff"] = dict(before=dict(initialized=False, init_state=state), after=dict(initialized=True))
    argv = init_argv(kubeadm or params["kubeadm_path"], params["config"], params["upload_certs"], ignore)
    if state == PARTIAL:
        # The run that wrote admin.conf stopped before these phases: run them now.
        module.warn("kubeadm init on this node did not finish (%s; missing phases: %s): running every init phase "
                    "but preflight again to finish it" % (detail, ", ".join(missing)))
        argv = finish_argv(argv)
    if module.check_mode:
        module.exit_json(**result)

    run, raw = run_kubeadm(module, argv)
    parsed = parse_init_output(raw)
    rc = run["rc"]
    result.update(run)
    result["preflight"] = parse_preflight(run["stdout"] + "\n" + run["stderr"])
    if rc != 0:
        if timed_out(rc):
            module.fail_json(msg="kubeadm init did not finish within %d seconds" % params["timeout"], **result)
        if result["preflight"]["failed"]:
            # kubeadm stops at preflight before it writes anything.
            result["changed"] = False
            module.fail_json(msg=preflight_message(result["preflight"], "kubeadm init preflight checks failed:"), **result)
        module.fail_json(msg="kubeadm init failed (rc=%d); see stderr" % rc, **result)
    # The whole token would reach -v logs and registered variables: the worker role mints its join data with
    # kubeadm_token (a no_log task) instead.
    result.update(initialized=True, join=without_secrets(parsed["join"]),
                  control_plane_join=without_secrets(parsed["control_plane_join"]))
    if params["upload_certs"] and parsed["control_plane_join"] is None:
        module.warn("upload_certs is set but kubeadm printed no control-plane join command; kubeadm only prints it "
                    "when the configuration sets controlPlaneEndpoint, which joining more control-plane nodes needs")
    if parsed["join"] is None:
        module.warn("kubeadm init succeeded but printed no kubeadm join command; use kubelab.cluster.kubeadm_token for join data")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
