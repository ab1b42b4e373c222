# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: app_pods
short_description: One row per pod - name, node, phase, readiness, address
version_added: 0.3.0
description:
  - Turns pods as kubernetes.core.k8s_info returns them into C({name, node, phase, ready, ip}) rows, sorted by name.
  - Pods being deleted (with a deletion timestamp) are left out; C(ready) is the pod's Ready condition.
author:
  - kubelab.cluster maintainers (@kubelab)
options:
  _input:
    description: Pod objects.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Count the ready pods
  ansible.builtin.debug:
    msg: "{{ pods.resources | kubelab.cluster.app_pods | selectattr('ready') | list | length }}"
"""

RETURN = r"""
_value:
  description: C({name, node, phase, ready, ip}) per pod.
  type: list
  elements: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._app_status import pod_rows


def app_pods(pods):
    """See :func:`pod_rows`."""
    return pod_rows(list(pods or []))


class FilterModule:
    """kubelab.cluster.app_pods"""

    def filters(self):
        return {"app_pods": app_pods}
