"""Helpers for the tests that render a role's own variables or templates with Ansible's templar."""

from __future__ import annotations

import pathlib

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"


def trusted(value):
    """Strings at any depth marked as templates, as Ansible trusts the role's own files."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def role_templar(role, **overrides):
    """A templar over ROLE's defaults/main.yml and vars/main.yml (vars win), then OVERRIDES."""
    loader = DataLoader()
    variables = {}
    for name in ("defaults", "vars"):
        path = ROLES / role / name / "main.yml"
        if path.exists():
            raw = loader.load_from_file(str(path)) or {}
            variables.update({k: trusted(v) for k, v in raw.items()})
    variables.update(overrides)
    return Templar(loader=loader, variables=variables)


def render(templar, expression):
    """The value of one Jinja expression."""
    return templar.template(trust_as_template("{{ %s }}" % expression))
