#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: minikube_image
short_description: Load image archives into a minikube profile, only those it lacks
version_added: 0.2.0
description:
  - Lists the profile's images (C(minikube image ls --format json)), reads each archive's image IDs and names from
    its tar headers and small JSON members (never the layers), and runs C(minikube image load) only for archives
    holding an image the profile lacks by ID or by name. A profile that has every image is not changed.
  - The registry-free way of the walkthrough's Minikube chapter; the pods use the images with C(imagePullPolicy)
    V(Never) or V(IfNotPresent).
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: Lists the images and reports the archives it would load.
  diff_mode:
    support: none
options:
  profile:
    description: The minikube profile.
    type: str
    default: minikube
  src:
    description: Image archives on the host (C(docker save) or OCI layout, uncompressed).
    type: list
    elements: path
    required: true
  minikube_path:
    description: Name or absolute path of the minikube binary.
    type: str
    default: minikube
  minikube_home:
    description: C(MINIKUBE_HOME) for every command; empty for minikube's default.
    type: str
    default: ""
seealso:
  - module: kubelab.cluster.minikube
  - module: kubelab.cluster.image_load
"""

EXAMPLES = r"""
- name: Load the web app's image into the developer's profile
  kubelab.cluster.minikube_image:
    profile: minikube
    src: [/home/developer/images/web-app-1.0.tar]
  become: true
  become_user: developer
"""

RETURN = r"""
loaded:
  description: The archives loaded (in check mode, the ones that would be), each with the names the profile lacked.
  returned: always
  type: list
  elements: dict
  sample: [{archive: /home/developer/images/web-app-1.0.tar, names: [docker.io/library/web-app:1.0]}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.kubelab.cluster.plugins.module_utils._image_archive import (
    ArchiveError,
    ReferenceFormatError,
    node_platform,
    normalize_reference,
    read_archive,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._minikube import (
    MinikubeOutputError,
    images_to_load,
    parse_images,
)


def full_name(name):
    """A name the profile lists, in containerd's full form where it is a reference (``<none>:<none>`` stays as it is)."""
    try:
        return normalize_reference(name)
    except ReferenceFormatError:
        return name


def main():
    module = AnsibleModule(
        argument_spec={
            "profile": {"type": "str", "default": "minikube"},
            "src": {"type": "list", "elements": "path", "required": True},
            "minikube_path": {"type": "str", "default": "minikube"},
            "minikube_home": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = params["minikube_path"]
    found = path if os.path.sep in path else module.get_bin_path(path)
    if not found or not os.path.exists(found):
        module.fail_json(msg="minikube was not found at %s; install it first (the kubelab.cluster.minikube role does)" % path)
    environ = {"MINIKUBE_HOME": params["minikube_home"]} if params["minikube_home"] else {}

    def images():
        args = [found, "image", "ls", "--format", "json", "--profile", params["profile"]]
        rc, out, err = module.run_command(args, environ_update=environ)
        if rc != 0:
            module.fail_json(msg="minikube image ls failed (rc %s; does the profile %s run?): %s"
                                 % (rc, params["profile"], (err or out).strip()), rc=rc, stdout=out, stderr=err)
        try:
            return parse_images(out)
        except MinikubeOutputError as exc:
            module.fail_json(msg=str(exc))

    try:
        archives = [(archive, read_archive(archive)) for archive in params["src"]]
    except ArchiveError as exc:
        module.fail_json(msg=str(exc))
    platform = node_platform(os.uname()[4])
    plan = images_to_load(archives, images(), platform, full_name)
    loaded = [{"archive": archive, "names": names} for archive, names in plan]
    if plan and not module.check_mode:
        for archive, dummy in plan:
            rc, out, err = module.run_command([found, "image", "load", archive, "--profile", params["profile"]],
                                              environ_update=environ)
            if rc != 0:
                module.fail_json(msg="minikube image load %s failed (rc %s): %s" % (archive, rc, (err or out).strip()),
                                 changed=True, loaded=loaded)
        left = images_to_load(archives, images(), platform, full_name)
        if left:
            module.fail_json(msg="minikube image load ran, yet the profile still lacks %s"
                                 % ", ".join(name for dummy, names in left for name in names), changed=True, loaded=loaded)
    module.exit_json(changed=bool(plan), loaded=loaded)


if __name__ == "__main__":
    main()
