# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: app_rollout_diagnosis
short_description: Why a Deployment's rollout is not complete, from its pods' states and events
version_added: 0.3.0
description:
  - Reads the Deployment, its pods and the namespace's events as kubernetes.core.k8s_info returns them and names the
    cause of a stuck rollout in the kubelet's terms, with the nodes concerned and the way forward.
  - "Causes: ErrImageNeverPull (image not side-loaded on those nodes), ErrImagePull/ImagePullBackOff, container
    creation errors, CrashLoopBackOff (exit code, restarts), liveness probe restarts, readiness probe failures,
    FailedScheduling, ProgressDeadlineExceeded."
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, pods, events, waited
options:
  _input:
    description: The Deployment object (or an empty dict when it could not be read).
    type: dict
    required: true
  pods:
    description: The Deployment's pods (k8s_info resources).
    type: list
    elements: dict
    required: true
  events:
    description: Events of the namespace (k8s_info resources); those about the pods are used.
    type: list
    elements: dict
    default: []
  waited:
    description: Seconds the rollout was waited for, quoted in the message.
    type: int
"""

EXAMPLES = r"""
- name: Fail with the cause of the stuck rollout
  ansible.builtin.fail:
    msg: "{{ (deployment.resources | first) | kubelab.cluster.app_rollout_diagnosis(pods.resources, events.resources, 300) }}"
"""

RETURN = r"""
_value:
  description: C(complete) (bool), C(problems) (one text per cause, with its nodes) and C(message) (one line).
  type: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._app_status import rollout_diagnosis


def app_rollout_diagnosis(deployment, pods, events=None, waited=None):
    """See :func:`rollout_diagnosis`."""
    return rollout_diagnosis(dict(deployment or {}), list(pods or []), list(events or []), waited)


class FilterModule:
    """kubelab.cluster.app_rollout_diagnosis"""

    def filters(self):
        return {"app_rollout_diagnosis": app_rollout_diagnosis}
