#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Refuse a role's or a playbook's bad inputs before any change, with every problem at once
version_added: 0.2.0
description:
  - The collection's one input check. Each role of the collection calls it first, with the variables the role sees;
    the validation play that opens the collection's playbooks calls it with O(roles), reading each role's variables
    as the first host of the role's group sees them. Both give the same verdict with the same message.
  - Checks each role's variables against the role's own C(meta/argument_specs.yml) (types and choices, ansible's
    validator), then the rules that types cannot say, written once in the collection's validation module_utils
    (CIDRs and overlaps, Kubernetes versions against the supported releases, Go durations, inventory groups, URLs,
    controller paths, a list given as text).
  - Runs on the controller only (an action plugin); no managed host is contacted.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - kubelab.cluster.attributes.action
  - kubelab.cluster.attributes.controller
options:
  role:
    description:
      - Name of the collection role to check (without the collection prefix), with the variables this task sees.
      - Defaults to the role the task belongs to. Mutually exclusive with O(roles).
    type: str
  roles:
    description:
      - The roles a playbook runs, each C({role, group}). C(group) is a key of O(groups) (C(cluster), C(control_plane),
        C(workers), C(app_nodes)) whose first host's variables are read, or C(controller) for a role of a play on
        localhost.
    type: list
    elements: dict
  groups:
    description:
      - The inventory groups the playbook uses, by key (C(cluster), C(control_plane), C(workers), C(app_nodes)); each
        must exist and hold hosts.
    type: dict
    default: {}
  node:
    description:
      - The one node a playbook acts on (C(playbooks/remove_node.yml)'s C(node)), by its inventory name. It must be a host
        of the C(cluster) group of O(groups), and not the only host of its C(control_plane) group (the last control plane).
      - Omitted by the playbooks that act on whole groups.
    type: str
    version_added: 0.3.0
notes:
  - A variable whose value cannot be templated before the run (it names a fact no play has set yet) is not checked.
"""

EXAMPLES = r"""
- name: Refuse bad inputs of this role before any change
  kubelab.cluster.check_inputs:
  run_once: true

- name: Check the inputs of the roles a playbook runs
  kubelab.cluster.check_inputs:
    groups:
      cluster: k8s_cluster
      control_plane: kube_control_plane
    roles:
      - {role: prereqs, group: cluster}
      - {role: control_plane, group: control_plane}
"""

RETURN = r"""
errors:
  description: Every problem found, one line each (variable, value, what is allowed, how to fix it).
  returned: always
  type: list
  elements: str
settings:
  description: Per role, the values its variables have (argument spec defaults overlaid with the values given).
  returned: always
  type: dict
release:
  description:
    - Release facts from the collection's one table of them. C(supported_minors), and for the container_runtime role
      the C(pause_tag) of its Kubernetes version and the C(cri_socket) of its runtime.
  returned: always
  type: dict
  sample: {"supported_minors": ["1.35", "1.36"], "pause_tag": "3.10.1", "cri_socket": "unix:///var/run/containerd/containerd.sock"}
"""
