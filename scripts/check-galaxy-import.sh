#!/usr/bin/env bash
# Run galaxy-importer (the check Galaxy and Automation Hub run on every upload) on a built
# collection tarball, offline. Fails on any error or warning the importer logs.
# Usage: scripts/check-galaxy-import.sh build/kubelab-cluster-X.Y.Z.tar.gz
# The importer lives in its own venv (KUBELAB_IMPORTER_VENV, made by `make setup`): it pins
# attrs<24, flake8<7 and ansible-lint<=26.10.1, which must not hold back the main tool chain.
set -euo pipefail
cd "$(dirname "$0")/.."

tarball="$(realpath "${1:?usage: $0 <collection tarball>}")"
venv="$(realpath -m "${KUBELAB_IMPORTER_VENV:-.venv/importer}")"
if ! "$venv/bin/python" -c 'import galaxy_importer' 2>/dev/null; then
  echo "galaxy-importer not found in $venv: run make setup" >&2
  exit 2
fi

work="$(mktemp -d /tmp/kubelab-import.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# Offline: ansible-test would pull a container image, so it stays off; everything else
# Galaxy runs stays on. flake8 is off by default in the importer but on at Galaxy.
cat > "$work/galaxy-importer.cfg" <<EOF
[galaxy-importer]
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
run_flake8 = True
check_changelog = True
run_ansible_test = False
local_image_docker = False
tmp_root_dir = $work
ansible_local_tmp = $work/ansible-tmp
EOF

# The importer calls ansible-doc, ansible-lint and flake8 from PATH: its venv's, where the
# `ansible` package also provides the collections galaxy.yml depends on (lint resolves them).
# Its ansible-lint installs the collection under $HOME/.ansible: a HOME of its own keeps that copy
# from shadowing the checkout in later `make lint` runs.
mkdir "$work/home"
status=0
(cd "$work" && env -u ANSIBLE_CONFIG -u ANSIBLE_COLLECTIONS_PATH HOME="$work/home" PATH="$venv/bin:$PATH" \
  GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" \
  "$venv/bin/python" -m galaxy_importer.main "$tarball") > "$work/import.log" 2>&1 || status=$?

problems="$(grep -E '^(ERROR|WARNING|CRITICAL):' "$work/import.log" || true)"
roles="$(grep -c '^Loading role ' "$work/import.log" || true)"
if [ "$status" -ne 0 ] || [ -n "$problems" ] || ! grep -q '^Importer processing completed successfully' "$work/import.log"; then
  cat "$work/import.log"
  echo "galaxy-importer: FAILED on $(basename "$tarball") (exit $status, $(grep -c . <<<"$problems" || true) errors/warnings)"
  exit 1
fi
echo "galaxy-importer $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("galaxy-importer"))'):" \
  "$(basename "$tarball") imports with no error or warning ($roles roles; ansible-doc, ansible-lint, flake8)"
