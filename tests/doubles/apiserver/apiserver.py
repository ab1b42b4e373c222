#!/usr/bin/env python
"""A Kubernetes API-server TEST DOUBLE with Deployment, ReplicaSet, scheduler and kubelet simulations; not
kube-apiserver. It answers what kubernetes.core and the kubernetes Python client send, as kube-apiserver v1.36
does; with --kubeadm it is the API server of a node the kubeadm double set up. What it imitates, from which
source and what it cannot know: tests/doubles/README.md. Standard library and jsonpatch, one file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import calendar
import copy
import datetime
import hashlib
import importlib.machinery
import importlib.util
import ipaddress
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

K8S_VERSION = "v1.36.1"
ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
TICK = 0.1

PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json")
STATUS_SUBRESOURCE_KINDS = ("Deployment", "ReplicaSet", "Pod", "Service", "Namespace", "Node")


def log(msg):
    sys.stderr.write("%s apiserver-double: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def now_ts():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand_suffix(n=5):
    return "".join(random.choice(ALPHANUMS) for _i in range(n))


# ---- Errors (metav1.Status)

class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        Exception.__init__(self, message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(res):
    return res.plural + ("." + res.group if res.group else "")


def status_details(res, name, **extra):
    details = {"name": name, "group": res.group, "kind": res.plural} if res.group else {"name": name, "kind": res.plural}
    return dict(details, **extra)


def not_found(res, name):
    return ApiError(404, "NotFound", '%s "%s" not found' % (qualified(res), name), status_details(res, name))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def invalid(res, name, field, message, reason="FieldValueRequired"):
    """The 422 Status of one field error (of pkg/apis/*/validation only what check_pod_spec checks)."""
    kind = res.kind + ("." + res.group if res.group else "")
    details = {"name": name, "kind": res.kind, "causes": [{"reason": reason, "message": message, "field": field}]}
    if res.group:
        details["group"] = res.group
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s: %s' % (kind, name, field, message), details)


def check_pod_spec(res, obj, name):
    """Refuse a Pod, Deployment or ReplicaSet without the fields the controllers need ("Required value"
    in pkg/apis/*/validation), or with init containers, which the kubelet simulation does not run."""
    spec = obj.get("spec") or {}
    if res.kind in ("Deployment", "ReplicaSet"):
        if not spec.get("selector"):
            raise invalid(res, name, "spec.selector", "Required value")
        spec, prefix = (spec.get("template") or {}).get("spec") or {}, "spec.template.spec"
    elif res.kind == "Pod":
        prefix = "spec"
    else:
        return
    if not spec.get("containers"):
        raise invalid(res, name, prefix + ".containers", "Required value")
    for i, ctr in enumerate(spec["containers"]):
        for key in ("name", "image"):
            if not ctr.get(key):
                raise invalid(res, name, "%s.containers[%d].%s" % (prefix, i, key), "Required value")
    if spec.get("initContainers"):
        raise bad_request("init containers are not imitated by the API-server test double")


# ---- Resources

class Res:
    def __init__(self, group, version, plural, kind, namespaced, short):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.namespaced, self.short = namespaced, short

    @property
    def api_version(self):
        return self.group + "/" + self.version if self.group else self.version

    def api_resource(self):
        """The APIResource of discovery; no subresource (status, scale, ...) is served."""
        return {"name": self.plural, "singularName": self.kind.lower(), "namespaced": self.namespaced, "kind": self.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update"], "shortNames": self.short}


RESOURCES = [
    Res("", "v1", "namespaces", "Namespace", False, ["ns"]),
    Res("", "v1", "nodes", "Node", False, ["no"]),
    Res("", "v1", "pods", "Pod", True, ["po"]),
    Res("", "v1", "services", "Service", True, ["svc"]),
    Res("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    Res("", "v1", "events", "Event", True, ["ev"]),
    Res("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    Res("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    Res("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"]),
    Res("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"]),
]
BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
BY_KIND = {r.kind: r for r in RESOURCES}


# ---- Selectors

def parse_label_selector(text):
    """The equality-based labels.Parse syntax (key=value, key==value, key!=value, key, !key) as a list of
    (key, op, value); set-based requirements (in, notin) are not imitated."""
    reqs = []
    for part in (text or "").split(","):
        part = part.strip()
        m = re.match(r"^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$", part)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
        elif re.match(r"^!?[A-Za-z0-9][-A-Za-z0-9_./]*$", part):
            reqs.append((part.lstrip("!"), "!" if part.startswith("!") else "exists", None))
        elif part:
            raise bad_request("label selector requirement %r is not imitated by the API-server test double" % part)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    checks = {"=": lambda key, value: labels.get(key) == value, "!=": lambda key, value: labels.get(key) != value,
              "exists": lambda key, value: key in labels, "!": lambda key, value: key not in labels}
    return all(checks[op](key, value) for key, op, value in reqs)


# ---- Patches

# The patchMergeKey of the Go types' lists (the lists not named here are replaced by a patch).
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name", "volumes": "name",
              "imagePullSecrets": "name", "resourceClaims": "name", "resizePolicy": "name", "volumeMounts": "mountPath",
              "volumeDevices": "devicePath", "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid",
              "topologySpreadConstraints": "topologyKey"}


def merge_key(path, key):
    """The merge key of the list under `key` at `path` (None: replace the list)."""
    if key == "ports":  # a container's ports merge on containerPort, a Service's on port
        if path and path[-1] in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        return "port" if path == ("spec",) else None
    return MERGE_KEYS.get(key)


def strategic_merge(orig, patch, path=()):
    """A strategic merge patch without directives ($patch, $setElementOrder, ...: refused, not imitated)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            raise bad_request("the strategic merge patch directive %s is not imitated by the API-server test double" % key)
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = strategic_merge(out.get(key), value, path + (key,))
        elif isinstance(value, list) and key == "finalizers":
            cur = list(out.get(key) or [])
            out[key] = cur + [v for v in value if v not in cur]
        elif isinstance(value, list) and merge_key(path, key):
            out[key] = merge_list(out.get(key), value, merge_key(path, key), path + (key,))
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_list(orig, patch, mkey, path):
    result = [copy.deepcopy(v) for v in orig or []]
    for item in patch:
        if not isinstance(item, dict) or mkey not in item:
            raise ApiError(422, "Invalid", "map: %s does not contain declared merge key: %s" % (json.dumps(item), mkey))
        idx = next((i for i, cur in enumerate(result) if isinstance(cur, dict) and cur.get(mkey) == item[mkey]), None)
        if idx is None:
            result.append(strategic_merge({}, item, path))
        else:
            result[idx] = strategic_merge(result[idx], item, path)
    return result


def json_merge(orig, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(orig) if isinstance(orig, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = json_merge(out.get(key), value)
    return out


def json_patch(doc, ops):
    """RFC 6902, by the jsonpatch library (kubernetes.core's own dependency; imported only when asked)."""
    import jsonpatch  # pylint: disable=import-outside-toplevel
    if not isinstance(ops, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    try:
        return jsonpatch.apply_patch(doc, ops)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise ApiError(422, "Invalid", "testing value failed: %s" % exc)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise ApiError(422, "Invalid", "doc is missing path: %s" % exc)


# ---- Images

def normalize_image(ref):
    """Normalise like containerd/kubelet (docker/reference ParseNormalizedNamed + TagNameOnly)."""
    ref = ref.strip()
    name, _sep, digest = ref.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    first = name.split("/")[0]
    if "/" not in name or ("." not in first and ":" not in first and first != "localhost"):
        name = "docker.io/" + name
    if name.startswith("docker.io/") and name.count("/") == 1:
        name = "docker.io/library/" + name[len("docker.io/"):]
    if digest:
        return name + (":" + tag if tag else "") + "@" + digest
    return name + ":" + (tag or "latest")


def default_pull_policy(image):
    name = image.partition("@")[0]
    if "@" in image:
        return "IfNotPresent"
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon <= slash or name[colon + 1:] == "latest":
        return "Always"
    return "IfNotPresent"


class ImageSource:
    """Which images each node's containerd holds, by --images-command (without it every image is present)."""

    def __init__(self, command=None):
        self.command, self.cache, self.stamp = command, {}, 0.0

    def refresh(self, nodes):
        """Run the command for every node, at most once a second; the controller loop calls this outside the API lock."""
        if self.command and time.monotonic() - self.stamp >= 1.0:
            self.cache = {node: self._normalised(self._run(node)) for node in nodes}
            self.stamp = time.monotonic()

    def has(self, node, image):
        if not self.command:
            return True
        return self.holds(self.cache.get(node, set()), image)

    @staticmethod
    def holds(images, image):
        want = normalize_image(image)
        return want in images or want.partition("@")[0] in images

    def _run(self, node):
        cmd = self.command.replace("{node}", node)
        try:
            out = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            log("images command failed for %s: %s" % (node, exc))
            return []
        if out.returncode != 0:
            log("images command for %s exited %d: %s" % (node, out.returncode, out.stderr.strip()[:300]))
        return [line for line in out.stdout.splitlines() if line.strip() and not line.startswith("sha256:")]

    @staticmethod
    def _normalised(refs):
        result = set()
        for ref in refs:
            norm = normalize_image(ref)
            result.add(norm)
            result.add(norm.partition("@")[0])
        return result


class ReportedImages(ImageSource):
    """Node API: the images a node's kubelet reported in its Node's status.images, as the real kubelet reports its
    runtime's images (the kubelet double posts what `ctr -n k8s.io images ls -q` lists on its node). A node whose
    kubelet has not reported yet holds no image as far as the API server can know."""

    def __init__(self, cluster):
        ImageSource.__init__(self)
        self.cluster = cluster

    def refresh(self, nodes):
        pass

    def has(self, node, image):
        status = (self.cluster.stored("nodes", "", node) or {}).get("status") or {}
        return self.holds(self._normalised(n for item in status.get("images") or [] for n in item.get("names") or []), image)


# ---- Defaulting (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go)

def defaults(obj, **values):
    for key, value in values.items():
        obj.setdefault(key, value)


def default_container(ctr):
    if not isinstance(ctr, dict):
        return
    defaults(ctr, terminationMessagePath="/dev/termination-log", terminationMessagePolicy="File", resources={})
    if isinstance(ctr.get("image"), str) and ctr["image"]:
        ctr.setdefault("imagePullPolicy", default_pull_policy(ctr["image"]))
    for port in ctr.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for probe in (ctr.get(key) for key in ("livenessProbe", "readinessProbe", "startupProbe")):
        if isinstance(probe, dict):
            defaults(probe, timeoutSeconds=1, periodSeconds=10, successThreshold=1, failureThreshold=3)
            if isinstance(probe.get("httpGet"), dict):
                defaults(probe["httpGet"], path="/", scheme="HTTP")


def default_pod_spec(spec):
    if isinstance(spec, dict):
        defaults(spec, restartPolicy="Always", dnsPolicy="ClusterFirst", schedulerName="default-scheduler",
                 terminationGracePeriodSeconds=30, securityContext={})
        for ctr in spec.get("containers") or []:
            default_container(ctr)


def default_object(res, obj):
    kind = res.kind
    spec = obj.setdefault("spec", {}) if kind in ("Deployment", "ReplicaSet", "Pod", "Service", "Namespace") else None
    if kind in ("Deployment", "ReplicaSet"):
        spec.setdefault("replicas", 1)
        default_pod_spec((spec.get("template") or {}).get("spec"))
    if kind == "Deployment":
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            defaults(strategy.setdefault("rollingUpdate", {}), maxUnavailable="25%", maxSurge="25%")
        defaults(spec, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    elif kind == "Pod":
        default_pod_spec(spec)
        spec.setdefault("serviceAccountName", "default")
        tols = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):  # DefaultTolerationSeconds admission
            if not any(isinstance(t, dict) and t.get("key") == key and t.get("effect") in (None, "", "NoExecute") for t in tols):
                tols.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif kind == "Service":
        defaults(spec, type="ClusterIP", sessionAffinity="None")
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                if "port" in port:
                    port.setdefault("targetPort", port["port"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            spec.setdefault("externalTrafficPolicy", "Cluster")
        if spec["type"] == "LoadBalancer":
            spec.setdefault("allocateLoadBalancerNodePorts", True)
        if spec["type"] != "ExternalName":
            spec.setdefault("internalTrafficPolicy", "Cluster")
        obj.setdefault("status", {}).setdefault("loadBalancer", {})
    elif kind == "Namespace":
        spec.setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def int_or_percent(value, total, round_up):
    if isinstance(value, str):
        pct = int(value[:-1])
        raw = pct * total / 100.0
        return int(-(-raw // 1)) if round_up else int(raw // 1)
    return int(value or 0)


# ---- The cluster state: store, verbs

def meta(obj):
    return obj.setdefault("metadata", {})


def controller_ref(obj):
    for ref in meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_ref(obj, kind, api_version):
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def without_hash(template):
    tpl = copy.deepcopy(template or {})
    (tpl.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return tpl


def template_hash(template):
    digest = hashlib.sha256(json.dumps(without_hash(template), sort_keys=True).encode()).digest()
    number = str(int.from_bytes(digest[:4], "big"))
    return "".join(ALPHANUMS[int(ch) % len(ALPHANUMS)] for ch in number)


def set_condition(conds, ctype, status, reason, message, ts, force=False, with_update_time=True):
    """SetDeploymentCondition: an unchanged status+reason keeps the condition (and its times)."""
    cur = next((c for c in conds if c.get("type") == ctype), None)
    if cur is not None and cur.get("status") == status and cur.get("reason") == reason and not force:
        return False
    new = {"type": ctype, "status": status}
    if with_update_time:
        new["lastUpdateTime"] = ts
    new["lastTransitionTime"] = cur["lastTransitionTime"] if cur is not None and cur.get("status") == status else ts
    new.update(reason=reason, message=message)
    if cur is not None:
        conds[conds.index(cur)] = new
    else:
        conds.append(new)
    return True


def node_info(name, kubelet_version):
    """status.nodeInfo with every field the API's NodeSystemInfo requires (clients that read Nodes into typed
    models, as kubernetes.core.k8s_drain does, refuse a Node without them). The double cannot know the node's
    machine, boot or OS image: the ids are derived from the name, the kernel is this host's (containers share it);
    kubeProxyVersion is empty, as kubelets leave it since it was deprecated (1.31)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {"machineID": digest[:32], "systemUUID": str(uuid.UUID(digest[32:64])), "bootID": str(uuid.UUID(digest[:32])),
            "kernelVersion": os.uname().release, "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": "containerd://1.7.24", "kubeletVersion": kubelet_version, "kubeProxyVersion": "",
            "operatingSystem": "linux", "architecture": "amd64"}


def node_object(name, address, index, control, ready, kubelet_version=K8S_VERSION):
    """A Node as its kubelet registers it (labels, addresses, nodeInfo) with the spec the control plane gives it: a
    pod CIDR, kubeadm's control-plane taint, and the not-ready taint of the node lifecycle controller while the
    kubelet reports NotReady. ready: (status, reason, message) of the Ready condition. No node resources (capacity,
    allocatable) nor pressure conditions: the scheduler does not weigh them."""
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    spec = {"podCIDR": "10.244.%d.0/24" % index, "podCIDRs": ["10.244.%d.0/24" % index]}
    taints = []
    if control:
        labels["node-role.kubernetes.io/control-plane"] = ""
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    if ready[0] != "True":
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    if taints:
        spec["taints"] = taints
    ts = now_ts()
    status = {"addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
              "conditions": [{"type": "Ready", "status": ready[0], "lastHeartbeatTime": ts, "lastTransitionTime": ts,
                              "reason": ready[1], "message": ready[2]}],
              "nodeInfo": node_info(name, kubelet_version)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": spec, "status": status}


class Cluster:
    def __init__(self, opts, nodes=None):
        self.lock = threading.RLock()
        self.objects = {}
        self.rv = 100
        self.scale = opts.time_scale
        self.cidr = ipaddress.ip_network("10.96.0.0/12")  # kube-apiserver's defaults (--service-cluster-ip-range,
        self.node_port_lo, self.node_port_hi = 30000, 32767  # --service-node-port-range), which kubeadm keeps
        self.images = ImageSource(opts.images_command)
        self.token = secrets.token_hex(16)
        # (name, address, control plane?) of every node; the node API passes those the kubeadm double set up.
        self.nodes = nodes
        if nodes is None:
            self.nodes = []
            for item in (opts.nodes or "node1=127.0.0.1").split(","):
                name, _sep, rest = item.strip().partition("=")
                addr, _sep, role = rest.partition(":")
                self.nodes.append((name, addr or "127.0.0.1", role == "control-plane"))
        # The node API refreshes the nodes from the kubeadm double's state with this (cluster) -> None.
        self.node_source = None
        # Node name -> the kubelet version its kubelet posted in status.nodeInfo.
        self.kubelet_versions = {}
        self.kstate, self.dstate = {}, {}
        self.rr, self.ep_rr, self.managed_endpoints = 0, {}, set()
        self.server_address = ""
        self.bootstrap()

    # -- store helpers ---------------------------------------------------------------------
    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def stored(self, plural, ns, name):
        return self.objects.get((plural, ns or "", name))

    def items(self, plural, ns=None):
        return [o for (p, n, _name), o in sorted(self.objects.items()) if p == plural and (ns is None or n == ns)]

    def put(self, res, obj):
        """Controller-side write: bumps resourceVersion only when the object changed."""
        key = (res.plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        old = self.objects.get(key)
        if old is not None:
            cmp = copy.deepcopy(obj)
            cmp["metadata"]["resourceVersion"] = old["metadata"].get("resourceVersion")
            if cmp == old:
                return old
            if res.kind in ("Deployment", "ReplicaSet", "Pod") and obj.get("spec") != old.get("spec"):
                obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        obj["metadata"]["resourceVersion"] = self.next_rv()
        self.objects[key] = obj
        return obj

    def remove(self, res, obj):
        self.objects.pop((res.plural, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]), None)
        self.kstate.pop(obj["metadata"].get("uid"), None)

    def bootstrap(self):
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(BY_KIND["Namespace"], None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        for i, (name, addr, control) in enumerate(self.nodes):
            self.create(BY_KIND["Node"], None, node_object(name, addr, i, control, ("True", "KubeletReady", "kubelet is posting ready status")),
                        keep_status=True)
        first = str(self.cidr.network_address + 1)
        self.create(BY_KIND["Service"], "default", {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": first, "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}})
        control = next((n for n in self.nodes if n[2]), self.nodes[0] if self.nodes else None)
        if control is None:  # the node API before any node registered
            return
        self.create(BY_KIND["Endpoints"], "default", {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": control[1]}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]})

    # -- allocation -------------------------------------------------------------------------
    def _others(self, obj):
        me = (meta(obj).get("namespace"), meta(obj).get("name"))
        return [s for s in self.items("services") if (s["metadata"]["namespace"], s["metadata"]["name"]) != me]

    def used_cluster_ips(self, obj):
        used = set()
        for svc in self._others(obj):
            used.update(ip for ip in svc["spec"].get("clusterIPs") or [] if ip != "None")
        return used

    def used_node_ports(self, obj):
        return {p.get("nodePort") for s in self._others(obj) for p in s["spec"].get("ports") or [] if p.get("nodePort")}

    def allocate_service(self, obj):
        spec = obj["spec"]
        if spec["type"] == "ExternalName":
            return
        ip = spec.get("clusterIP")
        if not ip:
            used = self.used_cluster_ips(obj)
            size = self.cidr.num_addresses
            lower = min(max(16, size // 16), 256)  # ServiceIPStaticSubrange: dynamic allocation prefers the upper band
            candidates = [i for i in random.sample(range(lower, size - 1), min(size - 1 - lower, 4096)) if str(self.cidr.network_address + i) not in used]
            if not candidates:
                raise ApiError(500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full")
            ip = str(self.cidr.network_address + candidates[0])
            spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
        if ip != "None" or spec.get("selector"):
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        if spec["type"] in ("NodePort", "LoadBalancer"):
            used = self.used_node_ports(obj) | {p.get("nodePort") for p in spec.get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    free = [n for n in range(self.node_port_lo, self.node_port_hi + 1) if n not in used]
                    if not free:
                        raise ApiError(500, "InternalError", "Internal error occurred: failed to allocate a nodePort: range is full")
                    port["nodePort"] = random.choice(free)
                    used.add(port["nodePort"])

    @staticmethod
    def keep_allocated(obj, old):
        """Service REST patchAllocatedValues: keep clusterIP(s) and nodePorts a write omits."""
        spec, ospec = obj.get("spec") or {}, old.get("spec") or {}
        if ospec.get("type") != "ExternalName" and spec.get("type") != "ExternalName":
            if not spec.get("clusterIP") and ospec.get("clusterIP"):
                spec["clusterIP"] = ospec["clusterIP"]
            if not spec.get("clusterIPs") and ospec.get("clusterIPs"):
                spec["clusterIPs"] = list(ospec["clusterIPs"])
            for key in ("ipFamilies", "ipFamilyPolicy"):
                if key not in spec and key in ospec:
                    spec[key] = copy.deepcopy(ospec[key])
        if spec.get("type") in ("NodePort", "LoadBalancer") and ospec.get("type") in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    for oport in ospec.get("ports") or []:
                        if oport.get("port") == port.get("port") and oport.get("protocol", "TCP") == port.get("protocol", "TCP") and oport.get("nodePort"):
                            port["nodePort"] = oport["nodePort"]

    # -- the write pipeline -----------------------------------------------------------------
    def admit(self, res, obj, old, dry_run=False, keep_status=False):
        md = meta(obj)
        name = md.get("name")
        if old is None and not name and md.get("generateName"):
            name = md["name"] = md["generateName"] + rand_suffix()
        if not name:
            raise invalid(res, "", "metadata.name", "Required value: name or generateName is required")
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if old is not None:
            for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if key in old["metadata"]:
                    md[key] = old["metadata"][key]
                else:
                    md.pop(key, None)
            if res.kind in STATUS_SUBRESOURCE_KINDS and not keep_status:
                if "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                else:
                    obj.pop("status", None)
            if res.kind == "Service":
                self.keep_allocated(obj, old)
        elif res.kind in STATUS_SUBRESOURCE_KINDS and not keep_status:
            obj.pop("status", None)
        default_object(res, obj)
        check_pod_spec(res, obj, name)
        if res.kind == "Service":
            self.allocate_service(obj)
        if old is None:
            md["uid"] = md.get("uid") if keep_status and md.get("uid") else str(uuid.uuid4())
            md["creationTimestamp"] = now_ts()
            md.pop("resourceVersion", None)
            if res.kind in ("Deployment", "ReplicaSet", "Pod"):
                md["generation"] = 1
        else:
            md["resourceVersion"] = old["metadata"].get("resourceVersion")
            if res.kind in ("Deployment", "ReplicaSet", "Pod") and obj.get("spec") != old.get("spec"):
                md["generation"] = old["metadata"].get("generation", 1) + 1
            if obj == old:
                return old
        if dry_run:
            return obj
        if old is None:
            md["resourceVersion"] = self.next_rv()
            self.objects[(res.plural, md.get("namespace", ""), name)] = obj
            return obj
        return self.put(res, obj)

    def check_namespace(self, res, ns):
        if not res.namespaced:
            return
        nso = self.stored("namespaces", "", ns)
        if nso is None:
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % ns, {"name": ns, "kind": "namespaces"})

    def body_namespace(self, res, ns, body):
        if not isinstance(body, dict):
            raise bad_request("Object 'Kind' is missing in '%s'" % json.dumps(body)[:200])
        md = meta(body)
        if res.namespaced:
            if md.get("namespace") and ns and md["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            md["namespace"] = ns or md.get("namespace") or "default"
        else:
            md.pop("namespace", None)
        if body.get("apiVersion") not in (None, res.api_version):
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)" % (body.get("apiVersion"), res.api_version))
        if body.get("kind") not in (None, res.kind):
            raise bad_request("the kind in the data (%s) does not match the expected kind (%s)" % (body.get("kind"), res.kind))

    def create(self, res, ns, body, dry_run=False, keep_status=False):
        self.body_namespace(res, ns, body)
        ns = meta(body).get("namespace", "")
        self.check_namespace(res, ns)
        name = meta(body).get("name")
        if name and self.stored(res.plural, ns, name) is not None:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (qualified(res), name),
                           status_details(res, name))
        return self.admit(res, body, None, dry_run, keep_status)

    def get(self, res, ns, name):
        obj = self.stored(res.plural, ns, name)
        if obj is None:
            raise not_found(res, name)
        return obj

    def conflict(self, res, name):
        return ApiError(409, "Conflict", 'Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the '
                        "latest version and try again" % (qualified(res), name),
                        status_details(res, name))

    def check_write(self, res, name, new, old):
        """What update and patch refuse: a stale resourceVersion or another name."""
        rv = meta(new).get("resourceVersion")
        if rv and rv != old["metadata"].get("resourceVersion"):
            raise self.conflict(res, name)
        if meta(new).get("name") != name:
            raise bad_request("the name of the object (%s) does not match the name on the URL (%s)" % (meta(new).get("name"), name))

    def update(self, res, ns, name, body, dry_run=False):
        old = self.get(res, ns, name)
        self.body_namespace(res, ns, body)
        self.check_write(res, name, body, old)
        return self.admit(res, body, old, dry_run)

    def patch(self, res, ns, name, ctype, body, dry_run=False):
        old = self.get(res, ns, name)
        ctype = (ctype or "").split(";")[0].strip()
        if ctype not in PATCH_TYPES:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
                           "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        base = copy.deepcopy(old)
        if ctype == "application/json-patch+json":
            new = json_patch(base, body)
        elif not isinstance(body, dict):
            raise bad_request("json: cannot unmarshal %s into Go value of type map[string]interface {}" % type(body).__name__)
        elif ctype == "application/merge-patch+json":
            new = json_merge(base, body)
        else:
            new = strategic_merge(base, body)
        if not isinstance(new, dict):
            raise bad_request("the patch produced no object")
        self.check_write(res, name, new, old)
        if res.namespaced and meta(new).get("namespace") != ns:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        return self.admit(res, new, old, dry_run)

    def delete(self, res, ns, name, opts, dry_run=False):
        obj = self.get(res, ns, name)
        policy = opts.get("propagationPolicy") or ("Orphan" if opts.get("orphanDependents") else "Background")
        if policy not in ("Orphan", "Background", "Foreground"):
            raise bad_request("propagationPolicy: Unsupported value: %s" % json.dumps(policy))
        if policy == "Orphan" or res.kind == "Namespace":
            # Dependents are always deleted by the garbage collector; no namespace lifecycle (Terminating).
            raise bad_request("deleting a namespace or orphaning dependents is not imitated by the API-server test double")
        if res.kind == "Pod":
            grace = opts.get("gracePeriodSeconds")
            if grace is None:
                grace = obj["spec"].get("terminationGracePeriodSeconds", 30)
            if dry_run or (obj["metadata"].get("deletionTimestamp") and grace > 0):
                return 200, obj
            if not obj["spec"].get("nodeName") or grace == 0 or obj["status"].get("phase") in ("Succeeded", "Failed"):
                self.remove(res, obj)
                return 200, obj
            new = copy.deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=grace)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            new["metadata"]["deletionGracePeriodSeconds"] = grace
            self.kstate.setdefault(obj["metadata"]["uid"], {})["delete_at"] = time.monotonic() + grace * self.scale
            return 200, self.put(res, new)
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                  "details": status_details(res, name, uid=obj["metadata"]["uid"])}
        if dry_run:
            return 200, status
        self.remove(res, obj)
        return 200, status

    def list(self, res, ns, label_selector, field_selector):
        lreqs = parse_label_selector(label_selector)
        node = None
        if field_selector:
            # kubectl drain's (and kubernetes.core.k8s_drain's) one field selector; others are not imitated.
            found = re.match(r"^spec\.nodeName=([^,]+)$", field_selector)
            if res.kind != "Pod" or not found:
                raise bad_request("field selectors other than spec.nodeName=NODE on pods are not imitated by the API-server test double")
            node = found.group(1)
        out = []
        for obj in self.items(res.plural, ns if res.namespaced else None):
            if node is not None and (obj.get("spec") or {}).get("nodeName") != node:
                continue
            if labels_match(lreqs, obj["metadata"].get("labels")):
                item = copy.deepcopy(obj)
                item.pop("kind", None)
                item.pop("apiVersion", None)
                out.append(item)
        return {"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": {"resourceVersion": str(self.rv)}, "items": out}

    # -- eviction (pods/eviction of pkg/registry/core/pod/storage/eviction.go, with its texts) -----------
    def evict(self, ns, name, dry_run):
        """The Eviction subresource: refused (429) when the one PodDisruptionBudget selecting the pod allows no
        disruption now - its healthy (Ready) pods minus what minAvailable or maxUnavailable keeps - else the pod is
        deleted (with dryRun, nothing is). The double computes the budget at the request; the real one reads the
        status the disruption controller keeps (its lag is not imitated)."""
        with self.lock:
            pod = self.get(BY_KIND["Pod"], ns, name)
            labels = pod["metadata"].get("labels") or {}
            budgets = [pdb for pdb in self.items("poddisruptionbudgets", ns)
                       if self._selects((pdb.get("spec") or {}).get("selector") or {}, labels)]
            if len(budgets) > 1:
                raise ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction "
                               "subresource does not support.")
            if budgets and self._ready(pod):
                spec = budgets[0].get("spec") or {}
                pods = [p for p in self.items("pods", ns) if self._selects(spec.get("selector") or {}, p["metadata"].get("labels") or {})]
                healthy = len([p for p in pods if self._ready(p)])
                if "minAvailable" in spec:
                    desired = int_or_percent(spec["minAvailable"], len(pods), True)
                else:
                    desired = len(pods) - int_or_percent(spec.get("maxUnavailable", 0), len(pods), False)
                if healthy - desired <= 0:
                    raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget.",
                                   {"causes": [{"reason": "DisruptionBudget", "message": "The disruption budget %s needs %d healthy "
                                                "pods and has %d currently" % (budgets[0]["metadata"]["name"], desired, healthy)}]})
            if not dry_run:
                self.delete(BY_KIND["Pod"], ns, name, {}, False)
            return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}

    @staticmethod
    def _selects(selector, labels):
        wanted = selector.get("matchLabels") or {}
        return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())

    @staticmethod
    def _ready(pod):
        return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or [])

    # -- events (one per occurrence: the real recorder's aggregation and counts are not imitated) ----
    def event(self, obj, etype, reason, message, component, host=None, field_path=None):
        md = obj["metadata"]
        ts = now_ts()
        involved = {"kind": obj["kind"], "namespace": md["namespace"], "name": md["name"], "uid": md.get("uid"),
                    "apiVersion": obj["apiVersion"], "resourceVersion": md.get("resourceVersion")}
        if field_path:
            involved["fieldPath"] = field_path
        source = {"component": component, "host": host} if host else {"component": component}
        ev = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "%s.%x" % (md["name"], time.time_ns()), "namespace": md["namespace"]},
              "involvedObject": involved, "reason": reason, "message": message, "source": source,
              "firstTimestamp": ts, "lastTimestamp": ts, "count": 1, "type": etype, "eventTime": None,
              "reportingComponent": component, "reportingInstance": host or ""}
        self.admit(BY_KIND["Event"], ev, None)


# ---- Controllers

class Controllers:
    """Deployment, ReplicaSet, garbage collector, scheduler, kubelet and endpoints loops. Only the scheduler and
    the kubelet record events; the Deployment and ReplicaSet controllers' events are not imitated."""

    def __init__(self, cluster):
        self.c = cluster

    def tick(self):
        c = self.c
        c.images.refresh([name for name, _addr, _cp in c.nodes])
        with c.lock:
            if c.node_source:
                c.node_source(c)
            self.garbage_collect()
            for dep in c.items("deployments"):
                try:
                    self.deployment(dep)
                except ApiError as exc:
                    log("deployment controller: %s" % exc.message)
            for rs in c.items("replicasets"):
                self.replicaset(rs)
            self.schedule()
            for pod in c.items("pods"):
                self.kubelet(pod)
            for rs in c.items("replicasets"):
                self.replicaset_status(rs)
            self.endpoints()
            return self.wanted_listeners()

    # -- garbage collection ---------------------------------------------------------------
    def garbage_collect(self):
        c = self.c
        uids = {o["metadata"].get("uid") for o in c.objects.values()}
        for (plural, ns, name), obj in list(c.objects.items()):
            ref = controller_ref(obj)
            if ref and ref.get("uid") not in uids and c.stored(plural, ns, name) is not None:
                res = BY_PLURAL[(BY_KIND[obj["kind"]].group, plural)]
                c.delete(res, ns, name, {})

    # -- Deployment controller ------------------------------------------------------------
    def deployment(self, dep):
        c = self.c
        if dep["metadata"].get("deletionTimestamp"):
            return
        dep = copy.deepcopy(dep)
        md, spec = dep["metadata"], dep["spec"]
        ns, uid = md["namespace"], md["uid"]
        state = c.dstate.setdefault(uid, {"progress": time.monotonic()})
        rss = [copy.deepcopy(rs) for rs in c.items("replicasets", ns) if (controller_ref(rs) or {}).get("uid") == uid]
        rss.sort(key=lambda r: (r["metadata"]["creationTimestamp"], r["metadata"]["name"]))
        template = spec["template"]
        new_rs = next((r for r in rss if without_hash(r["spec"]["template"]) == without_hash(template)), None)
        olds = [r for r in rss if r is not new_rs]
        desired = spec.get("replicas", 1)
        strategy = spec.get("strategy") or {}
        ru = strategy.get("rollingUpdate") or {}
        surge = int_or_percent(ru.get("maxSurge", "25%"), desired, True)
        unavail = int_or_percent(ru.get("maxUnavailable", "25%"), desired, False)
        if surge == 0 and unavail == 0:
            unavail = 1
        recreate = strategy.get("type") == "Recreate"
        revisions = [int(r["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", "0")) for r in olds]
        max_old = max(revisions or [0])
        conds = copy.deepcopy((dep.get("status") or {}).get("conditions") or [])
        ts = now_ts()
        changed_rs = {}

        def scale(rs, count):
            if rs["spec"]["replicas"] == count:
                return
            rs["spec"]["replicas"] = count
            changed_rs[rs["metadata"]["name"]] = rs

        if new_rs is None:
            phash = template_hash(template)
            tpl = copy.deepcopy(template)
            tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = phash
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})["pod-template-hash"] = phash
            if recreate:
                initial = 0 if any(r["spec"]["replicas"] or r.get("status", {}).get("replicas") for r in olds) else desired
            else:
                current = sum(r["spec"]["replicas"] for r in olds)
                initial = max(0, min(desired + surge - current, desired)) if olds else desired
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": "%s-%s" % (md["name"], phash), "namespace": ns, "labels": copy.deepcopy(tpl["metadata"]["labels"]),
                               "annotations": {"deployment.kubernetes.io/revision": str(max_old + 1)},
                               "ownerReferences": [owner_ref(dep, "Deployment", "apps/v1")]},
                  "spec": {"replicas": initial, "minReadySeconds": spec.get("minReadySeconds", 0), "selector": selector, "template": tpl}}
            if not spec.get("minReadySeconds"):
                del rs["spec"]["minReadySeconds"]
            new_rs = c.admit(BY_KIND["ReplicaSet"], rs, None)
            new_rs = copy.deepcopy(new_rs)
            set_condition(conds, "Progressing", "True", "NewReplicaSetCreated", 'Created new replica set "%s"' % new_rs["metadata"]["name"], ts, True)
            state["progress"] = time.monotonic()
        else:
            ann = new_rs["metadata"].setdefault("annotations", {})
            if int(ann.get("deployment.kubernetes.io/revision", "0")) <= max_old:
                ann["deployment.kubernetes.io/revision"] = str(max_old + 1)
                changed_rs[new_rs["metadata"]["name"]] = new_rs
            if (spec.get("minReadySeconds", 0) or 0) != (new_rs["spec"].get("minReadySeconds", 0) or 0):
                new_rs["spec"]["minReadySeconds"] = spec.get("minReadySeconds", 0)
                changed_rs[new_rs["metadata"]["name"]] = new_rs
        revision = new_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        md.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = revision

        def available(rs):
            return (rs.get("status") or {}).get("availableReplicas", 0)

        active_olds = [r for r in olds if r["spec"]["replicas"] > 0]
        if spec.get("paused"):
            pass
        elif recreate:
            if active_olds:
                for rs in active_olds:
                    scale(rs, 0)
            elif not any(p for p in c.items("pods", ns) if (controller_ref(p) or {}).get("uid") in {r["metadata"]["uid"] for r in olds}):
                scale(new_rs, desired)
        elif not active_olds:
            scale(new_rs, desired)
        else:
            all_rs = [new_rs] + olds
            current = sum(r["spec"]["replicas"] for r in all_rs)
            max_total = desired + surge
            if current < max_total:
                scale(new_rs, new_rs["spec"]["replicas"] + min(max_total - current, desired - new_rs["spec"]["replicas"]))
            if new_rs["spec"]["replicas"] > desired:
                scale(new_rs, desired)
            all_pods = sum(r["spec"]["replicas"] for r in all_rs)
            min_available = desired - unavail
            new_unavailable = new_rs["spec"]["replicas"] - available(new_rs)
            max_down = all_pods - min_available - new_unavailable
            if max_down > 0:
                done = 0
                for rs in olds:
                    if done >= max_down:
                        break
                    unhealthy = rs["spec"]["replicas"] - available(rs)
                    if rs["spec"]["replicas"] == 0 or unhealthy <= 0:
                        continue
                    step = min(max_down - done, unhealthy)
                    scale(rs, rs["spec"]["replicas"] - step)
                    done += step
                avail = sum(available(r) for r in all_rs)
                if avail > min_available:
                    todo = avail - min_available
                    for rs in olds:
                        if todo <= 0:
                            break
                        if rs["spec"]["replicas"] == 0:
                            continue
                        step = min(rs["spec"]["replicas"], todo)
                        scale(rs, rs["spec"]["replicas"] - step)
                        todo -= step
        for rs in changed_rs.values():
            c.put(BY_KIND["ReplicaSet"], rs)
        # revisionHistoryLimit
        limit = spec.get("revisionHistoryLimit", 10)
        spent = [r for r in olds if r["spec"]["replicas"] == 0 and not (r.get("status") or {}).get("replicas")]
        spent.sort(key=lambda r: int(r["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision", "0")))
        for rs in spent[:max(0, len(spent) - limit)]:
            c.delete(BY_KIND["ReplicaSet"], ns, rs["metadata"]["name"], {})
        # status
        all_rs = [new_rs] + olds
        old_status = dep.get("status") or {}
        total = sum(r["spec"]["replicas"] for r in all_rs)
        avail = sum(available(r) for r in all_rs)
        status = {"observedGeneration": md.get("generation", 1),
                  "replicas": sum((r.get("status") or {}).get("replicas", 0) for r in all_rs),
                  "updatedReplicas": (new_rs.get("status") or {}).get("replicas", 0),
                  "readyReplicas": sum((r.get("status") or {}).get("readyReplicas", 0) for r in all_rs),
                  "availableReplicas": avail, "unavailableReplicas": max(0, total - avail)}
        if avail >= desired - unavail:
            set_condition(conds, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", ts)
        else:
            set_condition(conds, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", ts)
        name = new_rs["metadata"]["name"]
        complete = status["updatedReplicas"] == desired and status["replicas"] == desired and avail == desired
        old_old = old_status.get("replicas", 0) - old_status.get("updatedReplicas", 0)
        progressing = (status["updatedReplicas"] > old_status.get("updatedReplicas", 0) or status["replicas"] - status["updatedReplicas"] < old_old
                       or status["readyReplicas"] > old_status.get("readyReplicas", 0) or avail > old_status.get("availableReplicas", 0))
        prog = next((x for x in conds if x["type"] == "Progressing"), None)
        if prog is None:
            set_condition(conds, "Progressing", "True", "FoundNewReplicaSet", 'Found new replica set "%s"' % name, ts)
            state["progress"] = time.monotonic()
        # syncRolloutStatus: a complete deployment whose pods all belong to the new RS keeps its condition.
        elif not (prog.get("reason") == "NewReplicaSetAvailable" and status["replicas"] == status["updatedReplicas"]):
            if complete:
                set_condition(conds, "Progressing", "True", "NewReplicaSetAvailable", 'ReplicaSet "%s" has successfully progressed.' % name, ts)
            elif progressing:
                set_condition(conds, "Progressing", "True", "ReplicaSetUpdated", 'ReplicaSet "%s" is progressing.' % name, ts, force=True)
                state["progress"] = time.monotonic()
            elif prog.get("reason") not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded") and \
                    time.monotonic() - state["progress"] > spec.get("progressDeadlineSeconds", 600) * self.c.scale:
                set_condition(conds, "Progressing", "False", "ProgressDeadlineExceeded", 'ReplicaSet "%s" has timed out progressing.' % name, ts)
        conds.sort(key=lambda x: 0 if x["type"] == "Available" else 1)
        status = {k: v for k, v in status.items() if v}
        status["observedGeneration"] = md.get("generation", 1)
        status["conditions"] = conds
        dep["status"] = status
        c.put(BY_KIND["Deployment"], dep)

    # -- ReplicaSet controller ------------------------------------------------------------
    def owned_pods(self, rs):
        uid = rs["metadata"]["uid"]
        return [p for p in self.c.items("pods", rs["metadata"]["namespace"]) if (controller_ref(p) or {}).get("uid") == uid]

    def replicaset(self, rs):
        c = self.c
        if rs["metadata"].get("deletionTimestamp"):
            return
        pods = [p for p in self.owned_pods(rs) if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") not in ("Succeeded", "Failed")]
        want = rs["spec"].get("replicas", 1)
        tpl = rs["spec"]["template"]
        for _i in range(max(0, want - len(pods))):
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"generateName": rs["metadata"]["name"] + "-", "namespace": rs["metadata"]["namespace"],
                                "labels": copy.deepcopy((tpl.get("metadata") or {}).get("labels") or {}),
                                "ownerReferences": [owner_ref(rs, "ReplicaSet", "apps/v1")]},
                   "spec": copy.deepcopy(tpl.get("spec") or {})}
            if (tpl.get("metadata") or {}).get("annotations"):
                pod["metadata"]["annotations"] = copy.deepcopy(tpl["metadata"]["annotations"])
            c.admit(BY_KIND["Pod"], pod, None)
        if len(pods) > want:
            def rank(p):
                st = c.kstate.get(p["metadata"]["uid"], {})
                # controller.ActivePods order: unassigned, not running, not ready, ready for less time, newer first
                return (bool(p["spec"].get("nodeName")), p["status"].get("phase") == "Running", bool(st.get("ready")),
                        -st.get("ready_since", 0), tuple(-ord(ch) for ch in p["metadata"]["creationTimestamp"]))
            for pod in sorted(pods, key=rank)[:len(pods) - want]:
                c.delete(BY_KIND["Pod"], pod["metadata"]["namespace"], pod["metadata"]["name"], {})

    def replicaset_status(self, rs):
        c = self.c
        pods = [p for p in self.owned_pods(rs) if not p["metadata"].get("deletionTimestamp") and p["status"].get("phase") not in ("Succeeded", "Failed")]
        tlabels = ((rs["spec"]["template"].get("metadata") or {}).get("labels") or {})
        min_ready = (rs["spec"].get("minReadySeconds") or 0) * c.scale
        now = time.monotonic()
        ready = [p for p in pods if c.kstate.get(p["metadata"]["uid"], {}).get("ready")]
        avail = [p for p in ready if now - c.kstate[p["metadata"]["uid"]].get("ready_since", now) >= min_ready]
        status = {"replicas": len(pods),
                  "fullyLabeledReplicas": len([p for p in pods if all(p["metadata"].get("labels", {}).get(k) == v for k, v in tlabels.items())]),
                  "readyReplicas": len(ready), "availableReplicas": len(avail), "observedGeneration": rs["metadata"].get("generation", 1)}
        status = {k: v for k, v in status.items() if v or k == "replicas"}
        if status != rs.get("status"):
            new = copy.deepcopy(rs)
            new["status"] = status
            c.put(BY_KIND["ReplicaSet"], new)

    # -- scheduler ------------------------------------------------------------------------
    @staticmethod
    def tolerates(tols, taint):
        for tol in tols or []:
            if tol.get("effect") and tol.get("effect") != taint.get("effect"):
                continue
            if tol.get("operator") == "Exists" and (not tol.get("key") or tol.get("key") == taint.get("key")):
                return True
            if tol.get("key") == taint.get("key") and tol.get("operator", "Equal") == "Equal" and (tol.get("value") or "") == (taint.get("value") or ""):
                return True
        return False

    def schedule(self):
        c = self.c
        nodes = c.items("nodes")
        for pod in c.items("pods"):
            if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
                continue
            fits, reasons = [], {}
            for node in nodes:  # the nodes stay Ready and schedulable: their taints and labels count
                bad = [t for t in node["spec"].get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")
                       and not self.tolerates(pod["spec"].get("tolerations"), t)]
                selector = pod["spec"].get("nodeSelector") or {}
                if bad:
                    why = "node(s) had untolerated taint {%s: %s}" % (bad[0]["key"], bad[0].get("value", ""))
                elif any(node["metadata"].get("labels", {}).get(k) != v for k, v in selector.items()):
                    why = "node(s) didn't match Pod's node affinity/selector"
                else:
                    fits.append(node)
                    continue
                reasons[why] = reasons.get(why, 0) + 1
            new = copy.deepcopy(pod)
            conds = new["status"].setdefault("conditions", [])
            if not fits:
                msg = "0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling." % (
                    len(nodes), ", ".join("%d %s" % (n, r) for r, n in sorted(reasons.items())), len(nodes), len(nodes))
                cur = next((x for x in conds if x["type"] == "PodScheduled"), None)
                if cur is None or cur.get("message") != msg:
                    set_condition(conds, "PodScheduled", "False", "Unschedulable", msg, now_ts(), True, False)
                    conds[-1]["lastProbeTime"] = None
                    c.put(BY_KIND["Pod"], new)
                    c.event(new, "Warning", "FailedScheduling", msg, "default-scheduler")
                continue
            node = fits[c.rr % len(fits)]
            c.rr += 1
            new["spec"]["nodeName"] = node["metadata"]["name"]
            new["status"]["conditions"] = []
            set_condition(new["status"]["conditions"], "PodScheduled", "True", None, None, now_ts(), True, False)
            for cond in new["status"]["conditions"]:
                cond.pop("reason", None)
                cond.pop("message", None)
                cond["lastProbeTime"] = None
            stored = c.put(BY_KIND["Pod"], new)
            c.event(stored, "Normal", "Scheduled", "Successfully assigned %s/%s to %s" % (
                new["metadata"]["namespace"], new["metadata"]["name"], node["metadata"]["name"]), "default-scheduler")

    # -- kubelet --------------------------------------------------------------------------
    def node_address(self, name):
        for i, (node, addr, _cp) in enumerate(self.c.nodes):
            if node == name:
                return i, addr
        return 0, "127.0.0.1"

    def pod_ip(self, index):
        used = {p["status"].get("podIP") for p in self.c.items("pods")}
        for host in range(2, 255):
            ip = "10.244.%d.%d" % (index, host)
            if ip not in used:
                return ip
        return "10.244.%d.254" % index

    def container_step(self, pod, ctr, st, node):
        """Advance one container through pull/create/start; returns its state dict."""
        c = self.c
        image, policy = ctr["image"], ctr.get("imagePullPolicy", default_pull_policy(ctr["image"]))
        if st.get("state") == "running":
            return st
        now = time.monotonic()
        present = c.images.has(node, image)
        fpath = "spec.containers{%s}" % ctr["name"]
        host = node
        if policy == "Never" and not present:
            if st.get("reason") != "ErrImageNeverPull":
                msg = 'Container image "%s" is not present with pull policy of Never' % image
                st.update(state="waiting", reason="ErrImageNeverPull", message=msg)
                c.event(pod, "Warning", "ErrImageNeverPull", msg, "kubelet", host, fpath)
                c.event(pod, "Warning", "Failed", "Error: ErrImageNeverPull", "kubelet", host, fpath)
            return st
        if policy == "Always" or not present:
            err = ('failed to pull and unpack image "%s": failed to resolve reference "%s": no registry is reachable '
                   "(the API-server double simulates an offline lab)" % (normalize_image(image), normalize_image(image)))
            if st.get("reason") not in ("ErrImagePull", "ImagePullBackOff"):
                c.event(pod, "Normal", "Pulling", 'Pulling image "%s"' % image, "kubelet", host, fpath)
                c.event(pod, "Warning", "Failed", 'Failed to pull image "%s": %s' % (image, err), "kubelet", host, fpath)
                c.event(pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet", host, fpath)
                st.update(state="waiting", reason="ErrImagePull", message=err, since=now)
            elif st["reason"] == "ErrImagePull" and now - st["since"] >= 10 * c.scale:
                st.update(reason="ImagePullBackOff", message='Back-off pulling image "%s": ErrImagePull: %s' % (image, err))
                c.event(pod, "Normal", "BackOff", 'Back-off pulling image "%s"' % image, "kubelet", host, fpath)
                c.event(pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", host, fpath)
            return st
        c.event(pod, "Normal", "Pulled", 'Container image "%s" already present on machine' % image, "kubelet", host, fpath)
        c.event(pod, "Normal", "Created", "Created container: %s" % ctr["name"], "kubelet", host, fpath)
        c.event(pod, "Normal", "Started", "Started container %s" % ctr["name"], "kubelet", host, fpath)
        probe = ctr.get("readinessProbe")
        delay = ((probe or {}).get("initialDelaySeconds") or 0) * c.scale
        st.clear()
        st.update(state="running", started=now_ts(), since=now, ready_at=now + delay, cid=secrets.token_hex(32))
        return st

    def kubelet(self, pod):
        c = self.c
        node = pod["spec"].get("nodeName")
        if not node:
            return
        uid = pod["metadata"]["uid"]
        ks = c.kstate.setdefault(uid, {})
        now = time.monotonic()
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        if terminating and now >= ks.get("delete_at", 0):
            c.remove(BY_KIND["Pod"], pod)
            return
        index, host_ip = self.node_address(node)
        new = copy.deepcopy(pod)
        status = new["status"]
        ts = now_ts()
        if "podIP" not in status:
            ip = self.pod_ip(index)
            status.update(hostIP=host_ip, hostIPs=[{"ip": host_ip}], podIP=ip, podIPs=[{"ip": ip}], startTime=ts)
        cstates = ks.setdefault("containers", {})
        statuses = []
        for ctr in new["spec"]["containers"]:
            st = cstates.setdefault(ctr["name"], {})
            if not terminating:
                self.container_step(new, ctr, st, node)
            statuses.append(self.container_status(ctr, st, terminating))
        all_ready = all(s["ready"] for s in statuses)
        if all_ready and not ks.get("ready"):
            ks["ready_since"] = now
        ks["ready"] = all_ready
        status["containerStatuses"] = statuses
        running = any(s["state"].get("running") for s in statuses)
        status["phase"] = "Running" if running else "Pending"
        conds = status.setdefault("conditions", [])
        not_ready = " ".join(s["name"] for s in statuses if not s["ready"])
        for ctype in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"):
            ok = all_ready or ctype in ("PodReadyToStartContainers", "Initialized")
            set_condition(conds, ctype, "True" if ok else "False", "ContainersNotReady",
                          "containers with unready status: [%s]" % not_ready, ts, False, False)
        for cond in conds:  # a true condition has no reason or message
            cond["lastProbeTime"] = None
            if cond["status"] == "True":
                cond.pop("reason", None)
                cond.pop("message", None)
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        conds.sort(key=lambda x: order.index(x["type"]) if x["type"] in order else 9)
        status["observedGeneration"] = new["metadata"].get("generation", 1)
        if new != pod:
            c.put(BY_KIND["Pod"], new)

    def container_status(self, ctr, st, terminating):
        image = ctr["image"]
        out = {"name": ctr["name"], "image": image, "imageID": "", "ready": False, "restartCount": 0, "started": False, "lastState": {}}
        if st.get("state") == "running":
            norm = normalize_image(image)
            out["image"] = norm
            repo = norm.split("@")[0] if "@" in norm else norm.rsplit(":", 1)[0]
            out["imageID"] = "%s@sha256:%s" % (repo, hashlib.sha256(norm.encode()).hexdigest())
            out["containerID"] = "containerd://" + st["cid"]
            out["state"] = {"running": {"startedAt": st["started"]}}
            out["started"] = True
            out["ready"] = not terminating and time.monotonic() >= st.get("ready_at", 0)
        else:
            waiting = {"reason": st.get("reason", "ContainerCreating")}
            if st.get("message"):
                waiting["message"] = st["message"]
            out["state"] = {"waiting": waiting}
        return out

    # -- endpoints ------------------------------------------------------------------------
    def endpoints(self):
        c = self.c
        ep_res = BY_KIND["Endpoints"]
        live = set()
        for svc in c.items("services"):
            md, spec = svc["metadata"], svc["spec"]
            key = (md["namespace"], md["name"])
            if spec.get("type") == "ExternalName" or not spec.get("selector"):
                continue
            live.add(key)
            c.managed_endpoints.add(key)
            reqs = [(k, "=", v) for k, v in spec["selector"].items()]
            groups = {}
            for pod in c.items("pods", md["namespace"]):
                if not labels_match(reqs, pod["metadata"].get("labels")) or not pod["status"].get("podIP"):
                    continue
                if pod["metadata"].get("deletionTimestamp") and not spec.get("publishNotReadyAddresses"):
                    continue
                ports = []
                for port in spec.get("ports") or []:
                    target = port.get("targetPort", port["port"])
                    if isinstance(target, str):
                        found = [p["containerPort"] for ctr in pod["spec"]["containers"] for p in ctr.get("ports") or []
                                 if p.get("name") == target and p.get("protocol", "TCP") == port.get("protocol", "TCP")]
                        if not found:
                            continue
                        target = found[0]
                    entry = {"name": port["name"]} if port.get("name") else {}
                    ports.append(dict(entry, port=target, protocol=port.get("protocol", "TCP")))
                if not ports:
                    continue
                addr = {"ip": pod["status"]["podIP"], "nodeName": pod["spec"]["nodeName"],
                        "targetRef": {"kind": "Pod", "namespace": md["namespace"], "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}}
                ready = c.kstate.get(pod["metadata"]["uid"], {}).get("ready") or spec.get("publishNotReadyAddresses")
                group = groups.setdefault(json.dumps(ports, sort_keys=True), {"ports": ports, "addresses": [], "notReadyAddresses": []})
                group["addresses" if ready else "notReadyAddresses"].append(addr)
            subsets = []
            for _k, group in sorted(groups.items()):
                subset = {}
                for kind in ("addresses", "notReadyAddresses"):
                    if group[kind]:
                        subset[kind] = sorted(group[kind], key=lambda a: ipaddress.ip_address(a["ip"]))
                subset["ports"] = group["ports"]
                subsets.append(subset)
            labels = dict(md.get("labels") or {})
            if spec.get("clusterIP") == "None":
                labels["service.kubernetes.io/headless"] = ""
            old = c.stored("endpoints", md["namespace"], md["name"])
            body = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": md["name"], "namespace": md["namespace"]}}
            if labels:
                body["metadata"]["labels"] = labels
            if subsets:
                body["subsets"] = subsets
            if old is None:
                c.admit(ep_res, body, None)
            else:  # the new addresses and labels, the stored identity (uid, creationTimestamp, ...)
                kept = {k: v for k, v in old["metadata"].items() if k != "labels"}
                c.put(ep_res, dict(body, metadata=dict(kept, **body["metadata"])))
        for key in list(c.managed_endpoints - live):
            c.managed_endpoints.discard(key)
            old = c.stored("endpoints", key[0], key[1])
            if old is not None and c.stored("services", key[0], key[1]) is None:
                c.remove(ep_res, old)

    def wanted_listeners(self):
        wanted = set()
        for svc in self.c.items("services"):
            if svc["spec"].get("type") in ("NodePort", "LoadBalancer"):
                for port in svc["spec"].get("ports") or []:
                    if port.get("nodePort") and port.get("protocol", "TCP") == "TCP":
                        for _name, addr, _cp in self.c.nodes:
                            wanted.add((addr, port["nodePort"]))
        return wanted

    def backend(self, node_port):
        """Pick the next ready endpoint of the Service owning node_port: (pod, image) or None."""
        c = self.c
        with c.lock:
            for svc in c.items("services"):
                for port in svc["spec"].get("ports") or []:
                    if port.get("nodePort") != node_port:
                        continue
                    ep = c.stored("endpoints", svc["metadata"]["namespace"], svc["metadata"]["name"]) or {}
                    cands = []
                    for subset in ep.get("subsets") or []:
                        if any(p.get("name") == port.get("name") or not port.get("name") for p in subset.get("ports") or []):
                            for addr in subset.get("addresses") or []:
                                target = [p["port"] for p in subset["ports"] if p.get("name") == port.get("name")] or [subset["ports"][0]["port"]]
                                cands.append((addr, target[0]))
                    if not cands:
                        return None
                    key = (svc["metadata"]["uid"], node_port)
                    idx = c.ep_rr.get(key, 0)
                    c.ep_rr[key] = idx + 1
                    addr, target = cands[idx % len(cands)]
                    pod = c.stored("pods", addr["targetRef"]["namespace"], addr["targetRef"]["name"])
                    if pod is None:
                        return None
                    ctrs = pod["spec"]["containers"]
                    ctr = next((x for x in ctrs for p in x.get("ports") or [] if p.get("containerPort") == target), ctrs[0])
                    return pod["metadata"]["name"], ctr["image"]
        return None


# ---- HTTP

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")


def discovery(cluster, path):
    if path == "/version":
        return {"major": "1", "minor": K8S_VERSION.split(".")[1], "gitVersion": K8S_VERSION, "gitCommit": "0" * 40,
                "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25.0", "compiler": "gc", "platform": "linux/amd64"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": cluster.server_address}]}
    groups = [{"name": name, "versions": [{"groupVersion": name + "/v1", "version": "v1"}],
               "preferredVersion": {"groupVersion": name + "/v1", "version": "v1"}} for name in ("apps", "policy")]
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    for group in groups:
        if path == "/apis/" + group["name"]:
            return dict({"kind": "APIGroup", "apiVersion": "v1"}, **group)
    for prefix, gv in (("/api/v1", "v1"), ("/apis/apps/v1", "apps/v1"), ("/apis/policy/v1", "policy/v1")):
        if path == prefix:
            resources = [r.api_resource() for r in RESOURCES if r.api_version == gv]
            return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
    return None


def first(query, key, default=None):
    values = query.get(key)
    return values[0] if values else default


def reply(handler, code, text, ctype):
    data = text.encode()
    handler.send_response(code)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-double/" + K8S_VERSION

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        log("%s %s" % (self.address_string(), format % args))

    def handle_method(self):
        self.dispatch(self.command)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_method

    def send(self, code, payload, ctype="application/json"):
        reply(self, code, payload if isinstance(payload, str) else json.dumps(payload) + "\n", ctype)

    def dispatch(self, method):
        cluster = self.server.cluster
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        path = url.path.rstrip("/") or "/"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if path in ("/healthz", "/livez", "/readyz"):
                self.send(200, "ok", "text/plain; charset=utf-8")
                return
            if self.server.kubeadm:
                found = node_route(self, method, path, raw)
                if found is not None:
                    self.send(200, found)
                    return
            elif path not in PUBLIC_PATHS and self.headers.get("Authorization") != "Bearer " + cluster.token:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            with cluster.lock:
                code, payload = self.route(cluster, method, path, query, raw)
            if isinstance(payload, str):
                self.send(code, payload, "text/plain")
            else:
                self.send(code, payload)
        except ApiError as exc:
            self.send(exc.code, exc.status())
        except Exception as exc:  # pylint: disable=broad-except
            import traceback
            traceback.print_exc()
            self.send(500, ApiError(500, "InternalError", "Internal error occurred: %s" % exc).status())

    def route(self, cluster, method, path, query, raw):
        if method == "GET":
            found = discovery(cluster, path)
            if found is not None:
                return 200, found
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            group, rest = "", parts[2:]
        elif parts[:3] in (["apis", "apps", "v1"], ["apis", "policy", "v1"]):
            group, rest = parts[1], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces" and (group, rest[2]) in BY_PLURAL:
            ns, rest = rest[1], rest[2:]
        res = BY_PLURAL.get((group, rest[0])) if rest else None
        if res is not None and res.kind == "Pod" and ns is not None and len(rest) == 3 and rest[2] == "eviction" and method == "POST":
            dry = query.get("dryRun") or []
            return 201, cluster.evict(ns, rest[1], bool(dry))
        if res is None or len(rest) > 2 or (ns is not None and not res.namespaced) or (res.namespaced and ns is None and len(rest) > 1):
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name = rest[1] if len(rest) > 1 else None
        dry = query.get("dryRun") or []
        if any(v != "All" for v in dry):
            raise bad_request('dryRun: Unsupported value: "%s": supported values: "All"' % [v for v in dry if v != "All"][0])
        dry_run = bool(dry)
        body = None
        if raw:
            try:
                body = json.loads(raw.decode())
            except ValueError as exc:
                raise bad_request("json: %s" % exc)
        ctype = self.headers.get("Content-Type")
        if method == "GET":
            if name is None:
                if first(query, "watch") in ("true", "1"):
                    raise bad_request("watch is not imitated by the API-server test double")
                return 200, cluster.list(res, ns, first(query, "labelSelector"), first(query, "fieldSelector"))
            return 200, cluster.get(res, ns, name)
        if method == "POST" and name is None:
            return 201, cluster.create(res, ns, body, dry_run)
        if method in ("PUT", "PATCH") and name is not None and body is not None:
            if method == "PUT":
                return 200, cluster.update(res, ns, name, body, dry_run)
            return 200, cluster.patch(res, ns, name, ctype, body, dry_run)
        if method == "DELETE":
            opts = dict(body or {})
            for key in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
                if key in query:
                    opts[key] = first(query, key)
            if opts.get("gracePeriodSeconds") is not None:
                opts["gracePeriodSeconds"] = int(opts["gracePeriodSeconds"])
            if opts.get("orphanDependents") in ("true", True):
                opts["orphanDependents"] = True
            if name is not None:
                return cluster.delete(res, ns, name, opts, dry_run)
        if method in ("PUT", "PATCH") and name is not None:
            raise bad_request("the body of the request is empty")
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    kubeadm = None

    def __init__(self, address, cluster):
        ThreadingHTTPServer.__init__(self, address, Handler)
        self.cluster = cluster


class NodePortHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_GET(self):
        picked = self.server.controllers.backend(self.server.node_port)
        if picked is None:
            reply(self, 503, "double: no ready endpoints for nodePort %d\n" % self.server.node_port, "text/plain")
        else:
            reply(self, 200, "double: %s %s\n" % picked, "text/plain")


class NodePortServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, controllers):
        ThreadingHTTPServer.__init__(self, address, NodePortHandler)
        self.controllers = controllers
        self.node_port = address[1]


class Loop(threading.Thread):
    def __init__(self, controllers):
        threading.Thread.__init__(self, daemon=True)
        self.controllers = controllers
        self.listeners = {}
        self.failed = set()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                wanted = self.controllers.tick()
                self.reconcile(wanted)
            except Exception:  # pylint: disable=broad-except
                import traceback
                traceback.print_exc()
            self.stop.wait(TICK)

    def reconcile(self, wanted):
        for key in list(self.listeners):
            if key not in wanted:
                server = self.listeners.pop(key)
                threading.Thread(target=lambda s=server: (s.shutdown(), s.server_close()), daemon=True).start()
        for key in wanted - set(self.listeners) - self.failed:
            try:
                server = NodePortServer(key, self.controllers)
            except OSError as exc:
                log("cannot listen on %s:%d for the nodePort: %s" % (key[0], key[1], exc))
                self.failed.add(key)
                continue
            self.listeners[key] = server
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
        self.failed &= wanted


# ---- The API server of a node the kubeadm double set up (--kubeadm): HTTPS with the cluster's PKI,
# answering from the kubeadm double's state what kubeadm join, kubectl (double) and the modules ask.

# Objects of init's later phases: path -> (phase, resource[.group], namespace, name).
PHASE_OBJECTS = {
    "/api/v1/namespaces/kube-system/configmaps/kubeadm-config": ("upload-config", "configmaps", "kube-system",
                                                                 "kubeadm-config"),
    "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles/kubeadm:bootstrap-signer-clusterinfo": (
        "bootstrap-token", "roles.rbac.authorization.k8s.io", "kube-public", "kubeadm:bootstrap-signer-clusterinfo"),
}
# A joined node's kubelet and CNI pod take a while to report Ready; a run that ends right after the
# joins sees NotReady workers unless it waits.
READY_DELAY = float(os.environ.get("KUBELAB_DOUBLE_READY_DELAY_SECONDS", "3"))


def load_kubeadm(path):
    loader = importlib.machinery.SourceFileLoader("kubeadm_double", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def node_ready(state, info):
    """The Ready condition a node's kubelet would post: NotReady until a CNI (a DaemonSet applied) and READY_DELAY."""
    if not any(o.get("kind") == "DaemonSet" for o in state.get("objects", {}).values()):
        return ("False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                "message:Network plugin returns error: cni plugin not initialized")
    joined = info.get("joined_at")
    if joined and time.time() - calendar.timegm(time.strptime(joined, "%Y-%m-%dT%H:%M:%SZ")) < READY_DELAY:
        return ("False", "KubeletNotReady", "the kubelet double waits READY_DELAY seconds after the join (test double)")
    return ("True", "KubeletReady", "kubelet is posting ready status (test double)")


def cluster_version(kubeadm, state):
    """The control plane's version: what kubeadm init or upgrade apply last set, else the kubeadm double's own."""
    return (state.get("cluster") or {}).get("kubernetes_version") or kubeadm.VERSION


def registered_nodes(state):
    """(name, address, control plane?) of the nodes the kubeadm double registered, init's first."""
    return [(name, info.get("address") or "", info.get("role") == "control-plane")
            for name, info in (state.get("nodes") or {}).items()]


def sync_nodes(kubeadm, cluster):
    """The store's Node objects are the nodes the kubeadm double registered (init, join), in their order; what their
    kubelets reported in status (images) and the objects' identity stay, the rest follows the kubeadm double's state."""
    state = kubeadm.load_state()
    entries = registered_nodes(state)
    for index, (name, address, control) in enumerate(entries):
        # The version a node's kubelet posted (the kubelet double does), else the control plane's.
        version = cluster.kubelet_versions.get(name) or cluster_version(kubeadm, state)
        new = node_object(name, address, index, control, node_ready(state, state["nodes"][name]), version)
        old = cluster.stored("nodes", "", name)
        if old is None:
            cluster.create(BY_KIND["Node"], None, new, keep_status=True)
            continue
        new["metadata"] = dict(old["metadata"], labels=dict(old["metadata"].get("labels") or {}, **new["metadata"]["labels"]))
        cond, old_cond = new["status"]["conditions"][0], old["status"]["conditions"][0]
        if (cond["status"], cond["reason"]) == (old_cond["status"], old_cond["reason"]):
            new["status"]["conditions"] = old["status"]["conditions"]
        for key in set(old["status"]) - set(new["status"]):
            new["status"][key] = old["status"][key]
        # A cordon (kubectl cordon/drain, kubernetes.core.k8s_drain) is the Node's own spec, not the kubeadm double's
        # state: it stays, with the taint the node lifecycle controller gives it.
        if (old.get("spec") or {}).get("unschedulable"):
            new["spec"]["unschedulable"] = True
            new["spec"]["taints"] = new["spec"].get("taints", []) + [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
        cluster.put(BY_KIND["Node"], new)
    for node in cluster.items("nodes"):
        if node["metadata"]["name"] not in state.get("nodes", {}):
            cluster.remove(BY_KIND["Node"], node)
    cluster.nodes = entries


def cluster_info(kubeadm, state):
    cluster = state.get("cluster") or {}
    if "bootstrap-token" not in cluster.get("phases", []):
        raise ApiError(404, "NotFound", 'configmaps "cluster-info" not found', {"name": "cluster-info", "kind": "configmaps"})
    with open(kubeadm.PKI + "/ca.crt", "rb") as handle:
        ca_pem = handle.read()
    payload = ("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: %s\n    server: https://%s\n"
               "  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n"
               % (kubeadm.b64(ca_pem), cluster.get("server_endpoint", "")))
    data = {"kubeconfig": payload}
    for tok in kubeadm.live_tokens(state):
        if "signing" in tok["usages"]:
            data["jws-kubeconfig-" + tok["token"].split(".")[0]] = kubeadm.jws_detached(payload, tok["token"])
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": data}


def client_user(handler):
    """The user and groups of a client certificate of the cluster CA (CN and O), else system:anonymous."""
    cert = handler.connection.getpeercert() or {}
    fields = [item for rdn in cert.get("subject", ()) for item in rdn]
    return (next((v for k, v in fields if k == "commonName"), "system:anonymous"),
            [v for k, v in fields if k == "organizationName"])


def cluster_admin(kubeadm, state, groups):
    """Whether RBAC binds cluster-admin to one of the groups: admin.conf's group kubeadm:cluster-admins is bound by
    init's upload-config phase (kubeadm 1.29+); system:masters (super-admin.conf, or admin.conf before 1.29) needs
    no binding."""
    phases = (state.get("cluster") or {}).get("phases", [])
    minor = int(kubeadm.VERSION.lstrip("v").split(".")[1])
    return "system:masters" in groups or ("kubeadm:cluster-admins" in groups and ("upload-config" in phases or minor < 29))


def phase_object(kubeadm, state, path, user, groups):
    """An object a later init phase creates, read with a client certificate, as RBAC allows it."""
    phase, kind, namespace, name = PHASE_OBJECTS[path]
    phases = (state.get("cluster") or {}).get("phases", [])
    if not cluster_admin(kubeadm, state, groups):
        resource, group = kind.split(".", 1) if "." in kind else (kind, "")
        raise ApiError(403, "Forbidden", '%s "%s" is forbidden: User "%s" cannot get resource "%s" in API group "%s" in the '
                       'namespace "%s"' % (resource, name, user, resource, group, namespace), {"name": name, "kind": resource})
    if phase not in phases:
        raise ApiError(404, "NotFound", '%s "%s" not found' % (kind.split(".", 1)[0], name), {"name": name, "kind": kind})
    return {"kind": "Role" if "rbac" in kind else "ConfigMap", "metadata": {"name": name, "namespace": namespace}}


def join_node(kubeadm, token, body):
    with kubeadm.StateLock() as locked:
        if not [t for t in kubeadm.live_tokens(locked.data) if t["token"] == token and "authentication" in t["usages"]]:
            raise ApiError(401, "Unauthorized", "error execution phase kubelet-start: error uploading crisocket: Unauthorized")
        if body.get("control_plane"):
            control_plane_join_check(kubeadm, locked.data, body.get("certificate_key"))
        locked.data.setdefault("nodes", {})[body["node"]] = {
            "role": "control-plane" if body.get("control_plane") else "worker", "joined_at": kubeadm.rfc3339(kubeadm.now()),
            "address": body.get("address"), "token_id": token.split(".")[0]}
        locked.save()
        cluster = locked.data["cluster"]
    reply = {key: cluster[key] for key in ("cgroup_driver", "service_subnet", "dns_domain")}
    if body.get("control_plane"):
        reply["control_plane"] = control_plane_shared(kubeadm, cluster)
    if body.get("csr"):
        reply["certificate"] = sign_kubelet_csr(kubeadm, body["csr"], body["node"])
    return reply


# kubeadm's checkIfReadyForAdditionalControlPlane, worded as `join --control-plane` prints it (its preflight phase).
NOT_READY_FOR_CONTROL_PLANE = ("error execution phase preflight: \nOne or more conditions for hosting a new control plane "
                               "instance is not satisfied.\n\n%s\n\nPlease ensure that:\n* The cluster has a stable "
                               "controlPlaneEndpoint address.\n* The certificates that must be shared among control plane "
                               "instances are provided.\n")


def control_plane_join_check(kubeadm, state, key):
    """What kubeadm refuses before a control plane joins: a cluster without controlPlaneEndpoint (preflight), no key
    and no shared certificates of its own (the double imitates no copying of them by hand), then at download-certs a
    kubeadm-certs Secret that expired (2 h) or was uploaded under another key."""
    if not (state.get("cluster") or {}).get("control_plane_endpoint"):
        raise ApiError(400, "BadRequest", NOT_READY_FOR_CONTROL_PLANE % "unable to add a new control plane instance to a "
                       "cluster that doesn't have a stable controlPlaneEndpoint address")
    if not key:
        raise ApiError(400, "BadRequest", NOT_READY_FOR_CONTROL_PLANE % "failure loading certificate for CA: couldn't load "
                       "the certificate file /etc/kubernetes/pki/ca.crt: open /etc/kubernetes/pki/ca.crt: no such file or directory")
    expires = state.get("certificate_key_expires")
    if not state.get("certificate_key") or (expires and expires <= kubeadm.rfc3339(kubeadm.now())):
        raise ApiError(404, "NotFound", "error execution phase control-plane-prepare/download-certs: error downloading certs: "
                       'error downloading the secret: Secret "kubeadm-certs" was not found in the "kube-system" Namespace. '
                       "This Secret might have expired. Please, run `kubeadm init phase upload-certs --upload-certs` on a "
                       "control plane to generate a new one")
    if key != state.get("certificate_key"):
        raise ApiError(401, "Unauthorized", "error execution phase control-plane-prepare/download-certs: error downloading "
                       "certs: error decoding certs: cipher: message authentication failed")


def control_plane_shared(kubeadm, cluster):
    """The kubeadm-certs Secret's keys (decrypted: the key matched) and the cluster's configuration, for the joiner."""
    pki = {}
    for name in kubeadm.SHARED_CERTS:
        if os.path.exists(os.path.join(kubeadm.PKI, name)):
            with open(os.path.join(kubeadm.PKI, name)) as handle:
                pki[name] = handle.read()
    return {"settings": cluster, "pki": pki}


def sign_kubelet_csr(kubeadm, csr_pem, node):
    """The kubelet's TLS bootstrap as kube-controller-manager ends it for a bootstrap token: a CSR for O=system:nodes,
    CN=system:node:NODE is approved and signed by the cluster CA; any other subject is refused."""
    workdir = tempfile.mkdtemp(prefix="apiserver-double-")
    try:
        with open(workdir + "/k.csr", "w") as handle:
            handle.write(csr_pem)
        subject = kubeadm.openssl("req", "-in", workdir + "/k.csr", "-noout", "-subject", "-nameopt", "RFC2253").decode()
        if subject.strip() != "subject=CN=system:node:%s,O=system:nodes" % node:
            raise ApiError(403, "Forbidden", "the kubelet's certificate signing request is not for O=system:nodes, "
                           "CN=system:node:%s (%s)" % (node, subject.strip()))
        kubeadm.sign_csr(kubeadm.PKI, "ca", workdir + "/k.csr", workdir + "/k.crt")
        with open(workdir + "/k.crt") as handle:
            return handle.read()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def apply_objects(kubeadm, body):
    """kubectl apply (double): created, unchanged or configured per object, by content hash."""
    results = []
    with kubeadm.StateLock() as locked:
        objects = locked.data.setdefault("objects", {})
        for obj in body.get("objects", []):
            old = objects.get(obj["key"])
            results.append("created" if old is None else "unchanged" if old["hash"] == obj["hash"] else "configured")
            objects[obj["key"]] = {key: obj.get(key) for key in ("hash", "kind", "name", "namespace", "apiVersion")}
        locked.save()
    return {"results": results}


def node_status(kubeadm, cluster, name, user, admin, body):
    """PATCH /api/v1/nodes/NAME/status (strategic merge) by the node's kubelet (NodeRestriction: its own Node only)
    or an admin; the kubelet double posts status.images this way."""
    if user != "system:node:" + name and not admin:
        raise ApiError(403, "Forbidden", 'nodes "%s" is forbidden: User "%s" cannot patch resource "nodes/status" in API group '
                       '"" at the cluster scope' % (name, user), {"name": name, "kind": "nodes"})
    with cluster.lock:
        posted = (((body or {}).get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
        if posted:
            cluster.kubelet_versions[name] = posted
        sync_nodes(kubeadm, cluster)
        node = copy.deepcopy(cluster.get(BY_KIND["Node"], None, name))
        node["status"] = strategic_merge(node.get("status"), (body or {}).get("status") or {}, ("status",))
        return cluster.put(BY_KIND["Node"], node)


def delete_node(kubeadm, cluster, name):
    """DELETE /api/v1/nodes/NAME by an admin (kubectl delete node): the Node goes, and with it the kubeadm double's record
    of the node, which the store's Nodes follow. A real kubelet still running on the node registers it again; the kubelet
    double does not imitate that (remove_node.yml resets the node before deleting it, as kubeadm's docs order it)."""
    with kubeadm.StateLock() as locked:
        if name not in (locked.data.get("nodes") or {}):
            raise not_found(BY_KIND["Node"], name)
        del locked.data["nodes"][name]
        locked.save()
    with cluster.lock:
        node = cluster.stored("nodes", "", name)
        sync_nodes(kubeadm, cluster)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": status_details(BY_KIND["Node"], name, uid=(node or {}).get("metadata", {}).get("uid"))}


def node_route(handler, method, path, raw):
    """The node API's own paths; None for the application API (served to the cluster's admins)."""
    kubeadm, cluster = handler.server.kubeadm, handler.server.cluster
    state = kubeadm.load_state()
    auth = handler.headers.get("Authorization", "")
    user, groups = client_user(handler)
    if method == "GET":
        if path == "/version":
            version = cluster_version(kubeadm, state)
            major, minor = version.lstrip("v").split(".")[:2]
            return {"major": major, "minor": minor, "gitVersion": version, "platform": "linux/amd64"}
        if path in PHASE_OBJECTS:
            return phase_object(kubeadm, state, path, user, groups)
        if path == "/api/v1/namespaces/kube-public/configmaps/cluster-info":
            return cluster_info(kubeadm, state)
        if path == "/api/v1/nodes":  # the kubectl double reads it without a client certificate
            with cluster.lock:
                sync_nodes(kubeadm, cluster)
                return cluster.list(BY_KIND["Node"], None, None, None)
    if method == "POST" and path == "/kubelab-double/v1/join":
        return join_node(kubeadm, auth[7:] if auth.startswith("Bearer ") else "", json.loads(raw or b"{}"))
    if method == "POST" and path == "/kubelab-double/v1/apply":
        return apply_objects(kubeadm, json.loads(raw or b"{}"))
    found = re.match(r"^/api/v1/nodes/([^/]+)/status$", path)
    if method == "PATCH" and found:
        return node_status(kubeadm, cluster, found.group(1), user, cluster_admin(kubeadm, state, groups), json.loads(raw or b"{}"))
    admin = cluster_admin(kubeadm, state, groups)
    found = re.match(r"^/api/v1/nodes/([^/]+)$", path)
    if method == "DELETE" and found and admin:
        return delete_node(kubeadm, cluster, found.group(1))
    if not admin:
        raise ApiError(403, "Forbidden", 'forbidden: User "%s" cannot %s path "%s": the API-server test double serves the '
                       "application API to the cluster's admins only" % (user, method.lower(), path), {})
    return None


def serve_kubeadm(opts):
    """The node API, and the application API on the same store: its nodes are those the kubeadm double registered."""
    kubeadm = load_kubeadm(opts.kubeadm)
    host, _sep, port = opts.listen.rpartition(":")
    cluster = Cluster(opts, nodes=registered_nodes(kubeadm.load_state()))
    cluster.images = ReportedImages(cluster)
    cluster.node_source = lambda c: sync_nodes(kubeadm, c)
    with cluster.lock:
        sync_nodes(kubeadm, cluster)
    server = ApiServer((host or "0.0.0.0", int(port)), cluster)  # noqa: S104 (listens like kube-apiserver)
    server.kubeadm = kubeadm
    cluster.server_address = ((kubeadm.load_state().get("cluster") or {}).get("server_endpoint")
                              or "%s:%d" % (host or "0.0.0.0", server.server_address[1]))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(kubeadm.PKI + "/apiserver.crt", kubeadm.PKI + "/apiserver.key")
    # Client certificates of the cluster CA authenticate (kube-apiserver's --client-ca-file); else anonymous.
    context.load_verify_locations(kubeadm.PKI + "/ca.crt")
    context.verify_mode = ssl.CERT_OPTIONAL
    server.socket = context.wrap_socket(server.socket, server_side=True)
    Loop(Controllers(cluster)).start()
    server.serve_forever()
    return 0


# ---- CLI

def kubeconfig_text(server, token):
    return "\n".join([
        "apiVersion: v1", "kind: Config", "preferences: {}",
        "clusters:", "- name: apiserver-double", "  cluster:", "    server: %s" % server,
        "users:", "- name: apiserver-double-admin", "  user:", "    token: %s" % token,
        "contexts:", "- name: apiserver-double", "  context:", "    cluster: apiserver-double", "    user: apiserver-double-admin",
        "    namespace: default",
        "current-context: apiserver-double", ""])


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Kubernetes API-server test double (see README.md)")
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT, port 0 picks a free one")
    parser.add_argument("--kubeconfig", help="where to write the kubeconfig once listening")
    parser.add_argument("--kubeadm", help="the kubeadm double's file: serve the node it set up, over HTTPS")
    parser.add_argument("--nodes", default="node1=127.0.0.1", help="NAME=ADDRESS[:control-plane],...")
    parser.add_argument("--images-command", help="command run per node ({node} replaced), one image per output line")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies every simulated delay")
    parser.add_argument("--background", action="store_true", help="fork; the parent exits 0 once the server answers")
    parser.add_argument("--pid-file")
    parser.add_argument("--log-file")
    parser.add_argument("--relay", nargs="+", metavar="HOST:PORT", help="relay TCP to the first of these that accepts")
    parser.add_argument("--relay-log", help="with --relay: one line per connection, client -> backend")
    opts = parser.parse_args(argv)
    if not opts.kubeconfig and not opts.kubeadm and not opts.relay:
        parser.error("--kubeconfig is required")
    return opts


def relay(opts):
    """--relay: each connection goes to the first backend that accepts it. A further control plane's API server is
    this, relaying to the first control plane's double: every API server of a cluster serves the one store (etcd),
    which that double holds; so it answers with the first one's serving certificate (valid for the endpoint and
    127.0.0.1, not for this node's address) and fails with it (no failover). The ha scenario's load balancer is this
    too, over every control plane."""
    backends = [(item.rpartition(":")[0], int(item.rpartition(":")[2])) for item in opts.relay]
    host, _sep, port = opts.listen.rpartition(":")
    listener = socket.create_server((host or "0.0.0.0", int(port)), backlog=64)
    log_file = open(opts.relay_log, "a", encoding="utf-8") if opts.relay_log else None  # pylint: disable=consider-using-with

    def pipe(source, target):
        try:
            for data in iter(lambda: source.recv(65536), b""):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve_one(client, address):
        for backend in backends:
            try:
                upstream = socket.create_connection(backend, timeout=3)
            except OSError:
                continue
            upstream.settimeout(None)
            if log_file:
                log_file.write("%s:%d -> %s:%d\n" % (address[0], address[1], backend[0], backend[1]))
                log_file.flush()
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            pipe(upstream, client)
            return
        client.close()

    while True:
        client, address = listener.accept()
        threading.Thread(target=serve_one, args=(client, address), daemon=True).start()


def serve(opts):
    cluster = Cluster(opts)
    host, _sep, port = opts.listen.rpartition(":")
    server = ApiServer((host or "127.0.0.1", int(port)), cluster)
    address = "%s:%d" % (host or "127.0.0.1", server.server_address[1])
    cluster.server_address = address
    loop = Loop(Controllers(cluster))
    loop.start()
    tmp = opts.kubeconfig + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(kubeconfig_text("http://" + address, cluster.token))
    os.chmod(tmp, 0o600)
    os.replace(tmp, opts.kubeconfig)
    if opts.pid_file:
        with open(opts.pid_file, "w") as handle:
            handle.write("%d\n" % os.getpid())

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("listening on http://%s (kubeconfig %s)" % (address, opts.kubeconfig))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        loop.stop.set()
        server.server_close()
        if opts.pid_file and os.path.exists(opts.pid_file):
            os.unlink(opts.pid_file)
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = parse_args(argv)
    if opts.relay:
        return relay(opts)
    if opts.kubeadm:
        return serve_kubeadm(opts)
    if not opts.background:
        return serve(opts)
    # --background: the same command, detached; it is up once it wrote the kubeconfig and answers /healthz.
    if os.path.exists(opts.kubeconfig):
        os.unlink(opts.kubeconfig)
    with open(opts.log_file or os.devnull, "ab") as out:
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + [a for a in argv if a != "--background"],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline and child.poll() is None:
        try:
            with open(opts.kubeconfig) as handle:
                url = re.search(r"server: (\S+)", handle.read()).group(1)
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # an error status raises
                print("apiserver-double: pid %d serving %s" % (child.pid, url))
                return 0
        except OSError:
            time.sleep(0.1)
    sys.stderr.write("apiserver-double: the background server did not start (see %s)\n" % (opts.log_file or "its log"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
