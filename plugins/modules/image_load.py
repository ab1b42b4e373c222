#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: image_load
short_description: Import container image archives into containerd, only the images the node lacks
version_added: 0.1.0
description:
  - Makes the images of image archives (C(docker save) output or OCI image layout tar files) present in a containerd
    namespace (C(k8s.io), the one the kubelet uses), for air-gapped nodes and images built without a registry
    (pods whose C(imagePullPolicy) is C(Never)).
  - An image counts as present when the node has it by image ID (the config digest, what C(crictl images) shows as
    IMAGE ID) under every name the archive gives it. The names are the ones C(ctr images import) would create
    (the C(io.containerd.image.name) annotation of an OCI index entry, else a full
    C(org.opencontainers.image.ref.name); C(docker save) tags normalized, V(app:1) is V(docker.io/library/app:1)).
  - The action plugin reads each archive on the controller, from the tar headers and the small JSON members only
    (layer blobs are skipped, nothing is hashed but the manifests and configs), then asks the node which images its
    containerd has. An archive is transferred only when it holds an image the node lacks; an image the node has
    by ID under another name only gets the missing name (C(ctr images tag)); a node that has everything gets no
    transfer and no import.
  - Archives are imported with C(ctr images import) (the node's default platform, unpacked into the default
    snapshotter); afterwards every name is checked to point at the expected image ID.
  - Compressed archives are refused, since C(ctr images import) of containerd 1.6 reads plain tar only.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - kubelab.cluster.attributes
  - kubelab.cluster.attributes.action
attributes:
  check_mode:
    support: full
    details: Only the node's image list is read; RV(imported) and RV(tagged) tell what would be imported or tagged.
  diff_mode:
    support: full
    details: C(before) and C(after) list C(<name> <image ID>) for every name of the archives' images.
options:
  src:
    description:
      - Image archives (uncompressed tar files) to make present.
      - Paths on the controller, found like the O(ansible.builtin.copy#module:src) of M(ansible.builtin.copy)
        (relative paths in a role's C(files/) directory), unless O(remote_src=true).
    type: list
    elements: path
    default: []
  remote_src:
    description:
      - V(true) means the archives in O(src) are already on the node (for example built there). They are read and
        imported in place and never moved or deleted.
    type: bool
    default: false
  dest_dir:
    description:
      - Directory on the node that receives the archives to import; created with mode C(0700) when missing.
      - Archives are transferred into the task's remote temporary directory and moved here (a rename on the same
        file system) before the import.
      - Without it the archives are imported from the remote temporary directory.
      - Ignored with O(remote_src=true).
    type: path
  keep_archive:
    description:
      - Leave the imported archives in O(dest_dir). By default they are deleted after the import.
    type: bool
    default: false
  namespace:
    description: containerd namespace the images go to. The kubelet (CRI) uses C(k8s.io).
    type: str
    default: k8s.io
  ctr_path:
    description: Name or absolute path of the C(ctr) binary on the node.
    type: str
    default: ctr
  address:
    description: containerd's socket (C(ctr --address)).
    type: path
    default: /run/containerd/containerd.sock
  images:
    description:
      - Images that must be present, given by ID instead of by an archive. The action plugin fills this from the
        archives it read on the controller; a task rarely needs it.
      - An image the node lacks entirely makes the task fail, since no archive is there to import it from; one the
        node has under another name gets the missing names.
    type: list
    elements: dict
    default: []
    suboptions:
      names:
        description: Full image names, as containerd stores them (V(docker.io/library/app:1)).
        type: list
        elements: str
        required: true
      id:
        description: Image ID (config digest, C(sha256:...)), for any platform.
        type: str
      platform_ids:
        description:
          - Image ID per platform (V(linux/amd64), V(linux/arm64), V(linux/arm/v7)); the node's platform picks one.
          - The key V("") fits any platform.
        type: dict
      target:
        description: Digest of the image's manifest or index, if known; only used to find a present image faster.
        type: str
  query:
    description:
      - Only read the node's images and report the plan, like check mode. The action plugin uses it for its first
        look at the node; in a task use check mode instead.
    type: bool
    default: false
notes:
  - Requires containerd with C(ctr) on the node (containerd 1.6 and 1.7 are tested; the C(ctr images ls),
    C(ctr content get), C(ctr images import) and C(ctr images tag --force) commands are used).
  - The image ID of a node image is read from its manifest (C(ctr content get)), not from its name, so an image
    re-tagged or imported under another name counts; CRI's C(sha256:<ID>) names are used as a hint only.
  - ctr imports the node's platform only; an archive that holds no image for the node's platform fails before
    anything is transferred.
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Side-load the application images built without a registry
  kubelab.cluster.image_load:
    src:
      - images/shop-frontend.tar
      - images/shop-backend.tar
    dest_dir: /var/lib/kubelab/images
  register: kubelab_images

- name: Restart the deployment only when an image was imported
  ansible.builtin.command: kubectl --namespace shop rollout restart deployment/shop
  when: kubelab_images.imported | length > 0
  changed_when: true

- name: Import archives built on the node itself
  kubelab.cluster.image_load:
    src: /var/tmp/build/app.tar
    remote_src: true
"""

RETURN = r"""
images:
  description: One item per image name of the archives (and of O(images)), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Image name as containerd stores it.
      type: str
      returned: always
      sample: docker.io/kubelab/side-load-test:1
    id:
      description: Image ID (config digest) for the node's platform.
      type: str
      returned: always
      sample: sha256:9a3fa81dd05e3ace401a4146310a8a4cfb30de5b545921cc3fbcf91d0efa68c5
    archive:
      description: The archive holding the image (as given in O(src)), or null for an O(images) entry.
      type: str
      returned: always
      sample: images/shop-frontend.tar
    plan:
      description: What the name needed when the task started, V(present), V(tag) or V(import).
      type: str
      returned: always
      sample: present
    imported:
      description: Whether an import created or changed the name (in check mode, whether it would).
      type: bool
      returned: always
      sample: false
    tagged:
      description: Whether C(ctr images tag) created or changed the name (in check mode, whether it would).
      type: bool
      returned: always
      sample: false
imported:
  description: Names that were (in check mode, would be) imported from an archive.
  returned: always
  type: list
  elements: str
  sample:
    - docker.io/kubelab/side-load-test:1
tagged:
  description: Names that were (would be) added to an image the node already had.
  returned: always
  type: list
  elements: str
  sample: []
transferred:
  description: The archives (controller paths) sent to the node; empty when the node had every image.
  returned: always
  type: list
  elements: str
  sample: []
errors:
  description: With O(query=true), why the images cannot be planned (the action plugin fails with them).
  returned: when O(query=true) and the images conflict or do not fit the node's platform
  type: list
  elements: str
  sample: []
platform:
  description: The node's platform, which picks the image of multi-platform archives.
  returned: always
  type: str
  sample: linux/amd64
"""

import os
import platform as platform_module
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils._image_archive import (
    IMPORT,
    PRESENT,
    TAG,
    ArchiveError,
    NodeImages,
    archives_to_import,
    argument_spec,
    collect_wanted,
    diff_lines,
    manifest_step,
    node_platform,
    parse_images_list,
    plan_images,
    read_archive,
    result_images,
)

# An index points at a manifest, a manifest at the config: two steps, one spare.
MAX_STEPS = 3


class Ctr:
    """ctr on the node, for one address and namespace."""

    def __init__(self, module, path, address, namespace, platform):
        self.module = module
        self.base = [path, "--address", address, "--namespace", namespace]
        self.platform = platform
        self.ids = {}

    def run(self, *args):
        return self.module.run_command(self.base + list(args), environ_update={"LC_ALL": "C"})

    def fail(self, what, rc, out, err, **extra):
        self.module.fail_json(msg="image_load: %s failed (rc %s): %s" % (what, rc, (err or out).strip()),
                              rc=rc, stdout=out, stderr=err, cmd=" ".join(self.base), **extra)

    def images(self, tolerate=False):
        """NodeImages of the namespace; target IDs already read are reused (they are content addressed).

        With ``tolerate`` (check mode) a containerd that does not answer gives ``(None, reason)``.
        """
        rc, out, err = self.run("images", "ls")
        if rc != 0 and tolerate:
            return None, (err or out).strip()
        if rc != 0:
            self.fail("ctr images ls (is containerd running at this address?)", rc, out, err)
        try:
            rows = parse_images_list(out)
        except ValueError as exc:
            self.module.fail_json(msg="image_load: %s" % exc, stdout=out)
        return NodeImages(rows, self.resolve), None

    def resolve(self, target):
        if target in self.ids:
            return self.ids[target]
        digest = target
        for dummy in range(MAX_STEPS):
            rc, out, dummy_err = self.run("content", "get", digest)
            if rc != 0:
                return None  # content missing (a half-removed image): not present
            step = manifest_step(out, self.platform)
            if step is None:
                return None
            kind, digest = step
            if kind == "config":
                self.ids[target] = digest
                return digest
        return None


def _move_into(module, paths, dest_dir):
    """Move transferred archives into dest_dir; returns the new paths (in order)."""
    if not os.path.isdir(dest_dir):
        os.makedirs(dest_dir, 0o700)
    moved = {}
    for path in paths:
        target = os.path.join(dest_dir, os.path.basename(path))
        shutil.move(path, target)
        moved[path] = target
    return moved


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    params = module.params
    platform = node_platform(platform_module.machine())
    ctr_path = params["ctr_path"]
    found = ctr_path if os.path.sep in ctr_path else module.get_bin_path(ctr_path)
    usable = bool(found) and os.access(found, os.X_OK)
    if not usable and not module.check_mode:
        module.fail_json(msg="image_load: %s was not found on the node; install containerd first" % ctr_path)
    ctr = Ctr(module, found or ctr_path, params["address"], params["namespace"], platform)

    archives = []
    errors = []
    for path in params["src"]:
        try:
            archives.append((path, read_archive(path)))
        except ArchiveError as exc:
            errors.append(str(exc))
    wanted, plan_errors, warnings = collect_wanted(archives, params["images"], platform)
    if params["query"] and not errors and plan_errors:
        # The action plugin reports these itself, naming the controller's archives.
        module.exit_json(changed=False, platform=platform, errors=plan_errors, images=[], imported=[], tagged=[],
                         transferred=[])
    errors.extend(plan_errors)
    if errors:
        module.fail_json(msg="image_load: nothing was imported:\n- " + "\n- ".join(errors))
    for warning in warnings:
        module.warn(warning)

    node, reason = ctr.images(tolerate=module.check_mode) if usable else (None, "%s not found" % ctr_path)
    if node is None:
        # Check mode on a node whose containerd is not installed or started yet (the role's
        # install steps are skipped in check mode): nothing can be there.
        module.warn("image_load: containerd cannot be asked (%s); in check mode every image counts as missing" % reason)
        node = NodeImages([], lambda target: None)
    plans = plan_images(wanted, node)
    result = dict(changed=False, platform=platform, imported=[], tagged=[], transferred=[])
    if module._diff:
        before, after = diff_lines(plans)
        result["diff"] = dict(before=before, after=after,
                              before_header="containerd images (%s)" % params["namespace"],
                              after_header="containerd images (%s)" % params["namespace"])
    would_import = [name for entry in plans if entry["plan"] == IMPORT for name in entry["missing"]]
    would_tag = [name for entry in plans if entry["plan"] == TAG for name in entry["missing"]]
    if params["query"] or module.check_mode:
        result.update(changed=bool(would_import or would_tag) and not params["query"],
                      imported=would_import, tagged=would_tag,
                      images=result_images(plans, would_import, would_tag))
        module.exit_json(**result)

    lacking = [entry for entry in plans if entry["plan"] == IMPORT and not entry["archive"]]
    if lacking:
        module.fail_json(msg="image_load: the node lacks %s and no archive in src holds it" % "; ".join(
            "%s (%s)" % (entry["id"], ", ".join(entry["names"])) for entry in lacking),
            images=result_images(plans))

    to_import = archives_to_import(plans)
    moved = {}
    done_imports = []
    try:
        if to_import and params["dest_dir"] and not params["remote_src"]:
            try:
                moved = _move_into(module, to_import, params["dest_dir"])
            except (IOError, OSError) as exc:
                module.fail_json(msg="image_load: cannot put the archives into %s: %s" % (params["dest_dir"], exc))
        for archive in to_import:
            path = moved.get(archive, archive)
            rc, out, err = ctr.run("images", "import", path)
            if rc != 0:
                ctr.fail("ctr images import %s" % archive, rc, out, err, changed=bool(done_imports))
            done_imports.append(archive)

        tagged = []
        node = ctr.images()[0] if done_imports else None
        for entry in plans:
            if entry["plan"] == PRESENT:
                continue
            if node is not None:
                lacking_names = [name for name in entry["names"] if node.id_of(name) != entry["id"]]
            else:
                lacking_names = list(entry["missing"])
            if not lacking_names:
                continue
            source = entry["source"] or (node.find(entry["id"], entry.get("target")) if node else None)
            if not source:
                continue  # reported by the check below
            for name in lacking_names:
                rc, out, err = ctr.run("images", "tag", "--force", source, name)
                if rc != 0:
                    ctr.fail("ctr images tag %s %s" % (source, name), rc, out, err, changed=True)
                tagged.append(name)

        # Every name must now point at its image ID.
        node = ctr.images()[0]
        wrong = []
        for entry in plans:
            for name in entry["names"]:
                now = node.id_of(name)
                if now != entry["id"]:
                    wrong.append("%s is %s, expected %s" % (name, now or "absent", entry["id"]))
        imported = [name for entry in plans if entry["archive"] in done_imports
                    for name in entry["missing"] if name not in tagged]
        result.update(changed=bool(done_imports or tagged), imported=imported, tagged=tagged,
                      images=result_images(plans, imported, tagged))
        if wrong:
            result["msg"] = "image_load: after the import: " + "; ".join(wrong)
            module.fail_json(**result)
    finally:
        if not params["keep_archive"]:
            for path in moved.values():
                if os.path.exists(path):
                    os.unlink(path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
