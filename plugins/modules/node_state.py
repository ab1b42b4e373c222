#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: node_state
short_description: Read in one module run what the kubelab.cluster roles need to know about a node
version_added: 0.1.0
description:
  - Reads the node and changes nothing; the options choose what is read, so each role reads the node once and
    decides every later step from the result.
  - Works without systemd and without the Kubernetes packages; what cannot be read is reported
    (V(missing), V(unknown), an empty string or null), never an error.
  - File states use the format M(kubelab.cluster.config_files) and the P(kubelab.cluster.config_files_pending#filter)
    filter compare, so a role skips its write when nothing differs.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.attributes
  - kubelab.cluster.attributes.info
options:
  system:
    description:
      - Read os-release, the dpkg architecture, CPUs, memory, the container type (C(systemd-detect-virt)), the file
        system type of C(/sys/fs/cgroup), the number of apt package lists, whether C(oom_score_adj) can be lowered
        and what C(/dev/kmsg) is.
    type: bool
    default: false
  cgroup:
    description:
      - Read the file system type of C(/sys/fs/cgroup) (also read with O(system)), and decide what Kubernetes' cgroup
        v1 rule says for the node (RV(cgroup_v1)) with O(kubernetes_version) and O(allow_cgroup_v1).
    type: bool
    default: false
  kubernetes_version:
    description:
      - The Kubernetes release (V(v1.36.1), V(1.36)) RV(cgroup_v1) decides for.
      - Empty for the version O(kubeadm) reads in this same run, else O(expected_version).
      - A version that cannot be parsed counts as a release before 1.35.
    type: str
    default: ""
  expected_version:
    description:
      - The release RV(cgroup_v1) decides for when O(kubernetes_version) is empty and kubeadm cannot tell its version
        (not installed yet, as in check mode on a bare node).
    type: str
    default: ""
  allow_cgroup_v1:
    description: Whether cgroup v1 nodes are allowed with a release that refuses them (RV(cgroup_v1)).
    type: bool
    default: false
  swap:
    description: Read the active swap, the swap units not masked (and C(swap.target)) and the swap lines of C(/etc/fstab).
    type: bool
    default: false
  modules:
    description: Kernel modules to report as V(loaded), V(builtin), V(present) or V(missing).
    type: list
    elements: str
    default: []
  module_evidence:
    description:
      - Per module of O(modules), a path that exists when the module is there without a C(/sys/module) entry.
      - Known already - V(br_netfilter) (C(/proc/sys/net/bridge)) and V(overlay); entries here add to them or replace them.
    type: dict
    default: {}
  sysctls:
    description:
      - Kernel parameters and their wanted values; each is reported with C(exists), C(writable), C(value),
        C(right) (has the wanted value) and C(ok) (has it, can be set, or may come with a module still missing).
    type: dict
    default: {}
  packages:
    description: Debian packages to report (C(installed), C(version), C(held)).
    type: list
    elements: str
    default: []
  package_versions:
    description:
      - Packages of O(packages) and the version a role installs them at (V(1.36), any patch of the minor, or
        V(1.36.1)); RV(downgrades) names each one installed above it.
    type: dict
    default: {}
  allow_downgrade:
    description: Whether moving a package of O(package_versions) below its installed version is allowed (RV(downgrades) stays empty).
    type: bool
    default: false
  services:
    description: systemd units to report (C(enabled) and C(active) as C(systemctl) prints them, V(missing) without).
    type: list
    elements: str
    default: []
  files:
    description:
      - Absolute paths whose state line C(<sha1> <mode> <owner> <group> <uid> <gid>) is reported (V(absent) for a
        missing path, a symbolic link or anything but a regular file).
    type: list
    elements: str
    default: []
  paths:
    description: Paths reported with C(exists), C(is_dir) and C(size) (symbolic links followed).
    type: list
    elements: str
    default: []
  containerd_default_config:
    description: Report C(containerd config default) (empty when containerd is not installed).
    type: bool
    default: false
  kubeadm:
    description: Report C(kubeadm version -o short) (C(version), or C(error) when it cannot run).
    type: bool
    default: false
  kubeadm_path:
    description: kubeadm binary for O(kubeadm).
    type: str
    default: kubeadm
  cluster:
    description:
      - Report the control plane's state - C(initialized) (the controller manager's static pod manifest exists), its
        C(ca_cert_hash), the C(sha256:) public-key pin of C(/etc/kubernetes/pki/ca.crt), what the
        static pod manifests run with, and the settings of O(expected_settings) they do not run with.
    type: bool
    default: false
  expected_settings:
    description:
      - With O(cluster), the kubeadm settings the control plane should run with; on an initialized control plane the
        result's C(cluster.drift) has one message per setting that differs, with the way forward (kubeadm applies
        them at init only, so a changed value cannot take effect by itself).
      - A setting left empty is kubeadm's choice and not compared; nor is what a manifest does not show.
    type: dict
    default: {}
    suboptions:
      pod_subnet:
        description: The pod network (a CIDR, or an IPv4,IPv6 pair).
        type: str
      service_subnet:
        description: The service network (a CIDR, or an IPv4,IPv6 pair).
        type: str
      cluster_name:
        description: The cluster's name.
        type: str
      bind_port:
        description: The API server's port.
        type: str
      advertise_address:
        description: The API server's advertise address.
        type: str
      apiserver_extra_args:
        description: kube-apiserver flags (name to value) it should run with.
        type: dict
  admin_kubeconfig:
    description:
      - Report C(/etc/kubernetes/admin.conf) base64-encoded (C(admin.conf)) and whether O(admin_user)'s
        C(~/.kube/config) is a current copy (same content, C(~/.kube) 0700 and the file 0600, the user's).
      - The result holds cluster-admin credentials; register it with C(no_log).
    type: bool
    default: false
  admin_user:
    description:
      - The user of O(admin_kubeconfig).
      - Empty for the user Ansible logs in as (sudo's C(SUDO_USER) or doas's C(DOAS_USER) under become, else the
        module's own user).
    type: str
    default: ""
  kubelet:
    description:
      - Report C(/etc/kubernetes/kubelet.conf) - C(exists) and C(ca_cert_hash), the public-key pin of the cluster CA it
        trusts (null without it), with C(error) when that CA cannot be read.
    type: bool
    default: false
  identity:
    description:
      - Report what must differ between the nodes of a cluster - C(/etc/machine-id), the DMI C(product_uuid) (empty
        when the node has none or may not read it), the host name, and the node's own addresses (those of the links
        holding a default route, else of every link but loopback and the CNI's, kube-proxy's and Docker's).
    type: bool
    default: false
  ports:
    description:
      - TCP ports (V(6443)) or ranges (V(30000-32767)) to report as in use or free, with the processes listening
        (C(name[pid])), read from C(/proc/net/tcp) and C(/proc/net/tcp6).
    type: list
    elements: str
    default: []
  time_sync:
    description: Report whether systemd says the clock is synchronized (C(timedatectl show)).
    type: bool
    default: false
seealso:
  - module: kubelab.cluster.config_files
  - plugin: kubelab.cluster.config_files_pending
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read what the prereqs role needs
  kubelab.cluster.node_state:
    system: true
    swap: true
    modules: [overlay, br_netfilter]
    sysctls:
      net.ipv4.ip_forward: 1
    packages: [conntrack, socat]
    services: [kubelab-dev-kmsg.service]
    files: [/etc/sysctl.d/99-kubernetes.conf]
  register: node

- name: Write the file only when it differs
  kubelab.cluster.config_files:
    files: "{{ wanted | kubelab.cluster.config_files_pending(node.files) }}"
  when: wanted | kubelab.cluster.config_files_pending(node.files) | length > 0

- name: Which cluster does this node's kubelet trust, and may it run on cgroup v1 with its kubeadm's release?
  kubelab.cluster.node_state:
    kubelet: true
    cgroup: true
    kubeadm: true
    allow_cgroup_v1: false
  register: worker_node

- name: Stop on a cgroup v1 node the release refuses
  ansible.builtin.assert:
    that: not worker_node.cgroup_v1.blocked

- name: Read the control plane and what it runs with other than asked
  kubelab.cluster.node_state:
    cluster: true
    expected_settings:
      pod_subnet: 10.244.0.0/16
      service_subnet: 10.96.0.0/12
      bind_port: "6443"
  register: control_plane_node

- name: Report the drift
  ansible.builtin.debug:
    msg: "{{ control_plane_node.cluster.drift }}"
  when: control_plane_node.cluster.drift | length > 0
"""

RETURN = r"""
os:
  description: C(id), C(version_id), C(codename), C(pretty_name) of os-release (with O(system)).
  returned: when O(system)
  type: dict
release:
  description: C(<Distribution> <major>), for example V(Debian 12).
  returned: when O(system)
  type: str
supported_releases:
  description: The releases the node roles support (one list for every role).
  returned: when O(system)
  type: list
  elements: str
arch:
  description: dpkg architecture (V(amd64)), or the machine type without dpkg.
  returned: when O(system)
  type: str
cpus:
  description: CPUs this process may run on (what C(nproc) prints).
  returned: when O(system)
  type: int
memory_mb:
  description: MemTotal in MB.
  returned: when O(system)
  type: int
container:
  description: The container type C(systemd-detect-virt --container) prints, V(none) on a VM or bare metal.
  returned: when O(system)
  type: str
cgroup:
  description: File system type of C(/sys/fs/cgroup) - V(cgroup2fs) on cgroup v2, V(tmpfs) on v1, V(unknown).
  returned: when O(system) or O(cgroup)
  type: str
cgroup_v1:
  description:
    - What Kubernetes' cgroup v1 rule decides for the node (Kubernetes 1.35 and later refuse cgroup v1 nodes unless told
      otherwise, KEP-5573 - the kubelet needs C(failCgroupV1) false and kubeadm's SystemVerification check fails).
    - C(cgroup_v1) (the node runs cgroup v1), C(refused) (the release refuses cgroup v1), C(blocked) (refused and not
      allowed by O(allow_cgroup_v1)), C(skip_system_verification) (an allowed cgroup v1 node),
      C(fail_cgroup_v1_false) (allowed, on a refusing release) and C(version), the release decided for (see
      O(kubernetes_version)).
  returned: when O(system) or O(cgroup)
  type: dict
  sample: {"cgroup_v1": true, "refused": true, "blocked": true, "skip_system_verification": false,
           "fail_cgroup_v1_false": false, "version": "v1.36.1"}
apt_lists:
  description: Package lists in the apt cache (0 on an image with emptied lists).
  returned: when O(system)
  type: int
oom_lower:
  description: Whether the node may set a negative C(oom_score_adj).
  returned: when O(system)
  type: bool
dev_kmsg:
  description: V(device), V(other) or V(missing).
  returned: when O(system)
  type: str
swap:
  description: C(active) (devices), C(unmasked_units), C(fstab_entries) (count), C(fstab) (the file exists).
  returned: when O(swap)
  type: dict
modules:
  description: Module name to V(loaded), V(builtin), V(present) or V(missing).
  returned: when O(modules)
  type: dict
sysctls:
  description: Parameter name to C(exists), C(writable), C(value), C(right), C(ok).
  returned: when O(sysctls)
  type: dict
packages:
  description: Package name to C(installed), C(version), C(held).
  returned: when O(packages)
  type: dict
downgrades:
  description:
    - One message per package of O(package_versions) installed above the version it is to be installed at, naming both
      and the fix (empty with O(allow_downgrade)). A role stops on it before any change.
  returned: when O(packages) and O(package_versions)
  type: list
  elements: str
services:
  description: Unit name to C(enabled), C(active).
  returned: when O(services)
  type: dict
files:
  description: Path to state line.
  returned: when O(files)
  type: dict
paths:
  description: Path to C(exists), C(is_dir), C(size).
  returned: when O(paths)
  type: dict
containerd_default_config:
  description: C(containerd config default), empty without containerd.
  returned: when O(containerd_default_config)
  type: str
kubeadm:
  description: C(version) (V(v1.36.1), empty when kubeadm cannot run) and C(error).
  returned: when O(kubeadm)
  type: dict
cluster:
  description:
    - C(initialized), C(ca_cert_hash) (null before kubeadm init), C(ca_error), and C(running), what the
      static pod manifests run with - C(pod_subnet), C(service_subnet), C(cluster_name), C(bind_port),
      C(advertise_address), C(apiserver_args).
    - C(drift), one message per setting of O(expected_settings) the running control plane does not have (empty before
      kubeadm init or without O(expected_settings)).
  returned: when O(cluster)
  type: dict
admin:
  description:
    - C(conf) (admin.conf base64-encoded, empty before kubeadm init), C(user_kubeconfig), C(user) (O(admin_user) or the
      login user), and that user's C(home), C(uid) and C(gid) (null for an unknown user).
  returned: when O(admin_kubeconfig)
  type: dict
kubelet:
  description: C(exists), C(ca_cert_hash), C(error) of C(/etc/kubernetes/kubelet.conf).
  returned: when O(kubelet)
  type: dict
identity:
  description: C(machine_id), C(product_uuid), C(hostname), C(addresses) (list of IP addresses).
  returned: when O(identity)
  type: dict
ports:
  description: Per entry of O(ports) - C(in_use) and C(listeners) (C(port) and C(processes) each).
  returned: when O(ports)
  type: dict
time_sync:
  description: V(synchronized), V(not synchronized) or V(unknown) (no timedatectl, or no systemd).
  returned: when O(time_sync)
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils._node_state import LocalIO, gather, options_error


def _runner(module):
    def run(argv):
        binary = argv[0] if os.path.sep in argv[0] else module.get_bin_path(argv[0])
        if not binary or not os.access(binary, os.X_OK):
            return 127, "", "%s: command not found" % argv[0]
        return module.run_command([binary] + list(argv[1:]), environ_update={"LANG": "C", "LC_ALL": "C"})
    return run


def main():
    module = AnsibleModule(
        argument_spec=dict(
            system=dict(type="bool", default=False),
            cgroup=dict(type="bool", default=False),
            swap=dict(type="bool", default=False),
            modules=dict(type="list", elements="str", default=[]),
            module_evidence=dict(type="dict", default={}),
            sysctls=dict(type="dict", default={}),
            packages=dict(type="list", elements="str", default=[]),
            package_versions=dict(type="dict", default={}),
            allow_downgrade=dict(type="bool", default=False),
            services=dict(type="list", elements="str", default=[]),
            files=dict(type="list", elements="str", default=[]),
            paths=dict(type="list", elements="str", default=[]),
            containerd_default_config=dict(type="bool", default=False),
            kubeadm=dict(type="bool", default=False),
            kubeadm_path=dict(type="str", default="kubeadm"),
            kubernetes_version=dict(type="str", default=""),
            expected_version=dict(type="str", default=""),
            allow_cgroup_v1=dict(type="bool", default=False),
            cluster=dict(type="bool", default=False),
            expected_settings=dict(type="dict", default={}, options=dict(
                pod_subnet=dict(type="str"),
                service_subnet=dict(type="str"),
                cluster_name=dict(type="str"),
                bind_port=dict(type="str"),
                advertise_address=dict(type="str"),
                apiserver_extra_args=dict(type="dict"),
            )),
            admin_kubeconfig=dict(type="bool", default=False),
            admin_user=dict(type="str", default=""),
            kubelet=dict(type="bool", default=False),
            identity=dict(type="bool", default=False),
            ports=dict(type="list", elements="str", default=[]),
            time_sync=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    error = options_error(module.params)
    if error:
        module.fail_json(msg=error)
    module.exit_json(changed=False, **gather(module.params, LocalIO(_runner(module))))


if __name__ == "__main__":
    main()
