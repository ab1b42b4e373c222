# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every kubeadm module shares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name


class ModuleDocFragment(object):  # pylint: disable=too-few-public-methods
    """The kubeadm binary option of kubelab.cluster's kubeadm modules."""

    DOCUMENTATION = r"""
options:
  kubeadm_path:
    description:
      - Name or absolute path of the kubeadm binary.
    type: str
    default: kubeadm
"""
