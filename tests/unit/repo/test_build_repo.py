"""tests/repo/build-repo.sh: the offline apt repository must be installable for every release.

Real-binaries mode builds the repository around real kubeadm/kubelet/kubectl of any release.
Here the binaries are stand-ins that only print a version (build-repo.sh reads
`kubeadm version -o short`), and the test reads what apt would: the kubeadm package's
cri-tools dependency against the cri-tools package the same repository carries.
"""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tests" / "repo" / "build-repo.sh"
# Kept between runs (build/ is ignored): the Debian CNI plugins package is downloaded once.
CACHE = ROOT / "build" / "unit-build-repo"


def _fake_bin(directory: pathlib.Path, version: str) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    for tool in ("kubeadm", "kubelet", "kubectl"):
        path = directory / tool
        path.write_text(f"#!/bin/sh\necho {version}\n")
        path.chmod(0o755)
    return directory


def _field(deb: pathlib.Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("version", ["v1.26.1", "v1.29.4", "v1.36.1"])
def test_kubeadm_cri_tools_dependency_is_satisfied_by_the_repository(version):
    minor = re.match(r"v(\d+\.\d+)", version).group(1)
    out = CACHE / minor
    bindir = _fake_bin(CACHE / f"bin-{minor}", version)
    run = subprocess.run(["bash", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=600, check=False,
                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KUBELAB_TEST_KUBE_BIN_DIR": str(bindir)})
    assert run.returncode == 0, run.stderr + run.stdout
    repo = out / f"core:/stable:/v{minor}" / "deb"
    kubeadm = next(repo.glob("kubeadm_*.deb"))
    cri_tools = next(repo.glob("cri-tools_*.deb"))
    assert _field(kubeadm, "Version") == f"{version[1:]}-1.1"
    floor = re.search(r"cri-tools \(>= ([^)]+)\)", _field(kubeadm, "Depends"))
    assert floor, _field(kubeadm, "Depends")
    shipped = _field(cri_tools, "Version")
    satisfied = subprocess.run(["dpkg", "--compare-versions", shipped, "ge", floor.group(1)], check=False)
    assert satisfied.returncode == 0, f"kubeadm {version} needs cri-tools >= {floor.group(1)}, the repository has {shipped}"


def test_doubles_packaged_as_two_minors_report_the_version_of_their_package():
    """KUBELAB_TEST_DOUBLE_VERSIONS (the upgrade scenario's two minors): one repository per minor, and the doubles
    in each package answer with that package's version, as kubeadm, kubelet and kubectl of a release do."""
    out = CACHE / "doubles"
    run = subprocess.run(["bash", str(SCRIPT), str(out)], capture_output=True, text=True, timeout=600, check=False,
                         env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KUBELAB_TEST_DOUBLE_VERSIONS": "1.35.4 1.36.1"})
    assert run.returncode == 0, run.stderr + run.stdout
    for version in ("1.35.4", "1.36.1"):
        repo = out / f"core:/stable:/v{version.rsplit('.', 1)[0]}" / "deb"
        for tool, argv, expected in (("kubeadm", ["version", "-o", "short"], f"v{version}"),
                                     ("kubelet", ["--version"], f"Kubernetes v{version}")):
            deb = next(repo.glob(f"{tool}_*.deb"))
            assert _field(deb, "Version") == f"{version}-1.1"
            extracted = CACHE / f"extract-{version}"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
            answer = subprocess.run([str(extracted / "usr" / "bin" / tool), *argv], capture_output=True, text=True,
                                    check=False)
            assert answer.stdout.strip() == expected, answer.stderr


def test_double_versions_are_refused_with_real_binaries(tmp_path):
    bindir = _fake_bin(tmp_path / "bin", "v1.36.1")
    run = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], capture_output=True, text=True, timeout=60,
                         check=False, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "KUBELAB_TEST_KUBE_BIN_DIR": str(bindir),
                                           "KUBELAB_TEST_DOUBLE_VERSIONS": "1.35.4 1.36.1"})
    assert run.returncode != 0
    assert "KUBELAB_TEST_DOUBLE_VERSIONS stamps the test doubles" in run.stderr
