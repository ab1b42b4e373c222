#!/usr/bin/env bash
# CI check of the local lab (make lab-check): make lab, a rerun of playbooks/local_lab.yml (its containers,
# site.yml and app.yml, offline against the API-server test double) that must report 0 changed in its JSON
# report, make lab-destroy, and then no container, network or volume labelled kubelab.lab=<name> may be left.
# Prints each phase's time.
# Usage: KUBELAB_LAB_NAME=kubelab-lab KUBELAB_LAB_OFFLINE=true scripts/check-local-lab.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
name="${KUBELAB_LAB_NAME:-kubelab-lab}"
offline="${KUBELAB_LAB_OFFLINE:?true or false}"
# The node image make lab uses (the Makefile exports it): the rerun below must name the same one, or
# docker_container recreates the containers for the other image name (run outside make, it was the default).
export KUBELAB_NODE_IMAGE="${KUBELAB_NODE_IMAGE:-$(scripts/build-node-image.sh --print-name)}"
# Outside the lab's directory, which lab-destroy removes.
report="$root/build/lab-check-$name.json"
mkdir -p "$root/build"

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
lab_make() { make --no-print-directory "$1" LAB_NAME="$name" LAB_OFFLINE="$offline"; }

t_start=$(now)
trap 'echo "lab-check: failed; removing the lab" >&2; lab_make lab-destroy >/dev/null 2>&1 || true' ERR

echo "lab-check: make lab (offline=$offline)"
t0=$(now); lab_make lab; t_lab=$(elapsed "$t0" "$(now)")

echo "lab-check: rerun of playbooks/local_lab.yml, JSON report in $report"
t0=$(now)
ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ansible-playbook -i inventory/local_lab/hosts.yml \
  -e kubelab_lab_name="$name" -e kubelab_lab_offline="$offline" playbooks/local_lab.yml > "$report"
t_rerun=$(elapsed "$t0" "$(now)")
python3 - "$report" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
stats = report["stats"]
changed = {host: s["changed"] for host, s in stats.items() if s["changed"]}
failed = {host: s["failures"] + s["unreachable"] for host, s in stats.items() if s["failures"] + s["unreachable"]}
names = [task["task"]["name"] for play in report["plays"] for task in play["tasks"]
         if any(result.get("changed") for result in task["hosts"].values())]
print("lab-check: rerun stats " + ", ".join(f"{h}: ok={s['ok']} changed={s['changed']}" for h, s in sorted(stats.items())))
if len(stats) < 4 or changed or failed:
    sys.exit(f"lab-check: the rerun must report 0 changed and 0 failed on the controller and the nodes: "
             f"changed={changed} failed={failed} hosts={sorted(stats)} tasks changed: {names}")
PY

echo "lab-check: make lab-destroy"
t0=$(now); lab_make lab-destroy; t_destroy=$(elapsed "$t0" "$(now)")

left="$(docker ps -aq --filter "label=kubelab.lab=$name"; docker network ls -q --filter "label=kubelab.lab=$name";
        docker volume ls -q --filter "label=kubelab.lab=$name")"
if [ -n "$left" ] || [ -e "$root/build/$name" ]; then
  echo "lab-check: left behind by lab-destroy:" >&2
  docker ps -a --filter "label=kubelab.lab=$name" >&2; docker network ls --filter "label=kubelab.lab=$name" >&2
  docker volume ls --filter "label=kubelab.lab=$name" >&2; ls -d "$root/build/$name" >&2 2>/dev/null || true
  exit 1
fi
trap - ERR
echo "lab-check: passed: make lab ${t_lab} s, rerun ${t_rerun} s (0 changed), make lab-destroy ${t_destroy} s," \
  "nothing labelled kubelab.lab=$name left; total $(elapsed "$t_start" "$(now)") s"
