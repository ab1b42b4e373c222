# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: cidr_overlaps
short_description: The pairs of networks two CIDR values have in common
version_added: 0.2.0
description:
  - Compares two CIDR values (each a CIDR or a dual-stack pair C(IPv4,IPv6)) and returns every pair of networks,
    one from each, that share at least one address, such as a pod network inside the service network.
  - Fails like P(kubelab.cluster.cidr_networks#filter) when either value does not parse.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, other
options:
  _input:
    description: The first CIDR value.
    type: str
    required: true
  other:
    description: The second CIDR value.
    type: str
    required: true
seealso:
  - plugin: kubelab.cluster.cidr_networks
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse overlapping pod and service networks
  ansible.builtin.assert:
    that: pod_subnet | kubelab.cluster.cidr_overlaps(service_subnet) | length == 0
  vars:
    pod_subnet: 10.96.0.0/16
    service_subnet: 10.96.0.0/12
  # the filter returns [['10.96.0.0/16', '10.96.0.0/12']], so the assertion fails
"""

RETURN = r"""
_value:
  description: Pairs C([first, second]) of overlapping networks; empty when the values share no address.
  type: list
  elements: list
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import overlaps, parse_cidrs


def cidr_overlaps(value, other):
    """``[a, b]`` pairs of overlapping networks between ``value`` and ``other``."""
    try:
        return [[str(a), str(b)] for a, b in overlaps(parse_cidrs(value), parse_cidrs(other))]
    except ValueError as exc:
        raise AnsibleFilterError("cidr_overlaps: %s" % exc)


class FilterModule:
    """kubelab.cluster.cidr_overlaps"""

    def filters(self):
        return {"cidr_overlaps": cidr_overlaps}
