"""Table-driven tests of the kubeadm output parsers on real kubeadm text (tests/unit/fixtures/kubeadm)."""

from __future__ import annotations

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _kubeadm_output as out

from ..conftest import FIXTURES, read_fixture


def test_every_fixture_names_its_kubeadm_version_and_source():
    for path in sorted(FIXTURES.iterdir()):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), path.name
        assert "kubeadm" in first or "openssl" in first, path.name
        assert "source:" in first or "not kubeadm output" in first or "test data" in first, path.name


# fixture, failed, [(check, text in message)], [warning checks]
PREFLIGHT_CASES = [
    ("preflight_v1.12_ipvs_old_form.txt", True,
     [("RequiredIPVSKernelModulesAvailable", "modules.builtin: No such file or directory\n)"),
      ("Swap", "running with swap on is not supported")],
     ["SystemVerification", "Hostname", "Hostname"]),
    ("preflight_v1.20_seed_proxmox.txt", True,
     [("Swap", "Please disable swap"),
      ("SystemVerification", "Module configs not found in directory /lib/modules/5.4.78-2-pve\\n")],
     ["SystemVerification"]),
    ("preflight_v1.21_oneline_swap.txt", True, [("Swap", "Please disable swap")], []),
    ("preflight_v1.22_swap_kernel_config.txt", True,
     [("Swap", "Please disable swap"),
      ("SystemVerification", 'unable to load kernel module: "configs"')],
     ["Firewalld", "Service-Docker", "Service-Kubelet"]),
    ("preflight_v1.28_cri_wrapped_message.txt", True,
     [("CRI", 'unknown service runtime.v1.RuntimeService"\n, error: exit status 1')],
     ["Firewalld", "FileExisting-tc"]),
    ("preflight_v1.34_imagepull_multiline_form.txt", True,
     [("ImagePull", "coredns:v1.12.1: not found")], []),
    ("preflight_v1.35_ip_forward.txt", True,
     [("FileContent--proc-sys-net-ipv4-ip_forward", "contents are not set to 1")],
     ["ContainerRuntimeVersion"]),
    ("preflight_v1.35_cgroup_v1_skipped.txt", False, [], ["SystemVerification", "Service-kubelet"]),
    ("preflight_v1.35_join_not_root.txt", True, [("IsPrivilegedUser", "user is not running as root")], []),
    ("preflight_v1.37_cri_tabs.txt", True,
     [("CRI", "could not connect to the container runtime"),
      ("ContainerRuntimeVersion", "could not connect to the container runtime")], []),
    ("init_v1.34_worker_join.txt", False, [], []),
    ("join_v1.34_worker_success_warning.txt", False, [],
     ["SystemVerification"]),
    ("join_error_ca_not_pinned_v1.21.txt", False, [], []),
]


@pytest.mark.parametrize("name,failed,errors,warnings", PREFLIGHT_CASES, ids=[case[0] for case in PREFLIGHT_CASES])
def test_parse_preflight_on_real_output(name, failed, errors, warnings):
    result = out.parse_preflight(read_fixture(name))
    assert result["failed"] is failed
    assert [item["check"] for item in result["errors"]] == [check for check, _text in errors]
    for item, (_check, text) in zip(result["errors"], errors):
        assert text in item["message"]
    assert [item["check"] for item in result["warnings"]] == warnings
    for item in result["errors"] + result["warnings"]:
        assert set(item) == {"check", "message", "hint"}
        assert item["hint"] and "\n" not in item["hint"]


def test_cgroup_v1_verification_points_at_the_allow_variables():
    result = out.parse_preflight(read_fixture("preflight_v1.35_cgroup_v1_skipped.txt"))
    hint = result["warnings"][0]["hint"]
    assert "control_plane_allow_cgroup_v1" in hint and "cgroups v2" in hint


def test_wrapped_message_does_not_swallow_following_lines():
    result = out.parse_preflight(read_fixture("preflight_v1.22_swap_kernel_config.txt"))
    # the system verification dump between the warnings belongs to no item
    assert all("KERNEL_VERSION" not in item["message"] for item in result["warnings"] + result["errors"])
    assert result["warnings"][-1]["message"] == "no supported init system detected, skipping checking for services"


@pytest.mark.parametrize("check,message,expected", [
    ("Swap", "running with swap on is not supported", "prereqs_disable_swap: true"),
    ("Swap", "", "swap to 0"),
    ("SystemVerification", 'failed to parse kernel config: unable to load kernel module: "configs"', "linux-image-$(uname -r)"),
    ("SystemVerification", "this Docker version is not on the list of validated versions: 20.10.1", "containerd"),
    ("SystemVerification", "missing required cgroups: memory", "cgroup"),
    ("FileContent--proc-sys-net-ipv4-ip_forward", "", "net.ipv4.ip_forward = 1"),
    ("FileContent--proc-sys-net-bridge-bridge-nf-call-iptables", "", "br_netfilter"),
    ("CRI", "", "containerd"),
    ("ContainerRuntimeVersion", "", "containerd"),
    ("Port-6443", "Port 6443 is in use", "port 6443"),
    ("Port-10250", "Port 10250 is in use", "port 10250"),
    ("DirAvailable--var-lib-etcd", "/var/lib/etcd is not empty", "reset.yml"),
    ("FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml", "already exists", "reset.yml"),
    ("NumCPU", "the number of available CPUs 1 is less than the required 2", "prereqs_min_cpus_control_plane"),
    ("Mem", "the system RAM (969 MB) is less than the minimum 1700 MB", "prereqs_min_memory_mb_control_plane"),
    ("FileExisting-conntrack", "conntrack not found in system path", "install conntrack"),
    ("KubeletVersion", "", "kube_packages_version"),
    ("ImagePull", "", "container_runtime_image_archives"),
    # The control-plane images come from ClusterConfiguration's imageRepository, not from the runtime role's
    # pause-image repository.
    ("ImagePull", "", "imageRepository in control_plane_cluster_configuration"),
    ("Service-Kubelet", "", "systemctl enable kubelet"),
    ("IsPrivilegedUser", "user is not running as root", "root"),
    ("HTTPProxy", "", "NO_PROXY"),
    ("Hostname", "", "/etc/hosts"),
    ("SomethingNew", "", out.GENERIC_HINT),
])
def test_preflight_hints(check, message, expected):
    assert expected in out.preflight_hint(check, message)


# fixture, initialized, worker endpoint, worker hash, control-plane certificate key
INIT_CASES = [
    ("init_v1.34_worker_join.txt", True, "192.168.3.100:6443",
     "sha256:366824f19b48b07d5e69fd2e928343b28b949cf161a5ff9ec10bf960ff4636c9", None),
    ("init_v1.31_upload_certs.txt", True, "k8s-control.pve1.lan:6443",
     "sha256:ed15b7fca732839fd595a8927234520cb9b70f35d58687434a4cbb07b30a9473",
     "9ed5ccf5932d2f28b5170b210be69935a54088d149b94c222ab5ee2bee27d3bc"),
    ("init_v1.28_upload_certs_space_indent.txt", True, "192.168.163.60:6443",
     "sha256:d22f7753d0c5b28fe386e13fa57cc47a0e261e23cc98aa13b9316645dddefe56",
     "f5050f09f6fc60d3f8701b21bee71855f4c55e76b82aacd264afcf90191dc304"),
]


@pytest.mark.parametrize("name,initialized,endpoint,ca_hash,cert_key", INIT_CASES, ids=[case[0] for case in INIT_CASES])
def test_parse_init_output_on_real_output(name, initialized, endpoint, ca_hash, cert_key):
    result = out.parse_init_output(read_fixture(name))
    assert result["initialized"] is initialized
    worker = result["join"]
    assert worker["api_server_endpoint"] == endpoint
    assert worker["discovery_token_ca_cert_hashes"] == [ca_hash]
    assert worker["control_plane"] is False and worker["certificate_key"] is None
    assert "\\" not in worker["command"] and "\n" not in worker["command"]
    assert result["certificate_key"] == cert_key
    if cert_key is None:
        assert result["control_plane_join"] is None
    else:
        control = result["control_plane_join"]
        assert control["control_plane"] is True
        assert control["certificate_key"] == cert_key
        assert control["token"] == worker["token"]
        assert control["command"].endswith("--control-plane --certificate-key " + cert_key)


def test_failed_init_output_is_not_initialized():
    result = out.parse_init_output(read_fixture("preflight_v1.34_imagepull_multiline_form.txt"))
    assert result["initialized"] is False and result["join"] is None
    assert result["preflight"]["failed"] is True


JOIN_TEXTS = [
    ("one line", "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef "
                 "--discovery-token-ca-cert-hash sha256:" + "a" * 64,
     "10.0.0.1:6443", ["sha256:" + "a" * 64], False, None),
    ("equals form and sudo", "sudo kubeadm join k8s.lan:6443 --token=abcdef.0123456789abcdef "
                             "--discovery-token-ca-cert-hash=sha256:" + "b" * 64 + " --control-plane "
                             "--certificate-key=" + "c" * 64,
     "k8s.lan:6443", ["sha256:" + "b" * 64], True, "c" * 64),
    ("ipv6 and two hashes", "kubeadm join [fd00::10]:6443 --token abcdef.0123456789abcdef \\\n"
                            "\t--discovery-token-ca-cert-hash sha256:" + "1" * 64 + " \\\n"
                            "\t--discovery-token-ca-cert-hash sha256:" + "2" * 64,
     "[fd00::10]:6443", ["sha256:" + "1" * 64, "sha256:" + "2" * 64], False, None),
    ("endpoint last (old docs form)", "kubeadm join --token abcdef.0123456789abcdef "
                                      "--discovery-token-ca-cert-hash sha256:" + "d" * 64 + " 1.2.3.4:6443",
     "1.2.3.4:6443", ["sha256:" + "d" * 64], False, None),
    ("print-join-command output", read_fixture("token_create_print_join_v1.33.txt"),
     "172.30.1.2:6443", ["sha256:a6a509290240a52bf6e8776227b83b7fc69d4765636a8ec54988e2d0d919a4cc"], False, None),
]


@pytest.mark.parametrize("label,text,endpoint,hashes,control_plane,cert_key", JOIN_TEXTS, ids=[case[0] for case in JOIN_TEXTS])
def test_parse_join_command(label, text, endpoint, hashes, control_plane, cert_key):
    result = out.parse_join_command(text)
    assert result["api_server_endpoint"] == endpoint
    assert result["discovery_token_ca_cert_hashes"] == hashes
    assert result["control_plane"] is control_plane
    assert result["certificate_key"] == cert_key
    assert out.parse_join_command(result["command"]) == result


@pytest.mark.parametrize("text", [
    "",
    "no join here",
    "kubeadm join <control-plane-host>:<control-plane-port> --token <token> --discovery-token-ca-cert-hash sha256:<hash>",
    "kubeadm join 192.168.56.102:6443 --token <token> --discovery-token-ca-cert-hash sha256:<HASH>",
    "kubeadm join 10.0.0.1:99999 --token abcdef.0123456789abcdef",
    "kubeadm join 10.0.0.1:6443 --token ABCDEF.0123456789abcdef",
    "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:1234..cdef",
    "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --certificate-key short",
    b"\xff\xfe\x00binary",
    None,
    12,
])
def test_parse_join_command_rejects_placeholders_and_junk(text):
    assert out.parse_join_command(text) is None


def test_join_command_in_the_middle_of_other_text_and_without_hash():
    text = "node01:~$ kubeadm join 10.1.1.1:6443 --token abcdef.0123456789abcdef --discovery-token-unsafe-skip-ca-verification && echo ok"
    result = out.parse_join_command(text)
    assert result["api_server_endpoint"] == "10.1.1.1:6443"
    assert result["discovery_token_ca_cert_hashes"] == []
    assert "echo" not in result["command"]


TOKEN_CASES = [
    ("token_list_json_stream.txt", [
        {"token": "abcdef.1234567890123456", "expires": None, "usages": ["signing", "authentication"],
         "groups": ["system:bootstrappers:kubeadm:default-node-token"], "description": "valid bootstrap tooken"},
        {"token": "4iwa6j.ejrsfqm26jpcshz2", "expires": "2023-11-13T08:32:40Z", "usages": ["authentication", "signing"],
         "groups": ["system:bootstrappers:kubeadm:default-node-token"],
         "description": "The default bootstrap token generated by 'kubeadm init'."},
    ]),
    ("token_list_table_v1.22.txt", [
        {"token": "02feuk.y58j1moawikcz1ne", "expires": "2021-10-21T03:25:51Z", "usages": [], "groups": [],
         "description": "Proxy for managing TTL for the kubeadm-certs secret"},
        {"token": "2u57r3.pb5dba3no1bi88u8", "expires": "2021-10-21T07:01:12Z", "usages": ["authentication", "signing"],
         "groups": ["system:bootstrappers:kubeadm:default-node-token"],
         "description": "The default bootstrap token generated by 'kubeadm init'."},
    ]),
    ("token_list_table_forever.txt", [
        {"token": "123456.1234567890123456", "expires": None, "usages": ["authentication", "signing"],
         "groups": ["system:bootstrappers:kubeadm:default-node-token"],
         "description": "The default bootstrap token generated by 'kubeadm init'."},
    ]),
]


@pytest.mark.parametrize("name,expected", TOKEN_CASES, ids=[case[0] for case in TOKEN_CASES])
def test_parse_token_list_on_real_output(name, expected):
    assert out.parse_token_list(read_fixture(name)) == expected


def test_token_table_with_squashed_columns_falls_back_to_wide_gaps():
    text = ("TOKEN   TTL   EXPIRES   USAGES   DESCRIPTION   EXTRA GROUPS\n"
            "abcdef.0123456789abcdef   23h   2020-12-24T16:27:29+08:00   authentication,signing   my join token   "
            "system:bootstrappers:kubeadm:default-node-token\n")
    (item,) = out.parse_token_list(text)
    assert item["description"] == "my join token"
    assert item["expires"] == "2020-12-24T16:27:29+08:00"
    assert item["usages"] == ["authentication", "signing"]


def test_token_json_stream_stops_at_truncation():
    text = read_fixture("token_list_json_stream.txt")
    truncated = text[: text.rindex('"groups"')]
    assert [item["token"] for item in out.parse_token_list(truncated)] == ["abcdef.1234567890123456"]


def test_token_json_array_and_list_object_are_accepted():
    obj = '{"kind": "BootstrapToken", "token": "abcdef.0123456789abcdef", "usages": ["authentication"]}'
    assert len(out.parse_token_list("[" + obj + "," + obj + "]")) == 2
    assert len(out.parse_token_list('{"kind": "List", "items": [' + obj + "]}")) == 1


@pytest.mark.parametrize("text", ["", "   ", "garbage", "{", "[1, 2]", None, b"\x00\x01", 3.5, "TOKEN TTL EXPIRES USAGES\n"])
def test_parse_token_list_bad_input(text):
    assert out.parse_token_list(text) == []


@pytest.mark.parametrize("value,ok", [
    ("10.0.0.1:6443", True), ("k8s-control.pve1.lan:6443", True), ("[fd00::1]:6443", True),
    ("fd00::1:6443", False), ("10.0.0.1", False), ("10.0.0.1:0", False), (":6443", False),
    ("host:65536", False), ("-bad:6443", False), (None, False), ("[fd00::1]", False),
])
def test_valid_endpoint(value, ok):
    assert out.valid_endpoint(value) is ok
