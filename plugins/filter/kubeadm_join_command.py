# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: kubeadm_join_command
short_description: Find a kubeadm join command in text and return it as join data
version_added: 0.1.0
description:
  - Finds the first C(kubeadm join) command anywhere in a text, on one line or split with backslash continuations
    and tab or space indentation as C(kubeadm init) prints it.
  - Returns join data, or V(null) when the text holds no valid join command. Never raises on bad input.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input
options:
  _input:
    description: Text to search, for example the stdout of C(kubeadm init) or of C(kubeadm token create --print-join-command).
    type: str
    required: true
seealso:
  - plugin: kubelab.cluster.kubeadm_preflight
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Join data from a printed command
  ansible.builtin.set_fact:
    kubelab_join: "{{ kubelab_print_join.stdout | kubelab.cluster.kubeadm_join_command }}"
  no_log: true
"""

RETURN = r"""
_value:
  description:
    - Join data (secret) - C(api_server_endpoint) (C(host:port), IPv6 as C([addr]:port)), C(token),
      C(discovery_token_ca_cert_hashes) (list), C(control_plane) (bool), C(certificate_key) (or null) and
      C(command) (the normalized one-line command); null when no join command was found.
  type: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import parse_join_command


def kubeadm_join_command(text):
    """Join data of the first kubeadm join command in ``text``, or ``None``."""
    return parse_join_command(text)


class FilterModule:
    """kubelab.cluster.kubeadm_join_command"""

    def filters(self):
        return {"kubeadm_join_command": kubeadm_join_command}
