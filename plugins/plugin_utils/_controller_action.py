# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action plugin of a controller-only action: its result is computed from its arguments alone."""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Validates the task's arguments against ``ARGUMENT_SPEC`` and returns what :meth:`compute` makes of them.

    Nothing contacts a managed host and nothing changes, so check mode gives the same answer. A subclass sets
    ``ARGUMENT_SPEC`` (its options, the only arguments the task accepts) and ``compute``.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    ARGUMENT_SPEC: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._VALID_ARGS = frozenset(cls.ARGUMENT_SPEC)

    def compute(self, args):
        """The result keys (``failed`` and ``msg`` included, where the action fails) of the validated ``args``."""
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        result.update(self.compute(args))
        result["changed"] = False
        return result
