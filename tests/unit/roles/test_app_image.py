"""The app_image role: its archive names, and every bad image entry refused before a build or copy.

The refusals run the role in one `ansible-playbook --check` on the controller alone (the
implicit localhost, no node): each case must fail in the role's validation with its message,
and the build and load tasks must not have started.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from role_vars import render, role_templar  # pylint: disable=import-error

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
CONTEXT = str(REPO_ROOT / "examples" / "webapp")


def test_archive_names_follow_image_names():
    templar = role_templar(
        "app_image",
        app_image_archive_dir="/srv/images",
        app_image_images=[
            {"name": "docker.io/library/web-app:1.0", "build": {"context": CONTEXT}},
            {"name": "registry.example:5000/team/api@sha256:" + "a" * 64, "build": {"context": CONTEXT}},
            {"name": "docker.io/library/given:1", "archive": "/tmp/given.tar"},
        ],
    )
    assert render(templar, "__app_image_archives") == [
        "/tmp/given.tar",
        "/srv/images/docker.io_library_web-app_1.0.tar",
        "/srv/images/registry.example_5000_team_api_sha256_" + "a" * 64 + ".tar",
    ]


CASES = {
    # ctr stores a bare name as import-<date>:1.0; without a tag the pods would ask for :latest.
    "short_name": ([{"name": "web-app:1.0", "build": {"context": CONTEXT}}], "app_image_images[0].name = 'web-app:1.0'"),
    "no_tag": ([{"name": "docker.io/library/web-app", "build": {"context": CONTEXT}}],
               "app_image_images[0].name = 'docker.io/library/web-app'"),
    "upper_case": ([{"name": "docker.io/library/Web-App:1.0", "build": {"context": CONTEXT}}], "is not a full image reference"),
    "both_sources": ([{"name": "docker.io/library/a:1", "build": {"context": CONTEXT}, "archive": "/etc/hostname"}],
                     "needs exactly one of archive and build"),
    "no_source": ([{"name": "docker.io/library/a:1"}], "needs exactly one of archive and build"),
    "archive_missing": ([{"name": "docker.io/library/a:1", "archive": "/nonexistent/a.tar"}],
                        "app_image_images[0].archive = '/nonexistent/a.tar' (as localhost sees it): is not a file on the controller"),
    "context_missing": ([{"name": "docker.io/library/a:1", "build": {"context": "/nonexistent"}}],
                        "app_image_images[0].build.context = '/nonexistent' (as localhost sees it): is not a directory"),
    "duplicate": ([{"name": "docker.io/library/a:1", "archive": "/etc/hostname"}] * 2, "the same image name is listed twice"),
}


def _playbook(tmp_path):
    plays = []
    for case, (images, _needle) in CASES.items():
        plays.append({
            "name": case,
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [{"block": [{"ansible.builtin.import_role": {"name": "kubelab.cluster.app_image"},
                                  "vars": {"app_image_images": images, "app_image_archive_dir": str(tmp_path / "images")}}],
                       "rescue": [{"ansible.builtin.set_fact": {"refused": {
                           "task": "{{ ansible_failed_task.name }}", "msg": "{{ ansible_failed_result.msg }}"}}},
                           {"ansible.builtin.copy": {"dest": str(tmp_path / (case + ".json")), "content": "{{ refused | to_json }}",
                                                     "mode": "0600"}, "check_mode": False}]}],
        })
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("app_image")
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts: {}\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="default")
    proc = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), "--check", str(_playbook(tmp_path))],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = {case: json.loads((tmp_path / (case + ".json")).read_text()) for case in CASES if (tmp_path / (case + ".json")).exists()}
    return found, tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_entry_refused_before_any_build(refusals, case):
    found, tmp_path = refusals
    assert case in found, "%s was not refused" % case
    assert found[case]["task"] == "Refuse bad inputs before any change"
    assert CASES[case][1] in found[case]["msg"]
    assert not (tmp_path / "images").exists(), "a build step ran"
