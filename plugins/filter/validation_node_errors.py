# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_node_errors
short_description: What the nodes' own state forbids before any change
version_added: 0.1.0
description:
  - Nodes that share a C(/etc/machine-id), a DMI C(product_uuid) or a host name (nodes cloned from one template),
    node addresses inside the pod or service network, and ports Kubernetes needs held on a node that is not in the
    cluster yet; one message per problem, naming the nodes and the fix.
  - The nodes' checks of the collection's playbooks (C(playbooks/tasks/validate_nodes.yml)) fail with them.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, pod_subnet, service_subnet, check_ports
options:
  _input:
    description:
      - Host name to what M(kubelab.cluster.node_state) read there - C(identity), and optionally C(ports) with
        C(cluster) (control plane) or C(kubelet) (worker) telling whether the node is in the cluster already.
    type: dict
    required: true
  pod_subnet:
    description: The pod network (a CIDR, or an IPv4,IPv6 pair).
    type: str
    required: true
  service_subnet:
    description: The service network (a CIDR, or an IPv4,IPv6 pair).
    type: str
    required: true
  check_ports:
    description: Whether held ports count (the node doctor reports them in rows of their own).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Refuse cloned nodes
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ reads | kubelab.cluster.validation_node_errors('10.244.0.0/16', '10.96.0.0/12') }}"
"""

RETURN = r"""
_value:
  description: One message per problem; empty when the nodes are fit.
  type: list
  elements: str
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import node_errors


def validation_node_errors(nodes, pod_subnet, service_subnet, check_ports=True):
    """The problems of the nodes' identities, addresses and ports."""
    return node_errors(dict(nodes or {}), pod_subnet, service_subnet, bool(check_ports))


class FilterModule:
    """kubelab.cluster.validation_node_errors"""

    def filters(self):
        return {"validation_node_errors": validation_node_errors}
