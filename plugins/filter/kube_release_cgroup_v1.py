# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: kube_release_cgroup_v1
short_description: What Kubernetes' cgroup v1 rule decides for a node
version_added: 0.1.0
description:
  - Kubernetes 1.35 and later refuse cgroup v1 nodes unless told otherwise (KEP-5573) - the kubelet needs
    C(failCgroupV1) false and kubeadm's SystemVerification preflight check fails.
  - The control_plane and worker roles both decide with this filter.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, cgroup, allow
options:
  _input:
    description: The Kubernetes version (V(v1.36.1), V(1.36)); anything unparsable counts as a release before 1.35.
    type: str
    required: true
  cgroup:
    description: File system type of C(/sys/fs/cgroup) as M(kubelab.cluster.node_state) reports it (V(cgroup2fs) on v2).
    type: str
    required: true
  allow:
    description: Whether cgroup v1 nodes are allowed with a release that refuses them.
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Stop on a cgroup v1 node that is not allowed
  ansible.builtin.assert:
    that: not ('v1.36.1' | kubelab.cluster.kube_release_cgroup_v1(node.cgroup, false)).blocked
"""

RETURN = r"""
_value:
  description:
    - C(cgroup_v1), C(refused) (the release refuses cgroup v1), C(blocked) (refused and not allowed),
      C(skip_system_verification) (allowed cgroup v1 node) and C(fail_cgroup_v1_false) (allowed, on a refusing release).
  type: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import cgroup_v1_rule


def kube_release_cgroup_v1(version, cgroup, allow):
    """The cgroup v1 decisions for a node."""
    return cgroup_v1_rule(version, cgroup, allow)


class FilterModule:
    """kubelab.cluster.kube_release_cgroup_v1"""

    def filters(self):
        return {"kube_release_cgroup_v1": kube_release_cgroup_v1}
