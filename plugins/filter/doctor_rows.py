# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: doctor_rows
short_description: The node doctor's table rows for one node
version_added: 0.1.0
description:
  - Turns what M(kubelab.cluster.node_state) read on a node, and kubeadm's own preflight once kubeadm is installed,
    into rows C(check), C(result) (V(FAIL) what would stop site.yml, V(WARN) what site.yml fixes or may bite later,
    V(OK)) and C(detail). C(playbooks/preflight.yml) prints them.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, preflight, settings, is_control_plane, problems
options:
  _input:
    description: The node_state result of the node.
    type: dict
    required: true
  preflight:
    description: The C(preflight) result of M(kubelab.cluster.kubeadm_preflight_info), or null before kubeadm is installed.
    type: dict
    required: true
  settings:
    description: Role name to its effective variables (the inputs check's C(kubelab_validate_settings)).
    type: dict
    required: true
  is_control_plane:
    description: Whether the node is the first control plane.
    type: bool
    required: true
  problems:
    description: The nodes' check messages that name this node (duplicates, addresses, held ports).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: One node's rows
  ansible.builtin.debug:
    msg: "{{ node_read | kubelab.cluster.doctor_rows(none, kubelab_validate_settings, true) }}"
"""

RETURN = r"""
_value:
  description: Rows with C(check), C(result), C(detail).
  type: list
  elements: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._doctor import doctor_rows as _doctor_rows


def doctor_rows(read, preflight, settings, is_control_plane, problems=None):
    """The doctor's rows for one node."""
    return _doctor_rows(dict(read or {}), preflight, dict(settings or {}), bool(is_control_plane), list(problems or []))


class FilterModule:
    """kubelab.cluster.doctor_rows"""

    def filters(self):
        return {"doctor_rows": doctor_rows}
