"""Shared helpers for the plugin tests: reading the kubeadm output fixtures.

tests/unit/conftest.py makes ``ansible_collections.kubelab.cluster`` importable.
"""

from __future__ import annotations

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = REPO_ROOT / "tests" / "unit" / "fixtures" / "kubeadm"


def read_fixture(name: str) -> str:
    """A fixture's kubeadm text without its leading ``#`` header line(s)."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "".join(lines)


@pytest.fixture
def fixture_text():
    """Callable returning a fixture's text (header stripped)."""
    return read_fixture
