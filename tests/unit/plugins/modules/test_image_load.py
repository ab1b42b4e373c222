"""kubelab.cluster.image_load (the module, node side) against a fake containerd behind run_command."""

from __future__ import annotations

import json
import os
import tarfile

import pytest
from ansible.module_utils import basic

from ansible_collections.kubelab.cluster.plugins.module_utils import _image_archive as ia
from ansible_collections.kubelab.cluster.plugins.modules import image_load

from .. import image_archives as build
from .conftest import call_main

CTR = "/usr/bin/ctr"


class FakeContainerd:
    """Images (name -> target) and content (digest -> bytes) of one namespace, driven by ctr argv."""

    def __init__(self):
        self.images = {}
        self.content = {}
        self.calls = []
        self.import_names = None  # override the names an import creates (a ctr that names differently)
        self.ls_error = None

    def add_blob(self, data):
        self.content[build.digest(data)] = data
        return build.digest(data)

    def load(self, path, platform="linux/amd64"):
        """What ctr images import does with an archive, told by the module's own reader."""
        for image in ia.read_archive(path)["images"]:
            if image["target"]:
                # OCI layout: the archive's manifest (or index and its manifests) go into the store.
                self.content[image["target"]] = self._archive_blob(path, image["target"])
                for child in json.loads(self.content[image["target"]]).get("manifests", []):
                    try:
                        self.content[child["digest"]] = self._archive_blob(path, child["digest"])
                    except KeyError:
                        pass
                target = image["target"]
            else:
                # docker save layout: ctr writes a manifest for the config.
                config_id = ia.select_id(image["platform_ids"], platform)
                target = self.add_blob(json.dumps({"mediaType": build.OCI_MANIFEST,
                                                   "config": {"digest": config_id}}).encode())
            for name in (self.import_names if self.import_names is not None else image["names"]):
                self.images[name] = target

    @staticmethod
    def _archive_blob(path, digest):
        with tarfile.open(path) as tar:
            member = tar.extractfile("blobs/sha256/" + build.hexa(digest))
            if member is None:
                raise KeyError(digest)
            return member.read()

    def table(self):
        lines = ["REF TYPE DIGEST SIZE PLATFORMS LABELS "]
        for name, target in sorted(self.images.items()):
            lines.append("%s %s %s 1.0 KiB linux/amd64 io.cri-containerd.image=managed " % (name, build.OCI_MANIFEST, target))
        return "\n".join(lines) + "\n"

    def __call__(self, argv):
        self.calls.append(argv)
        assert argv[:5] == [CTR, "--address", "/run/containerd/containerd.sock", "--namespace", "k8s.io"], argv
        words = argv[5:]
        if words == ["images", "ls"]:
            if self.ls_error:
                return 1, "", self.ls_error
            return 0, self.table(), ""
        if words[:2] == ["content", "get"]:
            if words[2] in self.content:
                return 0, self.content[words[2]].decode(), ""
            return 1, "", "ctr: content digest %s: not found\n" % words[2]
        if words[:2] == ["images", "import"]:
            self.load(words[2])
            return 0, "unpacking ...done\n", ""
        if words[:3] == ["images", "tag", "--force"]:
            self.images[words[4]] = self.images[words[3]]
            return 0, words[4] + "\n", ""
        raise AssertionError("unexpected ctr call %r" % argv)

    def commands(self, *prefix):
        return [argv[5:] for argv in self.calls if argv[5:5 + len(prefix)] == list(prefix)]


@pytest.fixture
def containerd():
    return FakeContainerd()


@pytest.fixture
def run(monkeypatch, containerd):
    def _run(args, check_mode=False, diff=False, ctr_missing=False):
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, argv, **kw: containerd(list(argv)))
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                            lambda self, name, required=False, opt_dirs=None: None if ctr_missing else CTR)
        monkeypatch.setattr(image_load.os, "access", lambda path, mode: True)
        monkeypatch.setattr(image_load.platform_module, "machine", lambda: "x86_64")
        return call_main(monkeypatch, image_load, args, check_mode, diff)

    return _run


def _oci_archive(tmp_path, filename, name, cmd):
    entry, blobs, config_digest, manifest_digest = build.single_image(name=name, cmd=cmd)
    path = tmp_path / filename
    path.write_bytes(build.oci_layout([entry], blobs))
    return str(path), config_digest, manifest_digest


def _docker_archive(tmp_path, filename, tags, cmd):
    layer = build.layer(cmd)
    config = build.config(layers=[layer], cmd=cmd)
    path = tmp_path / filename
    path.write_bytes(build.docker_save_legacy([(tags, config, layer)]))
    return str(path), build.digest(config)


@pytest.fixture
def archives(tmp_path):
    app, app_id, _app_manifest = _oci_archive(tmp_path, "app.tar", "docker.io/kubelab/app:1", "/app")
    tool, tool_id = _docker_archive(tmp_path, "tool.tar", ["kubelab/tool:2", "kubelab/tool:latest"], "/tool")
    return {"app": app, "app_id": app_id, "tool": tool, "tool_id": tool_id}


def test_first_run_imports_every_archive_and_checks_the_names(run, containerd, archives):
    result, failed = run({"src": [archives["app"], archives["tool"]], "remote_src": True})
    assert not failed, result.get("msg")
    assert result["changed"] is True
    assert containerd.commands("images", "import") == [
        ["images", "import", archives["app"]], ["images", "import", archives["tool"]]]
    assert result["imported"] == ["docker.io/kubelab/app:1", "docker.io/kubelab/tool:2", "docker.io/kubelab/tool:latest"]
    assert result["tagged"] == [] and result["platform"] == "linux/amd64"
    assert [(item["name"], item["id"], item["plan"], item["imported"]) for item in result["images"]] == [
        ("docker.io/kubelab/app:1", archives["app_id"], "import", True),
        ("docker.io/kubelab/tool:2", archives["tool_id"], "import", True),
        ("docker.io/kubelab/tool:latest", archives["tool_id"], "import", True),
    ]


def test_second_run_imports_nothing_and_changes_nothing(run, containerd, archives):
    run({"src": [archives["app"], archives["tool"]], "remote_src": True})
    containerd.calls.clear()
    result, failed = run({"src": [archives["app"], archives["tool"]], "remote_src": True})
    assert not failed and result["changed"] is False
    assert result["imported"] == [] and result["tagged"] == []
    assert {item["plan"] for item in result["images"]} == {"present"}
    assert containerd.commands("images", "import") == [] and containerd.commands("images", "tag") == []
    # Two targets to resolve (one per image), each once.
    assert len(containerd.commands("content", "get")) == 2


def test_image_present_by_id_under_another_name_only_gets_the_name(run, containerd, archives):
    run({"src": [archives["tool"]], "remote_src": True})
    containerd.images.pop("docker.io/kubelab/tool:latest")
    containerd.images["docker.io/kubelab/renamed:9"] = containerd.images.pop("docker.io/kubelab/tool:2")
    containerd.calls.clear()
    result, failed = run({"src": [archives["tool"]], "remote_src": True}, diff=True)
    assert not failed, result.get("msg")
    assert result["changed"] is True and result["imported"] == []
    assert result["tagged"] == ["docker.io/kubelab/tool:2", "docker.io/kubelab/tool:latest"]
    assert containerd.commands("images", "import") == []
    assert containerd.commands("images", "tag") == [
        ["images", "tag", "--force", "docker.io/kubelab/renamed:9", "docker.io/kubelab/tool:2"],
        ["images", "tag", "--force", "docker.io/kubelab/renamed:9", "docker.io/kubelab/tool:latest"],
    ]
    assert result["diff"]["before"] == ""
    assert result["diff"]["after"].splitlines() == [
        "docker.io/kubelab/tool:2 " + archives["tool_id"], "docker.io/kubelab/tool:latest " + archives["tool_id"]]


def test_a_name_pointing_at_another_image_is_imported_again(run, containerd, archives, tmp_path):
    run({"src": [archives["app"]], "remote_src": True})
    newer, newer_id, _manifest = _oci_archive(tmp_path, "app-newer.tar", "docker.io/kubelab/app:1", "/app-v2")
    containerd.calls.clear()
    result, failed = run({"src": [newer], "remote_src": True}, diff=True)
    assert not failed and result["changed"] is True
    assert containerd.commands("images", "import") == [["images", "import", newer]]
    assert result["diff"]["before"] == "docker.io/kubelab/app:1 %s\n" % archives["app_id"]
    assert result["diff"]["after"] == "docker.io/kubelab/app:1 %s\n" % newer_id


def test_check_mode_and_query_change_nothing(run, containerd, archives):
    for args, check_mode in (({"query": True}, False), ({}, True)):
        containerd.calls.clear()
        result, failed = run(dict(args, src=[archives["app"], archives["tool"]], remote_src=True), check_mode=check_mode)
        assert not failed
        assert result["changed"] is check_mode
        assert result["imported"] == ["docker.io/kubelab/app:1", "docker.io/kubelab/tool:2", "docker.io/kubelab/tool:latest"]
        assert [argv[0] for argv in containerd.commands()] == ["images"]
        assert containerd.commands("images", "import") == [] and containerd.images == {}


def test_query_with_images_only_plans_without_archives(run, containerd, archives):
    run({"src": [archives["app"]], "remote_src": True})
    images = [
        {"names": ["docker.io/kubelab/app:1"], "platform_ids": {"linux/amd64": archives["app_id"]}},
        {"names": ["docker.io/kubelab/app:stable"], "id": archives["app_id"]},
        {"names": ["docker.io/kubelab/tool:2"], "platform_ids": {"linux/amd64": archives["tool_id"]}},
    ]
    result, failed = run({"images": images, "query": True})
    assert not failed and result["changed"] is False
    assert [(item["name"], item["plan"], item["archive"]) for item in result["images"]] == [
        ("docker.io/kubelab/app:1", "present", None), ("docker.io/kubelab/app:stable", "tag", None),
        ("docker.io/kubelab/tool:2", "import", None)]
    assert result["imported"] == ["docker.io/kubelab/tool:2"] and result["tagged"] == ["docker.io/kubelab/app:stable"]


def test_query_returns_plan_errors_instead_of_failing(run, archives):
    images = [{"names": ["docker.io/kubelab/app:1"], "platform_ids": {"linux/arm64": archives["app_id"]}}]
    result, failed = run({"images": images, "query": True})
    assert not failed and result["changed"] is False
    assert result["errors"] == ["images[0] (docker.io/kubelab/app:1): no image ID for this node's platform linux/amd64"]


def test_an_image_the_node_lacks_without_archive_fails(run, containerd, archives):
    result, failed = run({"images": [{"names": ["docker.io/kubelab/tool:2"], "id": archives["tool_id"]}]})
    assert failed and "the node lacks %s (docker.io/kubelab/tool:2) and no archive in src holds it" % archives["tool_id"] in result["msg"]
    assert containerd.commands("images", "import") == []


def test_import_that_creates_other_names_is_repaired_by_a_tag(run, containerd, archives):
    containerd.import_names = ["import-2026-01-01:1"]
    result, failed = run({"src": [archives["app"]], "remote_src": True})
    assert not failed, result.get("msg")
    assert containerd.images["docker.io/kubelab/app:1"] == containerd.images["import-2026-01-01:1"]
    assert result["tagged"] == ["docker.io/kubelab/app:1"] and result["imported"] == []


def test_import_that_leaves_a_name_wrong_fails(run, containerd, archives):
    containerd.import_names = []
    result, failed = run({"src": [archives["app"]], "remote_src": True})
    assert failed and result["changed"] is True
    assert result["msg"] == "image_load: after the import: docker.io/kubelab/app:1 is absent, expected %s" % archives["app_id"]


def test_bad_archives_fail_before_anything_runs(run, containerd, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b\x08" + b"\0" * 100)
    result, failed = run({"src": [str(bad), str(tmp_path / "missing.tar")], "remote_src": True})
    assert failed and "nothing was imported" in result["msg"]
    assert "gzip-compressed" in result["msg"] and "missing.tar: cannot be read" in result["msg"]
    assert containerd.calls == []


def test_ctr_failure_is_reported(run, containerd, archives):
    containerd.ls_error = "ctr: failed to dial \"/run/containerd/containerd.sock\": connection refused\n"
    result, failed = run({"src": [archives["app"]], "remote_src": True})
    assert failed and "ctr images ls" in result["msg"] and "connection refused" in result["msg"]
    assert containerd.commands("images", "import") == []


def test_transferred_archives_move_to_dest_dir_and_are_removed(run, containerd, archives, tmp_path):
    dest = tmp_path / "node" / "images"
    result, failed = run({"src": [archives["app"]], "dest_dir": str(dest)})
    assert not failed, result.get("msg")
    assert containerd.commands("images", "import") == [["images", "import", str(dest / "app.tar")]]
    assert not os.path.exists(archives["app"]) and os.listdir(str(dest)) == []
    assert oct(os.stat(str(dest)).st_mode & 0o777) == "0o700"


def test_keep_archive_leaves_it_in_dest_dir(run, containerd, archives, tmp_path):
    dest = tmp_path / "kept"
    result, failed = run({"src": [archives["app"]], "dest_dir": str(dest), "keep_archive": True})
    assert not failed and os.listdir(str(dest)) == ["app.tar"]


def test_remote_src_archives_are_never_moved_or_deleted(run, containerd, archives, tmp_path):
    dest = tmp_path / "unused"
    result, failed = run({"src": [archives["app"]], "remote_src": True, "dest_dir": str(dest)})
    assert not failed and os.path.exists(archives["app"]) and not dest.exists()


def test_only_archives_holding_a_missing_image_are_imported(run, containerd, archives):
    run({"src": [archives["app"]], "remote_src": True})
    containerd.calls.clear()
    result, failed = run({"src": [archives["app"], archives["tool"]], "remote_src": True})
    assert not failed
    assert containerd.commands("images", "import") == [["images", "import", archives["tool"]]]
    assert [item["plan"] for item in result["images"]] == ["present", "import", "import"]


def test_multi_platform_archive_resolves_through_the_index(run, containerd, tmp_path):
    entry, blobs, ids = build.multi_platform_image("docker.io/kubelab/multi:1", [("arm64", None), ("amd64", None)])
    path = tmp_path / "multi.tar"
    path.write_bytes(build.oci_layout([entry], blobs))
    result, failed = run({"src": [str(path)], "remote_src": True})
    assert not failed, result.get("msg")
    assert result["images"][0]["id"] == ids["linux/amd64"]
    containerd.calls.clear()
    result, failed = run({"src": [str(path)], "remote_src": True})
    assert result["changed"] is False
    # index -> amd64 manifest -> config: two reads.
    assert len(containerd.commands("content", "get")) == 2


def test_check_mode_on_a_node_without_containerd_predicts_imports(run, containerd, archives):
    result, failed = run({"src": [archives["app"]], "remote_src": True}, check_mode=True, ctr_missing=True)
    assert not failed and result["changed"] is True and result["imported"] == ["docker.io/kubelab/app:1"]
    assert containerd.calls == []
    assert any("containerd cannot be asked (ctr not found)" in warning for warning in result["warnings"])
    containerd.ls_error = "ctr: failed to dial: no such file or directory\n"
    result, failed = run({"src": [archives["app"]], "remote_src": True}, check_mode=True)
    assert not failed and result["changed"] is True
    assert any("failed to dial" in warning for warning in result["warnings"])


def test_without_ctr_a_real_run_fails(run, containerd, archives):
    result, failed = run({"src": [archives["app"]], "remote_src": True}, ctr_missing=True)
    assert failed and result["msg"] == "image_load: ctr was not found on the node; install containerd first"
