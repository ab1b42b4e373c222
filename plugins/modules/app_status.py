#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: app_status
short_description: Read an application's Deployment, pods and Services - ready pods, why a rollout is stuck, the report
version_added: 0.3.0
description:
  - The C(app) role's reading of the objects it deployed, given as M(kubernetes.core.k8s_info) returns them
    (its C(resources)). It contacts neither a managed host nor the API server and changes nothing.
  - O(mode=pods) gives one row per pod (C({name, node, phase, ready, ip}), by name); pods being deleted are left out
    and C(ready) is the pod's Ready condition.
  - O(mode=diagnosis) names why the Deployment's rollout is not complete, in the kubelet's terms, with the nodes
    concerned and the way forward (ErrImageNeverPull, ErrImagePull/ImagePullBackOff, container creation errors,
    CrashLoopBackOff, liveness restarts, readiness failures, FailedScheduling, ProgressDeadlineExceeded).
  - O(mode=summary) makes the report after a deploy - pods per node, each Service with its endpoints, and the URLs to
    open (node ports on every node's InternalIP; a LoadBalancer without an address is C(<pending>)).
  - Runs on the controller only (an action plugin). Internal to the collection's C(app) role; its options may change.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - kubelab.cluster.attributes.action
  - kubelab.cluster.attributes.controller
options:
  mode:
    description: What to read.
    type: str
    required: true
    choices: [pods, diagnosis, summary]
  deployment:
    description: The Deployment object, or V({}) when it could not be read. Used by O(mode=diagnosis) and O(mode=summary).
    type: dict
    default: {}
  pods:
    description: The application's pods.
    type: list
    elements: dict
    default: []
  events:
    description: Events of the namespace; O(mode=diagnosis) uses those about the pods.
    type: list
    elements: dict
    default: []
  services:
    description: The application's Services (O(mode=summary)).
    type: list
    elements: dict
    default: []
  endpoints:
    description: The Endpoints objects of those Services (O(mode=summary)).
    type: list
    elements: dict
    default: []
  nodes:
    description: The cluster's Node objects (O(mode=summary)), for the node port URLs and pods per node.
    type: list
    elements: dict
    default: []
  waited:
    description: Seconds the rollout was waited for, quoted in the diagnosis.
    type: int
"""

EXAMPLES = r"""
- name: Read the pods
  kubernetes.core.k8s_info:
    kind: Pod
    namespace: default
    label_selectors: [app=webapp]
  register: pods

- name: List the ready pods
  kubelab.cluster.app_status:
    mode: pods
    pods: "{{ pods.resources }}"
  register: rows

- name: Say why the rollout is stuck
  kubelab.cluster.app_status:
    mode: diagnosis
    deployment: "{{ deployment.resources | first | default({}) }}"
    pods: "{{ pods.resources }}"
    events: "{{ events.resources }}"
    waited: 300
  register: why
"""

RETURN = r"""
pods:
  description: C({name, node, phase, ready, ip}) per pod not being deleted, by name.
  returned: O(mode=pods)
  type: list
  elements: dict
  sample: [{"name": "webapp-deployment-5d9c7-abcde", "node": "worker1", "phase": "Running", "ready": true, "ip": "10.244.1.7"}]
diagnosis:
  description: C(complete) (bool), C(problems) (one text per cause, with its nodes) and C(message) (one line).
  returned: O(mode=diagnosis)
  type: dict
summary:
  description: C(lines) (the report), C(urls) (C({service, url}) for node ports and external IPs) and C(pods_per_node).
  returned: O(mode=summary)
  type: dict
"""
