"""The node containers' capabilities have one home, tests/images/node-capabilities: the YAML that cannot read it
(Molecule's platforms, the local lab's playbook) must list exactly the same, or a scenario's nodes differ from the
lab's and a bug shows in one only."""

from __future__ import annotations

import pathlib

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
HOME = [line for line in (REPO_ROOT / "tests" / "images" / "node-capabilities").read_text().split("\n")
        if line and not line.startswith("#")]
MOLECULE_FILES = sorted(REPO_ROOT.glob("molecule/*/molecule.yml")) + [REPO_ROOT / ".config" / "molecule" / "config.yml"]


class _Loader(yaml.SafeLoader):
    """YAML with Ansible's !unsafe strings."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _node_platforms(path):
    """The platforms that boot systemd: node containers (a package repository or a proxy container is none)."""
    return [p for p in yaml.load(path.read_text(), Loader=_Loader).get("platforms") or []
            if "systemd" in p.get("command", "") or "kubelab-node-entrypoint" in p.get("command", "")]


def test_home_lists_every_capability_but_the_four_a_host_may_lack():
    assert len(HOME) == len(set(HOME)) and HOME == sorted(HOME)
    assert not {"SYS_RESOURCE", "BPF", "PERFMON", "CHECKPOINT_RESTORE"} & set(HOME)
    assert {"SYS_ADMIN", "NET_ADMIN", "SYS_MODULE"} <= set(HOME)


def test_some_scenarios_have_node_platforms():
    # The scenarios that inherit config.yml's platform, or whose nodes the Proxmox VE double makes, have none.
    assert len([path for path in MOLECULE_FILES if _node_platforms(path)]) >= 6


@pytest.mark.parametrize("path", MOLECULE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_molecule_node_platforms_list_the_home(path):
    for platform in _node_platforms(path):
        assert platform.get("capabilities") == HOME, f"{path}: platform {platform['name']}"


def test_local_lab_lists_the_home():
    plays = yaml.load((REPO_ROOT / "playbooks" / "local_lab.yml").read_text(), Loader=_Loader)
    found = [play["vars"]["__kubelab_lab_capabilities"] for play in plays if "__kubelab_lab_capabilities" in play.get("vars", {})]
    assert found == [HOME]
