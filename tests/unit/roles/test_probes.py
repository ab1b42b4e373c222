"""The roles' read-only probes (roles/*/templates/probe.sh.j2) render and run.

Each role reads the node in one shell run and decides every later step from its output,
so a probe that breaks (a Jinja delimiter in a printf format, a pipeline that fails under
`pipefail` on a host without systemd) would break the role on every node. Here each probe
is rendered with the role's own defaults and vars and run with bash on this machine (read
only: the probes write nothing), and its output is parsed the way the role parses it.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import subprocess

import pytest
from ansible.template import trust_as_template
from role_vars import ROLES, role_templar

from ansible_collections.kubelab.cluster.plugins.module_utils.config_files import files_pending, parse_state

PROBE_ROLES = ("prereqs", "container_runtime", "kube_packages", "control_plane", "cni")


def _file_state_function(role):
    source = (ROLES / role / "templates" / "probe.sh.j2").read_text(encoding="utf-8")
    return re.search(r"(?ms)^file_state\(\) \{$.*?^\}$", source).group(0)


def test_every_probe_prints_file_states_the_same_way():
    """Each role stands alone, so each probe carries file_state; the copies must not drift apart."""
    functions = {role: _file_state_function(role) for role in PROBE_ROLES}
    assert len(set(functions.values())) == 1, functions


def _probe(role, **overrides):
    """Render ROLE's probe with its defaults, vars and OVERRIDES, run it, return stdout."""
    source = (ROLES / role / "templates" / "probe.sh.j2").read_text(encoding="utf-8")
    script = role_templar(role, **overrides).template(trust_as_template(source))
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def _managed(path, content, mode):
    path.write_text(content)
    path.chmod(mode)
    return str(path)


def test_prereqs_probe(tmp_path):
    modules_file = _managed(tmp_path / "kubernetes.conf", "overlay\n", 0o644)
    node = json.loads(_probe("prereqs", __prereqs_modules_file=modules_file))
    assert node["os"]["id"] and node["cpus"] >= 1 and node["memory_mb"] > 0
    assert set(node["modules"]) == {"overlay", "br_netfilter"}
    assert set(node["modules"].values()) <= {"loaded", "builtin", "present", "missing"}
    assert set(node["sysctl"]) == {"net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables",
                                   "net.bridge.bridge-nf-call-ip6tables"}
    assert all(set(v) == {"exists", "writable", "value", "ok", "right"} for v in node["sysctl"].values())
    assert isinstance(node["fstab_swap"], int) and isinstance(node["apt_lists"], int)
    assert all(isinstance(unit, str) for unit in node["unmasked_swap_units"] + node["swaps"])
    # The state line of a file the probe read matches it, and a changed wish does not.
    assert parse_state(node["files"][modules_file]) is not None
    wanted = {"path": modules_file, "content": "overlay\n", "mode": "0644"}
    assert files_pending([wanted], node["files"]) == []
    assert files_pending([dict(wanted, content="overlay\nbr_netfilter\n")], node["files"]) != []
    assert node["files"]["/etc/sysctl.d/99-kubernetes.conf"] == "absent" or parse_state(
        node["files"]["/etc/sysctl.d/99-kubernetes.conf"])


def test_container_runtime_probe_first_line_is_json():
    lines = _probe("container_runtime").splitlines()
    node = json.loads(lines[0])
    assert set(node) >= {"os", "arch", "apt_lists", "installed", "oom_lower", "service", "files"}
    assert node["installed"] in (True, False) and node["oom_lower"] in (True, False)
    assert set(node["files"]) == {"/etc/containerd/config.toml", "/etc/crictl.yaml"}
    if not node["installed"]:
        assert lines[1:] == []


def test_kube_packages_probe_lists_only_its_packages():
    lines = _probe("kube_packages").splitlines()
    node = json.loads(lines[0])
    assert set(node) == {"os", "files", "keyrings_dir", "keyring"}
    assert lines[-1].startswith("kubelet.service")
    names = {line.split()[0] for line in lines[1:-1]}
    assert names <= {"kubelet", "kubeadm", "kubectl", "ca-certificates"}


def test_control_plane_probe_reports_a_missing_kubeadm_instead_of_failing(tmp_path):
    config = _managed(tmp_path / "kubeadm-config.yaml", "kind: InitConfiguration\n", 0o600)
    node = json.loads(_probe("control_plane", control_plane_kubeadm_path=str(tmp_path / "no-kubeadm"),
                             control_plane_config_path=config))
    assert node["version"] == "" and node["version_error"]
    sha1 = hashlib.sha1(b"kind: InitConfiguration\n").hexdigest()
    assert node["files"][config].startswith(sha1 + " 600 ")
    # admin.conf is read (base64) exactly when this machine has one.
    assert (node["admin_conf"] != "") is pathlib.Path("/etc/kubernetes/admin.conf").is_file()
    # The admin user's copy can only be current where there is an admin.conf to compare with.
    assert node["user_kubeconfig"] in (True, False)
    assert not node["user_kubeconfig"] or node["admin_conf"]


def test_control_plane_probe_skips_kubeadm_with_a_given_version(tmp_path):
    node = json.loads(_probe("control_plane", control_plane_kubernetes_version="v1.36.1",
                             control_plane_kubeadm_path=str(tmp_path / "no-kubeadm"),
                             control_plane_config_path=str(tmp_path / "absent.yaml")))
    assert node["version"] == "" and node["version_error"] == ""
    assert node["files"][str(tmp_path / "absent.yaml")] == "absent"


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_cni_probe(plugin, tmp_path):
    node = json.loads(_probe("cni", cni_plugin=plugin, cni_manifest_dir=str(tmp_path)))
    assert node["files"] == {str(tmp_path / ("cni-%s.yaml" % plugin)): "absent"}
    # No kubeadm init on this machine: check mode on a bare node reads the same.
    assert node["initialized"] is False and node["cluster_cidr"] == ""
    assert isinstance(node["cluster_cidr"], str)
