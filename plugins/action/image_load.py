# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kubelab.cluster.image_load.

1. Read every archive in ``src`` on the controller: tar headers and the small JSON members
   (index, manifests, configs), never the layers, so a 600 MB archive costs milliseconds.
2. Run the module on the node with ``query: true`` and the images found: it lists the
   namespace's images, reads the image IDs that matter and returns the plan and the node's platform.
3. Transfer only the archives that hold an image the node lacks (into the remote temporary
   directory), then run the module again to import them, add missing names and check the result.

Nothing is transferred, and the module runs once, when the node already has every image by ID.
Check mode stops after step 2. With ``remote_src: true`` the module does everything on the node.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.kubelab.cluster.plugins.module_utils._image_archive import (
    IMPORT,
    ArchiveError,
    argument_spec,
    collect_wanted,
    read_archive,
)

MODULE = "kubelab.cluster.image_load"
# Options the module reads on the node, passed on as the task gave them (paths are not
# expanded on the controller).
NODE_OPTIONS = ("namespace", "ctr_path", "address", "dest_dir", "keep_archive")


def _remote_name(given, taken):
    """A file name in the remote temporary directory, unique among ``taken``."""
    base = os.path.basename(given) or "archive.tar"
    name = base
    number = 1
    while name in taken:
        number += 1
        name = "%d-%s" % (number, base)
    taken.add(name)
    return name


def wire_images(archives, extra):
    """The module's ``images`` option for what the archives hold (named images only) plus ``extra``."""
    images = []
    for _path, content in archives:
        for image in content["images"]:
            if image["names"]:
                images.append({"names": list(image["names"]), "platform_ids": dict(image["platform_ids"]),
                               "target": image["target"]})
    return images + [dict((key, value) for key, value in item.items() if value is not None) for item in extra]


def archives_for(wanted, images):
    """Controller archives to transfer: for each image ID planned ``import``, the first archive holding it."""
    missing = set(item["id"] for item in images if item.get("plan") == IMPORT)
    chosen = []
    for entry in wanted:
        if entry["id"] in missing and entry["archive"] and entry["archive"] not in chosen:
            chosen.append(entry["archive"])
    return chosen


def label_archives(images, wanted, remote_to_given):
    """Give each result item the controller path of its archive instead of a remote path or null."""
    by_name = {}
    for entry in wanted:
        for name in entry["names"]:
            by_name.setdefault(name, entry["archive"])
    labelled = []
    for item in images:
        item = dict(item)
        archive = item.get("archive")
        item["archive"] = remote_to_given.get(archive) or by_name.get(item.get("name")) or archive
        labelled.append(item)
    return labelled


class ActionModule(ActionBase):
    """Read archives locally, ask the node, transfer and import only what it lacks."""

    # The remote temporary directory is created only when an archive has to go to the node.
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(argument_spec())
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=argument_spec())
        raw = self._task.args
        node_args = dict((key, raw[key]) for key in NODE_OPTIONS if raw.get(key) is not None)

        if args["remote_src"]:
            module_args = dict(node_args, src=self._raw_list(raw.get("src")), remote_src=True,
                               images=args["images"], query=args["query"])
            result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
            return result

        given_to_local = {}
        archives = []
        errors = []
        for given in args["src"]:
            try:
                local = self._find_needle("files", given)
            except AnsibleError as exc:
                errors.append("src %s: %s" % (given, exc.message))
                continue
            given_to_local[given] = local
            try:
                archives.append((given, read_archive(local)))
            except ArchiveError as exc:
                errors.append(str(exc).replace(local, given, 1) if local != given else str(exc))
        if errors:
            raise AnsibleActionFail("image_load: nothing was transferred:\n- " + "\n- ".join(errors))

        images = wire_images(archives, args["images"])
        query_args = dict(node_args, src=[], images=images, query=True)
        query = self._execute_module(module_name=MODULE, module_args=query_args, task_vars=task_vars)
        if query.get("failed"):
            result.update(query)
            return result

        platform = query.get("platform")
        wanted, plan_errors, warnings = collect_wanted(archives, args["images"], platform)
        if plan_errors:
            raise AnsibleActionFail("image_load: nothing was transferred:\n- " + "\n- ".join(plan_errors))
        to_transfer = archives_for(wanted, query.get("images", []))
        needs_change = bool(query.get("imported") or query.get("tagged"))

        if self._task.check_mode or args["query"] or not needs_change:
            result.update(query)
            predict = self._task.check_mode or args["query"]
            result.update(
                changed=needs_change and self._task.check_mode,
                images=label_archives(query.get("images", []), wanted, {}),
                transferred=to_transfer if predict else [],
            )
            if not predict:
                result.update(imported=[], tagged=[])
            self._add_warnings(result, warnings)
            return result

        remote_to_given = {}
        made_tmp = False
        try:
            if to_transfer and self._connection._shell.tmpdir is None:
                self._make_tmp_path()
                made_tmp = True
            remote = []
            taken = set()
            for given in to_transfer:
                path = self._connection._shell.join_path(self._connection._shell.tmpdir, _remote_name(given, taken))
                self._transfer_file(given_to_local[given], path)
                remote.append(path)
                remote_to_given[path] = given
            if remote:
                self._fixup_perms2([self._connection._shell.tmpdir] + remote, execute=False)
            module_args = dict(node_args, src=remote, remote_src=False, images=images, query=False)
            done = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        finally:
            if made_tmp:
                self._remove_tmp_path(self._connection._shell.tmpdir)

        # The module read the transferred copies and warned about them; the warnings about the
        # controller's files (below) say the same with the paths the task gave.
        done.pop("warnings", None)
        result.update(done)
        if "images" in done:
            result["images"] = label_archives(done["images"], wanted, remote_to_given)
        result["transferred"] = to_transfer
        self._add_warnings(result, warnings)
        return result

    @staticmethod
    def _raw_list(value):
        if value is None:
            return []
        if isinstance(value, (list, tuple)):
            return list(value)
        return [value]

    @staticmethod
    def _add_warnings(result, warnings):
        if warnings:
            result.setdefault("warnings", [])
            result["warnings"] = list(result["warnings"]) + list(warnings)
