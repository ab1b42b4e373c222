#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: config_files
short_description: Write several small files on a node in one module execution
version_added: 0.1.0
description:
  - Writes every file of O(files) with the given content, mode and optionally owner and group, in one module run
    instead of one M(ansible.builtin.copy) task per file.
  - Contents are passed as strings (render templates on the controller with C(lookup('ansible.builtin.template', ...)))
    and written byte for byte; no newline is added.
  - A file changes when its content, its mode, or (only when given) its owner or group differ. Content is replaced
    atomically (a temporary file in the same directory, then a rename); mode, owner and group are set afterwards.
  - Missing parent directories are created like C(mkdir -p) with mode O(parents_mode), owned by the user the module
    runs as (root with become). Existing directories are left alone.
  - Bad input (relative or duplicate paths, a path that is a directory, a malformed mode, an unknown owner or group)
    fails before anything on the node is touched.
  - Symbolic links at a path are followed; the file they point to is written.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written and no directory is created; RV(ignore:changed) and RV(changed_paths) tell what would change.
  diff_mode:
    support: full
    details:
      - Returns C(diff) as a list with one item per file whose content changes (C(before_header), C(after_header),
        C(before), C(after)).
      - Files with O(files[].secret=true) are listed with placeholders instead of their content; an existing file that
        is not UTF-8 text is shown as a placeholder.
options:
  files:
    description:
      - The files to write, in order. Each path may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path of the file on the node.
          - Must not be an existing directory.
        type: str
        required: true
      content:
        description:
          - The whole content of the file, written exactly as given (UTF-8).
        type: str
        required: true
      mode:
        description:
          - Permissions as a quoted octal string of 3 or 4 digits, for example V("0644") or V("600").
          - An unquoted YAML number is refused, because YAML reads C(0644) as the number 420.
        type: raw
        default: "0644"
      owner:
        description:
          - User name or numeric id that should own the file.
          - When not given the owner is not managed; new files belong to the user the module runs as.
        type: str
      group:
        description:
          - Group name or numeric id of the file.
          - When not given the group is not managed.
        type: str
      secret:
        description:
          - Keep the content out of the diff and of the result.
          - Also set C(no_log) on the task, so the module arguments are not logged on the node or shown with C(-vvv).
        type: bool
        default: false
  parents_mode:
    description:
      - Permissions of the parent directories the module has to create, as a quoted octal string.
    type: raw
    default: "0755"
notes:
  - RV(files[].checksum) is reported for secret files too (SHA-1 of the content), the way M(ansible.builtin.copy) does.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
"""

EXAMPLES = r"""
- name: Write the role's configuration files
  kubelab.cluster.config_files:
    files:
      - path: /etc/modules-load.d/kubernetes.conf
        content: "overlay\nbr_netfilter\n"
      - path: /etc/sysctl.d/99-kubernetes.conf
        content: "{{ lookup('ansible.builtin.template', 'sysctl.conf.j2') }}"
        owner: root
        group: root
  register: kubelab_config_files

- name: Reload sysctl settings only when their file changed
  ansible.builtin.command: sysctl --system
  when: "'/etc/sysctl.d/99-kubernetes.conf' in kubelab_config_files.changed_paths"
  changed_when: true

- name: Write a credential file, content hidden from diff and result
  kubelab.cluster.config_files:
    files:
      - path: /etc/kubelab/registry-password
        content: "{{ kubelab_registry_password }}"
        mode: "0600"
        secret: true
    parents_mode: "0700"
  no_log: true
"""

RETURN = r"""
changed_paths:
  description: Paths (as given) of the files that changed, or would change in check mode, in input order.
  returned: always
  type: list
  elements: str
  sample:
    - /etc/modules-load.d/kubernetes.conf
files:
  description: One item per input file, in input order; never holds the content.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The path as given.
      type: str
      returned: always
      sample: /etc/modules-load.d/kubernetes.conf
    changed:
      description: Whether content, mode, owner or group changed (or would change).
      type: bool
      returned: always
      sample: true
    content_changed:
      description: Whether the content changed (or would change); true for a new file.
      type: bool
      returned: always
      sample: true
    checksum:
      description: SHA-1 of the wanted content.
      type: str
      returned: always
      sample: 5b2b3bba7a85ce8b3ed5a4f11d0e7d8d1d74dd2a
"""

import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils._config_files import (
    DEFAULT_MODE,
    DEFAULT_PARENTS_MODE,
    check_input,
    diff_entry,
    duplicate_targets,
    file_result,
    parents_to_create,
    plan_file,
)


class WriteError(Exception):
    """Replacing a file failed (atomic_move raises plain exceptions)."""


def _uid(name):
    return pwd.getpwnam(name).pw_uid


def _gid(name):
    return grp.getgrnam(name).gr_gid


def _kind(path):
    if os.path.isdir(path):
        return "dir"
    if os.path.lexists(path):
        return "other"
    return None


def _inspect(entry):
    """``(existing, parents, error)`` for one valid entry; reads the node, changes nothing."""
    target = entry["target"]
    try:
        info = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        parents, error = parents_to_create(target, _kind)
        return None, parents, error
    except OSError as exc:
        return None, [], "%s: cannot be read: %s" % (entry["path"], exc.strerror or exc)
    if stat.S_ISDIR(info.st_mode):
        return None, [], "%s: is an existing directory" % entry["path"]
    if not stat.S_ISREG(info.st_mode):
        return None, [], "%s: exists and is not a regular file" % entry["path"]
    try:
        with open(target, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        return None, [], "%s: cannot be read: %s" % (entry["path"], exc.strerror or exc)
    existing = {"content": content, "mode": stat.S_IMODE(info.st_mode), "uid": info.st_uid, "gid": info.st_gid}
    return existing, [], None


def _write(module, entry, parents, parents_mode):
    """Create the missing parents, then replace the content atomically."""
    for parent in parents:
        if not os.path.isdir(parent):
            os.mkdir(parent, parents_mode)
            os.chmod(parent, parents_mode)
    directory, name = os.path.split(entry["target"])
    handle, tmp = tempfile.mkstemp(prefix=".%s." % name, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(entry["content"])
            stream.flush()
            os.fsync(stream.fileno())
        # A new file gets 0666 & ~umask from atomic_move until its mode is set; keep it private meanwhile.
        umask = os.umask(0o077)
        try:
            module.atomic_move(tmp, entry["target"], unsafe_writes=False)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            raise WriteError(str(exc))
        finally:
            os.umask(umask)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def _apply(module, entry, plan, parents, parents_mode):
    if plan["content_changed"]:
        _write(module, entry, parents, parents_mode)
    target = entry["target"]
    # Owner and group first: chown may clear set-id bits that the mode sets.
    if entry["uid"] is not None:
        module.set_owner_if_different(target, str(entry["uid"]), False, expand=False)
    if entry["gid"] is not None:
        module.set_group_if_different(target, str(entry["gid"]), False, expand=False)
    module.set_mode_if_different(target, entry["mode"], False, expand=False)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=dict(
                path=dict(type="str", required=True),
                content=dict(type="str", required=True),
                mode=dict(type="raw", default=DEFAULT_MODE),
                owner=dict(type="str"),
                group=dict(type="str"),
                secret=dict(type="bool", default=False),
            )),
            parents_mode=dict(type="raw", default=DEFAULT_PARENTS_MODE),
        ),
        supports_check_mode=True,
    )
    files = module.params["files"]
    # Secret contents are masked wherever they would show up in what the module returns (invocation included).
    for item in files:
        if item.get("secret") and isinstance(item.get("content"), str) and item["content"].strip():
            module.no_log_values.add(item["content"])

    entries, parents_mode, errors = check_input(files, module.params["parents_mode"], _uid, _gid)
    if not errors:
        for entry in entries:
            entry["target"] = os.path.realpath(entry["path"])
        errors = duplicate_targets([(entry["path"], entry["target"]) for entry in entries])
    found = []
    if not errors:
        for entry in entries:
            existing, parents, error = _inspect(entry)
            if error:
                errors.append(error)
            found.append((existing, parents))
    if errors:
        module.fail_json(msg="config_files: nothing was written; fix the input:\n- " + "\n- ".join(errors))

    plans = [plan_file(entry, existing) for entry, (existing, _parents) in zip(entries, found)]
    changed_paths = [entry["path"] for entry, plan in zip(entries, plans) if plan["changed"]]
    result = dict(
        changed=bool(changed_paths),
        changed_paths=changed_paths,
        files=[file_result(entry, plan) for entry, plan in zip(entries, plans)],
    )
    if module._diff:
        result["diff"] = [
            diff_entry(entry["path"], existing["content"] if existing else None, entry["content"], entry["secret"])
            for entry, plan, (existing, _parents) in zip(entries, plans, found) if plan["content_changed"]
        ]
    if module.check_mode:
        module.exit_json(**result)

    done = []
    for entry, plan, (_existing, parents) in zip(entries, plans, found):
        if not plan["changed"]:
            continue
        try:
            _apply(module, entry, plan, parents, parents_mode)
        except (OSError, WriteError) as exc:
            module.fail_json(msg="config_files: writing %s failed: %s" % (entry["path"], exc),
                             changed=bool(done), changed_paths=done)
        done.append(entry["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
