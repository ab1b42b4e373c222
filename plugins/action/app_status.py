# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kubelab.cluster.app_status: the app role's reading of its objects.

The objects come in as kubernetes.core.k8s_info returned them; the rules that read them live in
module_utils/_app_status.py. Nothing runs on a managed host and nothing changes, so check mode
gives the same answer.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.kubelab.cluster.plugins.module_utils._app_status import pod_rows, rollout_diagnosis, summary

MODES = ("pods", "diagnosis", "summary")
ARGUMENT_SPEC = {
    "mode": {"type": "str", "required": True, "choices": list(MODES)},
    "deployment": {"type": "dict", "default": {}},
    "pods": {"type": "list", "elements": "dict", "default": []},
    "events": {"type": "list", "elements": "dict", "default": []},
    "services": {"type": "list", "elements": "dict", "default": []},
    "endpoints": {"type": "list", "elements": "dict", "default": []},
    "nodes": {"type": "list", "elements": "dict", "default": []},
    "waited": {"type": "int"},
}


def status(args):
    """The result keys of one mode, from the validated arguments."""
    mode = args["mode"]
    if mode == "pods":
        return {"pods": pod_rows(args["pods"])}
    if mode == "diagnosis":
        return {"diagnosis": rollout_diagnosis(args["deployment"], args["pods"], args["events"], args["waited"])}
    return {"summary": summary(args["deployment"], args["pods"], args["services"], args["endpoints"], args["nodes"])}


class ActionModule(ActionBase):
    """kubelab.cluster.app_status"""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(status(args))
        result["changed"] = False
        return result
