#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_token
short_description: Ensure a kubeadm bootstrap token exists (or is gone) and return join data
version_added: 0.1.0
description:
  - Runs on a control-plane node. With O(state=present) it reuses a token that has the same O(description)
    (or is the given O(token)), carries the C(authentication) usage and lives at least O(min_ttl_left) longer;
    otherwise it creates one with C(kubeadm token create). Reuse reports RV(ignore:changed=false) and runs
    nothing that mutates.
  - Returns join data for workers (secret) built from the token, the API server and the cluster CA of
    O(kubeconfig), so no C(--print-join-command) parsing is needed.
  - With O(certificate_key=true) it also runs C(kubeadm init phase upload-certs --upload-certs) and returns join
    data for control-plane nodes; that re-uploads the certificates with a new key, so it always reports a change.
  - With O(state=absent) it deletes O(token), or every token with O(description) when no token is given.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Tokens are listed (read-only); nothing is created or deleted and RV(join) is null when a token would be created.
  diff_mode:
    support: full
    details: Reports the public token IDs before and after.
options:
  state:
    description:
      - Whether the token should exist.
    type: str
    choices: [present, absent]
    default: present
  token:
    description:
      - The token, C([a-z0-9]{6}.[a-z0-9]{16}). With O(state=present) this exact token is created or reused;
        with O(state=absent) it is deleted.
      - Ansible masks this value in results because it is a C(no_log) option.
    type: str
  ttl:
    description:
      - Lifetime of a new token as a Go duration (V(2h), V(30m), V(1h30m)); V(0) never expires.
    type: str
    default: 2h
  min_ttl_left:
    description:
      - Reuse a token only when it lives at least this much longer (Go duration).
    type: str
    default: 30m
  description:
    description:
      - Description of the token; identifies the tokens this module manages.
    type: str
    default: kubelab.cluster join token
  usages:
    description:
      - Token usages; kubeadm's default (C(signing), C(authentication)) when empty.
    type: list
    elements: str
    default: []
  groups:
    description:
      - Extra groups the token authenticates as; kubeadm's default when empty.
    type: list
    elements: str
    default: []
  certificate_key:
    description:
      - Also upload the control-plane certificates and return RV(control_plane_join) with the new certificate key.
    type: bool
    default: false
  kubeconfig:
    description:
      - Admin kubeconfig on the control-plane node.
    type: path
    default: /etc/kubernetes/admin.conf
  ca_cert_hashes:
    description:
      - Public-key pins (C(sha256:<hex>)) of the cluster CA for the join data, when the caller read them already
        (the C(cluster.ca_cert_hash) of M(kubelab.cluster.node_state)); by default the CA of O(kubeconfig) is read.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds each kubeadm call may run.
    type: int
    default: 60
seealso:
  - module: kubelab.cluster.kubeadm_join
  - module: kubelab.cluster.kubeadm_init
"""

EXAMPLES = r"""
- name: Get join data for the workers (reuses a token with 30 minutes left)
  kubelab.cluster.kubeadm_token:
    ttl: 2h
  register: kubelab_token
  no_log: true

- name: Remove the join tokens of this collection
  kubelab.cluster.kubeadm_token:
    state: absent
"""

RETURN = r"""
join:
  description: Join data for workers (secret); null with O(state=absent) or when check mode would create a token.
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
  description: Join data for control-plane nodes (secret) when O(certificate_key=true), else null.
  returned: always
  type: dict
token_id:
  description: Public half of the token (not secret).
  returned: always
  type: str
  sample: abcdef
expires:
  description: Expiry of the token in RFC 3339, null for tokens that never expire or when there is none.
  returned: always
  type: str
  sample: "2026-11-25T21:16:00Z"
deleted:
  description: Token IDs deleted (O(state=absent)).
  returned: always
  type: list
  elements: str
"""

import datetime

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    endpoint_from_server,
    format_rfc3339,
    kubeconfig_ca_hash_text,
    kubeconfig_cluster,
    parse_go_duration,
    select_reusable_token,
    token_create_argv,
    token_delete_argv,
    token_list_argv,
    upload_certs_argv,
    validate_ca_hashes,
    validate_token,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    read_text,
    run_kubeadm,
    start_module,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import (
    CERT_KEY_RE,
    TOKEN_RE,
    join_data,
    parse_token_list,
)


def validate(params):
    """Check the options; return (ttl seconds, min_ttl_left seconds). Raises ``ValueError``."""
    if params["token"] is not None:
        validate_token(params["token"])
    try:
        ttl = parse_go_duration(params["ttl"])
        min_left = parse_go_duration(params["min_ttl_left"])
    except ValueError as exc:
        raise ValueError("ttl/min_ttl_left: %s" % exc)
    if ttl and ttl < min_left:
        raise ValueError("ttl (%s) is shorter than min_ttl_left (%s): a new token would never be reusable"
                         % (params["ttl"], params["min_ttl_left"]))
    return ttl, min_left


def check_options(params):
    """:func:`validate`, and the caller's CA pins under this module's name for them."""
    ttls = validate(params)
    if params["ca_cert_hashes"]:
        try:
            validate_ca_hashes(params["ca_cert_hashes"])
        except ValueError as exc:
            raise ValueError(str(exc).replace("discovery_token_ca_cert_hashes", "ca_cert_hashes"))
    return ttls


def fail_run(module, what, run, result):
    result.update(run)
    module.fail_json(msg="%s failed (rc=%s); see stderr" % (what, run["rc"]), **result)


def main():
    module, ttls, _ignore = start_module(dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        token=dict(type="str", no_log=True),
        ttl=dict(type="str", default="2h"),
        min_ttl_left=dict(type="str", default="30m"),
        description=dict(type="str", default="kubelab.cluster join token"),
        usages=dict(type="list", elements="str", default=[]),
        groups=dict(type="list", elements="str", default=[]),
        certificate_key=dict(type="bool", default=False),
        kubeconfig=dict(type="path", default="/etc/kubernetes/admin.conf"),
        ca_cert_hashes=dict(type="list", elements="str", default=[], no_log=False),
    ), 60, check=check_options)
    params = module.params
    ttl, min_left = ttls
    kubeconfig_text = read_text(params["kubeconfig"])
    if kubeconfig_text is None:
        module.fail_json(msg="kubeconfig %s cannot be read; run this on an initialized control-plane node" % params["kubeconfig"])
    kubeadm = find_kubeadm(module)
    secrets = [params["token"]] if params["token"] else []
    result = dict(changed=False, join=None, control_plane_join=None, token_id=None, expires=None, deleted=[])

    run, raw = run_kubeadm(module, token_list_argv(kubeadm, params["kubeconfig"]), secrets)
    if run["rc"] != 0:
        fail_run(module, "kubeadm token list", run, result)
    tokens = parse_token_list(raw)
    before = sorted(item["token"].split(".")[0] for item in tokens)

    if params["state"] == "absent":
        if params["token"]:
            doomed = [item for item in tokens if item["token"] == params["token"]]
        else:
            doomed = [item for item in tokens if item["description"] == params["description"]]
        ids = sorted(item["token"].split(".")[0] for item in doomed)
        result["deleted"] = ids
        if ids:
            result["changed"] = True
            if module._diff:
                result["diff"] = dict(before=dict(token_ids=before), after=dict(token_ids=[i for i in before if i not in ids]))
            if not module.check_mode:
                run, _raw = run_kubeadm(module, token_delete_argv(kubeadm, params["kubeconfig"], ids), secrets)
                if run["rc"] != 0:
                    fail_run(module, "kubeadm token delete", run, result)
        module.exit_json(**result)

    # The caller's pins, or the CA of the kubeconfig: computed once on the join path.
    if params["ca_cert_hashes"]:
        ca_hashes, cluster = list(params["ca_cert_hashes"]), kubeconfig_cluster(kubeconfig_text)
    else:
        try:
            ca_hash, cluster = kubeconfig_ca_hash_text(kubeconfig_text, params["kubeconfig"], read_text)
        except ValueError as exc:
            module.fail_json(msg=str(exc), **result)
        ca_hashes = [ca_hash]
    endpoint = endpoint_from_server(cluster.get("server"))
    if endpoint is None:
        module.fail_json(msg="kubeconfig %s has no usable cluster server URL" % params["kubeconfig"], **result)

    now = datetime.datetime.now(datetime.timezone.utc)
    chosen = select_reusable_token(tokens, now, min_left, description=params["description"], token=params["token"])
    if chosen is None:
        result["changed"] = True
        new_token = params["token"]
        if module._diff:
            result["diff"] = dict(before=dict(token_ids=before), after=dict(token_ids=sorted(before + ["(new)"])))
        if not module.check_mode:
            argv = token_create_argv(kubeadm, params["kubeconfig"], params["ttl"], params["description"],
                                     params["usages"], params["groups"], params["token"])
            run, raw = run_kubeadm(module, argv, secrets)
            created = [word for word in raw.split() if TOKEN_RE.match(word)]
            if run["rc"] != 0 or not created:
                fail_run(module, "kubeadm token create", run, result)
            new_token = created[0]
            expires = format_rfc3339(now + datetime.timedelta(seconds=ttl)) if ttl else None
            chosen = dict(token=new_token, expires=expires)
    if chosen is not None:
        result["token_id"] = chosen["token"].split(".")[0]
        result["expires"] = chosen.get("expires")
        result["join"] = join_data(endpoint, chosen["token"], ca_hashes)

    if params["certificate_key"]:
        result["changed"] = True
        if not module.check_mode and chosen is not None:
            run, raw = run_kubeadm(module, upload_certs_argv(kubeadm, params["kubeconfig"]), secrets)
            keys = [word for word in raw.split() if CERT_KEY_RE.match(word)]
            if run["rc"] != 0 or not keys:
                fail_run(module, "kubeadm init phase upload-certs", run, result)
            result["control_plane_join"] = join_data(endpoint, chosen["token"], ca_hashes, True, keys[-1])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
