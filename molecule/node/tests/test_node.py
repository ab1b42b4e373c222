"""Checks of the node roles on the node containers, run before and after a restart.

The scenario runs these twice: after converge + idempotence, and again after
side_effect.yml dry-ran the other runtimes in check mode and restarted every node
container (a reboot). Everything here must hold in both passes.
"""

import hashlib
import os
import pathlib

import pytest

testinfra_hosts = ["ansible://k8s_cluster"]

KUBE_VERSION = "1.36.1-1.1"
SOCKET = "unix:///var/run/containerd/containerd.sock"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
SYSCTLS = ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables")


def _archive_dir():
    env = os.environ.get("KUBELAB_TEST_IMAGE_ARCHIVES")
    if env:
        return pathlib.Path(env)
    return pathlib.Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "build" / "test-ground" / "images"


def test_systemd_finished_booting(host):
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    assert state == "running", host.run("systemctl --failed --no-legend").stdout


def test_pass_matches_restart_state(host):
    """First pass: the prepare marker in /run is there. Second pass: a restart emptied /run."""
    restarted = host.file("/var/tmp/kubelab-test-restarted").exists
    first_boot_marker = host.file("/run/kubelab-test-first-boot").exists
    assert first_boot_marker != restarted


def test_no_swap_active(host):
    swaps = host.file("/proc/swaps").content_string.splitlines()[1:]
    assert swaps == []


def test_fstab_swap_entries_commented_out(host):
    lines = host.file("/etc/fstab").content_string.splitlines()
    live = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert not [line for line in live if line.split()[2:3] == ["swap"]]
    commented = [line for line in lines if line.lstrip().startswith("#") and "swap" in line]
    assert any("/swap.img" in line for line in commented)
    assert any("UUID=e7bf7d6e" in line for line in commented)


@pytest.mark.parametrize("unit", ["swap.target"])
def test_swap_units_masked(host, unit):
    assert host.run("systemctl is-enabled %s", unit).stdout.strip() == "masked"


def test_kernel_modules_listed_for_boot_and_present(host):
    listed = host.file("/etc/modules-load.d/kubernetes.conf").content_string.split()
    assert "overlay" in listed and "br_netfilter" in listed
    assert host.file("/sys/module/overlay").exists or "overlay" in host.file("/proc/filesystems").content_string
    assert host.file("/proc/sys/net/bridge/bridge-nf-call-iptables").exists


@pytest.mark.parametrize("name", SYSCTLS)
def test_sysctl_live_and_persisted(host, name):
    assert host.sysctl(name) == 1
    persisted = host.file("/etc/sysctl.d/99-kubernetes.conf").content_string.replace(" ", "")
    assert "%s=1" % name in persisted.splitlines()


def test_dev_kmsg_provided_at_boot(host):
    assert host.file("/dev/kmsg").exists
    assert host.service("kubelab-dev-kmsg.service").is_enabled


def test_containerd_running_with_kubernetes_settings(host):
    containerd = host.service("containerd")
    assert containerd.is_running and containerd.is_enabled
    config = host.file("/etc/containerd/config.toml").content_string
    assert "SystemdCgroup = true" in config
    assert 'sandbox_image = "%s"' % PAUSE_IMAGE in config
    # Our nodes lack CAP_SYS_RESOURCE, so the role must have turned this on.
    assert "restrict_oom_score_adj = true" in config


def test_ctr_answers_on_the_socket(host):
    out = host.check_output("ctr --address /run/containerd/containerd.sock version")
    assert "Server:" in out and "Version:" in out.split("Server:")[1]


def test_crictl_configured_for_containerd(host):
    config = host.file("/etc/crictl.yaml").content_string
    assert "runtime-endpoint: %s" % SOCKET in config
    assert "image-endpoint: %s" % SOCKET in config
    assert host.run("crictl version").rc == 0


@pytest.mark.parametrize("package", ["kubelet", "kubeadm", "kubectl"])
def test_kube_package_pinned_and_held(host, package):
    assert host.package(package).version == KUBE_VERSION
    assert package in host.check_output("apt-mark showhold").split()


@pytest.mark.parametrize("package", ["cri-tools", "kubernetes-cni"])
def test_dependencies_installed(host, package):
    assert host.package(package).is_installed


def test_cni_plugins_in_opt(host):
    assert host.file("/opt/cni/bin/bridge").is_file and host.file("/opt/cni/bin/bridge").mode & 0o111


def test_repository_signed_by_its_own_key(host):
    listing = host.file("/etc/apt/sources.list.d/kubernetes.list").content_string
    assert "[signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] http://node-pkgrepo:8080/core:/stable:/v1.36/deb/ /" in listing
    assert host.file("/etc/apt/keyrings/kubernetes-apt-keyring.asc").content_string.startswith(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----"
    )


def test_kubelet_enabled(host):
    assert host.service("kubelet").is_enabled
    assert host.check_output("kubelet --version").startswith("Kubernetes v1.36")


def test_image_archives_imported(host):
    archives = sorted(_archive_dir().glob("*.tar"))
    assert archives, "no image archive to side-load in %s" % _archive_dir()
    for archive in archives:
        sha1 = hashlib.sha1(archive.read_bytes()).hexdigest()  # noqa: S324 - the copy module's checksum
        assert host.file("/var/lib/kubelab/images/.imported-%s" % sha1).exists, archive
    if not os.environ.get("KUBELAB_TEST_IMAGE_ARCHIVES"):
        images = host.check_output("ctr --namespace k8s.io images list --quiet").split()
        assert "docker.io/kubelab/side-load-test:1" in images


def test_check_mode_dry_runs_changed_nothing(host):
    """side_effect.yml ran crio and docker in check mode: no trace of them may exist."""
    for path in ("/etc/apt/sources.list.d/cri-o.list", "/etc/apt/sources.list.d/docker.list",
                 "/etc/apt/keyrings/cri-o-apt-keyring.asc", "/etc/crio", "/etc/docker/daemon.json"):
        assert not host.file(path).exists, path
    assert "runtime-endpoint: %s" % SOCKET in host.file("/etc/crictl.yaml").content_string
