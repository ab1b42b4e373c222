# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_kube_version
short_description: The minor of a Kubernetes version, checked against the supported releases
version_added: 0.2.0
description:
  - Checks a Kubernetes version in the form a role takes it and returns its minor (C(36) for C(1.36.1)).
  - O(style=package) (the Kubernetes packages, C(kube_packages_version)) takes a quoted C("1.NN") or C("1.NN.P");
    an unquoted YAML number such as C(1.30) (the float C(1.3)) is refused.
  - O(style=kubeadm) (kubeadm's kubernetesVersion, C(control_plane_kubernetes_version)) takes C("v1.NN.P").
  - Fails with the reason when the form is wrong or the minor is outside O(releases).
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, releases, style
options:
  _input:
    description: The version.
    type: raw
    required: true
  releases:
    description: The supported minors as C("1.NN") strings; the oldest and the newest bound the range.
    type: list
    elements: str
    required: true
  style:
    description: The form the version must have.
    type: str
    choices: [package, kubeadm]
    default: package
"""

EXAMPLES = r"""
- name: The minor of the packages' version
  ansible.builtin.debug:
    msg: "{{ '1.33.2' | kubelab.cluster.validation_kube_version(['1.30', '1.36']) }}"
  # 33
"""

RETURN = r"""
_value:
  description: The minor version.
  type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import parse_kube_version


def validation_kube_version(value, releases, style="package"):
    """Minor of ``value``; a filter error when it is malformed or unsupported."""
    try:
        return parse_kube_version(value, releases, style)
    except ValueError as exc:
        raise AnsibleFilterError("validation_kube_version: %r %s" % (value, exc))


class FilterModule:
    """kubelab.cluster.validation_kube_version"""

    def filters(self):
        return {"validation_kube_version": validation_kube_version}
