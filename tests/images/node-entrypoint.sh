#!/bin/sh
# Entry point of a Docker node container: make it fit to be a Kubernetes node, then
# hand over to systemd as PID 1. Mounted into the node by the Molecule scenarios.
#
# Always: /proc/sys writable (sysctl tasks). /dev/kmsg, which the kubelet reads, is the
# prereqs role's job (it is missing in LXC nodes too), so it is not made here.
# With KUBELAB_NODE_REAL_KUBELET set and not "off" (the scenario passes it
# KUBELAB_TEST_KUBE_BIN_DIR: real binaries), also what
# a REAL kubelet with the systemd cgroup driver needs on a cgroup v1 host, as kind does:
#   - every device allowed in the node's devices cgroup (docker --device-cgroup-rule='a *:* rwm');
#   - the node's own cgroup bind-mounted over each v1 hierarchy root, so systemd and the
#     kubelet inside see it as the root and create kubepods.slice inside the node;
#   - the hugetlb, perf_event and net_cls hierarchies, which the kubelet expects, mounted
#     when the host has not.
set -eu

mount -o remount,rw /proc/sys

fix_cgroups_v1() {
  # The node's cgroup path, e.g. /docker/<id>, as seen from the host's hierarchies.
  self="$(sed -n 's/^[0-9]*:devices:\(.*\)$/\1/p' /proc/self/cgroup)"
  [ -n "$self" ] && [ "$self" != "/" ] || return 0
  echo 'a *:* rwm' > "/sys/fs/cgroup/devices$self/devices.allow"
  for controller in hugetlb perf_event net_cls; do
    grep -q "^${controller}[[:space:]]" /proc/cgroups || continue
    [ -d "/sys/fs/cgroup/$controller" ] || mkdir "/sys/fs/cgroup/$controller" 2>/dev/null || continue
    mountpoint -q "/sys/fs/cgroup/$controller" && continue
    mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller" \
      || echo "node-entrypoint: cannot mount the $controller cgroup hierarchy" >&2
  done
  # The node's own cgroup becomes each hierarchy's root; the same cgroup is bound again
  # at its old path, so /proc/self/cgroup (which bind mounts do not change) still resolves.
  awk '$9 == "cgroup" {print $5}' /proc/self/mountinfo | while read -r hierarchy; do
    [ -d "$hierarchy$self" ] || continue
    mount --bind "$hierarchy$self" "$hierarchy"
    mkdir -p "$hierarchy$self"
    mount --bind "$hierarchy" "$hierarchy$self"
  done
}

real="${KUBELAB_NODE_REAL_KUBELET:-off}"
if [ "$real" != off ] && [ -n "$real" ] && [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
  fix_cgroups_v1
fi

exec /lib/systemd/systemd
