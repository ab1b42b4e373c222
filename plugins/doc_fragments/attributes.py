# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attribute support the collection's modules share; ansible.builtin.action_common_attributes describes each attribute."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """One variant per fact several modules share; a module states its own check and diff mode details itself."""

    # A module that runs on the managed node.
    DOCUMENTATION = r"""
attributes:
  platform:
    platforms: posix
"""

    # A module that only reads (with the default variant).
    INFO = r"""
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
"""

    # A module with an action plugin in front of it, run once per host and never async
    # (with ansible.builtin.action_common_attributes.flow).
    ACTION = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
"""

    # An action that runs on the controller only: it contacts no host and changes nothing (with ACTION).
    CONTROLLER = r"""
attributes:
  check_mode:
    support: full
    details: It only computes from its arguments and changes nothing; check mode gives the same result.
  diff_mode:
    support: none
  platform:
    platforms: all
"""
