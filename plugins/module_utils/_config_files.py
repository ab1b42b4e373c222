# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the config_files module (Python standard library only).

Checking the file list, finding the parent directories ``mkdir -p`` would create,
deciding per file what has to change and building the diff entries. Nothing here
touches the file system: the module passes in what it found on the node (as small
callables or plain values) and the unit tests call these functions directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import grp
import hashlib
import os
import posixpath
import pwd
import re
import stat

DEFAULT_MODE = "0644"
DEFAULT_PARENTS_MODE = "0755"
SECRET_BEFORE = "(secret content hidden)\n"
SECRET_AFTER = "(new secret content hidden)\n"
NOT_TEXT = "(existing content is not UTF-8 text, %d bytes)\n"
MODE_RE = re.compile(r"^[0-7]{3,4}$")
ID_RE = re.compile(r"^[0-9]+$")


def parse_mode(value, what="mode"):
    """``(mode as int, None)`` for an octal string like ``"0644"`` or ``"600"``, else ``(None, error)``."""
    if isinstance(value, bool) or not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            return None, ("%s must be a quoted octal string like \"0644\", got the number %d "
                          "(YAML reads an unquoted 0644 as the number 420)" % (what, value))
        return None, "%s must be an octal string like \"0644\", got %r" % (what, value)
    if not MODE_RE.match(value):
        return None, "%s must be an octal string of 3 or 4 digits like \"0644\" or \"600\", got %r" % (what, value)
    return int(value, 8), None


def _resolve_id(value, what, lookup):
    """``(id, None)`` for a numeric id or a known name, ``(None, error)`` otherwise; ``(None, None)`` when not given."""
    if value is None:
        return None, None
    if not isinstance(value, str) or not value.strip():
        return None, "%s must be a non-empty name or numeric id, got %r" % (what, value)
    if ID_RE.match(value):
        return int(value), None
    try:
        return lookup(value), None
    except KeyError:
        return None, "%s %s does not exist on the node" % (what, value)


def normalize_path(path):
    """The path with duplicate and trailing-dot components folded, for duplicate detection."""
    return posixpath.normpath(path)


def check_input(files, parents_mode, lookup_user, lookup_group):
    """Check the ``files`` option and ``parents_mode`` before anything is touched.

    ``lookup_user`` / ``lookup_group`` map a name to its numeric id and raise ``KeyError``
    for unknown names (``pwd.getpwnam(name).pw_uid`` on the node); numeric ids are used
    as they are. Returns ``(entries, parents_mode_int, errors)``: ``entries`` holds one
    dict per input item (``index``, ``path``, ``content`` as bytes, ``mode`` int, ``owner``,
    ``group`` (as given), ``uid``, ``gid`` (int or None), ``secret``); ``errors`` is a list
    of messages, empty when everything is usable. Error messages never hold content.
    """
    errors = []
    entries = []
    parents, error = parse_mode(parents_mode, "parents_mode")
    if error:
        errors.append(error)
    seen = {}
    for index, item in enumerate(files or []):
        if not isinstance(item, dict):
            errors.append("files[%d] must be a dict with path and content" % index)
            continue
        path = item.get("path")
        label = "files[%d] (%s)" % (index, path)
        problems = []
        if not isinstance(path, str) or not path:
            problems.append("path is required")
            path = None
        elif not posixpath.isabs(path):
            problems.append("path must be absolute")
        elif path.endswith("/") or normalize_path(path) == "/":
            problems.append("path must name a file, not end with /")
        else:
            key = normalize_path(path)
            if key in seen:
                problems.append("path is also given as files[%d]; each path may appear once" % seen[key])
            else:
                seen[key] = index
        content = item.get("content")
        data = None
        if not isinstance(content, str):
            problems.append("content is required and must be a string")
        else:
            try:
                data = content.encode("utf-8")
            except UnicodeEncodeError:
                problems.append("content is not valid UTF-8 text")
        mode_value = item.get("mode")
        mode, error = parse_mode(DEFAULT_MODE if mode_value is None else mode_value)
        if error:
            problems.append(error)
        uid, error = _resolve_id(item.get("owner"), "owner", lookup_user)
        if error:
            problems.append(error)
        gid, error = _resolve_id(item.get("group"), "group", lookup_group)
        if error:
            problems.append(error)
        errors.extend("%s: %s" % (label, problem) for problem in problems)
        entries.append({
            "index": index,
            "path": path,
            "content": data,
            "mode": mode,
            "owner": item.get("owner"),
            "group": item.get("group"),
            "uid": uid,
            "gid": gid,
            "secret": bool(item.get("secret")),
        })
    return entries, parents, errors


def duplicate_targets(pairs):
    """Errors for input paths that lead to the same file (``pairs`` = ``[(path, resolved target)]``)."""
    errors = []
    first = {}
    for path, target in pairs:
        if target in first:
            errors.append("%s and %s are the same file (%s); each file may appear once" % (first[target], path, target))
        else:
            first[target] = path
    return errors


def parents_to_create(path, kind):
    """The missing parent directories of ``path``, top-down, and an error or None.

    ``kind(p)`` tells what is at ``p``: ``"dir"``, ``"other"`` (exists, not a directory)
    or ``None`` (nothing). The walk stops at the first existing ancestor, which must be a
    directory (following symbolic links).
    """
    missing = []
    parent = posixpath.dirname(normalize_path(path))
    while True:
        found = kind(parent)
        if found == "dir":
            break
        if found is not None:
            return [], "%s: parent %s exists and is not a directory" % (path, parent)
        missing.append(parent)
        up = posixpath.dirname(parent)
        if up == parent:
            break
        parent = up
    missing.reverse()
    return missing, None


def plan_file(entry, existing):
    """What has to change for one file.

    ``existing`` is ``None`` when the file does not exist, else a dict with ``content``
    (bytes), ``mode`` (permission bits, int), ``uid`` and ``gid``. Owner and group are
    compared only when the entry gives them (``entry["uid"]`` / ``entry["gid"]`` not None).
    """
    if existing is None:
        return {"create": True, "content_changed": True, "mode_changed": True,
                "owner_changed": entry["uid"] is not None, "group_changed": entry["gid"] is not None,
                "changed": True}
    plan = {
        "create": False,
        "content_changed": existing["content"] != entry["content"],
        "mode_changed": existing["mode"] != entry["mode"],
        "owner_changed": entry["uid"] is not None and existing["uid"] != entry["uid"],
        "group_changed": entry["gid"] is not None and existing["gid"] != entry["gid"],
    }
    plan["changed"] = any(plan.values())
    return plan


def checksum(data):
    """SHA-1 hex digest of ``data`` (bytes), the way Ansible's copy module reports checksums."""
    return hashlib.sha1(data).hexdigest()


def _as_text(data):
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT % len(data)


def diff_entry(path, before, after, secret):
    """One item of the module's ``diff`` list; ``before`` is None for a new file. Secrets become placeholders."""
    if secret:
        return {"before_header": path, "after_header": path,
                "before": "" if before is None else SECRET_BEFORE, "after": SECRET_AFTER}
    return {"before_header": path, "after_header": path, "before": _as_text(before), "after": _as_text(after)}


def file_result(entry, plan):
    """The item of the ``files`` return value for one file (never the content)."""
    return {"path": entry["path"], "changed": plan["changed"], "content_changed": plan["content_changed"],
            "checksum": checksum(entry["content"])}


def parse_state(state):
    """A node file state line ``"<sha1> <octal mode> <owner> <group> <uid> <gid>"`` as a dict, or None.

    This is what ``sha1sum`` and ``stat -c '%a %U %G %u %g'`` print for a regular file; anything
    else (``"absent"``, a short or malformed line) is None: the file has to be written.
    """
    if not isinstance(state, str):
        return None
    parts = state.split()
    if len(parts) != 6 or not re.match(r"^[0-9a-f]{40}$", parts[0]) or not MODE_RE.match(parts[1].zfill(3)):
        return None
    if not (ID_RE.match(parts[4]) and ID_RE.match(parts[5])):
        return None
    return {"sha1": parts[0], "mode": int(parts[1], 8), "owner": (parts[2], parts[4]), "group": (parts[3], parts[5])}


def file_is_current(entry, state):
    """True when a file read as ``state`` (see parse_state) already is what ``entry`` asks for.

    ``entry`` is one item of the module's ``files`` option (path, content, mode, owner, group).
    Anything unknown or unparsable counts as not current, so a caller that skips the module for
    current files never skips a needed write.
    """
    current = parse_state(state)
    if current is None or not isinstance(entry, dict) or not isinstance(entry.get("content"), str):
        return False
    mode, error = parse_mode(entry.get("mode", DEFAULT_MODE))
    if error or mode != current["mode"]:
        return False
    if checksum(entry["content"].encode("utf-8")) != current["sha1"]:
        return False
    for key in ("owner", "group"):
        wanted = entry.get(key)
        if wanted is not None and str(wanted) not in current[key]:
            return False
    return True


def files_pending(files, states):
    """The entries of ``files`` that are not current according to ``states`` (path -> state line)."""
    states = states if isinstance(states, dict) else {}
    return [entry for entry in files or [] if not file_is_current(entry, states.get(entry.get("path") if isinstance(entry, dict) else None))]


def read_state(path):
    """The state line of ``path`` on this machine, as the roles' probes print it, or ``"absent"``.

    ``"<sha1> <mode> <owner> <group> <uid> <gid>"`` for a regular file (mode in octal without
    leading zeros, like ``stat -c %a``; owner and group by name, or the id when unnamed);
    ``"absent"`` for a missing path, a symbolic link, anything but a regular file, or an
    unreadable file.
    """
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return "absent"
        with open(path, "rb") as handle:
            digest = checksum(handle.read())
    except (OSError, TypeError, ValueError):
        return "absent"
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = str(info.st_uid)
    try:
        group = grp.getgrgid(info.st_gid).gr_name
    except KeyError:
        group = str(info.st_gid)
    return "%s %o %s %s %d %d" % (digest, stat.S_IMODE(info.st_mode), owner, group, info.st_uid, info.st_gid)
