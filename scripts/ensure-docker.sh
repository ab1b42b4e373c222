#!/usr/bin/env bash
# Make sure a Docker engine answers. No-op where one already runs; otherwise
# install Debian's docker.io when missing and start dockerd in the background.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd" >&2
  log=/var/log/kubelab-dockerd.log
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl start docker || true
  fi
  if ! docker info >/dev/null 2>&1; then
    nohup dockerd >"$log" 2>&1 &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: the Docker engine did not start; see /var/log/kubelab-dockerd.log" >&2
  exit 1
fi
