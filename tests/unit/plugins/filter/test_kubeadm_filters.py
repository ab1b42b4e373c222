"""The filter plugins wrap the parsers and work inside a real Jinja template."""

from __future__ import annotations

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.kubelab.cluster.plugins.filter import kubeadm_join_command, kubeadm_preflight

from ..conftest import read_fixture


def test_filter_modules_export_their_names():
    assert set(kubeadm_join_command.FilterModule().filters()) == {"kubeadm_join_command"}
    assert set(kubeadm_preflight.FilterModule().filters()) == {"kubeadm_preflight"}


def test_join_command_filter():
    result = kubeadm_join_command.kubeadm_join_command(read_fixture("init_v1.34_worker_join.txt"))
    assert result["api_server_endpoint"] == "192.168.3.100:6443"
    assert kubeadm_join_command.kubeadm_join_command("nothing") is None
    assert kubeadm_join_command.kubeadm_join_command(None) is None


def test_preflight_filter():
    result = kubeadm_preflight.kubeadm_preflight(read_fixture("preflight_v1.21_oneline_swap.txt"))
    assert result["failed"] is True and result["errors"][0]["check"] == "Swap"
    assert kubeadm_preflight.kubeadm_preflight(42) == {"errors": [], "warnings": [], "failed": False}


@pytest.mark.parametrize("expression,expected", [
    ("{{ (text | kubelab.cluster.kubeadm_join_command).api_server_endpoint }}", "k8s-control.pve1.lan:6443"),
    ("{{ (text | kubelab.cluster.kubeadm_preflight).failed }}", False),
])
def test_filters_resolve_by_fqcn_in_templates(expression, expected):
    templar = Templar(loader=DataLoader(), variables={"text": read_fixture("init_v1.31_upload_certs.txt")})
    assert templar.template(trust_as_template(expression)) == expected
