#!/usr/bin/env bash
# Debian packages the checks need: shellcheck (ansible-test sanity), debootstrap
# (node image), docker.io (Molecule). Installs only what is missing; a no-op after.
set -euo pipefail

missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v git >/dev/null 2>&1 || missing+=(git)

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
