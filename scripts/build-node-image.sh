#!/usr/bin/env bash
# Build the Debian 12 systemd node image used by the Molecule scenarios, without
# a registry: debootstrap a minimal root file system and `docker import` it.
# Reused when the image already exists (set KUBELAB_REBUILD_IMAGE=1 to force).
# Machines that can pull images may use tests/images/Dockerfile instead.
set -euo pipefail

suite="${KUBELAB_NODE_SUITE:-bookworm}"
mirror="${KUBELAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# openssl serves the kubeadm test double (tests/doubles), which makes a real CA; openssh-server and
# sudo let molecule/cluster reach a node as a non-root sudo user over SSH, as on a VM.
packages="systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,procps,kmod,ca-certificates,gnupg,curl,sudo,openssl,openssh-server"
# The tag carries a hash of this script, so a changed recipe builds a new image.
default_image="kubelab/node:debian12-$(sha256sum "$0" | cut -c1-10)"
if [ "${1:-}" = "--print-name" ]; then
  echo "${KUBELAB_NODE_IMAGE:-$default_image}"
  exit 0
fi
image="${KUBELAB_NODE_IMAGE:-$default_image}"

if [ "${KUBELAB_REBUILD_IMAGE:-0}" != "1" ] && docker image inspect "$image" >/dev/null 2>&1; then
  docker tag "$image" kubelab/node:debian12
  echo "build-node-image: $image already present"
  exit 0
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

rootfs="$(mktemp -d /var/tmp/kubelab-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

echo "build-node-image: debootstrap $suite into $rootfs"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >/dev/null

# Trim what a container node never uses and keep systemd from waiting on ttys.
chroot "$rootfs" /bin/sh -e <<'TRIM'
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
for unit in getty.target console-getty.service systemd-firstboot.service \
            systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service \
            sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
  ln -sf /dev/null "/etc/systemd/system/$unit"
done
# No machine identity in the image: each node gets its own at first boot. A copy left in
# /var/lib/dbus/machine-id would be taken over by every node (the cloned-template problem).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
# The same for the SSH host keys: each node makes its own when sshd first starts.
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  > /etc/systemd/system/ssh.service.d/host-keys.conf
TRIM
# apt sources with the same mirror, plus updates and security.
cat > "$rootfs/etc/apt/sources.list" <<SRC
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SRC

echo "build-node-image: importing as $image"
tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' \
  -c 'ENV container=docker' \
  - "$image" >/dev/null
# The short name is what a bare `molecule test` (outside make) uses.
docker tag "$image" kubelab/node:debian12
echo "build-node-image: built $image"
