# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_errors
short_description: Every problem of the collection's inputs, one line each
version_added: 0.2.0
description:
  - The cross-field rules of the validation play that opens C(site.yml), C(reset.yml) and C(preflight.yml),
    on the controller and before any host is contacted.
  - Takes the variables of each role as the first host of its group sees them, the roles' argument specs (for
    the defaults), the inventory groups and the results of C(ansible.builtin.validate_argument_spec), and returns
    every problem found, not only the first, each naming the variable, its value, what is allowed and the fix.
  - "Rules: pod and service CIDRs parse (dual-stack C(IPv4,IPv6) too), do not overlap, and have sizes
    kube-apiserver and kube-controller-manager accept; C(cni_pod_subnet) is empty or the cluster's pod network;
    versions are C(\"1.NN\")/C(\"1.NN.P\") (packages, runtime) or C(v1.NN.P) (kubeadm) inside O(releases), the
    runtime's minor is the packages' and kubeadm deploys its own minor or the previous one; the groups exist, are
    not empty, the control-plane group holds exactly one host, no host is in both the control-plane and the
    workers group, both are inside the cluster group; token TTLs are Go durations; node paths are absolute and
    image archives exist on the controller; ports, endpoints, CRI socket, timeouts, preflight exceptions."
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, specs, groups, group_names, releases, spec_results
options:
  _input:
    description: Role name to C({host, vars}), the host whose variables C(vars) holds (the role's own options only).
    type: dict
    required: true
  specs:
    description: Role name to the C(options) of its C(meta/argument_specs.yml) main entry point.
    type: dict
    required: true
  groups:
    description: The inventory groups (the C(groups) variable).
    type: dict
    required: true
  group_names:
    description: The groups the playbook uses, under the keys C(cluster), C(control_plane) and C(workers).
    type: dict
    required: true
  releases:
    description: Supported Kubernetes minors as C("1.NN") strings.
    type: list
    elements: str
    required: true
  spec_results:
    description: C({role, host, errors}) items, C(errors) being C(argument_errors) of validate_argument_spec.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Refuse the run with every problem at once
  ansible.builtin.fail:
    msg: "{{ problems | join('\n') }}"
  vars:
    problems: >-
      {{ {'control_plane': {'host': 'cp1', 'vars': {'control_plane_pod_subnet': '10.96.0.0/16'}}}
         | kubelab.cluster.validation_errors(my_specs, groups, {'control_plane': 'kube_control_plane'}, ['1.30', '1.36']) }}
  when: problems | length > 0
"""

RETURN = r"""
_value:
  description: One line per problem; empty when the inputs pass.
  type: list
  elements: str
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import input_errors


def validation_errors(provided, specs, groups, group_names, releases, spec_results=None):
    """Every problem of the inputs (see :func:`input_errors`)."""
    return input_errors(provided, specs, dict(groups), group_names, list(releases), spec_results or [])


class FilterModule:
    """kubelab.cluster.validation_errors"""

    def filters(self):
        return {"validation_errors": validation_errors}
