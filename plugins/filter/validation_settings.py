# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_settings
short_description: Each role's effective variables - its argument spec defaults overlaid with what the hosts set
version_added: 0.1.0
description:
  - The values the roles will run with, as the inputs check of the collection's playbooks reads them (the first host
    of each role's group); the node doctor decides with them. Defaults that are templates are left out.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, specs
options:
  _input:
    description: Role to C(host) and C(vars), as C(playbooks/tasks/validate_inputs.yml) collects them.
    type: dict
    required: true
  specs:
    description: Role to the options of its C(meta/argument_specs.yml) main entry point.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The effective pod subnet
  ansible.builtin.debug:
    msg: "{{ (provided | kubelab.cluster.validation_settings(specs)).control_plane.control_plane_pod_subnet }}"
"""

RETURN = r"""
_value:
  description: Role to variable name to value.
  type: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import effective_settings


def validation_settings(provided, specs):
    """Role -> effective variables."""
    return effective_settings(dict(provided or {}), dict(specs or {}))


class FilterModule:
    """kubelab.cluster.validation_settings"""

    def filters(self):
        return {"validation_settings": validation_settings}
