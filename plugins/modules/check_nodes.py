#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: check_nodes
short_description: Refuse nodes that cannot form one cluster, before any node is changed; the node doctor's rows
version_added: 0.2.0
description:
  - Compares what M(kubelab.cluster.node_state) read on every node - nodes that share a C(/etc/machine-id), a DMI
    C(product_uuid) or a host name (nodes cloned from one template), node addresses inside the pod or service
    network, and ports Kubernetes needs held on a node that is not in the cluster yet; one message per problem,
    naming the nodes and the fix.
  - Fails with every problem at once unless O(report_only). The nodes' check of the collection's playbooks
    (C(playbooks/tasks/validate_nodes.yml)) calls it once, after each node was read.
  - With O(doctor), also the node doctor's table rows of each node (C(playbooks/preflight.yml) prints them) - what
    would stop site.yml (V(FAIL)), what site.yml fixes or may bite later (V(WARN)), and V(OK).
  - Runs on the controller only (an action plugin); no managed host is contacted.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - kubelab.cluster.attributes.action
  - kubelab.cluster.attributes.controller
options:
  nodes:
    description:
      - Host name to what M(kubelab.cluster.node_state) read there (its registered result) - C(identity), and
        optionally C(ports) with C(cluster) (control plane) or C(kubelet) (worker) telling whether the node is in the
        cluster already; for O(doctor) the rest of the read (C(system), C(swap), C(modules), C(sysctls), C(time_sync),
        C(paths)).
    type: dict
    required: true
  pod_subnet:
    description: The pod network (a CIDR, or an IPv4,IPv6 pair); a network that cannot be parsed is not compared.
    type: str
    required: true
  service_subnet:
    description: The service network (a CIDR, or an IPv4,IPv6 pair); a network that cannot be parsed is not compared.
    type: str
    required: true
  check_ports:
    description: Whether held ports count as problems (never with O(doctor), which gives them rows of their own).
    type: bool
    default: true
  doctor:
    description: Also make the node doctor's rows of each node (RV(rows)).
    type: bool
    default: false
  preflight:
    description:
      - For O(doctor), host name to what M(kubelab.cluster.kubeadm_preflight_info) returned there (its registered result;
        its C(preflight) becomes rows). A host left out, a skipped run (kubeadm not installed yet, or the node is in the
        cluster already) or a result without C(preflight) counts as kubeadm's checks not run.
    type: dict
    default: {}
  settings:
    description:
      - For O(doctor), role name to its effective variables (the C(settings) M(kubelab.cluster.check_inputs) returns).
    type: dict
    default: {}
  first_control_plane:
    description: For O(doctor), the host name of the first control plane (its rows check a control plane's size).
    type: str
    default: ""
  report_only:
    description: Return the problems in RV(errors) without failing.
    type: bool
    default: false
  advertise_addresses:
    description:
      - Control plane host to its C(control_plane_advertise_address); an empty value (kubeadm's choice) is not checked.
      - An address that is not among the node's own addresses (C(identity.addresses)) is refused, which also catches one
        value set for the whole control plane group.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Read each node's identity, addresses and the ports Kubernetes needs
  kubelab.cluster.node_state:
    identity: true
    ports: ["10250"]
    kubelet: true
  register: node_read

- name: Refuse cloned nodes and node addresses inside the cluster networks
  kubelab.cluster.check_nodes:
    nodes: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'node_read'))) }}"
    pod_subnet: 10.244.0.0/16
    service_subnet: 10.96.0.0/12
  run_once: true

- name: The doctor's rows of every node, failing on nothing
  kubelab.cluster.check_nodes:
    nodes: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'node_read'))) }}"
    pod_subnet: 10.244.0.0/16
    service_subnet: 10.96.0.0/12
    doctor: true
    report_only: true
    first_control_plane: cp1
  register: doctor
  run_once: true
"""

RETURN = r"""
errors:
  description: One message per problem (held ports not counted with O(doctor) or without O(check_ports)); empty when the nodes are fit.
  returned: always
  type: list
  elements: str
  sample: ["w1, w2 share one /etc/machine-id (3f5c...): Kubernetes needs it unique per node; ..."]
rows:
  description:
    - Host name to the node doctor's rows, each with C(check), C(result) (V(FAIL), V(WARN) or V(OK)) and C(detail);
      the problems of RV(errors) naming a node are its C(unique node) rows. Empty without O(doctor).
  returned: always
  type: dict
  sample: {"cp1": [{"check": "os", "result": "OK", "detail": "Debian 12"}]}
msg:
  description: The refusal, with every problem of RV(errors).
  returned: when it fails
  type: str
"""
