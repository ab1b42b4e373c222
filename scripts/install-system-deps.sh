#!/usr/bin/env bash
# Debian packages the checks need: shellcheck (ansible-test sanity), debootstrap
# (node image), docker.io (Molecule), apt-utils and gpg (the offline test repository). Installs only what is missing; a no-op after.
set -euo pipefail

missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v git >/dev/null 2>&1 || missing+=(git)
# The offline test package repository (tests/repo/build-repo.sh) needs these.
command -v apt-ftparchive >/dev/null 2>&1 || missing+=(apt-utils)
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg)
command -v gpg >/dev/null 2>&1 || missing+=(gpg)

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: please install as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-system-deps: apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
