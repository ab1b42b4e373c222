#!/usr/bin/env bash
# Benchmark of the lab (one control plane, KUBELAB_BENCH_WORKERS workers, 2 by default) on Docker
# node containers.
#
#   ours : playbooks/site.yml on fresh nodes (cold), then again (rerun: wall time, changed
#          count, and a check that nothing changed behind the report: no new token, no
#          service restarted); then one fresh worker added to the inventory and site.yml
#          run again (add one worker: wall time, changed count per host, and a check that
#          the nodes already there were not touched: no service restarted on them); then
#          another fresh worker with `site.yml --limit` that worker alone (the other nodes
#          are not contacted; the worker role reads the control plane by delegation);
#   floor: the walkthrough's steps typed as a plain shell script on fresh nodes of the same
#          lab (apt install containerd + kube packages from the same local repository,
#          swapoff, modprobe/sysctl, kubeadm init, kubeadm join with the printed command).
#
# Both use the same offline package repository (tests/repo/test-ground.sh) and, unless
# KUBELAB_TEST_KUBE_BIN_DIR names real binaries, the kubeadm/kubectl/kubelet TEST DOUBLES.
# Usage: scripts/bench.sh            (make bench)
#        KUBELAB_BENCH_WORKERS=10 scripts/bench.sh     (make bench BENCH_WORKERS=10)
#        KUBELAB_BENCH_FLOOR=0 scripts/bench.sh         (ours only, without the floor)
#        KUBELAB_BENCH_ARCHIVE_MB=300 scripts/bench.sh   (make bench BENCH_ARCHIVE_MB=300)
#   With an archive size, both sides also side-load a generated image archive of that many MB
#   (tests/repo/make-test-image.py): ours through container_runtime_image_archives, the floor
#   with docker cp + ctr import on each node, as a user would copy and import it by hand.
# Per-phase times (each play, and the slowest tasks) of the cold run and the rerun follow the table.
# Containers: bench-cp1, bench-w1 .. bench-wN (and bench-wN+1, bench-wN+2, the added workers), pkgrepo-bench on
# network kubelab-bench-net; removed at the end (KUBELAB_BENCH_KEEP=1 keeps the last lab).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg"
image="${KUBELAB_NODE_IMAGE:-$(scripts/build-node-image.sh --print-name)}"
net=kubelab-bench-net
workers_count="${KUBELAB_BENCH_WORKERS:-2}"
[[ "$workers_count" =~ ^[1-9][0-9]*$ ]] || { echo "bench: KUBELAB_BENCH_WORKERS must be a number of workers >= 1" >&2; exit 2; }
workers=()
for i in $(seq 1 "$workers_count"); do workers+=("bench-w$i"); done
added="bench-w$((workers_count + 1))"
limited="bench-w$((workers_count + 2))"
nodes=(bench-cp1 "${workers[@]}")
repo=pkgrepo-bench
ground="$root/build/test-ground-bench"
work="$root/build/bench"
archive_mb="${KUBELAB_BENCH_ARCHIVE_MB:-0}"
mkdir -p "$work"
archive=""
if [ "$archive_mb" -gt 0 ]; then
  archive="$work/images/bench-payload-${archive_mb}mb.tar"
  python3 tests/repo/make-test-image.py "$archive" docker.io/kubelab/bench-payload:1 "$archive_mb"
fi

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

teardown() {
  docker rm -f "${nodes[@]}" "$added" "$limited" "$repo" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}

# The node containers' capabilities have one home (tests/images/node-capabilities).
caps=()
while read -r cap; do
  caps+=(--cap-add "$cap")
done < <(grep -v '^#' tests/images/node-capabilities)

# start_nodes NAME...: fresh node containers (same settings as the Molecule scenarios), booted.
start_nodes() {
  for n in "$@"; do
    docker run -d --name "$n" --hostname "$n" --network "$net" --cap-drop ALL "${caps[@]}" \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v /var/lib/containerd --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
      "$image" /bin/bash -c "mount -o remount,rw /proc/sys && exec /lib/systemd/systemd" >/dev/null
  done
  # Bounded: a node whose systemd cannot start (the host out of inotify instances) must not hang the bench.
  for n in "$@"; do
    timeout 300 docker exec "$n" systemctl is-system-running --wait >/dev/null 2>&1 || true
  done
}

# Every node container's systemd, and later its containerd and kubelet, holds inotify instances, all counted
# against the host's root user: Debian's default of 128 runs out at about 11 nodes, and systemd then fails to start in
# the next one. So the host's limit is raised to what this many containers need (a host sysctl, said on the way).
inotify_needed=$(( 32 * (${#nodes[@]} + 3) ))
inotify_now=$(sysctl -n fs.inotify.max_user_instances)
if [ "$inotify_now" -lt "$inotify_needed" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench: $((${#nodes[@]} + 3)) node containers need fs.inotify.max_user_instances >= $inotify_needed (it is $inotify_now):" \
      "run sudo sysctl -w fs.inotify.max_user_instances=$inotify_needed" >&2
    exit 2
  fi
  echo "bench: raising the host's fs.inotify.max_user_instances from $inotify_now to $inotify_needed for $((${#nodes[@]} + 3)) containers"
  sysctl -qw fs.inotify.max_user_instances="$inotify_needed"
fi

# start_lab: the repository and fresh nodes.
start_lab() {
  teardown
  docker network create "$net" >/dev/null
  docker run -d --name "$repo" --network "$net" -v "$ground/repo:/srv/repo:ro" "$image" \
    python3 -m http.server 8080 --directory /srv/repo >/dev/null
  start_nodes "${nodes[@]}"
}

# write_inventory FILE WORKER...: the lab's inventory with these workers.
write_inventory() {
  local file="$1"; shift
  {
    cat <<EOF
---
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
    k8s_cluster:
      children:
        kube_control_plane:
          hosts:
            bench-cp1:
        kube_workers:
          hosts:
EOF
    for w in "$@"; do printf '            %s:\n' "$w"; done
    cat <<EOF
      vars:
        kube_packages_version: "1.36"
        kube_packages_repo_url: "http://$repo:8080/core:/stable:/v1.36/deb/"
        container_runtime_kubernetes_version: "1.36"
        control_plane_cluster_name: kubelab-bench
        control_plane_kubeconfig_dest: "$work/kubelab-bench-admin.conf"
        # The lab's nodes share this host's cgroups; Kubernetes 1.35+ refuses cgroup v1 unless allowed.
        control_plane_allow_cgroup_v1: true
        worker_allow_cgroup_v1: true
        container_runtime_image_archives: [${archive:+"$archive"}]
EOF
  } > "$file"
}
write_inventory "$work/inventory.yml" "${workers[@]}"
write_inventory "$work/inventory-added.yml" "${workers[@]}" "$added"
write_inventory "$work/inventory-limited.yml" "${workers[@]}" "$added" "$limited"

# playbook LOG [INVENTORY [ARG...]]: site.yml against the bench lab, JSON report in LOG.
playbook() {
  local log="$1" inventory="${2:-$work/inventory.yml}"
  shift $(($# < 2 ? $# : 2))
  ANSIBLE_STDOUT_CALLBACK=ansible.posix.json ansible-playbook -i "$inventory" "$@" playbooks/site.yml > "$log"
}

# summary LOG: "changed=N tasks=host:N,..." from a JSON report.
summary() {
  python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
stats = report["stats"]
changed = sum(s["changed"] for s in stats.values())
tasks = ",".join(f"{h}:{s['ok'] + s['failures'] + s['skipped']}" for h, s in sorted(stats.items()))
failed = sum(s["failures"] + s["unreachable"] for s in stats.values())
print(f"changed={changed} tasks={tasks} failed={failed}")
PY
}

# changed_hosts LOG: the hosts with a changed task in a JSON report ("none" if no host).
changed_hosts() {
  python3 - "$1" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
print(",".join(sorted(h for h, s in report["stats"].items() if s["changed"])) or "none")
PY
}

# phases LOG: seconds per play and the five slowest tasks of a JSON report.
phases() {
  python3 - "$1" <<'PY'
import datetime, json, sys
text = open(sys.argv[1]).read()
report = json.loads(text[text.index("{"):])
def seconds(duration):
    start, end = (datetime.datetime.fromisoformat(duration[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()
tasks = []
for play in report["plays"]:
    # A play that matched no host (site.yml --limit a worker: the control plane's plays) has no end.
    if not play["play"].get("duration", {}).get("end"):
        continue
    print(f"  play {seconds(play['play']['duration']):6.1f} s  {play['play']['name']}")
    for task in play["tasks"]:
        if task["task"].get("duration", {}).get("end"):
            tasks.append((seconds(task["task"]["duration"]), task["task"]["name"]))
for took, name in sorted(tasks, reverse=True)[:5]:
    print(f"  task {took:6.1f} s  {name}")
PY
}

# fingerprint [services]: token events and service start times that must not move on a rerun; with
# "services", the start times only (adding a worker mints one token, and must restart nothing already there).
fingerprint() {
  [ "${1:-}" = services ] || docker exec bench-cp1 sh -c 'grep -c "\"token-create\"" /var/log/kubelab-doubles/kubeadm.log 2>/dev/null || echo 0'
  for n in "${nodes[@]}"; do
    docker exec "$n" systemctl show -p ActiveEnterTimestampMonotonic containerd kubelet kubelab-double-apiserver 2>/dev/null
  done
}

echo "bench: building the offline test ground"
tests/repo/test-ground.sh "$ground" >/dev/null
trap '[ "${KUBELAB_BENCH_KEEP:-0}" = 1 ] || teardown' EXIT

echo "bench: ours, cold converge on fresh nodes"
start_lab
t0=$(now); playbook "$work/cold.json" || { summary "$work/cold.json"; echo "bench: cold converge failed" >&2; exit 1; }
t1=$(now)
cold=$(elapsed "$t0" "$t1"); cold_summary=$(summary "$work/cold.json")

echo "bench: ours, rerun"
before=$(fingerprint)
t0=$(now); playbook "$work/rerun.json"; t1=$(now)
rerun=$(elapsed "$t0" "$t1"); rerun_summary=$(summary "$work/rerun.json")
after=$(fingerprint)
if [ "$before" = "$after" ]; then behind="none (no token minted, no service restarted)"; else behind="CHANGED"; fi

echo "bench: ours, add one fresh worker ($added) to the inventory and run site.yml"
start_nodes "$added"
before=$(fingerprint services)
t0=$(now); playbook "$work/add.json" "$work/inventory-added.yml" || { summary "$work/add.json"; echo "bench: adding $added failed" >&2; exit 1; }
t1=$(now)
add=$(elapsed "$t0" "$t1"); add_summary=$(summary "$work/add.json"); add_changed=$(changed_hosts "$work/add.json")
after=$(fingerprint services)
if [ "$before" = "$after" ]; then add_behind="none"; else add_behind="CHANGED"; fi
joined=$(docker exec bench-cp1 kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name | grep -c "^node/$added\$" || true)

echo "bench: ours, add another fresh worker ($limited) with site.yml --limit $limited"
start_nodes "$limited"
t0=$(now); playbook "$work/limit.json" "$work/inventory-limited.yml" --limit "$limited" \
  || { summary "$work/limit.json"; echo "bench: adding $limited failed" >&2; exit 1; }
t1=$(now)
limit=$(elapsed "$t0" "$t1"); limit_summary=$(summary "$work/limit.json")
limit_joined=$(docker exec bench-cp1 kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o name | grep -c "^node/$limited\$" || true)

if [ "${KUBELAB_BENCH_FLOOR:-1}" = 1 ]; then
echo "bench: floor, the walkthrough's commands as a shell script on fresh nodes"
start_lab
node_steps='set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
swapoff -a
modprobe overlay 2>/dev/null || true; modprobe br_netfilter 2>/dev/null || true
sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
apt-get update -qq && apt-get install -y -qq apt-transport-https >/dev/null
mkdir -p /etc/apt/keyrings
curl -fsSL http://'"$repo"':8080/core:/stable:/v1.36/deb/Release.key | gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] http://'"$repo"':8080/core:/stable:/v1.36/deb/ /" > /etc/apt/sources.list.d/kubernetes.list
apt-get update -qq && apt-get install -y -qq containerd kubelet kubeadm kubectl >/dev/null
apt-mark hold kubelet kubeadm kubectl >/dev/null
mkdir -p /etc/containerd && containerd config default > /etc/containerd/config.toml
sed -i "s/SystemdCgroup = false/SystemdCgroup = true/" /etc/containerd/config.toml
systemctl restart containerd'
if [ -n "$archive" ]; then
  node_steps="$node_steps
ctr -n k8s.io images import /root/$(basename "$archive") >/dev/null"
fi
t0=$(now)
pids=()
for n in "${nodes[@]}"; do
  { if [ -n "$archive" ]; then docker cp "$archive" "$n:/root/"; fi; docker exec "$n" bash -c "$node_steps"; } \
    > "$work/floor-$n.log" 2>&1 & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
# On a cgroup v1 host Kubernetes 1.35+ needs what its error message asks for: the kubelet's
# failCgroupV1: false and a skipped SystemVerification check (as the playbook run above does).
skip=""
if ! docker exec bench-cp1 test -e /sys/fs/cgroup/cgroup.controllers; then
  skip="--ignore-preflight-errors=SystemVerification"
  docker exec -i bench-cp1 sh -c 'cat > /root/floor-kubeadm.yaml' <<'YAML'
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
YAML
  docker exec bench-cp1 kubeadm init --config /root/floor-kubeadm.yaml $skip > "$work/floor-init.log" 2>&1
else
  docker exec bench-cp1 kubeadm init --pod-network-cidr=10.244.0.0/16 > "$work/floor-init.log" 2>&1
fi
join="$(sed -n '/^kubeadm join/,$p' "$work/floor-init.log" | tr -d '\\\n\t') $skip"
[ -n "$join" ] || { echo "bench: no join command in the floor's init output" >&2; exit 1; }
pids=()
for n in "${workers[@]}"; do docker exec "$n" bash -c "$join" > "$work/floor-join-$n.log" 2>&1 & pids+=($!); done
for pid in "${pids[@]}"; do wait "$pid"; done
t1=$(now)
floor=$(elapsed "$t0" "$t1")
ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$cold" "$floor")
over=$(python3 -c "import sys; print(f'{float(sys.argv[1]) - float(sys.argv[2]):.1f}')" "$cold" "$floor")
fi

printf '\n| measure (1 control plane + %s workers, %s, load average at the end %s, image archive: %s) | value |\n| --- | --- |\n' \
  "$workers_count" "$(nproc) CPUs" "$(cut -d' ' -f1-3 /proc/loadavg)" \
  "$([ -n "$archive" ] && echo "${archive_mb} MB" || echo none)"
printf '| cold converge, playbooks/site.yml on fresh nodes | %s s |\n' "$cold"
printf '| cold run | %s |\n' "$cold_summary"
printf '| rerun wall time | %s s (target <= 10 s) |\n' "$rerun"
printf '| rerun | %s (target changed=0) |\n' "$rerun_summary"
printf '| changed behind the report on rerun | %s |\n' "$behind"
printf '| add one worker: site.yml with %s added to the inventory | %s s |\n' "$added" "$add"
printf '| add one worker | %s; hosts changed: %s (target: %s alone); %s in the cluster: %s |\n' "$add_summary" "$add_changed" \
  "$added" "$added" "$([ "$joined" = 1 ] && echo yes || echo NO)"
printf '| services restarted on the nodes already there when adding one | %s |\n' "$add_behind"
printf '| add one worker with --limit: site.yml --limit %s | %s s |\n' "$limited" "$limit"
printf '| add one worker with --limit | %s; %s in the cluster: %s |\n' "$limit_summary" "$limited" \
  "$([ "$limit_joined" = 1 ] && echo yes || echo NO)"
if [ "${KUBELAB_BENCH_FLOOR:-1}" = 1 ]; then
  printf '| floor: the walkthrough commands as a shell script | %s s |\n' "$floor"
  printf '| ratio cold / floor | %s (target <= 1.10) |\n' "$ratio"
  printf '| cold minus floor (what the automation adds, in seconds) | %s s |\n' "$over"
fi
printf '\nper phase, cold run:\n'; phases "$work/cold.json"
printf 'per phase, rerun:\n'; phases "$work/rerun.json"
printf 'per phase, add one worker:\n'; phases "$work/add.json"
printf 'per phase, add one worker with --limit:\n'; phases "$work/limit.json"
