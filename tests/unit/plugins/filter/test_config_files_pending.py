"""The pending-files filter: compares wanted config_files entries with the states node_state reported."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kubelab.cluster.plugins.filter import config_files_pending as plugin
from ansible_collections.kubelab.cluster.plugins.module_utils import _config_files as cf
from ansible_collections.kubelab.cluster.plugins.module_utils._node_state import LocalIO, gather

CONTENT = "overlay\nbr_netfilter\n"
SHA1 = hashlib.sha1(CONTENT.encode()).hexdigest()
ENTRY = {"path": "/etc/modules-load.d/kubernetes.conf", "content": CONTENT, "mode": "0644", "owner": "root", "group": "root"}


def _node_state(path):
    """The state line kubelab.cluster.node_state reports for PATH, read on this machine."""
    result = gather({"files": [str(path)]}, LocalIO(lambda argv: (127, "", "")))
    return result["files"][str(path)]


def test_filter_module_exports_its_name():
    assert set(plugin.FilterModule().filters()) == {"config_files_pending"}


def test_current_file_is_not_pending():
    assert plugin.config_files_pending([ENTRY], {ENTRY["path"]: "%s 644 root root 0 0" % SHA1}) == []


@pytest.mark.parametrize("state", [
    "absent",
    "%s 600 root root 0 0" % SHA1,                          # mode differs
    "%s 644 kube root 1001 0" % SHA1,                       # owner differs
    "%s 644 root kube 0 2001" % SHA1,                       # group differs
    "%s 644 root root 0 0" % hashlib.sha1(b"other").hexdigest(),  # content differs
    "%s 644 root root" % SHA1,                              # malformed: too short
    "",
    None,
])
def test_missing_or_different_file_is_pending(state):
    assert plugin.config_files_pending([ENTRY], {ENTRY["path"]: state}) == [ENTRY]


def test_path_the_probe_did_not_report_is_pending():
    assert plugin.config_files_pending([ENTRY], {}) == [ENTRY]
    assert plugin.config_files_pending([ENTRY], None) == [ENTRY]


def test_owner_and_group_by_id_and_unmanaged_owner():
    entry = dict(ENTRY, owner="0", group="0")
    assert cf.file_is_current(entry, "%s 644 root root 0 0" % SHA1)
    unmanaged = {"path": ENTRY["path"], "content": CONTENT}
    assert cf.file_is_current(unmanaged, "%s 644 kube kube 1001 2001" % SHA1)


def test_bad_wanted_mode_is_pending():
    assert not cf.file_is_current(dict(ENTRY, mode=420), "%s 644 root root 0 0" % SHA1)


def test_only_differing_entries_are_returned_in_order():
    other = dict(ENTRY, path="/etc/sysctl.d/99-kubernetes.conf", content="net.ipv4.ip_forward = 1\n")
    states = {ENTRY["path"]: "%s 644 root root 0 0" % SHA1, other["path"]: "absent"}
    assert plugin.config_files_pending([ENTRY, other], states) == [other]


def test_state_lines_node_state_reports_on_this_machine(tmp_path):
    """node_state's line for a file written here is sha1, mode, owner and group as the system knows them."""
    path = tmp_path / "f.conf"
    path.write_text(CONTENT)
    path.chmod(0o640)
    info = os.stat(path)
    owner, group = pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name
    line = _node_state(path)
    assert line == "%s 640 %s %s %d %d" % (SHA1, owner, group, info.st_uid, info.st_gid)
    entry = {"path": str(path), "content": CONTENT, "mode": "0640"}
    assert cf.file_is_current(entry, line)
    assert not cf.file_is_current(dict(entry, mode="0644"), line)
    assert not cf.file_is_current(dict(entry, content=CONTENT + "x"), line)


def test_filter_in_a_template():
    templar = Templar(loader=DataLoader(), variables={"files": [ENTRY], "states": {ENTRY["path"]: "absent"}})
    result = templar.template(trust_as_template("{{ files | kubelab.cluster.config_files_pending(states) | length }}"))
    assert int(result) == 1


def test_controller_state_matches_what_node_state_reports(tmp_path):
    """The file_state lookup (controller) and node_state (node) report one format the write side compares."""
    path = tmp_path / "admin.conf"
    path.write_text(CONTENT)
    path.chmod(0o600)
    assert cf.read_state(str(path)) == _node_state(path)
    entry = {"path": str(path), "content": CONTENT, "mode": "0600", "secret": True}
    assert cf.files_pending([entry], {str(path): cf.read_state(str(path))}) == []
    path.chmod(0o644)
    assert cf.files_pending([entry], {str(path): _node_state(path)}) == [entry]


def test_controller_state_of_missing_links_and_directories(tmp_path):
    target = tmp_path / "target"
    target.write_text("x")
    (tmp_path / "link").symlink_to(target)
    assert cf.read_state(str(tmp_path / "missing")) == "absent"
    assert cf.read_state(str(tmp_path / "link")) == "absent"
    assert cf.read_state(str(tmp_path)) == "absent"
    assert cf.read_state(None) == "absent"


def test_file_state_lookup_in_a_template(tmp_path):
    path = tmp_path / "f"
    path.write_text(CONTENT)
    templar = Templar(loader=DataLoader(), variables={"p": str(path)})
    result = templar.template(trust_as_template("{{ lookup('kubelab.cluster.file_state', p) }}"))
    assert result.startswith(SHA1 + " ")
