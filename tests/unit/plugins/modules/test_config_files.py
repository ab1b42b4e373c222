"""kubelab.cluster.config_files writing into tmp_path."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import stat

import pytest

from ansible_collections.kubelab.cluster.plugins.modules import config_files

SECRET = "apiVersion: v1\ntoken: Zm9vYmFyLXNlY3JldC10b2tlbg\n"
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _tree(root):
    """Every path under ``root`` with its kind, mode and content: a snapshot to compare."""
    snapshot = {}
    for current, dirs, names in os.walk(str(root)):
        for name in dirs:
            path = os.path.join(current, name)
            snapshot[path] = ("dir", _mode(path), None)
        for name in names:
            path = os.path.join(current, name)
            if os.path.islink(path):
                snapshot[path] = ("link", None, os.readlink(path))
                continue
            with open(path, "rb") as handle:
                snapshot[path] = ("file", _mode(path), handle.read())
    return snapshot


@pytest.fixture
def node(tmp_path):
    (tmp_path / "etc").mkdir(mode=0o755)
    os.chmod(str(tmp_path / "etc"), 0o711)
    return tmp_path


def _files(node):
    return [
        {"path": str(node / "etc/modules-load.d/kubernetes.conf"), "content": "overlay\nbr_netfilter\n"},
        {"path": str(node / "etc/kubelab/deep/kubelet.env"), "content": "KUBELET_EXTRA_ARGS=", "mode": "600"},
        {"path": str(node / "etc/plain.conf"), "content": "a=1\n", "owner": ME, "group": MY_GROUP},
    ]


def test_new_files_are_written_byte_exact_with_parents(node, run_module):
    files = _files(node)
    result, failed, _runner = run_module(config_files, {"files": files, "parents_mode": "0750"})
    assert not failed, result.get("msg")
    assert result["changed"] is True
    assert result["changed_paths"] == [item["path"] for item in files]
    for item in files:
        with open(item["path"], "rb") as handle:
            assert handle.read() == item["content"].encode()
    assert _mode(files[0]["path"]) == 0o644 and _mode(files[1]["path"]) == 0o600 and _mode(files[2]["path"]) == 0o644
    for parent in ("etc/modules-load.d", "etc/kubelab", "etc/kubelab/deep"):
        assert _mode(node / parent) == 0o750, parent
    assert _mode(node / "etc") == 0o711, "existing directories are left alone"
    assert result["files"] == [
        {"path": item["path"], "changed": True, "content_changed": True,
         "checksum": hashlib.sha1(item["content"].encode()).hexdigest()} for item in files]
    assert "diff" not in result
    assert not [name for name in os.listdir(str(node / "etc")) if name.startswith(".")], "no temporary file is left"


def test_rerun_is_not_changed_and_rewrites_nothing(node, run_module):
    files = _files(node)
    run_module(config_files, {"files": files})
    inodes = [os.stat(item["path"]).st_ino for item in files]
    before = _tree(node)
    result, failed, _runner = run_module(config_files, {"files": files})
    assert not failed and result["changed"] is False and result["changed_paths"] == []
    assert [item["changed"] for item in result["files"]] == [False, False, False]
    assert [os.stat(item["path"]).st_ino for item in files] == inodes
    assert _tree(node) == before


def test_content_change_replaces_the_file_atomically_and_only_that_file(node, run_module):
    files = _files(node)
    run_module(config_files, {"files": files})
    target = files[1]["path"]
    inode = os.stat(target).st_ino
    untouched = os.stat(files[0]["path"])
    files[1]["content"] = "KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n"
    result, failed, _runner = run_module(config_files, {"files": files})
    assert not failed and result["changed"] is True and result["changed_paths"] == [target]
    assert [(item["changed"], item["content_changed"]) for item in result["files"]] == [(False, False), (True, True), (False, False)]
    with open(target, "rb") as handle:
        assert handle.read() == b"KUBELET_EXTRA_ARGS=--node-ip=10.0.0.5\n"
    assert os.stat(target).st_ino != inode, "a new inode: written to a temporary file and renamed"
    assert _mode(target) == 0o600
    assert os.stat(files[0]["path"]).st_mtime_ns == untouched.st_mtime_ns
    assert sorted(os.listdir(os.path.dirname(target))) == ["kubelet.env"], "no temporary file is left"


def test_mode_only_change_keeps_the_content_and_inode(node, run_module):
    path = node / "etc/a.conf"
    path.write_bytes(b"same\n")
    os.chmod(str(path), 0o666)
    inode = os.stat(str(path)).st_ino
    result, failed, _runner = run_module(config_files, {"files": [{"path": str(path), "content": "same\n", "mode": "0640"}]}, diff=True)
    assert not failed and result["changed"] is True and result["changed_paths"] == [str(path)]
    assert result["files"][0]["content_changed"] is False
    assert result["diff"] == [], "the diff lists content changes only"
    assert _mode(path) == 0o640 and os.stat(str(path)).st_ino == inode and path.read_bytes() == b"same\n"


def test_owner_and_group_given_as_numeric_ids_are_compared(node, run_module):
    path = node / "etc/a.conf"
    path.write_bytes(b"x")
    os.chmod(str(path), 0o644)
    item = {"path": str(path), "content": "x", "owner": str(os.getuid()), "group": str(os.getgid())}
    result, failed, _runner = run_module(config_files, {"files": [item]})
    assert not failed and result["changed"] is False


def test_existing_file_keeps_its_mode_when_the_default_matches_and_changes_when_not(node, run_module):
    path = node / "etc/a.conf"
    path.write_bytes(b"x")
    os.chmod(str(path), 0o600)
    result, failed, _runner = run_module(config_files, {"files": [{"path": str(path), "content": "x"}]})
    assert not failed and result["changed"] is True and _mode(path) == 0o644


def test_check_mode_reports_the_same_and_touches_nothing(node, run_module):
    files = _files(node)
    existing = node / "etc/plain.conf"
    existing.write_bytes(b"old\n")
    before = _tree(node)
    result, failed, _runner = run_module(config_files, {"files": files}, check_mode=True)
    assert not failed and result["changed"] is True
    assert result["changed_paths"] == [item["path"] for item in files]
    assert _tree(node) == before, "no file and no parent directory was created or changed"
    real, failed, _runner = run_module(config_files, {"files": files})
    assert real["changed_paths"] == result["changed_paths"] and real["files"] == result["files"]


def test_check_mode_on_a_converged_node_is_not_changed(node, run_module):
    files = _files(node)
    run_module(config_files, {"files": files})
    result, failed, _runner = run_module(config_files, {"files": files}, check_mode=True, diff=True)
    assert not failed and result["changed"] is False and result["diff"] == []


def test_diff_is_a_list_of_content_changes(node, run_module):
    changed = node / "etc/changed.conf"
    changed.write_bytes(b"old\n")
    binary = node / "etc/binary.conf"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    same = node / "etc/same.conf"
    same.write_bytes(b"same\n")
    os.chmod(str(same), 0o644)
    new = node / "etc/new/new.conf"
    files = [
        {"path": str(same), "content": "same\n"},
        {"path": str(new), "content": "fresh\n"},
        {"path": str(changed), "content": "new\n"},
        {"path": str(binary), "content": "text now\n"},
    ]
    result, failed, _runner = run_module(config_files, {"files": files}, check_mode=True, diff=True)
    assert not failed
    assert result["diff"] == [
        {"before_header": str(new), "after_header": str(new), "before": "", "after": "fresh\n"},
        {"before_header": str(changed), "after_header": str(changed), "before": "old\n", "after": "new\n"},
        {"before_header": str(binary), "after_header": str(binary),
         "before": "(existing content is not UTF-8 text, 4 bytes)\n", "after": "text now\n"},
    ]


def test_secret_content_is_kept_out_of_diff_and_results(node, run_module):
    old = node / "etc/admin.conf"
    old.write_text("old secret value\n")
    files = [
        {"path": str(node / "etc/kubelab/token.conf"), "content": SECRET, "mode": "0600", "secret": True},
        {"path": str(old), "content": SECRET, "mode": "0600", "secret": True},
        {"path": str(node / "etc/public.conf"), "content": "public\n"},
    ]
    result, failed, _runner = run_module(config_files, {"files": files, "parents_mode": "0700"}, diff=True)
    assert not failed and result["changed_paths"] == [item["path"] for item in files]
    assert SECRET.splitlines()[1] not in repr(result) and "old secret value" not in repr(result)
    assert [(entry["before"], entry["after"]) for entry in result["diff"]] == [
        ("", "(new secret content hidden)\n"),
        ("(secret content hidden)\n", "(new secret content hidden)\n"),
        ("", "public\n"),
    ]
    assert (node / "etc/kubelab/token.conf").read_text() == SECRET and _mode(node / "etc/kubelab/token.conf") == 0o600
    assert _mode(node / "etc/kubelab") == 0o700


def test_a_new_file_is_never_readable_by_others_before_its_mode_is_set(node, run_module, monkeypatch):
    seen = []
    real_set_mode = config_files.AnsibleModule.set_mode_if_different

    def _spy(self, path, mode, changed, diff=None, expand=True):
        seen.append(_mode(path))
        return real_set_mode(self, path, mode, changed, diff, expand)

    monkeypatch.setattr(config_files.AnsibleModule, "set_mode_if_different", _spy)
    path = node / "etc/key.conf"
    result, failed, _runner = run_module(config_files, {"files": [{"path": str(path), "content": SECRET, "mode": "0600"}]})
    assert not failed and seen == [0o600] and _mode(path) == 0o600
    assert os.umask(0o022) == 0o022, "the umask is restored"


def test_a_symbolic_link_is_followed(node, run_module):
    real = node / "etc/real.conf"
    real.write_bytes(b"old\n")
    link = node / "etc/link.conf"
    link.symlink_to(real)
    result, failed, _runner = run_module(config_files, {"files": [{"path": str(link), "content": "new\n"}]})
    assert not failed and result["changed_paths"] == [str(link)]
    assert link.is_symlink() and real.read_bytes() == b"new\n"


def test_empty_file_list_is_not_changed(node, run_module):
    result, failed, _runner = run_module(config_files, {"files": []})
    assert not failed and result == dict(result, changed=False, changed_paths=[], files=[])


BAD_INPUT = [
    ({"path": "etc/relative.conf", "content": "x"}, "path must be absolute"),
    ({"path": "{node}/etc/ok.conf", "content": "again"}, "path is also given as files[0]"),
    ({"path": "{node}/etc//ok.conf", "content": "again"}, "path is also given as files[0]"),
    ({"path": "{node}/etc/dir", "content": "x"}, "is an existing directory"),
    ({"path": "{node}/etc/file.conf/below.conf", "content": "x"}, "exists and is not a directory"),
    ({"path": "{node}/etc/alias.conf", "content": "x"}, "are the same file"),
    ({"path": "{node}/etc/b.conf", "content": "x", "mode": 420}, "quoted octal string"),
    ({"path": "{node}/etc/b.conf", "content": "x", "mode": "0944"}, "3 or 4 digits"),
    ({"path": "{node}/etc/b.conf", "content": "x", "mode": "u+rw"}, "3 or 4 digits"),
    ({"path": "{node}/etc/b.conf", "content": "x", "owner": "kubelab-no-such-user"}, "owner kubelab-no-such-user does not exist"),
    ({"path": "{node}/etc/b.conf", "content": "x", "group": "kubelab-no-such-group"}, "group kubelab-no-such-group does not exist"),
]


@pytest.mark.parametrize("item,text", BAD_INPUT)
def test_bad_input_fails_and_writes_nothing(node, run_module, item, text):
    (node / "etc/dir").mkdir()
    (node / "etc/file.conf").write_bytes(b"f")
    (node / "etc/alias.conf").symlink_to(node / "etc/ok.conf")
    before = _tree(node)
    bad = dict(item, path=item["path"].format(node=node))
    files = [{"path": str(node / "etc/ok.conf"), "content": "fine\n"},
             {"path": str(node / "etc/new/dir/also.conf"), "content": "fine\n"}, bad]
    result, failed, _runner = run_module(config_files, {"files": files})
    assert failed and text in result["msg"], result["msg"]
    assert result["msg"].startswith("config_files: nothing was written")
    assert _tree(node) == before, "nothing was written, no directory was created"


def test_bad_parents_mode_fails(node, run_module):
    result, failed, _runner = run_module(config_files, {"files": [{"path": str(node / "etc/x/a"), "content": ""}],
                                                        "parents_mode": 755})
    assert failed and "parents_mode must be a quoted octal string" in result["msg"]
    assert not (node / "etc/x").exists()


def test_a_failed_write_reports_what_was_already_written(node, run_module, monkeypatch):
    files = [{"path": str(node / "etc/first.conf"), "content": "1\n"}, {"path": str(node / "etc/second.conf"), "content": "2\n"}]
    real_move = config_files.AnsibleModule.atomic_move

    def _move(self, src, dest, unsafe_writes=False, keep_dest_attrs=True):
        if dest.endswith("second.conf"):
            raise Exception("Could not replace %r" % dest)  # pylint: disable=broad-exception-raised
        return real_move(self, src, dest, unsafe_writes, keep_dest_attrs)

    monkeypatch.setattr(config_files.AnsibleModule, "atomic_move", _move)
    result, failed, _runner = run_module(config_files, {"files": files})
    assert failed and "writing %s failed" % files[1]["path"] in result["msg"]
    assert result["changed"] is True and result["changed_paths"] == [files[0]["path"]]
    assert sorted(os.listdir(str(node / "etc"))) == ["first.conf"], "the temporary file was removed"


def test_secret_content_is_masked_in_what_the_module_returns(node, run_module, monkeypatch):
    captured = {}
    real_init = config_files.AnsibleModule.__init__

    def _init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        captured["module"] = self

    monkeypatch.setattr(config_files.AnsibleModule, "__init__", _init)
    files = [{"path": str(node / "etc/s.conf"), "content": SECRET, "secret": True},
             {"path": str(node / "etc/p.conf"), "content": "public\n"}]
    run_module(config_files, {"files": files})
    assert captured["module"].no_log_values == {SECRET}
