# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: config_files_pending
short_description: The files of a config_files list that the node does not have yet
version_added: 0.1.0
description:
  - Compares the wanted files of a M(kubelab.cluster.config_files) list with the state M(kubelab.cluster.node_state) read on
    the node for each path, and returns the files that still have to be written.
  - A state is the line C(<sha1> <mode> <owner> <group> <uid> <gid>), as C(sha1sum) and C(stat -c '%a %U %G %u %g')
    give it for a regular file; C(absent) or anything unparsable means the file is written.
  - A role that already read the node can skip the module call entirely when nothing is pending, which saves one
    round trip to the node per run.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, states
options:
  _input:
    description: The C(files) list for M(kubelab.cluster.config_files) (C(path), C(content), C(mode), C(owner), C(group)).
    type: list
    elements: dict
    required: true
  states:
    description: Path to state line, as M(kubelab.cluster.node_state) returns it in C(files).
    type: dict
    required: true
seealso:
  - module: kubelab.cluster.config_files
"""

EXAMPLES = r"""
- name: Write only what differs
  kubelab.cluster.config_files:
    files: "{{ my_files | kubelab.cluster.config_files_pending(my_node.files) }}"
  when: my_files | kubelab.cluster.config_files_pending(my_node.files) | length > 0
"""

RETURN = r"""
_value:
  description: The entries of the input list that are missing or differ in content, mode, owner or group.
  type: list
  elements: dict
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import files_pending


def config_files_pending(files, states):
    """Entries of ``files`` not already on the node as ``states`` describe it."""
    return files_pending(files, states)


class FilterModule:
    """kubelab.cluster.config_files_pending"""

    def filters(self):
        return {"config_files_pending": config_files_pending}
