"""Checks of the node roles on the node containers, run before and after a restart.

The scenario runs these twice: after converge + idempotence, and again after
side_effect.yml dry-ran the other runtimes in check mode and restarted every node
container (a reboot). Everything here must hold in both passes.
"""

import hashlib
import json
import os
import pathlib
import tarfile

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


def _archive_images(archive):
    """``{image ID: [names]}`` of an image archive, read here independently of the module.

    OCI layout: index.json -> manifest blob -> config digest, named by io.containerd.image.name.
    docker save: sha256 of the Config file of manifest.json (tags normalized). Single-platform
    archives only, which is what the scenario side-loads.
    """
    with tarfile.open(str(archive)) as tar:
        names = {os.path.normpath(name): name for name in tar.getnames()}

        def read(name):
            return tar.extractfile(names[os.path.normpath(name)]).read()

        found = {}
        if "oci-layout" in names:
            for entry in json.loads(read("index.json"))["manifests"]:
                manifest = json.loads(read("blobs/sha256/" + entry["digest"].split(":", 1)[1]))
                name = entry.get("annotations", {}).get("io.containerd.image.name")
                found.setdefault(manifest["config"]["digest"], []).extend([name] if name else [])
        else:
            for item in json.loads(read("manifest.json")):
                image_id = "sha256:" + hashlib.sha256(read(item["Config"])).hexdigest()
                found.setdefault(image_id, []).extend(_docker_name(tag) for tag in item.get("RepoTags") or [])
        return found


def _docker_name(tag):
    """The full name containerd stores for a docker save tag (app:1 -> docker.io/library/app:1)."""
    first, _sep, rest = tag.partition("/")
    if not rest or ("." not in first and ":" not in first and first != "localhost"):
        tag = "docker.io/" + (tag if rest else "library/" + tag)
    last = tag.rsplit("/", 1)[-1]
    return tag if ":" in last or "@" in last else tag + ":latest"


def _archives():
    archives = sorted(_archive_dir().glob("*.tar"))
    assert archives, "no image archive to side-load in %s" % _archive_dir()
    return archives


def _node_image_id(host, target):
    """Image ID (config digest) of a containerd image target, read from its manifest with ctr."""
    doc = json.loads(host.check_output("ctr --namespace k8s.io content get %s", target))
    if "manifests" in doc:  # an index: the manifest of the node's platform
        arch = {"x86_64": "amd64", "aarch64": "arm64"}[host.check_output("uname -m").strip()]
        child = next(item for item in doc["manifests"] if item.get("platform", {}).get("architecture") == arch)
        doc = json.loads(host.check_output("ctr --namespace k8s.io content get %s", child["digest"]))
    return doc["config"]["digest"]


def test_image_archives_present_by_id(host):
    """Every name of the archives' images is in containerd's k8s.io namespace with the archive's image ID.

    (The node's crictl is a test double without `images`; ctr's manifests say the same.)
    """
    rows = host.check_output("ctr --namespace k8s.io images list").splitlines()[1:]
    targets = {line.split()[0]: line.split()[2] for line in rows if line.strip()}
    for archive in _archives():
        for image_id, names in _archive_images(archive).items():
            assert names, "%s: image %s has no name" % (archive, image_id)
            for name in names:
                assert name in targets, "%s: %s is not in containerd's k8s.io namespace" % (archive, name)
                assert _node_image_id(host, targets[name]) == image_id, (archive, name)
    if not os.environ.get("KUBELAB_TEST_IMAGE_ARCHIVES"):
        assert "docker.io/kubelab/side-load-test:1" in targets


def test_no_archive_copy_is_left_on_the_node(host):
    """Imported archives are deleted from the archive directory; no old-style marker is written."""
    listing = host.check_output("ls -A /var/lib/kubelab/images 2>/dev/null || true").split()
    assert listing == []


def test_rerun_transfers_and_imports_nothing(host):
    """The role's task once more on the converged node: no transfer, no import, no change."""
    archives = [str(path) for path in _archives()]
    result = host.ansible("kubelab.cluster.image_load",
                          json.dumps({"src": archives, "dest_dir": "/var/lib/kubelab/images", "namespace": "k8s.io"}),
                          check=False)
    assert result["changed"] is False, result
    assert result["transferred"] == [] and result["imported"] == [] and result["tagged"] == []
    assert result["images"] and {item["plan"] for item in result["images"]} == {"present"}
    ids = {image_id for archive in _archives() for image_id in _archive_images(archive)}
    assert {item["id"] for item in result["images"]} == ids


def test_check_mode_dry_runs_changed_nothing(host):
    """side_effect.yml ran crio and docker in check mode: no trace of them may exist."""
    for path in ("/etc/apt/sources.list.d/cri-o.list", "/etc/apt/sources.list.d/docker.list",
                 "/etc/apt/keyrings/cri-o-apt-keyring.asc", "/etc/crio", "/etc/docker/daemon.json"):
        assert not host.file(path).exists, path
    assert "runtime-endpoint: %s" % SOCKET in host.file("/etc/crictl.yaml").content_string
