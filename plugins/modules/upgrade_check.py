#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: upgrade_check
short_description: Refuse an upgrade that skips a minor, downgrades or would stop on a blocked drain, before any change
version_added: 0.2.0
description:
  - Reads the cluster once - the API server's version and each Node's kubelet version, whether it is cordoned and
    whether an interrupted upgrade left its mark (the C(kubelab.cluster/upgrade) annotation) - and applies the
    version-step rules of C(module_utils/_validation.py) to O(target) - one minor step or a patch of the current minor,
    never a skipped minor, never a downgrade, for the control plane and each node; the refusal names the versions.
  - Then asks the API server for a server-side dry run (C(dryRun=All)) of every eviction the drains still to come
    would make (DaemonSet pods, mirror pods and finished pods stay, as with C(kubectl drain --ignore-daemonsets)) and
    names each pod a PodDisruptionBudget would block, with its node, and each pod no controller owns (a drain would
    delete it for good, and refuses to without force). Nothing is evicted, cordoned or changed.
  - Fails with every problem at once unless O(report_only) (then the blocked pods are only returned - the kube_upgrade
    role passes it with its opt-in delete fallback).
  - With O(installed) (after the upgrade installed kubeadm at the target) it checks nothing and dry-runs nothing - it
    reads the API server's version and the Nodes and returns what the upgrade still does - RV(target), the exact
    version the kubeadm package names, RV(snapshot) and, for each node of O(installed), C(pending), C(restart) and
    C(kubelet_package_at_target) in RV(nodes).
  - Runs where the kubernetes Python client is (the controller, with the admin kubeconfig), like kubernetes.core's modules.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.attributes
  - kubelab.cluster.attributes.info
options:
  target:
    description: The version to upgrade to, C(1.NN) (the newest patch of the minor) or C(1.NN.P).
    type: str
    required: true
  nodes:
    description: Names of the Nodes to upgrade, in the order they will be drained.
    type: list
    elements: str
    required: true
  kubeconfig:
    description: Path of the admin kubeconfig.
    type: path
    required: true
  context:
    description: Context of the kubeconfig (empty - its current context).
    type: str
    default: ""
  report_only:
    description: Return the pods a drain would be blocked by in RV(blocked) without failing (the version rules still fail).
    type: bool
    default: false
  installed:
    description:
      - Node name to its Kubernetes packages as M(kubelab.cluster.node_state) reads them (its C(packages) result;
        C(kubeadm) and C(kubelet) are read). Each node must be one of O(nodes).
      - Given, the module only decides what is still to do (see the description); the version-step rules and the dry
        run are the check the kube_upgrade role runs before any change.
    type: dict
    default: {}
requirements:
  - kubernetes (the Python client)
notes:
  - A dry run answers for the cluster as it is; pods that move while nodes are drained one by one can meet a budget
    that had room before. The drain itself stops then, with the pod named, before that node is upgraded.
"""

EXAMPLES = r"""
- name: Refuse the upgrade before any change
  kubelab.cluster.upgrade_check:
    target: "1.37"
    nodes: [cp1, w1, w2]
    kubeconfig: artifacts/kubernetes-admin.conf
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
cluster_version:
  description: The API server's version (C(gitVersion) of C(/version)).
  returned: always
  type: str
  sample: v1.36.1
nodes:
  description:
    - Node name to its C(kubelet_version), C(unschedulable), C(upgrading) (the annotation an interrupted run left, or null).
    - With O(installed), for each of its nodes also C(kubelet_package_at_target) (the kubelet package is at RV(target),
      so its C(kubeadm upgrade node) is done too), C(restart) (the Node reports another kubelet version) and
      C(pending) (either, or the annotation is there - the node still needs its upgrade).
  returned: always
  type: dict
  sample: {"w1": {"kubelet_version": "v1.36.1", "unschedulable": false, "upgrading": null}}
target:
  description: The exact version the kubeadm packages of O(installed) name (C(v1.37.1)).
  returned: with O(installed)
  type: str
  sample: v1.37.1
snapshot:
  description:
    - Whether the API server or a Node of O(nodes) runs another version than RV(target) - the etcd snapshot's
      condition before C(kubeadm upgrade apply), false on a rerun at the target.
  returned: with O(installed)
  type: bool
drained:
  description: The nodes whose drain was dry-run (those an upgrade to O(target) still drains), in order.
  returned: always
  type: list
  elements: str
evicted:
  description: Node to the pods (namespace/name) its drain would evict.
  returned: always
  type: dict
  sample: {"w1": ["default/web-5d4f8b7c9-abcde"]}
blocked:
  description: Node to the pods whose eviction the API server refused in the dry run, each C(pod) and C(reason).
  returned: always
  type: dict
  sample: {"w1": [{"pod": "default/web-5d4f8b7c9-abcde", "reason": "Cannot evict pod as it would violate the pod's disruption budget."}]}
"""

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.kubelab.cluster.plugins.module_utils._drain import (
    UNMANAGED,
    UPGRADE_ANNOTATION,
    blocked_message,
    blocked_report,
    nodes_to_drain,
    pods_to_evict,
    unmanaged,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_upgrade import upgrade_plan
from ansible_collections.kubelab.cluster.plugins.module_utils._validation import upgrade_step_errors

try:
    from kubernetes import config
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError
    IMPORT_ERROR = None
except ImportError:
    IMPORT_ERROR = traceback.format_exc()


def _message(exc):
    try:
        return json.loads(exc.body or "{}").get("message") or exc.reason
    except (ValueError, AttributeError, TypeError):
        return str(getattr(exc, "reason", exc))


def main():
    module = AnsibleModule(argument_spec=dict(
        target=dict(type="str", required=True),
        nodes=dict(type="list", elements="str", required=True),
        kubeconfig=dict(type="path", required=True),
        context=dict(type="str", default=""),
        report_only=dict(type="bool", default=False),
        installed=dict(type="dict", default={}),
    ), supports_check_mode=True)
    if IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=IMPORT_ERROR)
    params = module.params
    # The DynamicClient, as kubernetes.core reads objects: plain dicts, no model validation.
    try:
        api = config.new_client_from_config(config_file=params["kubeconfig"], context=params["context"] or None)
        dynamic = DynamicClient(api)
        # The DynamicClient's version comes from its discovery cache, a file that outlives the run: after kubeadm
        # upgrade apply it still names the old version. Read discovery (and /version) afresh.
        dynamic.resources.invalidate_cache()
        cluster_version = dynamic.version["kubernetes"]["gitVersion"]
        listed = {item["metadata"]["name"]: item for item in dynamic.resources.get(api_version="v1", kind="Node").get().to_dict()["items"]}
        pods_api = dynamic.resources.get(api_version="v1", kind="Pod")
    except (ApiException, DynamicApiError) as exc:
        module.fail_json(msg="reading the cluster with %s failed: %s" % (params["kubeconfig"], _message(exc)))
    except Exception as exc:  # pylint: disable=broad-except  # a kubeconfig or connection problem ends the same way
        module.fail_json(msg="reading the cluster with %s failed: %s" % (params["kubeconfig"], exc))
    missing = [node for node in params["nodes"] if node not in listed]
    if missing:
        module.fail_json(msg="the cluster has no Node %s (it has %s); the inventory names each node as its Node is named"
                         % (", ".join(missing), ", ".join(sorted(listed))))
    nodes = {}
    for name in params["nodes"]:
        item = listed[name]
        nodes[name] = {"kubelet_version": ((item.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion"),
                       "unschedulable": bool((item.get("spec") or {}).get("unschedulable")),
                       "upgrading": (item["metadata"].get("annotations") or {}).get(UPGRADE_ANNOTATION)}
    result = dict(changed=False, cluster_version=cluster_version, nodes=nodes, drained=[], evicted={}, blocked={})
    if params["installed"]:
        try:
            plan = upgrade_plan(params["installed"], cluster_version, nodes)
        except ValueError as exc:
            module.fail_json(msg=str(exc), **result)
        for name, verdict in plan["nodes"].items():
            nodes[name].update(verdict)
        module.exit_json(target=plan["target"], snapshot=plan["snapshot"], **result)
    problems = upgrade_step_errors(params["target"], cluster_version, {name: nodes[name]["kubelet_version"] for name in nodes})
    if problems:
        module.fail_json(msg="\n- ".join(["The upgrade was refused before any change:"] + problems), **result)

    result["drained"] = nodes_to_drain(params["target"], cluster_version, {name: nodes[name]["kubelet_version"] for name in nodes})
    answers = {}
    for node in result["drained"]:
        try:
            pods = pods_api.get(field_selector="spec.nodeName=%s" % node).to_dict()["items"]
        except (ApiException, DynamicApiError) as exc:
            module.fail_json(msg="listing the pods of node %s failed: %s" % (node, _message(exc)), **result)
        result["evicted"][node] = pods_to_evict(pods)
        bare = set(pods_to_evict([pod for pod in pods if unmanaged(pod)]))
        answers[node] = {name: (None, UNMANAGED) for name in bare}
        for name in [name for name in result["evicted"][node] if name not in bare]:
            namespace, pod = name.split("/", 1)
            body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
            try:
                dynamic.request("POST", "/api/v1/namespaces/%s/pods/%s/eviction" % (namespace, pod), body=body, dry_run="All")
                answers[node][name] = (201, "")
            except (ApiException, DynamicApiError) as exc:
                answers[node][name] = (exc.status, _message(exc))
    result["blocked"] = blocked_report(answers)
    if result["blocked"] and not params["report_only"]:
        module.fail_json(msg=blocked_message(result["blocked"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
