# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kubelab.cluster.check_nodes: the nodes' reads compared with each other, once.

Each node is read on its own (kubelab.cluster.node_state); what no node sees alone (nodes cloned
from one template, node addresses inside the cluster networks, ports held on a node not in the
cluster yet) is decided here for all of them, with the rules of module_utils/_validation.py, and the
node doctor's rows (module_utils/_doctor.py) are made of the same reads. Nothing here contacts a
managed host and nothing changes, so check mode gives the same answer.
"""

from __future__ import annotations

import re

from ansible_collections.kubelab.cluster.plugins.module_utils._doctor import doctor_rows
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import node_errors
from ansible_collections.kubelab.cluster.plugins.plugin_utils._controller_action import ControllerAction

ARGUMENT_SPEC = {
    "nodes": {"type": "dict", "required": True},
    "pod_subnet": {"type": "str", "required": True},
    "service_subnet": {"type": "str", "required": True},
    "check_ports": {"type": "bool", "default": True},
    "doctor": {"type": "bool", "default": False},
    "preflight": {"type": "dict", "default": {}},
    "settings": {"type": "dict", "default": {}},
    "first_control_plane": {"type": "str", "default": ""},
    "report_only": {"type": "bool", "default": False},
    "advertise_addresses": {"type": "dict", "default": {}},
}
REFUSED = "The run was refused before any node was changed:"


def naming(problems, host):
    """The problems that name ``host`` (as a whole word before ``:``, ``,`` or a space)."""
    pattern = re.compile("(^|[ ,])" + re.escape(host) + "[:, ]")
    return [problem for problem in problems if pattern.search(problem)]


def kubeadm_checks(registered):
    """The ``preflight`` of what kubeadm_preflight_info registered, or None where it did not run (skipped, or no answer)."""
    if not isinstance(registered, dict) or registered.get("skipped") or not isinstance(registered.get("preflight"), dict):
        return None
    return registered["preflight"]


def check(args):
    """``errors`` (the nodes' problems) and ``rows`` (host -> the doctor's rows, with ``doctor``) of the arguments."""
    nodes = {host: dict(read or {}) for host, read in args["nodes"].items()}
    # The doctor gives the ports rows of their own: they are not counted twice.
    errors = node_errors(nodes, args["pod_subnet"], args["service_subnet"], args["check_ports"] and not args["doctor"],
                         args["advertise_addresses"])
    rows = {}
    if args["doctor"]:
        for host in nodes:
            rows[host] = doctor_rows(nodes[host], kubeadm_checks(args["preflight"].get(host)), dict(args["settings"]),
                                     host == args["first_control_plane"], naming(errors, host))
    return {"errors": errors, "rows": rows}


class ActionModule(ControllerAction):
    """kubelab.cluster.check_nodes"""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def compute(self, args):
        result = check(args)
        if result["errors"] and not args["report_only"]:
            result["failed"] = True
            result["msg"] = "\n- ".join([REFUSED] + result["errors"])
        return result
