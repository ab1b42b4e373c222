# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes of the collection's controller-only actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """An action that runs on the controller only: it contacts no host and changes nothing."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: It only computes from its arguments and changes nothing; check mode gives the same result.
  diff_mode:
    support: none
  platform:
    platforms: all
"""
