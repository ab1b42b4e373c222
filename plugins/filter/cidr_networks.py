# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: cidr_networks
short_description: The networks of a CIDR or of a dual-stack CIDR pair
version_added: 0.2.0
description:
  - Parses a CIDR (C(10.244.0.0/16), C(fd00:10:244::/56)) or a dual-stack pair C(IPv4,IPv6) as kubeadm's
    C(podSubnet) and C(serviceSubnet) take it, with Python's C(ipaddress), and returns the networks.
  - Fails with the reason when the value is not a CIDR, has host bits set (C(10.244.1.0/16)), or is a pair of
    the same family.
author:
  - kubelab.cluster maintainers (@kubelab)
options:
  _input:
    description: The CIDR, or two CIDRs separated by a comma.
    type: str
    required: true
seealso:
  - plugin: kubelab.cluster.cidr_overlaps
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The pod networks, normalized
  ansible.builtin.debug:
    msg: "{{ '10.244.0.0/16,fd00:10:244::/56' | kubelab.cluster.cidr_networks }}"
  # ['10.244.0.0/16', 'fd00:10:244::/56']
"""

RETURN = r"""
_value:
  description: The networks in compressed notation, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import parse_cidrs


def cidr_networks(value):
    """The networks of ``value`` as strings; a filter error when it does not parse."""
    try:
        return [str(network) for network in parse_cidrs(value)]
    except ValueError as exc:
        raise AnsibleFilterError("cidr_networks: %s" % exc)


class FilterModule:
    """kubelab.cluster.cidr_networks"""

    def filters(self):
        return {"cidr_networks": cidr_networks}
