"""The container_runtime role's containerd configuration and pause-tag logic.

Renders the role's own template (templates/containerd-config.toml.j2) and variables
(vars/main.yml) with Ansible's templar, on configurations shaped like the output of
`containerd config default` for config version 2 (containerd 1.x) and 3 (containerd 2.x).
"""

from __future__ import annotations

import pathlib
import re


import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kubelab.cluster.plugins.action.check_inputs import release_facts

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "container_runtime"

# Shaped like containerd 1.6/1.7 `containerd config default` (config version 2), trimmed.
V2_DEFAULT = """disabled_plugins = []
root = "/var/lib/containerd"
version = 2

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    max_container_log_line_size = 16384
    restrict_oom_score_adj = false
    sandbox_image = "registry.k8s.io/pause:3.6"
    selinux_category_range = 1024

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = ""
            ShimCgroup = ""
            SystemdCgroup = false
"""

# Shaped like containerd 2.x `containerd config default` (config version 3), trimmed:
# the sandbox image is pinned_images.sandbox and runc options have no SystemdCgroup line.
V3_DEFAULT = """version = 3
root = '/var/lib/containerd'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = 'registry.k8s.io/pause:3.10'

  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    restrict_oom_score_adj = false

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
          runtime_type = 'io.containerd.runc.v2'
          sandboxer = 'podsandbox'

          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
            BinaryName = ''
            ShimCgroup = ''

  [plugins.'io.containerd.grpc.v1.cri']
    disable_tcp_service = true
"""


def _role_vars(**overrides):
    loader = DataLoader()
    raw = loader.load_from_file(str(ROLE / "vars" / "main.yml"))
    variables = {k: trust_as_template(v) if isinstance(v, str) else v for k, v in raw.items()}
    variables.update(
        container_runtime_kubernetes_version="1.36",
        container_runtime_image_repository="registry.k8s.io",
        container_runtime_sandbox_image="",
        container_runtime_restrict_oom_score_adj="auto",
        container_runtime_name="containerd",
        container_runtime_containerd_source="distribution",
    )
    variables.update(overrides)
    # What the role's input check (kubelab.cluster.check_inputs) returns for these settings.
    settings = {name: value for name, value in variables.items() if name.startswith("container_runtime_")}
    variables["__container_runtime_inputs"] = {"release": release_facts({"container_runtime": settings})}
    return Templar(loader=loader, variables=variables)


def _node(installed=True, oom_lower=False, default_text=""):
    """What kubelab.cluster.node_state reports to the role (registered as __container_runtime_node)."""
    return {"os": {"id": "debian", "version_id": "12", "codename": "bookworm", "pretty_name": "Debian"},
            "release": "Debian 12", "arch": "amd64", "apt_lists": 3, "oom_lower": oom_lower,
            "packages": {"containerd": {"installed": installed, "version": "1.6.20~ds1-1+b1" if installed else "",
                                        "held": False}},
            "services": {"containerd": {"enabled": "enabled", "active": "active"}},
            "files": {}, "containerd_default_config": default_text if installed else ""}


def _render_config(default_text, sandbox="mirror.example:5000/pause:3.10.1", restrict=True):
    templar = _role_vars(
        __container_runtime_node=_node(default_text=default_text),
        __container_runtime_sandbox_image=sandbox,
        __container_runtime_restrict_oom=restrict,
    )
    template = (ROLE / "templates" / "containerd-config.toml.j2").read_text(encoding="utf-8")
    return templar.template(trust_as_template(template))


@pytest.mark.parametrize("default_text", [V2_DEFAULT, V3_DEFAULT], ids=["v2", "v3"])
def test_defaults_read_after_the_install_when_the_node_had_no_containerd(default_text):
    templar = _role_vars(
        __container_runtime_node=_node(installed=False),
        __container_runtime_containerd_default_read={"stdout": default_text.rstrip("\n")},  # Ansible strips it
    )
    assert templar.template(trust_as_template("{{ __container_runtime_containerd_default_text }}")) == default_text.rstrip("\n")


def _table(text, header):
    """Lines of one TOML table (up to the next table header)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == header)
    body = []
    for line in lines[start + 1:]:
        if line.strip().startswith("["):
            break
        body.append(line.strip())
    return body


def test_v2_config_gets_systemd_cgroup_sandbox_and_oom_setting():
    out = _render_config(V2_DEFAULT)
    runc = _table(out, '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]')
    assert "SystemdCgroup = true" in runc and "SystemdCgroup = false" not in out
    cri = _table(out, '[plugins."io.containerd.grpc.v1.cri"]')
    assert 'sandbox_image = "mirror.example:5000/pause:3.10.1"' in cri
    assert "restrict_oom_score_adj = true" in cri
    assert out.count("SystemdCgroup =") == 1


def test_v3_config_uses_the_v3_key_paths():
    out = _render_config(V3_DEFAULT)
    runc = _table(out, "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]")
    assert "SystemdCgroup = true" in runc
    pinned = _table(out, "[plugins.'io.containerd.cri.v1.images'.pinned_images]")
    assert "sandbox = 'mirror.example:5000/pause:3.10.1'" in pinned
    runtime = _table(out, "[plugins.'io.containerd.cri.v1.runtime']")
    assert "restrict_oom_score_adj = true" in runtime
    # The old v2 key must not appear, and unrelated keys are untouched.
    assert "sandbox_image" not in out
    assert "sandboxer = 'podsandbox'" in out


@pytest.mark.parametrize("default_text", [V2_DEFAULT, V3_DEFAULT], ids=["v2", "v3"])
def test_restrict_oom_off_when_the_node_may_lower_it(default_text):
    out = _render_config(default_text, restrict=False)
    assert re.search(r"(?m)^\s*restrict_oom_score_adj = false$", out)


@pytest.mark.parametrize("default_text", [V2_DEFAULT, V3_DEFAULT], ids=["v2", "v3"])
def test_rendering_is_stable(default_text):
    """Same input, same output: reruns must not rewrite the file or restart containerd."""
    assert _render_config(default_text) == _render_config(default_text)
    assert _render_config(default_text).startswith("# Managed by kubelab.cluster.container_runtime")


@pytest.mark.parametrize(
    ("version", "tag"),
    [
        ("1.24", "3.7"), ("1.25.16", "3.8"), ("1.26", "3.9"), ("1.29", "3.9"), ("1.30", "3.9"),
        ("1.31.4", "3.10"), ("1.33", "3.10"), ("1.34.0", "3.10.1"), ("1.36", "3.10.1"),
        ("1.36.1", "3.10.1"),
    ],
)
def test_pause_tag_follows_kubeadm_per_minor(version, tag):
    """The tag kubeadm of each minor pulls, as the input check hands it to the role."""
    templar = _role_vars(container_runtime_kubernetes_version=version)
    assert templar.template(trust_as_template("{{ __container_runtime_pause_tag }}")) == tag


def test_sandbox_image_follows_the_image_repository_or_an_override():
    templar = _role_vars(container_runtime_image_repository="registry.internal:5000/k8s")
    assert templar.template(trust_as_template("{{ __container_runtime_sandbox_image }}")) == "registry.internal:5000/k8s/pause:3.10.1"
    templar = _role_vars(container_runtime_sandbox_image="example.org/pause:custom")
    assert templar.template(trust_as_template("{{ __container_runtime_sandbox_image }}")) == "example.org/pause:custom"


@pytest.mark.parametrize(("mode", "oom_lower", "expected"), [
    ("auto", False, True), ("auto", True, False), ("enabled", True, True), ("disabled", False, False),
])
def test_restrict_oom_decision(mode, oom_lower, expected):
    templar = _role_vars(container_runtime_restrict_oom_score_adj=mode, __container_runtime_node=_node(oom_lower=oom_lower))
    assert templar.template(trust_as_template("{{ __container_runtime_restrict_oom | bool }}")) is expected
