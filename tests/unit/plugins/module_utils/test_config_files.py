"""Tests of the config_files pure helpers: input checks, parent directories, plans, diff entries."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, strategies as st

from ansible_collections.kubelab.cluster.plugins.module_utils import _config_files as cf

USERS = {"root": 0, "kube": 1001}
GROUPS = {"root": 0, "kube": 2001}
SECRET = "s3cr3t-token-value\n"


def _check(files, parents_mode="0755"):
    return cf.check_input(files, parents_mode, USERS.__getitem__, GROUPS.__getitem__)


@pytest.mark.parametrize("value,expected", [("0644", 0o644), ("600", 0o600), ("1777", 0o1777), ("0000", 0)])
def test_parse_mode_accepts_octal_strings(value, expected):
    assert cf.parse_mode(value) == (expected, None)


@pytest.mark.parametrize("value,text", [
    (420, "YAML reads an unquoted 0644 as the number 420"),
    (True, "octal string"),
    (None, "octal string"),
    ("0888", "3 or 4 digits"),
    ("64", "3 or 4 digits"),
    ("00644", "3 or 4 digits"),
    ("u=rw,g=r", "3 or 4 digits"),
    (" 644", "3 or 4 digits"),
])
def test_parse_mode_refuses_everything_else(value, text):
    mode, error = cf.parse_mode(value, "parents_mode")
    assert mode is None and text in error and error.startswith("parents_mode ")


def test_valid_input_becomes_entries_with_bytes_ids_and_defaults():
    entries, parents, errors = _check([
        {"path": "/etc/a.conf", "content": "x\u00e9\n"},
        {"path": "/etc/b.conf", "content": "", "mode": "600", "owner": "kube", "group": "2001", "secret": True},
    ], "0700")
    assert errors == [] and parents == 0o700
    first, second = entries
    assert first["content"] == b"x\xc3\xa9\n" and first["mode"] == 0o644
    assert first["uid"] is None and first["gid"] is None and first["secret"] is False
    assert second["content"] == b"" and second["mode"] == 0o600
    assert (second["uid"], second["gid"], second["secret"]) == (1001, 2001, True)
    assert second["owner"] == "kube" and second["group"] == "2001"


def test_mode_none_means_the_default():
    entries, _parents, errors = _check([{"path": "/etc/a", "content": "", "mode": None}])
    assert errors == [] and entries[0]["mode"] == 0o644


@pytest.mark.parametrize("item,text", [
    ({"path": "etc/a.conf", "content": ""}, "path must be absolute"),
    ({"path": "/etc/a/", "content": ""}, "not end with /"),
    ({"path": "/", "content": ""}, "not end with /"),
    ({"path": "", "content": ""}, "path is required"),
    ({"content": ""}, "path is required"),
    ({"path": "/etc/a"}, "content is required"),
    ({"path": "/etc/a", "content": None}, "content is required"),
    ({"path": "/etc/a", "content": "\udcff"}, "not valid UTF-8"),
    ({"path": "/etc/a", "content": "", "mode": 420}, "quoted octal string"),
    ({"path": "/etc/a", "content": "", "mode": "rw-r--r--"}, "3 or 4 digits"),
    ({"path": "/etc/a", "content": "", "owner": "nobody-here"}, "owner nobody-here does not exist"),
    ({"path": "/etc/a", "content": "", "group": "nogroup-here"}, "group nogroup-here does not exist"),
    ({"path": "/etc/a", "content": "", "owner": ""}, "owner must be a non-empty name"),
])
def test_each_bad_item_is_reported_with_its_index(item, text):
    _entries, _parents, errors = _check([{"path": "/etc/ok", "content": "fine"}, item])
    assert len(errors) == 1, errors
    assert errors[0].startswith("files[1] (") and text in errors[0]


def test_not_a_dict_and_bad_parents_mode():
    _entries, parents, errors = _check(["/etc/a"], parents_mode=755)
    assert parents is None
    assert any(error.startswith("parents_mode must be a quoted octal string") for error in errors)
    assert "files[0] must be a dict with path and content" in errors


@pytest.mark.parametrize("second", ["/etc/a.conf", "/etc//a.conf", "/etc/./a.conf", "/etc/x/../a.conf"])
def test_duplicate_paths_are_found_after_normalizing(second):
    _entries, _parents, errors = _check([{"path": "/etc/a.conf", "content": "1"}, {"path": second, "content": "2"}])
    assert errors == ["files[1] (%s): path is also given as files[0]; each path may appear once" % second]


def test_several_errors_are_all_reported_and_never_hold_content():
    _entries, _parents, errors = _check([
        {"path": "rel", "content": SECRET, "secret": True, "mode": "9"},
        {"path": "/etc/b", "content": SECRET, "owner": "ghost"},
    ])
    assert len(errors) == 3
    assert all(SECRET.strip() not in error for error in errors)


def test_duplicate_targets():
    assert cf.duplicate_targets([("/a", "/real/a"), ("/b", "/real/b")]) == []
    assert cf.duplicate_targets([("/a", "/real/a"), ("/link", "/real/a")]) == [
        "/a and /link are the same file (/real/a); each file may appear once"]


def _kinds(tree):
    return tree.get


def test_parents_to_create_top_down_up_to_the_first_existing_directory():
    kind = _kinds({"/": "dir", "/etc": "dir"})
    assert cf.parents_to_create("/etc/a/b/c.conf", kind) == (["/etc/a", "/etc/a/b"], None)
    assert cf.parents_to_create("/etc/c.conf", kind) == ([], None)
    assert cf.parents_to_create("/opt/c.conf", kind) == (["/opt"], None)


def test_parents_to_create_refuses_a_file_in_the_way():
    kind = _kinds({"/": "dir", "/etc": "dir", "/etc/a": "other"})
    assert cf.parents_to_create("/etc/a/b/c.conf", kind) == ([], "/etc/a/b/c.conf: parent /etc/a exists and is not a directory")


def _entry(content=b"a\n", mode=0o644, uid=None, gid=None):
    return {"path": "/etc/a", "content": content, "mode": mode, "uid": uid, "gid": gid, "secret": False}


def _existing(content=b"a\n", mode=0o644, uid=0, gid=0):
    return {"content": content, "mode": mode, "uid": uid, "gid": gid}


def test_plan_for_a_new_file():
    plan = cf.plan_file(_entry(content=b"", uid=5), None)
    assert plan["create"] and plan["changed"] and plan["content_changed"] and plan["owner_changed"]
    assert plan["group_changed"] is False


@pytest.mark.parametrize("entry,existing,changes", [
    (_entry(), _existing(), set()),
    (_entry(uid=0, gid=0), _existing(), set()),
    (_entry(), _existing(uid=7, gid=8), set()),
    (_entry(content=b"a"), _existing(), {"content_changed"}),
    (_entry(), _existing(content=b"A\n"), {"content_changed"}),
    (_entry(mode=0o600), _existing(), {"mode_changed"}),
    (_entry(uid=7), _existing(), {"owner_changed"}),
    (_entry(gid=7), _existing(), {"group_changed"}),
    (_entry(content=b"", mode=0o600, uid=1, gid=1), _existing(), {"content_changed", "mode_changed", "owner_changed", "group_changed"}),
])
def test_plan_for_an_existing_file(entry, existing, changes):
    plan = cf.plan_file(entry, existing)
    assert plan.pop("create") is False
    assert plan.pop("changed") is bool(changes)
    assert {key for key, value in plan.items() if value} == changes


def test_diff_entries():
    assert cf.diff_entry("/etc/a", None, b"new\n", False) == {
        "before_header": "/etc/a", "after_header": "/etc/a", "before": "", "after": "new\n"}
    assert cf.diff_entry("/etc/a", b"old\n", b"new\n", False)["before"] == "old\n"
    binary = cf.diff_entry("/etc/a", b"\xff\xfe\x00", b"new\n", False)
    assert binary["before"] == "(existing content is not UTF-8 text, 3 bytes)\n" and binary["after"] == "new\n"


def test_secret_diff_entries_are_placeholders():
    new = cf.diff_entry("/etc/k", None, SECRET.encode(), True)
    assert new == {"before_header": "/etc/k", "after_header": "/etc/k", "before": "", "after": cf.SECRET_AFTER}
    changed = cf.diff_entry("/etc/k", b"old secret\n", SECRET.encode(), True)
    assert changed["before"] == cf.SECRET_BEFORE and changed["after"] == cf.SECRET_AFTER
    assert changed["before"] != changed["after"], "the callback must show that something changed"


def test_file_result_holds_the_checksum_and_no_content():
    entry = _entry(content=SECRET.encode())
    plan = cf.plan_file(entry, _existing())
    assert cf.file_result(entry, plan) == {"path": "/etc/a", "changed": True, "content_changed": True,
                                           "checksum": hashlib.sha1(SECRET.encode()).hexdigest()}


@given(st.binary(max_size=200), st.text(alphabet="0123456789ABCDEF+/=\n", min_size=3, max_size=200), st.booleans())
def test_secret_content_never_reaches_a_diff_entry(before, secret, existed):
    entry = cf.diff_entry("/etc/s", before if existed else None, secret.encode(), True)
    assert secret not in entry["before"] and secret not in entry["after"]
