# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_drift
short_description: kubeadm settings an initialized control plane does not run with
version_added: 0.1.0
description:
  - Compares the control_plane role's settings with what the static pod manifests of the running control plane say
    (the C(cluster.running) of M(kubelab.cluster.node_state)); one message per setting that differs, with the way
    forward. kubeadm applies these settings at init only, so a changed value cannot take effect by itself.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, running
options:
  _input:
    description:
      - C(pod_subnet), C(service_subnet), C(cluster_name), C(bind_port), C(advertise_address) (empty - kubeadm's choice)
        and C(apiserver_extra_args) (name to value).
    type: dict
    required: true
  running:
    description: The C(cluster.running) that M(kubelab.cluster.node_state) read.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Report what the cluster does not run with
  ansible.builtin.debug:
    msg: "{{ wanted | kubelab.cluster.validation_drift(node.cluster.running) }}"
"""

RETURN = r"""
_value:
  description: One message per setting that differs; empty when the cluster runs what is asked.
  type: list
  elements: str
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import drift


def validation_drift(wanted, running):
    """Messages for the settings the running control plane does not have."""
    return drift(dict(wanted or {}), dict(running or {}))


class FilterModule:
    """kubelab.cluster.validation_drift"""

    def filters(self):
        return {"validation_drift": validation_drift}
