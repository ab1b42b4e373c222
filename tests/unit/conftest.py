"""Make `ansible_collections.kubelab.cluster` importable from this checkout.

`make setup` links the checkout at .venv/collections/ansible_collections/kubelab/cluster;
the collection loader from ansible-core then resolves our plugins and the bundled
collections of the `ansible` package the same way ansible-playbook does.
"""

from __future__ import annotations

import pathlib

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS_PATH = REPO_ROOT / ".venv" / "collections"

_AnsibleCollectionFinder(paths=[str(COLLECTIONS_PATH)], scan_sys_paths=True)._install()
