# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: app_input_errors
short_description: Every problem of the app role's variables, one line each
version_added: 0.3.0
description:
  - The rules the API server would apply to the Deployment and Services the C(app) role renders, checked on the
    controller before anything is sent, so a typo is refused with the variable's name instead of a 422 half-way.
  - "Rules: object names (DNS-1035 Service and container names, DNS-1123 namespace and Deployment names), image
    reference, replicas, container and Service ports, node ports inside O(_input.app_node_port_range) and not given
    twice, Service types, ExternalName targets, externalIPs, rolling update surge/unavailable, probes with exactly
    one handler, environment variable names, the rollout timeout."
  - The same rules run in the inputs check of C(playbooks/app.yml) (M(kubelab.cluster.validation_errors)).
author:
  - kubelab.cluster maintainers (@kubelab)
options:
  _input:
    description: The app role's variables, name to value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse wrong app inputs
  ansible.builtin.fail:
    msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'app_name': 'webapp', 'app_services': [{'name': 'web', 'type': 'NodePort', 'node_port': 8080}]} | kubelab.cluster.app_input_errors }}"
  when: problems | length > 0
"""

RETURN = r"""
_value:
  description: One line per problem (variable, value, what is allowed, the fix); empty when the inputs pass.
  type: list
  elements: str
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import app_errors


def app_input_errors(values):
    """Every problem of the app role's variables (see :func:`app_errors`)."""
    return app_errors(dict(values))


class FilterModule:
    """kubelab.cluster.app_input_errors"""

    def filters(self):
        return {"app_input_errors": app_input_errors}
