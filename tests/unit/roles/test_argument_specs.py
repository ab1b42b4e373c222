"""Every role's defaults and its argument specs describe the same variables.

Each variable in defaults/main.yml must be in meta/argument_specs.yml (main entry
point) with the same default, every spec option with a default must be in
defaults/main.yml, all carry the role's name as prefix, and every default has a
comment line right above it.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROLES_DIR = pathlib.Path(__file__).resolve().parents[3] / "roles"
ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if (p / "tasks").is_dir()) if ROLES_DIR.is_dir() else []


def _load(path: pathlib.Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles_to_check():
    assert ROLES, "no roles found under roles/"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    defaults = _load(ROLES_DIR / role / "defaults" / "main.yml")
    specs = _load(ROLES_DIR / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    options = specs.get("options", {})
    assert sorted(defaults) == sorted(k for k, v in options.items() if "default" in v or not v.get("required")), (
        f"{role}: defaults/main.yml and meta/argument_specs.yml list different variables"
    )
    for name, value in defaults.items():
        assert options[name].get("default") == value, f"{role}: default of {name} differs from its spec"


@pytest.mark.parametrize("role", ROLES)
def test_variables_are_prefixed_with_the_role_name(role):
    specs = _load(ROLES_DIR / role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry in specs.values():
        for name in entry.get("options", {}):
            assert name.startswith(f"{role}_"), f"{role}: option {name} lacks the {role}_ prefix"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_has_a_comment_above_it(role):
    lines = (ROLES_DIR / role / "defaults" / "main.yml").read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[a-z_][a-z0-9_]*:", line):
            assert index > 0 and lines[index - 1].lstrip().startswith("#"), (
                f"{role}: {line.split(':')[0]} has no comment line above it"
            )
