# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
name: validation_go_duration
short_description: Seconds of a Go duration string such as 2h or 1h30m
version_added: 0.2.0
description:
  - Parses a duration as Go's C(time.ParseDuration) reads it (units C(ns), C(us), C(ms), C(s), C(m), C(h); fractions
    and sums such as C(1.5h) or C(1h30m)), the form of kubeadm's token TTLs, and returns it in seconds.
  - Fails with the reason for numbers (C(7200) is not a duration), negative values, unknown units, and C(0)
    unless O(allow_zero) is set.
author:
  - kubelab.cluster maintainers (@kubelab)
positional: _input, allow_zero
options:
  _input:
    description: The duration.
    type: str
    required: true
  allow_zero:
    description: Accept C(0) (for kubeadm token TTLs it means the token never expires).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Seconds of the join token's lifetime
  ansible.builtin.debug:
    msg: "{{ '1h30m' | kubelab.cluster.validation_go_duration }}"
  # 5400.0
"""

RETURN = r"""
_value:
  description: The duration in seconds.
  type: float
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.kubelab.cluster.plugins.module_utils._validation import parse_duration


def validation_go_duration(value, allow_zero=False):
    """Seconds of the Go duration ``value``; a filter error when it is not one."""
    try:
        return parse_duration(value, allow_zero=bool(allow_zero))
    except ValueError as exc:
        raise AnsibleFilterError("validation_go_duration: %s" % exc)


class FilterModule:
    """kubelab.cluster.validation_go_duration"""

    def filters(self):
        return {"validation_go_duration": validation_go_duration}
