# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an application's objects say, read on the controller (Python standard library only).

The inputs are the objects as the API server returns them (kubernetes.core.k8s_info ``resources``):
:func:`rollout_diagnosis` tells why a Deployment's rollout is not complete from its pods' container
states and their events, in the words of the kubelet's reasons (ErrImageNeverPull, ErrImagePull,
ImagePullBackOff, CrashLoopBackOff, probe failures, FailedScheduling); :func:`summary` makes the short
report a user reads after a deploy: pods per node, each Service with its endpoints and the URLs to open.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

PULL_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
START_REASONS = ("CreateContainerConfigError", "CreateContainerError", "RunContainerError")


def _get(obj, *path, **kwargs):
    """The value at PATH in nested dicts, or ``default`` (None)."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return kwargs.get("default")
        obj = obj[key]
    return obj


def rollout_complete(deployment):
    """True when the Deployment's rollout is done: its controller saw the latest spec and every replica is updated,
    ready and available, none unavailable (what ``kubectl rollout status`` and kubernetes.core's wait check)."""
    if not deployment:
        return False
    want = _get(deployment, "spec", "replicas", default=1)
    status = deployment.get("status") or {}
    # all() of a tuple: no line break at a binary operator (Galaxy's flake8 flags W503 and W504).
    return all((status.get("observedGeneration", 0) >= _get(deployment, "metadata", "generation", default=0),
                status.get("updatedReplicas", 0) == want,
                status.get("replicas", 0) == want,
                status.get("readyReplicas", 0) == want,
                status.get("availableReplicas", 0) == want,
                not status.get("unavailableReplicas")))


def _pod_events(events, pod):
    name = _get(pod, "metadata", "name")
    found = [event for event in events or []
             if _get(event, "involvedObject", "name") == name and _get(event, "involvedObject", "kind", default="Pod") == "Pod"]
    return sorted(found, key=lambda event: event.get("lastTimestamp") or event.get("eventTime") or "")


def _ready(pod):
    return any(cond.get("type") == "Ready" and cond.get("status") == "True" for cond in _get(pod, "status", "conditions", default=[]) or [])


def _pod_state(pod):
    if _get(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    return "Ready" if _ready(pod) else _get(pod, "status", "phase", default="?")


def pod_rows(pods):
    """``[{name, node, phase, ready, ip}]`` for the pods not being deleted, by name."""
    rows = []
    for pod in sorted(pods or [], key=lambda pod: _get(pod, "metadata", "name") or ""):
        if _get(pod, "metadata", "deletionTimestamp"):
            continue
        rows.append({"name": _get(pod, "metadata", "name"), "node": _get(pod, "spec", "nodeName") or "",
                     "phase": _get(pod, "status", "phase", default=""), "ready": _ready(pod), "ip": _get(pod, "status", "podIP") or ""})
    return rows


def _problem(found, key, text, node):
    entry = found.setdefault(key, {"text": text, "nodes": [], "pods": 0})
    entry["pods"] += 1
    if node and node not in entry["nodes"]:
        entry["nodes"].append(node)


def _container_problems(found, pod, status, events):
    node = _get(pod, "spec", "nodeName") or ""
    image = status.get("image") or ""
    waiting = _get(status, "state", "waiting") or {}
    reason = waiting.get("reason") or ""
    if reason == "ErrImageNeverPull":
        _problem(found, ("never", image), "ErrImageNeverPull: image %s is not on the node (imagePullPolicy Never); put it on every node that may "
                 "run the pod (the app_image role, app_image_images) or set app_image_pull_policy" % image, node)
        return
    if reason in PULL_REASONS:
        _problem(found, ("pull", image), "%s: image %s cannot be pulled (%s); with no registry, side-load it (app_image role) and use "
                 "app_image_pull_policy: Never" % (reason, image, waiting.get("message") or "no message"), node)
        return
    if reason in START_REASONS:
        _problem(found, ("start", reason), "%s: %s" % (reason, waiting.get("message") or "the container cannot be created"), node)
        return
    last = _get(status, "lastState", "terminated") or {}
    restarts = status.get("restartCount", 0)
    killed = [event for event in events if "Liveness probe failed" in (event.get("message") or "")]
    if killed:
        _problem(found, ("liveness",), "liveness probe failed, the kubelet restarts the container (%d restarts; last: %s); check "
                 "app_liveness_probe (initialDelaySeconds above the app's start time)" % (restarts, killed[-1].get("message")), node)
        return
    if reason == "CrashLoopBackOff" or (restarts and last):
        _problem(found, ("crash",), "CrashLoopBackOff: the container keeps exiting (exit code %s, %s, %d restarts); see kubectl logs "
                 "--previous %s" % (last.get("exitCode", "?"), last.get("reason") or "no reason", restarts, _get(pod, "metadata", "name")), node)
        return
    if _get(status, "state", "running") is not None and not status.get("ready"):
        unhealthy = [event for event in events if "Readiness probe failed" in (event.get("message") or "")]
        if unhealthy:
            _problem(found, ("readiness",), "readiness probe failing: %s; the pod gets no traffic and the rollout waits (check "
                     "app_readiness_probe and the app's start time)" % unhealthy[-1].get("message"), node)
        else:
            _problem(found, ("starting",), "container running, not ready yet (readiness probe not passed within the timeout; a slow "
                     "start needs a longer app_wait_timeout)", node)


def rollout_diagnosis(deployment, pods, events, waited=None):
    """Why a Deployment's rollout is not complete.

    Returns ``{"complete": bool, "problems": [text], "message": text}``; ``problems`` names the nodes
    concerned, e.g. the nodes that lack an image for ErrImageNeverPull. ``waited``: seconds waited, for the message.
    """
    complete = rollout_complete(deployment)
    found = {}
    for pod in pods or []:
        if _get(pod, "metadata", "deletionTimestamp"):
            continue
        events_of_pod = _pod_events(events, pod)
        statuses = (_get(pod, "status", "initContainerStatuses", default=[]) or []) + (_get(pod, "status", "containerStatuses", default=[]) or [])
        if not _get(pod, "spec", "nodeName"):
            unscheduled = [event for event in events_of_pod if event.get("reason") == "FailedScheduling"]
            said = unscheduled[-1].get("message") if unscheduled else "the pod is not on a node yet"
            _problem(found, ("schedule",), "FailedScheduling: %s" % said, "")
            continue
        for status in statuses:
            _container_problems(found, pod, status, events_of_pod)
    problems = []
    for entry in found.values():
        where = " on %s" % ", ".join(sorted(entry["nodes"])) if entry["nodes"] else ""
        problems.append("%s (%d pod%s%s)" % (entry["text"], entry["pods"], "" if entry["pods"] == 1 else "s", where))
    conditions = {cond.get("type"): cond for cond in _get(deployment, "status", "conditions", default=[]) or []}
    progressing = conditions.get("Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        problems.append("the Deployment exceeded its progress deadline: %s" % progressing.get("message"))
    status = (deployment or {}).get("status") or {}
    counts = "%s/%s updated, %s ready, %s available" % (
        status.get("updatedReplicas", 0), _get(deployment, "spec", "replicas", default="?"),
        status.get("readyReplicas", 0), status.get("availableReplicas", 0))
    name = _get(deployment, "metadata", "name", default="the Deployment")
    if complete:
        message = "rollout of %s complete (%s)" % (name, counts)
    else:
        message = "rollout of %s not complete%s (%s): %s" % (
            name, " after %s s" % waited if waited else "", counts, "; ".join(problems) or "no pod reports a problem yet")
    return {"complete": complete, "problems": problems, "message": message}


def node_address(node):
    """A node's InternalIP (else ExternalIP, else Hostname)."""
    addresses = {item.get("type"): item.get("address") for item in _get(node, "status", "addresses", default=[]) or []}
    return addresses.get("InternalIP") or addresses.get("ExternalIP") or addresses.get("Hostname") or _get(node, "metadata", "name")


def _url(host, port):
    return "http://%s:%s/" % ("[%s]" % host if ":" in str(host) else host, port)


def _endpoint_text(endpoints):
    ready, waiting = [], []
    for subset in (endpoints or {}).get("subsets") or []:
        ports = [str(port.get("port")) for port in subset.get("ports") or []]
        for address in subset.get("addresses") or []:
            ready.extend("%s:%s" % (address.get("ip"), port) for port in ports or ["?"])
        for address in subset.get("notReadyAddresses") or []:
            waiting.extend("%s:%s" % (address.get("ip"), port) for port in ports or ["?"])
    text = ", ".join(ready) or "none ready"
    if waiting:
        text += " (not ready: %s)" % ", ".join(waiting)
    return text


def _service_lines(service, endpoints, addresses):
    name = _get(service, "metadata", "name")
    namespace = _get(service, "metadata", "namespace", default="default")
    spec = service.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    urls = []
    if kind == "ExternalName":
        return ["%s ExternalName: DNS CNAME %s.%s.svc -> %s (no proxy, no endpoints)" % (name, name, namespace, spec.get("externalName"))], urls
    ports = spec.get("ports") or []
    lines = ["%s %s %s port%s %s -> endpoints %s" % (
        name, kind, spec.get("clusterIP"), "" if len(ports) == 1 else "s",
        ", ".join("%s->%s" % (port.get("port"), port.get("targetPort")) for port in ports), _endpoint_text(endpoints))]
    first = ports[0].get("port") if ports else 80
    lines.append("  from a node or a pod: curl %s  (pods also: http://%s.%s/)" % (_url(spec.get("clusterIP"), first), name, namespace))
    if kind in ("NodePort", "LoadBalancer"):
        for port in ports:
            if port.get("nodePort"):
                urls.extend({"service": name, "url": _url(address, port["nodePort"])} for address in addresses)
        lines.append("  from outside the cluster: %s" % " ".join(item["url"] for item in urls if item["service"] == name))
    if kind == "LoadBalancer":
        ingress = _get(service, "status", "loadBalancer", "ingress", default=[]) or []
        external = [item.get("ip") or item.get("hostname") for item in ingress]
        lines.append("  load balancer: %s" % (", ".join(external) if external else
                                              "<pending> (no load balancer controller in the cluster, e.g. MetalLB: use the node port URLs)"))
    for address in spec.get("externalIPs") or []:
        url = _url(address, first)
        urls.append({"service": name, "url": url, "external_ip": True})
        lines.append("  external IP: %s (traffic the nodes receive for %s)" % (url, address))
    return lines, urls


def summary(deployment, pods, services, endpoints, nodes):
    """The report after a deploy: ``{"lines": [text], "urls": [{service, url}], "pods_per_node": {node: [pod]}}``.

    ``urls`` lists the node port URLs (every node's address) before the external IP ones.
    """
    addresses = [node_address(node) for node in sorted(nodes or [], key=lambda node: _get(node, "metadata", "name") or "")]
    per_node = {}
    for pod in sorted(pods or [], key=lambda pod: _get(pod, "metadata", "name") or ""):
        per_node.setdefault(_get(pod, "spec", "nodeName") or "<not scheduled>", []).append(pod)
    status = (deployment or {}).get("status") or {}
    containers = _get(deployment, "spec", "template", "spec", "containers", default=[]) or []
    lines = ["Deployment %s: %s/%s ready, image %s" % (
        _get(deployment, "metadata", "name"), status.get("readyReplicas", 0), _get(deployment, "spec", "replicas", default=0),
        ", ".join(container.get("image", "") for container in containers))]
    for node in sorted(per_node):
        described = ["%s (%s, %s)" % (_get(pod, "metadata", "name"), _pod_state(pod), _get(pod, "status", "podIP") or "no IP")
                     for pod in per_node[node]]
        lines.append("  %s: %s" % (node, ", ".join(described)))
    by_name = {_get(item, "metadata", "name"): item for item in endpoints or []}
    urls = []
    for service in sorted(services or [], key=lambda item: _get(item, "metadata", "name") or ""):
        service_lines, service_urls = _service_lines(service, by_name.get(_get(service, "metadata", "name")), addresses)
        lines.extend(service_lines)
        urls.extend(service_urls)
    # Node port URLs first: they answer wherever the nodes are reachable; external IPs only where routed.
    urls = [item for item in urls if not item.get("external_ip")] + [
        {"service": item["service"], "url": item["url"]} for item in urls if item.get("external_ip")]
    return {"lines": lines, "urls": urls,
            "pods_per_node": {node: [_get(pod, "metadata", "name") for pod in items] for node, items in per_node.items()}}
