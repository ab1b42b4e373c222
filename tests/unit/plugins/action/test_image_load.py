"""The image_load action plugin (controller side): what it reads, asks, transfers and passes on."""

from __future__ import annotations

import posixpath
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.kubelab.cluster.plugins.action import image_load as action_module

from .. import image_archives as build

TMP = "/root/.ansible/tmp/ansible-tmp-1"


class Harness:
    """An ActionModule with the connection and the module execution replaced by recorders."""

    def __init__(self, args, responses, check_mode=False, find=None):
        task = mock.MagicMock()
        task.args = args
        task.check_mode = check_mode
        task.diff = False
        task.async_val = 0
        task.action = "kubelab.cluster.image_load"
        connection = mock.MagicMock()
        connection._shell.tmpdir = None
        connection._shell.join_path = posixpath.join
        self.plugin = action_module.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(),
                                                 mock.MagicMock(), mock.MagicMock())
        self.plugin._load_name = "kubelab.cluster.image_load"
        self.responses = list(responses)
        self.module_calls = []
        self.transfers = []
        self.removed = []
        self.made_tmp = 0

        def execute(module_name=None, module_args=None, task_vars=None, **kwargs):
            assert module_name == "kubelab.cluster.image_load"
            self.module_calls.append(module_args)
            answer = self.responses.pop(0)
            return answer(module_args) if callable(answer) else dict(answer)

        def make_tmp(remote_user=None):
            self.made_tmp += 1
            connection._shell.tmpdir = TMP
            return TMP

        def remove_tmp(path, force=False):
            self.removed.append(path)
            connection._shell.tmpdir = None

        self.plugin._execute_module = execute
        self.plugin._make_tmp_path = make_tmp
        self.plugin._remove_tmp_path = remove_tmp
        self.plugin._transfer_file = lambda local, remote: self.transfers.append((local, remote)) or remote
        self.plugin._fixup_perms2 = mock.MagicMock()
        self.plugin._find_needle = find or (lambda kind, path: path)

    def run(self):
        return self.plugin.run(task_vars={})


@pytest.fixture
def archives(tmp_path):
    made = {}
    for key, name in (("app", "docker.io/kubelab/app:1"), ("web", "docker.io/kubelab/web:2")):
        entry, blobs, config_digest, manifest_digest = build.single_image(name=name, cmd="/" + key)
        path = tmp_path / (key + ".tar")
        path.write_bytes(build.oci_layout([entry], blobs))
        made[key] = {"path": str(path), "id": config_digest, "target": manifest_digest, "name": name}
    return made


def _query(archives, plans, tagged=()):
    """The module's answer to the query: one item per image with the given plan."""
    images = []
    for key, plan in plans.items():
        images.append({"name": archives[key]["name"], "id": archives[key]["id"], "archive": None, "plan": plan,
                       "imported": plan == "import", "tagged": plan == "tag"})
    return {
        "changed": False, "platform": "linux/amd64", "images": images,
        "imported": [item["name"] for item in images if item["plan"] == "import"],
        "tagged": [item["name"] for item in images if item["plan"] == "tag"],
        "transferred": [],
    }


def test_node_with_every_image_gets_one_query_and_no_transfer(archives):
    harness = Harness({"src": [archives["app"]["path"], archives["web"]["path"]]},
                      [_query(archives, {"app": "present", "web": "present"})])
    result = harness.run()
    assert result["changed"] is False and result["transferred"] == [] and result["imported"] == []
    assert harness.transfers == [] and harness.made_tmp == 0 and len(harness.module_calls) == 1
    query = harness.module_calls[0]
    assert query["query"] is True and query["src"] == []
    assert query["images"] == [
        {"names": ["docker.io/kubelab/app:1"], "platform_ids": {"linux/amd64": archives["app"]["id"]},
         "target": archives["app"]["target"]},
        {"names": ["docker.io/kubelab/web:2"], "platform_ids": {"linux/amd64": archives["web"]["id"]},
         "target": archives["web"]["target"]},
    ]
    assert [item["archive"] for item in result["images"]] == [archives["app"]["path"], archives["web"]["path"]]


def test_only_the_archive_with_a_missing_image_is_transferred(archives):
    def imported(args):
        return {"changed": True, "platform": "linux/amd64", "imported": ["docker.io/kubelab/web:2"], "tagged": [],
                "images": [{"name": "docker.io/kubelab/web:2", "id": archives["web"]["id"], "archive": args["src"][0],
                            "plan": "import", "imported": True, "tagged": False}],
                "warnings": ["from the node"]}

    harness = Harness({"src": [archives["app"]["path"], archives["web"]["path"]], "dest_dir": "/var/lib/kubelab/images",
                       "namespace": "k8s.io"},
                      [_query(archives, {"app": "present", "web": "import"}), imported])
    result = harness.run()
    assert harness.transfers == [(archives["web"]["path"], TMP + "/web.tar")]
    second = harness.module_calls[1]
    assert second["src"] == [TMP + "/web.tar"] and second["remote_src"] is False and second["query"] is False
    assert second["dest_dir"] == "/var/lib/kubelab/images" and second["namespace"] == "k8s.io"
    assert second["images"] == harness.module_calls[0]["images"]
    harness.plugin._fixup_perms2.assert_called_once_with([TMP, TMP + "/web.tar"], execute=False)
    assert harness.removed == [TMP]
    assert result["changed"] is True and result["transferred"] == [archives["web"]["path"]]
    assert result["images"][0]["archive"] == archives["web"]["path"]
    assert "warnings" not in result


def test_check_mode_queries_only_and_reports_what_would_go(archives):
    harness = Harness({"src": [archives["app"]["path"], archives["web"]["path"]]},
                      [_query(archives, {"app": "tag", "web": "import"})], check_mode=True)
    result = harness.run()
    assert len(harness.module_calls) == 1 and harness.transfers == [] and harness.made_tmp == 0
    assert result["changed"] is True
    assert result["imported"] == ["docker.io/kubelab/web:2"] and result["tagged"] == ["docker.io/kubelab/app:1"]
    assert result["transferred"] == [archives["web"]["path"]]


def test_query_option_reports_without_change(archives):
    harness = Harness({"src": [archives["web"]["path"]], "query": True}, [_query(archives, {"web": "import"})])
    result = harness.run()
    assert len(harness.module_calls) == 1 and harness.transfers == []
    assert result["changed"] is False and result["imported"] == ["docker.io/kubelab/web:2"]
    assert result["transferred"] == [archives["web"]["path"]]


def test_tag_only_runs_the_module_again_without_transfer(archives):
    harness = Harness({"src": [archives["app"]["path"]]},
                      [_query(archives, {"app": "tag"}), {"changed": True, "tagged": ["docker.io/kubelab/app:1"],
                                                          "imported": [], "images": []}])
    result = harness.run()
    assert harness.transfers == [] and harness.made_tmp == 0 and harness.removed == []
    assert harness.module_calls[1]["src"] == [] and result["changed"] is True and result["transferred"] == []


def test_remote_src_runs_the_module_once_with_the_paths_as_given(archives):
    found = mock.MagicMock()
    harness = Harness({"src": "~/build/app.tar", "remote_src": True, "address": "/run/k3s/containerd/containerd.sock"},
                      [{"changed": False, "images": []}], find=found)
    harness.run()
    (call,) = harness.module_calls
    assert call["src"] == ["~/build/app.tar"] and call["remote_src"] is True
    assert call["address"] == "/run/k3s/containerd/containerd.sock"
    assert found.call_count == 0 and harness.transfers == []


def test_unreadable_archive_fails_before_the_node_is_asked(archives, tmp_path):
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"\x1f\x8b\x08" + b"\0" * 64)
    harness = Harness({"src": [archives["app"]["path"], str(bad)]}, [])
    with pytest.raises(AnsibleActionFail, match="(?s)nothing was transferred.*bad.tar: is gzip-compressed"):
        harness.run()
    assert harness.module_calls == []


def test_missing_src_is_reported(archives):
    def find(kind, path):
        raise action_module.AnsibleError("Could not find or access '%s'" % path)

    harness = Harness({"src": ["nope.tar"]}, [], find=find)
    with pytest.raises(AnsibleActionFail, match="src nope.tar: Could not find or access 'nope.tar'"):
        harness.run()


def test_archive_without_an_image_for_the_node_platform_fails_before_transfer(archives):
    query = _query(archives, {})
    query["platform"] = "linux/arm64"
    harness = Harness({"src": [archives["app"]["path"]]}, [query])
    with pytest.raises(AnsibleActionFail, match="app.tar: holds docker.io/kubelab/app:1 for linux/amd64 only"):
        harness.run()
    assert harness.transfers == []


def test_query_failure_is_returned(archives):
    harness = Harness({"src": [archives["app"]["path"]]}, [{"failed": True, "msg": "ctr was not found"}])
    result = harness.run()
    assert result["failed"] is True and result["msg"] == "ctr was not found" and harness.transfers == []


def test_archives_with_one_basename_get_distinct_remote_names(archives, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    entry, blobs, config_digest, _manifest = build.single_image(name="docker.io/kubelab/other:1", cmd="/other")
    (other / "app.tar").write_bytes(build.oci_layout([entry], blobs))
    query = _query(archives, {"app": "import"})
    query["images"].append({"name": "docker.io/kubelab/other:1", "id": config_digest, "archive": None, "plan": "import"})
    harness = Harness({"src": [archives["app"]["path"], str(other / "app.tar")]},
                      [query, {"changed": True, "images": [], "imported": [], "tagged": []}])
    harness.run()
    assert [remote for _local, remote in harness.transfers] == [TMP + "/app.tar", TMP + "/2-app.tar"]


def test_unknown_option_is_refused(archives):
    harness = Harness({"src": [], "bogus": 1}, [])
    with pytest.raises(AnsibleActionFail, match="bogus"):
        harness.run()


def test_wire_images_skips_unnamed_and_passes_extra_images():
    content = {"images": [{"names": [], "platform_ids": {"": "sha256:" + "a" * 64}, "target": None},
                          {"names": ["b:1"], "platform_ids": {"linux/amd64": "sha256:" + "b" * 64}, "target": None}]}
    extra = [{"names": ["c:1"], "id": "sha256:" + "c" * 64, "platform_ids": None, "target": None}]
    assert action_module.wire_images([("x.tar", content)], extra) == [
        {"names": ["b:1"], "platform_ids": {"linux/amd64": "sha256:" + "b" * 64}, "target": None},
        {"names": ["c:1"], "id": "sha256:" + "c" * 64},
    ]
