# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""minikube's own state, read from its JSON output, and what a profile needs to become what was asked.

Private to the collection (kubelab.cluster.minikube and the input rules): pure functions, no I/O.
The shapes are those minikube prints (``profile list -o json``, ``status -o json``, ``addons list -o json``,
``image ls --format json``); tests/unit/fixtures/minikube holds real output with its sources.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import json
import re

# Per minikube release: the Kubernetes versions it supports (pkg/minikube/constants/constants.go,
# OldestKubernetesVersion and NewestKubernetesVersion at the release's tag). minikube refuses a version
# older than the oldest; a newer one than the newest is not tested by that release.
RELEASES = {
    "v1.34.0": {"oldest": "v1.20.0", "newest": "v1.31.0", "default": "v1.31.0"},
}
# What ``minikube start`` itself refuses below (pkg/minikube/constants, cmd/minikube/cmd/start_flags.go):
# 2 CPUs and 1800 MB of memory.
MIN_CPUS = 2
MIN_MEMORY_MB = 1800
# Drivers that must not run as root (minikube's DRV_AS_ROOT refusal, unless --force).
ROOTLESS_DRIVERS = ("docker", "podman")

VERSION_RE = re.compile(r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
MEMORY_RE = re.compile(r"^([0-9]+)\s*([kmgt]?)i?b?$", re.IGNORECASE)


class MinikubeOutputError(ValueError):
    """Output minikube did not print in the shape it documents."""


def kube_version(text):
    """``(major, minor, patch)`` of ``v1.31.0`` or ``1.31.0``; None when it is no such version."""
    match = VERSION_RE.match(str(text).strip())
    return tuple(int(part) for part in match.groups()) if match else None


def canonical_version(text):
    """``v1.31.0`` for ``1.31.0`` or ``v1.31.0``; empty stays empty."""
    text = str(text or "").strip()
    return "v" + text.lstrip("v") if text else ""


def memory_mb(value):
    """Megabytes of a minikube memory size: ``4096``, ``4096mb``, ``4g``, ``4GiB`` (minikube reads units as binary)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = MEMORY_RE.match(str(value).strip())
    if not match:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    factor = {"": 1, "m": 1, "g": 1024, "t": 1024 * 1024}.get(unit)
    if unit == "k":
        return number // 1024
    return number * factor


def _json(text, what):
    text = (text or "").strip()
    if not text:
        raise MinikubeOutputError("%s printed nothing" % what)
    # minikube may print warnings (lines that are not JSON) before the object.
    start = min([index for index in (text.find("{"), text.find("[")) if index >= 0] or [-1])
    if start < 0:
        raise MinikubeOutputError("%s printed no JSON: %s" % (what, text[:200]))
    try:
        return json.JSONDecoder().raw_decode(text[start:])[0]
    except ValueError as exc:
        raise MinikubeOutputError("%s printed JSON that does not parse (%s): %s" % (what, exc, text[:200]))


def parse_profiles(text):
    """``{name: profile}`` from ``minikube profile list -o json``; each profile as :func:`profile_facts` gives it."""
    data = _json(text, "minikube profile list -o json")
    if not isinstance(data, dict):
        raise MinikubeOutputError("minikube profile list -o json printed %s, not an object" % type(data).__name__)
    profiles = {}
    for entry in (data.get("valid") or []) + (data.get("invalid") or []):
        if isinstance(entry, dict) and entry.get("Name"):
            profiles[entry["Name"]] = profile_facts(entry, valid=entry in (data.get("valid") or []))
    return profiles


def profile_facts(entry, valid=True):
    """The settings of one profile list entry that the module compares, with their minikube names read."""
    config = entry.get("Config") or {}
    kubernetes = config.get("KubernetesConfig") or {}
    nodes = config.get("Nodes") or []
    primary = next((node for node in nodes if node.get("ControlPlane")), nodes[0] if nodes else {})
    return {
        "name": entry.get("Name"),
        "valid": valid,
        "status": entry.get("Status") or "",
        "driver": config.get("Driver") or "",
        "kubernetes_version": kubernetes.get("KubernetesVersion") or "",
        "container_runtime": kubernetes.get("ContainerRuntime") or "",
        "cpus": config.get("CPUs"),
        "memory": config.get("Memory"),
        "nodes": len(nodes),
        "ip": primary.get("IP") or "",
        "port": primary.get("Port"),
        "active": bool(entry.get("Active")),
    }


def parse_status(text):
    """``{host, kubelet, apiserver, kubeconfig}`` of the first node of ``minikube status -o json`` (an object, or a list per node)."""
    data = _json(text, "minikube status -o json")
    if isinstance(data, list):
        data = data[0] if data else {}
    if not isinstance(data, dict) or "Host" not in data:
        raise MinikubeOutputError("minikube status -o json printed no Host: %s" % (str(text)[:200],))
    return {"host": data.get("Host") or "", "kubelet": data.get("Kubelet") or "", "apiserver": data.get("APIServer") or "",
            "kubeconfig": data.get("Kubeconfig") or ""}


def is_running(status):
    """Whether the profile's host, kubelet and API server all run."""
    return all(status.get(key) == "Running" for key in ("host", "kubelet", "apiserver"))


def parse_addons(text):
    """Sorted names of the enabled addons in ``minikube addons list -o json``."""
    data = _json(text, "minikube addons list -o json")
    if not isinstance(data, dict):
        raise MinikubeOutputError("minikube addons list -o json printed %s, not an object" % type(data).__name__)
    return sorted(name for name, item in data.items() if isinstance(item, dict) and item.get("Status") == "enabled")


def parse_images(text):
    """``{image ID without sha256: -> [names]}`` from ``minikube image ls --format json`` (an empty output is no image)."""
    if not (text or "").strip():
        return {}
    data = _json(text, "minikube image ls --format json")
    if not isinstance(data, list):
        raise MinikubeOutputError("minikube image ls --format json printed %s, not a list" % type(data).__name__)
    images = {}
    for item in data:
        if isinstance(item, dict) and item.get("id"):
            images.setdefault(str(item["id"]).rsplit(":", 1)[-1], []).extend(item.get("repoTags") or [])
    return images


def drift(wanted, profile):
    """Settings of an existing profile that differ from ``wanted``: ``[{setting, wanted, profile}]``.

    minikube cannot change them on an existing profile (a start with another driver, runtime, CPU count or
    memory size is refused or ignored, an older Kubernetes version is refused): only a new profile has them.
    An empty wanted Kubernetes version means the one the profile has.
    """
    differences = []

    def differ(setting, want, have):
        differences.append({"setting": setting, "wanted": want, "profile": have})

    if wanted["driver"] != profile["driver"]:
        differ("driver", wanted["driver"], profile["driver"])
    version = canonical_version(wanted.get("kubernetes_version"))
    if version and version != canonical_version(profile["kubernetes_version"]):
        differ("kubernetes_version", version, profile["kubernetes_version"])
    if wanted["container_runtime"] != profile["container_runtime"]:
        differ("container_runtime", wanted["container_runtime"], profile["container_runtime"])
    if profile["cpus"] is not None and int(wanted["cpus"]) != int(profile["cpus"]):
        differ("cpus", int(wanted["cpus"]), profile["cpus"])
    if profile["memory"] is not None and memory_mb(wanted["memory"]) != int(profile["memory"]):
        differ("memory", memory_mb(wanted["memory"]), profile["memory"])
    return differences


def plan(wanted, profile, status, enabled_addons):
    """The minikube commands, in order, that make ``profile`` what ``wanted`` asks.

    ``wanted``: {name, state (started, stopped, absent), driver, kubernetes_version, container_runtime, cpus, memory,
    addons, recreate}. ``profile``: :func:`profile_facts` of the profile, or None when it does not exist.
    ``status``: :func:`parse_status`, or None. ``enabled_addons``: the names enabled now (when it runs).
    Returns ``(steps, differences)``; each step is ``(command, detail)``. Differences are refused by the caller
    unless ``recreate`` is set, in which case the plan deletes and starts the profile again.
    """
    state = wanted["state"]
    if state == "absent":
        return ([("delete", "the profile exists")] if profile else []), []
    if profile is None:
        return ([("start", "no profile %s" % wanted["name"])] if state == "started" else []), []
    differences = drift(wanted, profile)
    if state == "stopped":
        return ([("stop", "it runs")] if status and status.get("host") not in ("Stopped", "Nonexistent", "") else []), []
    steps = []
    running = bool(status) and is_running(status)
    if differences:
        if not wanted.get("recreate"):
            return [], differences
        steps += [("delete", "recreate: its settings differ"), ("start", "recreate")]
        return steps, differences
    if not running:
        steps.append(("start", "it is %s" % ((status or {}).get("host") or profile.get("status") or "not running").lower()))
    enabled = enabled_addons or []
    # Addons given to a start are enabled by it; a running profile gets the missing ones one by one.
    if not steps:
        steps = [("addon", addon) for addon in wanted.get("addons") or [] if addon not in enabled]
    return steps, []


def start_args(wanted):
    """``minikube start`` arguments for ``wanted`` (the profile, driver, size, runtime, version, addons)."""
    args = ["start", "--profile", wanted["name"], "--driver", wanted["driver"], "--cpus", str(int(wanted["cpus"])),
            "--memory", "%dmb" % memory_mb(wanted["memory"]), "--container-runtime", wanted["container_runtime"],
            "--embed-certs"]
    version = canonical_version(wanted.get("kubernetes_version"))
    if version:
        args += ["--kubernetes-version", version]
    for addon in wanted.get("addons") or []:
        args += ["--addons", addon]
    return args + list(wanted.get("start_args") or [])


def drift_message(name, differences):
    """Why an existing profile is left alone, and the two ways on."""
    lines = ["%s: wanted %s, the profile has %s" % (item["setting"], item["wanted"], item["profile"] or "(unset)")
             for item in differences]
    return ("The minikube profile %s exists with other settings (%s). minikube cannot change them on an existing profile, "
            "and deleting it loses what runs in it: set the variables back to the profile's values, or allow recreating it "
            "(minikube_recreate: true, which runs minikube delete -p %s and starts it anew)." % (name, "; ".join(lines), name))


def version_errors(release, kubernetes_version):
    """Why ``kubernetes_version`` is refused for the minikube ``release`` (empty list when it is not, or unknown)."""
    version = kube_version(kubernetes_version) if kubernetes_version else None
    facts = RELEASES.get(canonical_version(release))
    if not kubernetes_version or facts is None:
        return []
    if version is None:
        return ["is not a Kubernetes version like v1.31.0"]
    if version < kube_version(facts["oldest"]):
        return ["is older than minikube %s supports (oldest %s)" % (release, facts["oldest"])]
    if version > kube_version(facts["newest"]):
        return ["is newer than minikube %s supports (newest %s)" % (release, facts["newest"])]
    return []


def images_to_load(archives, present, platform, normalize):
    """The archives to ``minikube image load``: those holding an image the profile lacks by ID or by a name.

    ``archives``: ``[(path, {"images": [{"names", "platform_ids"}]})]`` as the archive reader gives them.
    ``present``: :func:`parse_images`. ``platform``: the node's platform. ``normalize``: a reference to its full form.
    Returns ``[(path, [names])]`` in the order given.
    """
    names_by_id = dict((image_id, set(normalize(name) for name in names)) for image_id, names in present.items())
    chosen = []
    for path, content in archives:
        missing = []
        for image in content["images"]:
            ids = image["platform_ids"]
            image_id = ids.get(platform) or ids.get("") or next(iter(ids.values()), "")
            have = names_by_id.get(str(image_id).rsplit(":", 1)[-1])
            missing += [name for name in image["names"] if have is None or normalize(name) not in have]
        if missing:
            chosen.append((path, missing))
    return chosen
