"""The pending-files filter: compares wanted config_files entries with the state a probe printed."""

from __future__ import annotations

import hashlib
import json
import pathlib
import re
import subprocess

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kubelab.cluster.plugins.filter import config_files_pending as plugin
from ansible_collections.kubelab.cluster.plugins.module_utils import config_files as cf

CONTENT = "overlay\nbr_netfilter\n"
SHA1 = hashlib.sha1(CONTENT.encode()).hexdigest()
REPO = pathlib.Path(__file__).resolve().parents[4]
ENTRY = {"path": "/etc/modules-load.d/kubernetes.conf", "content": CONTENT, "mode": "0644", "owner": "root", "group": "root"}


def _probe_state(path):
    """The state line the roles' probes print for PATH, from their own file_state function, run here."""
    source = (REPO / "roles" / "prereqs" / "templates" / "probe.sh.j2").read_text(encoding="utf-8")
    function = re.search(r"(?ms)^file_state\(\) \{$.*?^\}$", source).group(0)
    printed = subprocess.run(["bash", "-c", function + '\nfile_state "$1"', "state", str(path)],
                             check=True, capture_output=True, text=True).stdout
    return json.loads("{%s}" % printed)[str(path)]


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


def test_state_lines_the_probe_prints_on_this_machine(tmp_path):
    """The probe's real `sha1sum` + `stat` output for a file written here parses and matches."""
    path = tmp_path / "f.conf"
    path.write_text(CONTENT)
    path.chmod(0o640)
    line = _probe_state(path)
    entry = {"path": str(path), "content": CONTENT, "mode": "0640"}
    assert cf.file_is_current(entry, line)
    assert not cf.file_is_current(dict(entry, mode="0644"), line)


def test_filter_in_a_template():
    templar = Templar(loader=DataLoader(), variables={"files": [ENTRY], "states": {ENTRY["path"]: "absent"}})
    result = templar.template(trust_as_template("{{ files | kubelab.cluster.config_files_pending(states) | length }}"))
    assert int(result) == 1


def test_controller_state_matches_the_probe_format(tmp_path):
    """read_state (the file_state lookup) prints what the node probes print for the same file."""
    path = tmp_path / "admin.conf"
    path.write_text(CONTENT)
    path.chmod(0o600)
    probe = _probe_state(path)
    assert cf.read_state(str(path)) == probe
    entry = {"path": str(path), "content": CONTENT, "mode": "0600", "secret": True}
    assert cf.files_pending([entry], {str(path): cf.read_state(str(path))}) == []
    path.chmod(0o644)
    assert cf.files_pending([entry], {str(path): cf.read_state(str(path))}) == [entry]


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
