"""Each role's one read of the node (its kubelab.cluster.node_state task) runs here and feeds the role's vars.

Each role reads the node once and decides every later step from the result, so a read whose
options the role renders wrongly, or whose answer the role's vars read under another name,
breaks the role on every node. Here each role's own node_state task is taken from its task
file, its options rendered with the role's defaults and vars, the module's logic run on this
machine (read only), and the result handed back to the role's vars that consume it.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import platform
import shutil
import subprocess

import pytest
import yaml
from role_vars import ROLES, trusted, render, role_templar

from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import parse_state
from ansible_collections.kubelab.cluster.plugins.module_utils._kube_release import SUPPORTED_RELEASES
from ansible_collections.kubelab.cluster.plugins.module_utils._node_state import LocalIO, gather

READS = {  # role: (task file, registered name)
    "prereqs": ("validate.yml", "__prereqs_node"),
    "container_runtime": ("validate.yml", "__container_runtime_node"),
    "kube_packages": ("validate.yml", "__kube_packages_node"),
    "control_plane": ("config.yml", "__control_plane_node"),
    "cni": ("apply.yml", "__cni_node"),
}


def _run(argv):
    binary = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if not binary or not os.access(binary, os.X_OK):
        return 127, "", "%s: command not found" % argv[0]
    done = subprocess.run([binary] + list(argv[1:]), capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def _read_task(role, task_file, register):
    tasks = yaml.safe_load((ROLES / role / "tasks" / task_file).read_text(encoding="utf-8"))
    found = [task for task in tasks if task.get("register") == register and "kubelab.cluster.node_state" in task]
    assert len(found) == 1, "%s reads the node once, with kubelab.cluster.node_state" % role
    return found[0]


def _task_named(role, task_file, name):
    tasks = yaml.safe_load((ROLES / role / "tasks" / task_file).read_text(encoding="utf-8"))
    found = [task for task in tasks if task.get("name") == name]
    assert len(found) == 1, "%s/tasks/%s has one task named %r" % (role, task_file, name)
    return found[0]


def _read(role, **overrides):
    """ROLE's node_state options rendered with its vars, the read done on this machine; (templar, result)."""
    task_file, register = READS[role]
    task = _read_task(role, task_file, register)
    templar = role_templar(role, **overrides)
    options = templar.template(trusted(task["kubelab.cluster.node_state"]))
    result = gather(options, LocalIO(_run))
    return role_templar(role, **dict(overrides, **{register: result})), result


@pytest.mark.parametrize("role", sorted(READS))
def test_every_role_reads_the_node_once_and_changes_nothing(role):
    task_file, register = READS[role]
    task = _read_task(role, task_file, register)
    # The module only reads: no changed_when/check_mode workarounds a shell probe needed.
    assert not {"changed_when", "check_mode", "ansible.builtin.shell"} & set(task)


def test_prereqs_read(tmp_path):
    modules_file = tmp_path / "kubernetes.conf"
    modules_file.write_text("# Managed by kubelab.cluster.prereqs: modules Kubernetes networking and containerd need.\n"
                            "overlay\nbr_netfilter\n")
    modules_file.chmod(0o644)
    templar, node = _read("prereqs", __prereqs_modules_file=str(modules_file),
                          ansible_search_path=[str(ROLES / "prereqs")])
    assert node["memory_mb"] == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2 ** 20
    os_release = platform.freedesktop_os_release()
    assert node["release"] == "%s %s" % (os_release["ID"].capitalize(), os_release["VERSION_ID"].split(".")[0])
    assert set(node["modules"]) == {"overlay", "br_netfilter"}
    assert set(node["sysctls"]) == {"net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables",
                                    "net.bridge.bridge-nf-call-ip6tables"}
    assert set(node["services"]) == {"kubelab-dev-kmsg.service"}
    assert parse_state(node["files"][str(modules_file)]) is not None
    # What the role derives from the read renders: lists of names the role can act on.
    for name in ("__prereqs_missing_modules", "__prereqs_sysctl_blocked", "__prereqs_sysctl_pending",
                 "__prereqs_missing_packages"):
        value = render(templar, name)
        assert isinstance(value, list) and all(isinstance(item, str) for item in value), name
    assert set(render(templar, "__prereqs_missing_packages")) <= set(node["packages"])
    pending = [entry["path"] for entry in render(templar, "__prereqs_files_pending")]
    assert str(modules_file) not in pending, "a file with the wanted content and mode is not rewritten"
    # The role's own release gate (its assert task), on this read and on the same read from an older release.
    gate = _task_named("prereqs", "validate.yml", "Check the operating system is supported")["ansible.builtin.assert"]["that"]
    assert render(templar, gate) is (node["release"] in SUPPORTED_RELEASES)
    old = dict(node, release="Debian 11", os=dict(node["os"], pretty_name="Debian GNU/Linux 11 (bullseye)"))
    assert render(role_templar("prereqs", __prereqs_node=old), gate) is False


def test_prereqs_decisions_from_a_read():
    """The role's vars turn a read into what to do: only what is missing, blocked or not yet right."""
    node = {
        "modules": {"overlay": "loaded", "br_netfilter": "missing"},
        "sysctls": {"net.ipv4.ip_forward": {"ok": True, "right": True},
                    "net.bridge.bridge-nf-call-iptables": {"ok": True, "right": False},
                    "net.bridge.bridge-nf-call-ip6tables": {"ok": False, "right": False}},
        "packages": {"socat": {"installed": False}, "conntrack": {"installed": True}, "curl": {"installed": False}},
    }
    templar = role_templar("prereqs", __prereqs_node=node)
    assert render(templar, "__prereqs_missing_modules") == ["br_netfilter"]
    assert render(templar, "__prereqs_sysctl_blocked") == ["net.bridge.bridge-nf-call-ip6tables"]
    assert render(templar, "__prereqs_sysctl_pending") == ["net.bridge.bridge-nf-call-iptables"]
    assert render(templar, "__prereqs_sysctl_to_set") == ["net.bridge.bridge-nf-call-iptables=1"]
    assert render(templar, "__prereqs_missing_packages") == ["socat", "curl"]


def test_container_runtime_read():
    templar, node = _read("container_runtime")
    assert set(node["packages"]) == {"containerd"} and set(node["services"]) == {"containerd"}
    assert set(node["files"]) == {"/etc/containerd/config.toml", "/etc/crictl.yaml"}
    installed = render(templar, "__container_runtime_installed")
    assert installed is node["packages"]["containerd"]["installed"]
    # containerd's defaults come with the read exactly when containerd can run here.
    assert (node["containerd_default_config"] != "") is (installed and shutil.which("containerd") is not None)
    assert render(templar, "__container_runtime_restrict_oom | bool") is (not node["oom_lower"])


def test_kube_packages_read():
    templar, node = _read("kube_packages")
    assert set(node["packages"]) == {"kubelet", "kubeadm", "kubectl", "ca-certificates"}
    assert set(node["paths"]) == {"/etc/apt/keyrings", "/etc/apt/keyrings/kubernetes-apt-keyring.asc"}
    # A package moves unless dpkg has it installed at the wanted minor (kube_packages_version's default).
    minor = render(templar, "kube_packages_version")
    to_install = render(templar, "__kube_packages_to_install")
    assert set(to_install) == {name for name in ("kubelet", "kubeadm", "kubectl")
                               if not (node["packages"][name]["installed"]
                                       and node["packages"][name]["version"].startswith(minor + "."))}
    assert node["services"]["kubelet.service"]["enabled"]


def test_control_plane_read_reports_a_missing_kubeadm_instead_of_failing(tmp_path):
    config = tmp_path / "kubeadm-config.yaml"
    config.write_text("kind: InitConfiguration\n")
    config.chmod(0o600)
    templar, node = _read("control_plane", control_plane_kubeadm_path=str(tmp_path / "no-kubeadm"),
                          control_plane_config_path=str(config), control_plane_expected_version="1.36")
    assert node["kubeadm"]["version"] == "" and "not found" in node["kubeadm"]["error"]
    assert node["files"][str(config)].startswith(hashlib.sha1(b"kind: InitConfiguration\n").hexdigest() + " 600 ")
    assert (node["admin"]["conf"] != "") is pathlib.Path("/etc/kubernetes/admin.conf").is_file()
    assert node["cgroup"] in ("cgroup2fs", "tmpfs", "unknown")
    # The release falls back to the expected one (check mode on a bare node), in the read's cgroup v1 verdict too.
    assert render(templar, "__control_plane_version") == "1.36"
    assert render(templar, "__control_plane_cgroup_v1.version") == "1.36"
    assert render(templar, "__control_plane_cgroup_v1.refused") is True


def test_control_plane_read_skips_kubeadm_with_a_given_version(tmp_path):
    _templar, node = _read("control_plane", control_plane_kubernetes_version="v1.36.1",
                           control_plane_kubeadm_path=str(tmp_path / "no-kubeadm"),
                           control_plane_config_path=str(tmp_path / "absent.yaml"))
    assert "kubeadm" not in node
    assert node["files"][str(tmp_path / "absent.yaml")] == "absent"
    assert node["cgroup_v1"]["version"] == "v1.36.1"


@pytest.mark.parametrize("plugin", ["flannel", "calico"])
def test_cni_read(plugin, tmp_path):
    _templar, node = _read("cni", cni_plugin=plugin, cni_manifest_dir=str(tmp_path))
    assert node["files"] == {str(tmp_path / ("cni-%s.yaml" % plugin)): "absent"}
    # No kubeadm init on this machine: check mode on a bare node reads the same.
    assert node["cluster"]["initialized"] is False and node["cluster"]["running"]["pod_subnet"] == ""
