#!/usr/bin/env bash
# Build the collection tarball, install it offline into an empty path and check
# that ansible-doc lists and renders every module, filter and lookup from that install alone
# (action plugins through the module of the same name); then galaxy-importer on the tarball.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d /tmp/kubelab-build.XXXXXX)"
trap 'rm -rf "$work"' EXIT

ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null
tarball="$(ls "$work"/dist/kubelab-cluster-*.tar.gz)"
echo "built $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)"

# Nothing from the checkout may leak in: only the fresh install is on the path.
# Dependencies come from the `ansible` package in the venv; ours is installed alone.
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
printf "[defaults]\n" > "$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg"
ansible-galaxy collection install --offline --no-deps -p "$work/collections" "$tarball" >/dev/null
test -f "$work/collections/ansible_collections/kubelab/cluster/MANIFEST.json"
status=0
summary=""
# plugins/<dir> -> ansible-doc plugin type.
for kind in modules:module filter:filter lookup:lookup; do
  dir="${kind%%:*}" type="${kind##*:}"
  listed="$(ansible-doc -t "$type" -l kubelab.cluster)"
  for path in plugins/"$dir"/*.py; do
    [ -e "$path" ] || continue
    name="kubelab.cluster.$(basename "$path" .py)"
    grep -q "^$name " <<<"$listed" || { echo "missing $type in ansible-doc -l: $name"; status=1; }
    ansible-doc -t "$type" "$name" >/dev/null || { echo "ansible-doc cannot render $type $name"; status=1; }
  done
  summary="$summary${summary:+, }$(grep -c . <<<"$listed" || true) ${type}s"
done
# An action plugin has no documentation of its own: it must come with a module of the same
# name (documented and rendered above) and be installed.
listed_modules="$(ansible-doc -t module -l kubelab.cluster)"
actions=0
for path in plugins/action/*.py; do
  [ -e "$path" ] || continue
  name="$(basename "$path" .py)"
  actions=$((actions + 1))
  test -f "$work/collections/ansible_collections/kubelab/cluster/plugins/action/$name.py" \
    || { echo "action plugin $name not in the tarball"; status=1; }
  grep -q "^kubelab.cluster.$name " <<<"$listed_modules" \
    || { echo "action plugin $name has no documented module kubelab.cluster.$name"; status=1; }
done
summary="$summary, $actions action plugins"
for role in roles/*/; do
  [ -d "$role" ] || continue
  role="$(basename "$role")"
  test -d "$work/collections/ansible_collections/kubelab/cluster/roles/$role" || { echo "role $role not in the tarball"; status=1; }
done
test -f "$work/collections/ansible_collections/kubelab/cluster/playbooks/site.yml" || echo "note: playbooks/site.yml not in the tarball yet"
echo "ansible-doc lists $summary from the offline install"
# What Galaxy would say of this very tarball.
scripts/check-galaxy-import.sh "$tarball" || status=1
exit "$status"
