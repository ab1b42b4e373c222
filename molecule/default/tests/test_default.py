"""What kubelab.cluster.prereqs promises on a node, with the defaults a user gets."""

import os
import pathlib

import yaml

ROLE = pathlib.Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", pathlib.Path(__file__).parents[3])) / "roles" / "prereqs"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text(encoding="utf-8"))


def test_systemd_runs_with_no_failed_unit(host):
    assert host.process.get(pid=1).comm == "systemd"
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    assert state == "running", host.run("systemctl --failed --no-legend").stdout


def test_kernel_modules_listed_for_boot_and_present(host):
    conf = host.file(VARS["__prereqs_modules_file"])
    assert conf.user == "root" and conf.group == "root" and conf.mode == 0o644
    lines = [line for line in conf.content_string.splitlines() if line and not line.startswith("#")]
    assert lines == DEFAULTS["prereqs_kernel_modules"]
    # What each module gives Kubernetes (a container may see br_netfilter only through its sysctls).
    assert "overlay" in host.file("/proc/filesystems").content_string.split()
    assert host.file("/proc/sys/net/bridge/bridge-nf-call-iptables").exists


def test_sysctls_set_now_and_at_boot(host):
    conf = host.file(VARS["__prereqs_sysctl_file"])
    assert conf.user == "root" and conf.mode == 0o644
    for name, value in DEFAULTS["prereqs_sysctl"].items():
        assert "%s = %s" % (name, value) in conf.content_string.splitlines(), name
        assert host.sysctl(name) == value, name


def test_swap_off_and_kept_off(host):
    assert host.file("/proc/swaps").content_string.splitlines()[1:] == []
    fstab = host.file("/etc/fstab").content_string.splitlines()
    swap_lines = [line for line in fstab if " swap " in line]
    assert swap_lines and all(line.startswith("#") for line in swap_lines), fstab
    assert host.run("systemctl is-enabled swap.target").stdout.strip() == "masked"


def test_packages_kubeadm_needs_are_installed(host):
    missing = [name for name in VARS["__prereqs_packages"] + DEFAULTS["prereqs_extra_packages"] if not host.package(name).is_installed]
    assert missing == []
    for command in ("conntrack", "socat", "ethtool", "iptables"):
        assert host.exists(command), command
