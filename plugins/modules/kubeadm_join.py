#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_join
short_description: Join a node to a kubeadm Kubernetes cluster
version_added: 0.1.0
description:
  - Runs C(kubeadm join) with token discovery and CA pinning, wrapped in coreutils C(timeout) so a bad token or
    an unreachable API server cannot hang the play.
  - Idempotent - when C(/etc/kubernetes/kubelet.conf) exists and its cluster CA's public-key hash is one of
    O(discovery_token_ca_cert_hashes) the node is already joined and nothing runs. A kubelet.conf of another
    cluster fails with a clear message.
  - Input is checked before kubeadm runs - endpoint, token, CA hashes and certificate key formats.
  - Unknown or expired tokens, CA hash mismatches, timeouts and preflight failures each fail with a clear message;
    secrets never appear in RV(ignore:msg), RV(stdout), RV(stderr) or RV(cmd).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is run; RV(ignore:changed) tells whether kubeadm join would run.
  diff_mode:
    support: full
    details: Reports the joined state before and after.
options:
  api_server_endpoint:
    description:
      - The API server, as C(host:port) or C([ipv6]:port).
      - Required unless O(join_command) is given.
    type: str
  token:
    description:
      - Bootstrap token, C([a-z0-9]{6}.[a-z0-9]{16}).
      - Required unless O(join_command) is given.
    type: str
  discovery_token_ca_cert_hashes:
    description:
      - Accepted CA public-key hashes, each C(sha256:<64 hex>).
      - Required unless O(join_command) is given.
    type: list
    elements: str
  join_command:
    description:
      - A whole C(kubeadm join ...) command (as C(kubeadm init) or C(kubeadm token create --print-join-command)
        print it), instead of O(api_server_endpoint), O(token) and O(discovery_token_ca_cert_hashes).
      - Its C(--control-plane) and C(--certificate-key) are used unless O(control_plane) or O(certificate_key)
        are set.
    type: str
  control_plane:
    description:
      - Join as a control-plane node.
    type: bool
  certificate_key:
    description:
      - Key to decrypt the certificates uploaded by C(kubeadm init --upload-certs), 64 hex digits.
    type: str
  apiserver_advertise_address:
    description:
      - The address this control plane's own API server advertises (C(--apiserver-advertise-address)), an IPv4 or
        IPv6 address of the node; kubeadm's default is the node's default-route address.
      - Only with O(control_plane).
    type: str
  apiserver_bind_port:
    description:
      - The port this control plane's own API server listens on (C(--apiserver-bind-port)), 1 to 65535; kubeadm's
        default is 6443.
      - Only with O(control_plane).
    type: int
  node_name:
    description:
      - Node name to register instead of the host name.
    type: str
  cri_socket:
    description:
      - CRI socket, for example V(unix:///run/containerd/containerd.sock).
    type: str
  ignore_preflight_errors:
    description:
      - Preflight checks whose errors kubeadm reports as warnings. V(all) is refused.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds kubeadm join may run before coreutils C(timeout) stops it.
    type: int
    default: 300
notes:
  - kubeadm retries discovery until its own discovery timeout when a token is unknown; the O(timeout) bounds that.
seealso:
  - module: kubelab.cluster.kubeadm_init
  - module: kubelab.cluster.kubeadm_token
"""

EXAMPLES = r"""
- name: Join a worker with the data returned by kubeadm_token on the control plane
  kubelab.cluster.kubeadm_join:
    api_server_endpoint: "{{ kubelab_join.api_server_endpoint }}"
    token: "{{ kubelab_join.token }}"
    discovery_token_ca_cert_hashes: "{{ kubelab_join.discovery_token_ca_cert_hashes }}"
  no_log: true

- name: Join a further control plane, its API server on its own address
  kubelab.cluster.kubeadm_join:
    join_command: "{{ kubelab_join.command }}"
    control_plane: true
    certificate_key: "{{ kubelab_certificate_key }}"
    apiserver_advertise_address: 192.0.2.12
    apiserver_bind_port: 6443
  no_log: true

- name: Join with a printed join command
  kubelab.cluster.kubeadm_join:
    join_command: "{{ kubelab_join.command }}"
    node_name: worker-1
  no_log: true
"""

RETURN = r"""
joined:
  description: Whether the node belongs to the cluster after the call.
  returned: always
  type: bool
  sample: true
ca_cert_hash:
  description: Public-key hash of the cluster CA now in C(/etc/kubernetes/kubelet.conf) (null when absent).
  returned: always
  type: str
  sample: sha256:366824f19b48b07d5e69fd2e928343b28b949cf161a5ff9ec10bf960ff4636c9
preflight:
  description: Preflight errors and warnings kubeadm printed; each item has C(check), C(message) and C(hint).
  returned: always
  type: dict
reason:
  description:
    - Why kubeadm join ended - V(joined), V(already_joined), V(timeout), V(token), V(ca_hash), V(jws), V(preflight),
      V(unreachable) or V(failed).
  returned: always
  type: str
  sample: joined
cmd:
  description: The kubeadm command line, secrets masked.
  returned: when kubeadm join ran
  type: str
rc:
  description: kubeadm's exit status (124 when the timeout was hit).
  returned: when kubeadm join ran
  type: int
stdout:
  description: kubeadm's standard output, secrets masked.
  returned: when kubeadm join ran
  type: str
stderr:
  description: kubeadm's standard error, secrets masked.
  returned: when kubeadm join ran
  type: str
"""

import os

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    APISERVER_MANIFEST,
    KUBELET_CONF,
    join_argv,
    join_outcome,
    preflight_message,
    validate_ca_hashes,
    validate_certificate_key,
    validate_endpoint,
    validate_token,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    kubeconfig_ca_hash,
    run_kubeadm,
    start_module,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import (
    find_join_commands,
    parse_preflight,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import (
    ip_address,
    is_port_number,
)


def resolve_join(params):
    """Endpoint, token, hashes, control_plane, certificate_key from the options; raises ``ValueError``."""
    endpoint = params["api_server_endpoint"]
    token = params["token"]
    hashes = params["discovery_token_ca_cert_hashes"]
    control_plane = params["control_plane"]
    certificate_key = params["certificate_key"]
    if params["join_command"] is not None:
        if endpoint is not None or token is not None or hashes is not None:
            raise ValueError("join_command and api_server_endpoint/token/discovery_token_ca_cert_hashes are mutually exclusive")
        found = find_join_commands(params["join_command"])
        if not found:
            raise ValueError("join_command holds no valid 'kubeadm join <host:port> --token <token> "
                             "--discovery-token-ca-cert-hash sha256:<hash>' command")
        data = found[0]
        endpoint, token, hashes = data["api_server_endpoint"], data["token"], data["discovery_token_ca_cert_hashes"]
        control_plane = data["control_plane"] if control_plane is None else control_plane
        certificate_key = data["certificate_key"] if certificate_key is None else certificate_key
    missing = [name for name, value in (("api_server_endpoint", endpoint), ("token", token),
                                        ("discovery_token_ca_cert_hashes", hashes)) if value is None]
    if missing:
        raise ValueError("missing required options: %s (or give join_command)" % ", ".join(missing))
    validate_endpoint(endpoint)
    validate_token(token)
    validate_ca_hashes(hashes)
    if certificate_key is not None:
        validate_certificate_key(certificate_key)
    return endpoint, token, list(hashes), bool(control_plane), certificate_key


def api_server_options(params, control_plane):
    """The joining control plane's own API server (address, port), checked by the collection's input rules."""
    address, port = params["apiserver_advertise_address"] or None, params["apiserver_bind_port"]
    if (address or port is not None) and not control_plane:
        raise ValueError("apiserver_advertise_address and apiserver_bind_port set a control plane's own API server: "
                         "give them with control_plane=true only")
    if address and ip_address(address) is None:
        raise ValueError("apiserver_advertise_address %r is not an IP address: give an IPv4/IPv6 address of the node, "
                         "or leave it unset for the default route's address" % address)
    if port is not None and not is_port_number(port):
        raise ValueError("apiserver_bind_port %r is not a TCP port (1 to 65535), e.g. 6443" % port)
    return address, port


def check_join(params):
    """resolve_join's values, then the joining control plane's own API server (address, port)."""
    joining = resolve_join(params)
    return joining + api_server_options(params, joining[3])


def main():
    module, joining, ignore = start_module(dict(
        api_server_endpoint=dict(type="str"),
        token=dict(type="str", no_log=True),
        discovery_token_ca_cert_hashes=dict(type="list", elements="str", no_log=False),
        join_command=dict(type="str", no_log=True),
        control_plane=dict(type="bool"),
        certificate_key=dict(type="str", no_log=True),
        apiserver_advertise_address=dict(type="str"),
        apiserver_bind_port=dict(type="int"),
        node_name=dict(type="str"),
        cri_socket=dict(type="str"),
    ), 300, check=check_join, preflight=True)
    params = module.params
    endpoint, token, hashes, control_plane, certificate_key, advertise_address, bind_port = joining
    secrets = [value for value in (token, certificate_key) if value]

    result = dict(changed=False, joined=False, ca_cert_hash=None, reason="joined",
                  preflight=dict(errors=[], warnings=[], failed=False))
    if os.path.exists(KUBELET_CONF):
        try:
            current, _cluster = kubeconfig_ca_hash(KUBELET_CONF)
        except ValueError as exc:
            module.fail_json(msg="%s exists but: %s; run playbooks/reset.yml" % (KUBELET_CONF, exc), **result)
        result["ca_cert_hash"] = current
        if current not in hashes:
            module.fail_json(msg="node already belongs to another cluster (CA %s); run playbooks/reset.yml" % current, **result)
        if control_plane and not os.path.exists(APISERVER_MANIFEST):
            module.fail_json(msg="node already joined this cluster as a worker, not as a control-plane node; "
                                 "run playbooks/reset.yml to join it again", **result)
        result.update(joined=True, reason="already_joined")
        module.exit_json(**result)

    # Check mode on a node the packages are not installed on yet reports the join all the same.
    kubeadm = find_kubeadm(module, required=not module.check_mode)
    result["changed"] = True
    if module._diff:
        result["diff"] = dict(before=dict(joined=False), after=dict(joined=True))
    if module.check_mode:
        module.exit_json(**result)

    argv = join_argv(kubeadm, endpoint, token, hashes, control_plane, certificate_key,
                     params["node_name"], params["cri_socket"], ignore, advertise_address, bind_port)
    run, raw = run_kubeadm(module, argv, secrets)
    result.update(run)
    result["preflight"] = parse_preflight(run["stdout"] + "\n" + run["stderr"])
    reason, message = join_outcome(raw, run["rc"])
    result["reason"] = reason
    if run["rc"] != 0 or reason != "joined":
        result["joined"] = False
        if reason == "preflight":
            message = preflight_message(result["preflight"], "kubeadm join preflight checks failed:")
        elif reason == "timeout":
            message = "%s (timeout %d s)" % (message, params["timeout"])
        module.fail_json(msg=message, **result)
    try:
        result["ca_cert_hash"] = kubeconfig_ca_hash(KUBELET_CONF)[0]
    except ValueError as exc:
        module.warn("joined, but the cluster CA hash could not be read: %s" % exc)
    result["joined"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
