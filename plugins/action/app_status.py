# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kubelab.cluster.app_status: the app role's reading of its objects.

The objects come in as kubernetes.core.k8s_info returned them; the rules that read them live in
module_utils/_app_status.py. Nothing runs on a managed host and nothing changes, so check mode
gives the same answer.
"""

from __future__ import annotations

from ansible_collections.kubelab.cluster.plugins.module_utils._app_status import pod_rows, rollout_diagnosis, summary
from ansible_collections.kubelab.cluster.plugins.plugin_utils._controller_action import ControllerAction

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


class ActionModule(ControllerAction):
    """kubelab.cluster.app_status"""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def compute(self, args):
        return status(args)
