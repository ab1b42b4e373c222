# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: file_state
short_description: The state line of files on the controller, for config_files_pending
version_added: 0.1.0
description:
  - For each path on the controller, the line C(<sha1> <mode> <owner> <group> <uid> <gid>) that the roles' probes
    print for node files, or C(absent) for a missing path, a symbolic link or anything but a readable regular file.
  - With P(kubelab.cluster.config_files_pending#filter), a play skips a M(kubelab.cluster.config_files) run delegated
    to localhost when the controller already has the file, without a module run to find out.
author:
  - kubelab.cluster maintainers (@kubelab)
options:
  _terms:
    description: Paths on the controller.
    type: list
    elements: path
    required: true
seealso:
  - module: kubelab.cluster.config_files
  - plugin: kubelab.cluster.config_files_pending
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write the controller copy only when it differs
  kubelab.cluster.config_files:
    files: "{{ wanted | kubelab.cluster.config_files_pending({dest: lookup('kubelab.cluster.file_state', dest)}) }}"
  delegate_to: localhost
  vars:
    dest: /srv/artifacts/admin.conf
    wanted:
      - path: /srv/artifacts/admin.conf
        content: "{{ admin_conf_text }}"
        mode: "0600"
        secret: true
"""

RETURN = r"""
_raw:
  description: One state line per path.
  type: list
  elements: str
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import read_state


class LookupModule(LookupBase):
    """kubelab.cluster.file_state"""

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [read_state(str(term)) for term in terms]
