# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: kubeadm_preflight
short_description: Preflight errors and warnings in kubeadm output, with remediation hints
version_added: 0.1.0
description:
  - >-
    Reads the C([ERROR Check]) and C([WARNING Check]) lines kubeadm prints, in the old one-line form
    (C(error execution phase preflight: [preflight] Some fatal errors occurred:)) and the newer multi-line form
    (C(error: error execution phase preflight: preflight checks failed)), with tab or space indentation and
    wrapped messages.
  - Each item gets a one-line C(hint) pointing at this collection's knobs where they exist.
  - Never raises on bad input; returns empty lists instead.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input
options:
  _input:
    description: kubeadm output, for example the stderr of a failed C(kubeadm init).
    type: str
    required: true
seealso:
  - plugin: kubelab.cluster.kubeadm_join_command
    plugin_type: filter
  - module: kubelab.cluster.kubeadm_preflight_info
"""

EXAMPLES = r"""
- name: Show why kubeadm init refused to run
  ansible.builtin.debug:
    msg: "{{ kubelab_init_run.stderr | kubelab.cluster.kubeadm_preflight }}"
"""

RETURN = r"""
_value:
  description:
    - C(errors) and C(warnings) (lists of C({check, message, hint})) and C(failed) (true when kubeadm reported
      fatal preflight errors).
  type: dict
  sample:
    errors:
      - check: Swap
        message: running with swap on is not supported. Please disable swap
        hint: "swap is on: prereqs_disable_swap: true (kubelab.cluster.prereqs) turns it off and removes it from /etc/fstab; ..."
    warnings: []
    failed: true
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_output import parse_preflight


def kubeadm_preflight(text):
    """``{errors, warnings, failed}`` found in ``text``."""
    return parse_preflight(text)


class FilterModule:
    """kubelab.cluster.kubeadm_preflight"""

    def filters(self):
        return {"kubeadm_preflight": kubeadm_preflight}
