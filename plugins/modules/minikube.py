#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: minikube
short_description: Start, stop or delete a minikube profile, from minikube's own state
version_added: 0.2.0
description:
  - Reads the profile as minikube reports it (C(minikube profile list -o json), C(minikube status -o json) and, when it
    runs, C(minikube addons list -o json)) and runs only the commands that make it what the task asks
    (C(minikube start), C(stop), C(delete), C(addons enable)). A running profile with the asked settings is not changed.
  - An existing profile whose driver, Kubernetes version, container runtime, CPUs or memory differ is reported and left
    alone, since minikube cannot change them in place and deleting it loses its workloads; O(recreate) deletes and starts
    it anew.
  - The docker and podman drivers refuse to run as root (minikube's C(DRV_AS_ROOT)); the module refuses it first, before
    any command, unless O(force). Run the task as the user who will use the profile (C(become_user)).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Reads the profile and reports the commands it would run.
  diff_mode:
    support: full
    details: The profile's state, settings and addons before and after.
options:
  name:
    description: The profile (C(minikube --profile)); also the kubeconfig context minikube writes.
    type: str
    default: minikube
  state:
    description:
      - V(started) creates the profile if needed and starts it; V(stopped) runs C(minikube stop) when it runs;
        V(absent) runs C(minikube delete).
    type: str
    choices: [started, stopped, absent]
    default: started
  driver:
    description: The minikube driver (C(--driver)).
    type: str
    default: docker
  kubernetes_version:
    description: Kubernetes version (C(--kubernetes-version), V(v1.31.0)); empty for the release's default, and any on an existing profile.
    type: str
    default: ""
  container_runtime:
    description: Container runtime of the node (C(--container-runtime)).
    type: str
    choices: [docker, containerd, cri-o]
    default: docker
  cpus:
    description: CPUs of the node (C(--cpus)); minikube refuses fewer than 2.
    type: int
    default: 2
  memory:
    description: Memory of the node in MB (C(--memory)); minikube refuses less than 1800.
    type: int
    default: 4096
  addons:
    description: Addons to have enabled (C(--addons) at start, C(minikube addons enable) later); others are left as they are.
    type: list
    elements: str
    default: []
  recreate:
    description: Delete and start anew a profile whose settings differ, losing what runs in it.
    type: bool
    default: false
  force:
    description: Pass C(--force) to C(minikube start), which lets the docker driver run as root (minikube warns against it).
    type: bool
    default: false
  start_args:
    description: Further C(minikube start) arguments, passed when the profile is started; not compared with the profile.
    type: list
    elements: str
    default: []
  minikube_path:
    description: Name or absolute path of the minikube binary.
    type: str
    default: minikube
  minikube_home:
    description: C(MINIKUBE_HOME) for every command; empty for minikube's default (C(~/.minikube)).
    type: str
    default: ""
notes:
  - The output shapes read are those of minikube v1.32 and v1.34 (tests/unit/fixtures/minikube).
seealso:
  - module: kubelab.cluster.minikube_image
"""

EXAMPLES = r"""
- name: Start the developer's profile as its user
  kubelab.cluster.minikube:
    name: minikube
    driver: docker
    kubernetes_version: v1.31.0
    addons: [dashboard, metrics-server]
  become: true
  become_user: developer

- name: Stop it
  kubelab.cluster.minikube:
    state: stopped
"""

RETURN = r"""
profile:
  description: The profile as minikube reports it after the task (empty when it does not exist).
  returned: always
  type: dict
  sample: {name: minikube, status: Running, driver: docker, kubernetes_version: v1.31.0, container_runtime: docker,
           cpus: 2, memory: 4096, nodes: 1, ip: 192.168.49.2, port: 8443, active: true}
status:
  description: C(minikube status) of the profile's first node (host, kubelet, apiserver, kubeconfig); empty when it does not exist.
  returned: always
  type: dict
  sample: {host: Running, kubelet: Running, apiserver: Running, kubeconfig: Configured}
addons:
  description: The enabled addons, when the profile runs.
  returned: always
  type: list
  elements: str
  sample: [dashboard, default-storageclass, storage-provisioner]
commands:
  description: The minikube commands run (in check mode, the ones that would run), with why.
  returned: always
  type: list
  elements: str
  sample: ["minikube start --profile minikube ... (no profile minikube)"]
drift:
  description: Settings of the existing profile that differ from the task's ({setting, wanted, profile}).
  returned: always
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils._minikube import (
    ROOTLESS_DRIVERS,
    MinikubeOutputError,
    drift_message,
    parse_addons,
    parse_profiles,
    parse_status,
    plan,
    start_args,
)

# ``minikube profile list`` when there is no profile (an error, not an empty list, in the releases read).
NO_PROFILE_MARKERS = ("No minikube profile was found", "no profile", "not found")


class Minikube:
    """The minikube binary, with the module's environment."""

    def __init__(self, module, path, home):
        self.module = module
        self.path = path
        self.environ = {"MINIKUBE_HOME": home} if home else {}

    def run(self, *args):
        return self.module.run_command([self.path] + list(args), environ_update=self.environ)

    def fail(self, args, rc, out, err, **extra):
        self.module.fail_json(msg="minikube %s failed (rc %s): %s" % (" ".join(args), rc, (err or out).strip()[-2000:]),
                              rc=rc, stdout=out, stderr=err, **extra)

    def profiles(self):
        rc, out, err = self.run("profile", "list", "-o", "json")
        try:
            return parse_profiles(out)
        except MinikubeOutputError:
            if rc != 0 and any(marker in (out + err) for marker in NO_PROFILE_MARKERS):
                return {}
            raise

    def status(self, name):
        # Its exit code is a bit mask of what does not run (1 host, 2 cluster, 4 Kubernetes); the JSON says it too.
        dummy, out, dummy = self.run("status", "--profile", name, "-o", "json")
        return parse_status(out)

    def addons(self, name):
        rc, out, err = self.run("addons", "list", "--profile", name, "-o", "json")
        if rc != 0:
            self.fail(["addons", "list", "--profile", name, "-o", "json"], rc, out, err)
        return parse_addons(out)

    def read(self, name):
        """(profile or None, status or None, enabled addons)."""
        profile = self.profiles().get(name)
        status = self.status(name) if profile else None
        enabled = self.addons(name) if status and status.get("apiserver") == "Running" else []
        return profile, status, enabled


def command_for(step, wanted):
    """The minikube arguments of one planned step."""
    action, detail = step
    if action == "start":
        return start_args(wanted)
    if action == "addon":
        return ["addons", "enable", detail, "--profile", wanted["name"]]
    return [action, "--profile", wanted["name"]]


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "default": "minikube"},
            "state": {"type": "str", "default": "started", "choices": ["started", "stopped", "absent"]},
            "driver": {"type": "str", "default": "docker"},
            "kubernetes_version": {"type": "str", "default": ""},
            "container_runtime": {"type": "str", "default": "docker", "choices": ["docker", "containerd", "cri-o"]},
            "cpus": {"type": "int", "default": 2},
            "memory": {"type": "int", "default": 4096},
            "addons": {"type": "list", "elements": "str", "default": []},
            "recreate": {"type": "bool", "default": False},
            "force": {"type": "bool", "default": False},
            "start_args": {"type": "list", "elements": "str", "default": []},
            "minikube_path": {"type": "str", "default": "minikube"},
            "minikube_home": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    wanted = dict(module.params)
    if wanted["force"]:
        wanted["start_args"] = ["--force"] + wanted["start_args"]
    path = wanted["minikube_path"]
    found = path if os.path.sep in path else module.get_bin_path(path)
    if not found or not os.path.exists(found):
        module.fail_json(msg="minikube was not found at %s; install it first (the kubelab.cluster.minikube role does)" % path)
    as_root = os.geteuid() == 0
    if wanted["state"] == "started" and wanted["driver"] in ROOTLESS_DRIVERS and as_root and not wanted["force"]:
        module.fail_json(msg="The %s driver refuses to run as root (minikube's DRV_AS_ROOT), and this task runs as root. Run it as "
                             "the user who will use the profile (minikube_user in the role, become_user in a task), a member of "
                             "the %s group; or pass force (minikube --force), which minikube warns against."
                             % (wanted["driver"], wanted["driver"]))
    minikube = Minikube(module, found, wanted["minikube_home"])
    try:
        profile, status, enabled = minikube.read(wanted["name"])
    except MinikubeOutputError as exc:
        module.fail_json(msg=str(exc))
    steps, differences = plan(wanted, profile, status, enabled)
    if differences and not wanted["recreate"]:
        module.fail_json(msg=drift_message(wanted["name"], differences), drift=differences, profile=profile or {},
                         status=status or {}, addons=enabled)
    commands = ["minikube %s (%s)" % (" ".join(command_for(step, wanted)), step[1]) for step in steps]
    before = {"state": (status or {}).get("host", "absent") if profile else "absent", "profile": profile or {}, "addons": enabled}
    if steps and not module.check_mode:
        for step in steps:
            args = command_for(step, wanted)
            rc, out, err = minikube.run(*args)
            if rc != 0:
                minikube.fail(args, rc, out, err, changed=True, commands=commands)
        try:
            profile, status, enabled = minikube.read(wanted["name"])
        except MinikubeOutputError as exc:
            module.fail_json(msg=str(exc), changed=True, commands=commands)
    after = {"state": (status or {}).get("host", "absent") if profile else "absent", "profile": profile or {}, "addons": enabled}
    if module.check_mode and steps:
        after = {"state": {"started": "Running", "stopped": "Stopped", "absent": "absent"}[wanted["state"]],
                 "profile": before["profile"], "addons": sorted(set(enabled) | set(wanted["addons"]))}
    module.exit_json(changed=bool(steps), profile=profile or {}, status=status or {}, addons=enabled, commands=commands,
                     drift=differences, diff={"before": before, "after": after})


if __name__ == "__main__":
    main()
