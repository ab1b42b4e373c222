# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: app_summary
short_description: The short report after a deploy - pods per node, Services, endpoints and the URLs to open
version_added: 0.3.0
description:
  - Takes the Deployment, its pods, its Services, their Endpoints and the cluster's nodes as kubernetes.core.k8s_info
    returns them.
  - Node port URLs use every node's InternalIP; a LoadBalancer without an external address is reported as
    C(<pending>) with the node port URLs as the way in; ExternalName Services show their CNAME target.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, pods, services, endpoints, nodes
options:
  _input:
    description: The Deployment object.
    type: dict
    required: true
  pods:
    description: Its pods.
    type: list
    elements: dict
    required: true
  services:
    description: The application's Services.
    type: list
    elements: dict
    required: true
  endpoints:
    description: The Endpoints objects of those Services.
    type: list
    elements: dict
    required: true
  nodes:
    description: The cluster's Node objects.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what runs where and how to reach it
  ansible.builtin.debug:
    msg: "{{ (deployment.resources | first) | kubelab.cluster.app_summary(pods.resources, services.resources, endpoints.resources, nodes.resources) }}"
"""

RETURN = r"""
_value:
  description: C(lines) (the report), C(urls) (C({service, url}) for node ports and external IPs), C(pods_per_node).
  type: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._app_status import summary


def app_summary(deployment, pods, services, endpoints, nodes):
    """See :func:`summary`."""
    return summary(dict(deployment or {}), list(pods or []), list(services or []), list(endpoints or []), list(nodes or []))


class FilterModule:
    """kubelab.cluster.app_summary"""

    def filters(self):
        return {"app_summary": app_summary}
