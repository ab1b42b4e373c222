# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: kube_release_cri_socket
short_description: The CRI socket of a container runtime, as kubeadm's criSocket wants it
version_added: 0.1.0
description:
  - The one list of CRI sockets the roles share (container_runtime publishes it, control_plane and worker default to it).
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input
options:
  _input:
    description: V(containerd), V(crio) or V(docker) (Docker Engine with cri-dockerd).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The containerd socket
  ansible.builtin.debug:
    msg: "{{ 'containerd' | kubelab.cluster.kube_release_cri_socket }}"
"""

RETURN = r"""
_value:
  description: The socket URL, for example V(unix:///var/run/containerd/containerd.sock).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import cri_socket


def kube_release_cri_socket(runtime):
    """The CRI socket of a container runtime name."""
    try:
        return cri_socket(runtime)
    except (KeyError, TypeError):
        raise AnsibleFilterError("kube_release_cri_socket: unknown container runtime %r" % (runtime,))


class FilterModule:
    """kubelab.cluster.kube_release_cri_socket"""

    def filters(self):
        return {"kube_release_cri_socket": kube_release_cri_socket}
