"""How the kubeadm TEST DOUBLE (tests/doubles/bin/kubeadm) reads --config files.

It must refuse what real kubeadm refuses, with kubeadm's text, and accept (warning where
kubeadm warns) what kubeadm accepts. The expected texts come from kubeadm's source
(cmd/kubeadm/app/util/marshal.go, util/config/*.go) and from kubeadm output quoted in public
issues; the double's comments name the sources. KUBELAB_DOUBLE_VERSION makes the double a
given kubeadm release.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import io
import re

import pytest
from kubeadm_harness import BIN, run

STACK_HINT = "To see the stack trace of this error execute with --v=5 or higher"
KLOG = re.compile(r"(?m)^W\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ (?P<where>[a-z]+\.go:\d+)\] ")

I4 = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n"
C4 = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"
I3 = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"
C3 = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n"
KUBELET = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n"
PROXY = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nconntrack:\n  maxPerCore: 0\n"


def gvk(group: str, version: str, kind: str) -> str:
    return f'schema.GroupVersionKind{{Group:"{group}", Version:"{version}", Kind:"{kind}"}}'


def old_spec(gv: str, kind: str, release: str) -> str:
    return (f'your configuration file uses an old API spec: "{gv}" (kind: "{kind}"). Please use kubeadm {release} '
            "instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', "
            "which will write the new, similar spec using a newer API version.")


def deprecated_spec(gv: str, kind: str) -> str:
    return (f'your configuration file uses a deprecated API spec: "{gv}" (kind: "{kind}"). Please use '
            "'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write "
            "the new, similar spec using a newer API version.")


@pytest.fixture
def double(tmp_path, monkeypatch):
    """load(version=None): the kubeadm double as a module, state rooted in tmp_path."""

    def load(version: str | None = None):
        (tmp_path / "cgroup").mkdir(exist_ok=True)
        (tmp_path / "cgroup/cgroup.controllers").write_text("cpu memory\n")
        monkeypatch.setenv("KUBELAB_DOUBLE_ROOT", str(tmp_path / "root"))
        monkeypatch.setenv("KUBELAB_DOUBLE_PROC", str(tmp_path / "proc"))
        monkeypatch.setenv("KUBELAB_DOUBLE_CGROUP_ROOT", str(tmp_path / "cgroup"))
        monkeypatch.setenv("KUBELAB_DOUBLE_NO_SYSTEMD", "1")
        if version:
            monkeypatch.setenv("KUBELAB_DOUBLE_VERSION", version)
        else:
            monkeypatch.delenv("KUBELAB_DOUBLE_VERSION", raising=False)
        loader = importlib.machinery.SourceFileLoader(f"kubeadm_cfg_double_{id(tmp_path)}_{version}",
                                                      str(BIN / "kubeadm"))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return module

    return load


def warnings_of(stderr: str) -> list:
    """[(file:line, message)] of the klog warning lines (a message may span lines)."""
    marks = list(KLOG.finditer(stderr))
    found = []
    for number, mark in enumerate(marks):
        end = marks[number + 1].start() if number + 1 < len(marks) else len(stderr)
        body = stderr[mark.end():end]
        if number + 1 == len(marks) and "\nerror: " in "\n" + body:
            body = ("\n" + body).split("\nerror: ")[0][1:]
        found.append((mark.group("where"), body.rstrip("\n")))
    return found


def load_config(module, tmp_path, text: str, command: str | None = None):
    path = tmp_path / "kubeadm.yaml"
    path.write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        cfg = module.load_config(str(path), command) if command else module.load_config(str(path))
    return cfg, err.getvalue()


# ---------------------------------------------------------------- refused, with kubeadm's text

REFUSED = [
    # SplitConfigDocuments: every document split off by a `---` line needs apiVersion and kind.
    ("comment-only first document", None, "# comment\n---\n" + I4 + "localAPIEndpoint:\n  bindPort: 6443\n",
     "invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory information that must "
     "be specified", []),
    ("blank line before the first separator", None, "\n---\n" + I4,
     "invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory information that must "
     "be specified", []),
    ("blank line after the last separator", None, "---\n" + I4 + "---\n\n",
     "invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory information that must "
     "be specified", []),
    ("document without kind", None, "apiVersion: kubeadm.k8s.io/v1beta4\nnodeRegistration: {}\n",
     "invalid configuration for GroupVersionKind kubeadm.k8s.io/v1beta4, Kind=: kind and apiVersion is mandatory "
     "information that must be specified", []),
    ("core group has no group", None, I4 + "---\napiVersion: v1\nkind: ConfigMap\n",
     "invalid configuration for GroupVersionKind /v1, Kind=ConfigMap: kind and apiVersion is mandatory information "
     "that must be specified", []),
    ("apiVersion with two slashes", None, "apiVersion: kubeadm.k8s.io/v1/beta4\nkind: InitConfiguration\n",
     "unexpected GroupVersion string: kubeadm.k8s.io/v1/beta4", []),
    ("kind twice", None, I4 + "---\n" + C4 + "---\n" + I4,
     'invalid configuration: kind "InitConfiguration" is specified twice in YAML file', []),
    ("text after the separator", None, I4 + "--- " + C4,
     "invalid Yaml document separator: apiVersion: kubeadm.k8s.io/v1beta4", []),
    ("a list is not a configuration", None, "- apiVersion: kubeadm.k8s.io/v1beta4\n  kind: InitConfiguration\n",
     "could not interpret GroupVersionKind; unmarshal error: error unmarshaling JSON: while decoding JSON: json: "
     "cannot unmarshal array into Go value of type runtime.TypeMeta", []),
    ("YAML syntax error", None, I4 + "nodeRegistration:\n  name: a: b\n",
     "could not interpret GroupVersionKind; unmarshal error: error converting YAML to JSON: yaml: line 4: mapping "
     "values are not allowed in this context", []),
    # validateSupportedVersion (common.go) and the scheme.
    ("v1beta2 on 1.36", None, "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n",
     old_spec("kubeadm.k8s.io/v1beta2", "InitConfiguration", "v1.22"), []),
    ("v1beta3 on 1.37", "v1.37.0", C3, old_spec("kubeadm.k8s.io/v1beta3", "ClusterConfiguration", "v1.36"), []),
    ("v1beta1 on 1.26", "v1.26.3", "apiVersion: kubeadm.k8s.io/v1beta1\nkind: ClusterConfiguration\n",
     "your configuration file uses an old API spec: \"kubeadm.k8s.io/v1beta1\". Please use kubeadm v1.15 instead and "
     "run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar "
     "spec using a newer API version.", []),
    ("v1beta4 before 1.31 is experimental", "v1.30.4", C4,
     'experimental API spec: "kubeadm.k8s.io/v1beta4" is not allowed. You can use the --allow-experimental-api flag '
     "if the command supports it.", []),
    ("v1beta4 unknown before 1.28", "v1.27.9", C4,
     'no kind "ClusterConfiguration" is registered for version "kubeadm.k8s.io/v1beta4" in scheme '
     '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"',
     [("initconfiguration.go", "unknown configuration " + gvk("kubeadm.k8s.io", "v1beta4", "ClusterConfiguration"))]),
    ("unknown kubeadm version", None, "apiVersion: kubeadm.k8s.io/v1beta9\nkind: InitConfiguration\n",
     'no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta9" in scheme '
     '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"',
     [("initconfiguration.go", "unknown configuration " + gvk("kubeadm.k8s.io", "v1beta9", "InitConfiguration"))]),
    ("InitConfiguration of another group", None, "apiVersion: example.com/v1\nkind: InitConfiguration\n",
     'no kind "InitConfiguration" is registered for version "example.com/v1" in scheme '
     '"k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"',
     [("initconfiguration.go", "unknown configuration " + gvk("example.com", "v1", "InitConfiguration"))]),
    ("component configs only", None, KUBELET,
     "no InitConfiguration or ClusterConfiguration kind was found in the configuration file", []),
    ("kubelet configuration of another version", None,
     I4 + "---\napiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n",
     'unsupported apiVersion "kubelet.config.k8s.io/v1", you may have to do manual conversion to '
     '"kubelet.config.k8s.io/v1beta1" and run kubeadm again',
     [("initconfiguration.go", "unknown configuration " + gvk("kubelet.config.k8s.io", "v1", "KubeletConfiguration"))]),
    # Decoding (runtime.DecodeInto): the shape of extraArgs per API version, and Go json type errors.
    ("v1beta4 extraArgs as a map", None, C4 + "apiServer:\n  extraArgs:\n    audit-log-maxage: '30'\n",
     "json: cannot unmarshal object into Go struct field APIServer.apiServer.extraArgs of type []v1beta4.Arg",
     [("initconfiguration.go", "error unmarshaling configuration " + gvk("kubeadm.k8s.io", "v1beta4",
                                                                         "ClusterConfiguration")
       + ": json: cannot unmarshal object into Go struct field APIServer.apiServer.extraArgs of type []v1beta4.Arg")]),
    ("v1beta4 kubeletExtraArgs as a map", None, I4 + "nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.0.0.1\n",
     "json: cannot unmarshal object into Go struct field NodeRegistrationOptions.nodeRegistration.kubeletExtraArgs of "
     "type []v1beta4.Arg", None),
    ("v1beta4 etcd extraArgs as a map", None, C4 + "etcd:\n  local:\n    extraArgs:\n      quota: '1'\n",
     "json: cannot unmarshal object into Go struct field LocalEtcd.etcd.local.extraArgs of type []v1beta4.Arg", None),
    ("v1beta4 extraArgs value not a string", None,
     C4 + "controllerManager:\n  extraArgs:\n  - name: node-cidr-mask-size\n    value: 24\n",
     "json: cannot unmarshal number into Go struct field Arg.controllerManager.extraArgs.value of type string", None),
    ("v1beta3 extraArgs as a list", "v1.30.4", C3 + "apiServer:\n  extraArgs:\n  - name: a\n    value: b\n",
     "json: cannot unmarshal array into Go struct field APIServer.apiServer.extraArgs of type map[string]string", None),
    ("v1beta3 kubeletExtraArgs as a list", "v1.28.0", I3 + "nodeRegistration:\n  kubeletExtraArgs:\n  - name: a\n",
     "json: cannot unmarshal array into Go struct field NodeRegistrationOptions.nodeRegistration.kubeletExtraArgs of "
     "type map[string]string", None),
    ("v1beta3 extraArgs value not a string", "v1.26.0", C3 + "scheduler:\n  extraArgs:\n    v: 2\n",
     "json: cannot unmarshal number into Go struct field ControlPlaneComponent.scheduler.extraArgs of type string",
     None),
    ("go-yaml reads y as a boolean", None, C4 + "clusterName: y\n",
     "json: cannot unmarshal bool into Go struct field ClusterConfiguration.clusterName of type string", None),
    ("unquoted version number", None, C4 + "kubernetesVersion: 1.30\n",
     "json: cannot unmarshal number into Go struct field ClusterConfiguration.kubernetesVersion of type string", None),
    ("bindPort as a string", None, I4 + "localAPIEndpoint:\n  bindPort: '6443'\n",
     "json: cannot unmarshal string into Go struct field APIEndpoint.localAPIEndpoint.bindPort of type int32", None),
    ("nodeRegistration as a list", None, I4 + "nodeRegistration: []\n",
     "json: cannot unmarshal array into Go struct field InitConfiguration.nodeRegistration of type "
     "v1beta4.NodeRegistrationOptions", None),
    # BootstrapTokenString, metav1.Duration and metav1.Time: only their JSON type is checked when decoding;
    # init refuses a token of the wrong form itself.
    ("bootstrap token of the wrong form", None, I4 + "bootstrapTokens:\n- token: abcdef\n",
     'bootstrapTokens[0].token: Invalid value: "abcdef": the bootstrap token is invalid', None),
    ("bootstrap token ttl as a number", None, I4 + "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 24\n",
     "json: cannot unmarshal number into Go struct field BootstrapToken.bootstrapTokens.ttl of type string", None),
]


@pytest.mark.parametrize("name,version,text,message,warnings", REFUSED, ids=[case[0] for case in REFUSED])
def test_kubeadm_init_refuses_what_kubeadm_refuses(double, tmp_path, name, version, text, message, warnings):
    kubeadm = double(version)
    config = tmp_path / "kubeadm.yaml"
    config.write_text(text)
    rc, out, err = run(kubeadm, "init", "--config", str(config))
    assert rc == 1, (name, err)
    lines = err.rstrip("\n").split("\n")
    assert lines[-1] == STACK_HINT
    assert f"\n{message}\n{STACK_HINT}\n" in ("\n" + err).replace("\nerror: ", "\n"), err
    assert "[preflight]" not in out and "[init]" not in out
    assert not (tmp_path / "root/etc/kubernetes/admin.conf").exists()
    if warnings is not None:
        assert [(where.split(":")[0], body) for where, body in warnings_of(err)] == warnings


def test_the_error_line_is_prefixed_as_main_prints_it(double, tmp_path):
    kubeadm = double()
    config = tmp_path / "kubeadm.yaml"
    config.write_text("# comment\n---\n" + I4)
    _rc, _out, err = run(kubeadm, "init", "--config", str(config))
    assert err == ("error: invalid configuration for GroupVersionKind /, Kind=: kind and apiVersion is mandatory "
                   f"information that must be specified\n{STACK_HINT}\n")


def test_missing_config_file(double, tmp_path):
    kubeadm = double()
    missing = tmp_path / "nope.yaml"
    rc, _out, err = run(kubeadm, "init", "--config", str(missing))
    assert rc == 1
    assert f'unable to read config from "{missing}" : open {missing}: no such file or directory\n' in err


def test_init_phase_preflight_reads_the_config_like_init(double, tmp_path):
    kubeadm = double()
    config = tmp_path / "kubeadm.yaml"
    config.write_text("# comment\n---\n" + I4)
    rc, _out, err = run(kubeadm, "init", "phase", "preflight", "--config", str(config))
    assert rc == 1 and "invalid configuration for GroupVersionKind /, Kind=:" in err


def test_join_reads_only_join_configuration(double, tmp_path):
    """documentMapToJoinConfiguration skips every other kind (not even version-checked)."""
    kubeadm = double()
    config = tmp_path / "join.yaml"
    config.write_text(I4)
    rc, _out, err = run(kubeadm, "join", "--config", str(config))
    assert rc == 1 and "no JoinConfiguration found in the supplied config\n" in err
    join = ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n"
            "    token: abcdef.0123456789abcdef\n    apiServerEndpoint: 10.0.0.1:6443\n    bogus: 1\n")
    cfg, err = load_config(kubeadm, tmp_path, "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n---\n"
                           + join, command="join")
    assert list(cfg) == ["JoinConfiguration"]
    assert cfg["JoinConfiguration"]["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "10.0.0.1:6443"
    assert [body for _where, body in warnings_of(err)] == [
        "error unmarshaling configuration " + gvk("kubeadm.k8s.io", "v1beta4", "JoinConfiguration")
        + ': strict decoding error: unknown field "discovery.bootstrapToken.bogus"']
    refusal = old_spec("kubeadm.k8s.io/v1beta2", "InitConfiguration", "v1.22")
    with pytest.raises(kubeadm.KubeadmError, match="^" + re.escape(refusal) + "$"):
        load_config(kubeadm, tmp_path, "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n---\n" + join)


# ---------------------------------------------------------------- accepted

V1BETA4 = ("---\n"
           "# Managed by the role (a comment inside the first document is fine)\n"
           + I4 +
           "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 24h0m0s\n  usages:\n  - signing\n"
           "  - authentication\n  groups:\n  - system:bootstrappers:kubeadm:default-node-token\n"
           "  description: join token\n  expires: '2030-01-02T03:04:05Z'\n"
           "nodeRegistration:\n  criSocket: unix:///run/containerd/containerd.sock\n  name: cp1\n  taints: []\n"
           "  kubeletExtraArgs:\n  - name: node-ip\n    value: 10.0.0.1\n  ignorePreflightErrors:\n  - Swap\n"
           "  imagePullSerial: true\n"
           "localAPIEndpoint:\n  advertiseAddress: 10.0.0.1\n  bindPort: 6443\n"
           "certificateKey: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
           "skipPhases:\n- addon/kube-proxy\npatches:\n  directory: /etc/kubernetes/patches\n"
           "timeouts:\n  controlPlaneComponentHealthCheck: 4m0s\n  kubeletHealthCheck: 4m\n"
           "dryRun: false\n"
           "--- # the cluster document\n"
           + C4 +
           "clusterName: kubelab\nkubernetesVersion: v1.36.1\ncontrolPlaneEndpoint: cp.example:6443\n"
           "networking:\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n  dnsDomain: cluster.local\n"
           "apiServer:\n  certSANs:\n  - cp.example\n  extraArgs:\n  - name: audit-log-maxage\n    value: '30'\n"
           "  - name: audit-log-maxage\n    value: '31'\n  extraVolumes: []\n"
           "controllerManager:\n  extraArgs: []\nscheduler: {}\n"
           "etcd:\n  local:\n    dataDir: /var/lib/etcd\n    extraArgs:\n    - name: quota-backend-bytes\n"
           "      value: '8589934592'\n"
           "dns:\n  disabled: false\nproxy:\n  disabled: false\ncertificatesDir: /etc/kubernetes/pki\n"
           "imageRepository: registry.k8s.io\nfeatureGates:\n  ControlPlaneKubeletLocalMode: true\n"
           "encryptionAlgorithm: ECDSA-P256\ncertificateValidityPeriod: 8760h0m0s\n"
           "caCertificateValidityPeriod: 87600h0m0s\n"
           "---\n" + KUBELET + "---\n" + PROXY + "---\n")


def test_a_full_v1beta4_config_is_accepted_silently(double, tmp_path):
    kubeadm = double()
    cfg, err = load_config(kubeadm, tmp_path, V1BETA4)
    assert err == ""
    assert sorted(cfg) == ["ClusterConfiguration", "InitConfiguration", "KubeProxyConfiguration",
                           "KubeletConfiguration"]
    extra_args = cfg["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]
    assert extra_args == [{"name": "node-ip", "value": "10.0.0.1"}]
    assert cfg["InitConfiguration"]["localAPIEndpoint"]["bindPort"] == 6443
    assert cfg["InitConfiguration"]["nodeRegistration"]["taints"] == []
    assert cfg["ClusterConfiguration"]["scheduler"] == {}
    assert cfg["ClusterConfiguration"]["featureGates"] == {"ControlPlaneKubeletLocalMode": True}
    assert cfg["KubeProxyConfiguration"]["conntrack"]["maxPerCore"] == 0


@pytest.mark.parametrize("version", ["v1.26.15", "v1.28.0", "v1.30.4"])
def test_v1beta3_with_map_extra_args_is_accepted_before_its_deprecation(double, tmp_path, version):
    kubeadm = double(version)
    text = (I3 + "nodeRegistration:\n  kubeletExtraArgs:\n    node-ip: 10.0.0.1\n  criSocket: unix:///run/c.sock\n"
            "---\n" + C3 + "apiServer:\n  timeoutForControlPlane: 4m0s\n  extraArgs:\n    audit-log-maxage: '30'\n"
            "etcd:\n  local:\n    extraArgs:\n      quota-backend-bytes: '8589934592'\n"
            "---\n" + KUBELET)
    cfg, err = load_config(kubeadm, tmp_path, text)
    assert err == ""
    assert cfg["ClusterConfiguration"]["apiServer"]["extraArgs"] == {"audit-log-maxage": "30"}


def test_v1beta3_is_deprecated_from_1_31_with_kubeadms_warning(double, tmp_path):
    kubeadm = double()
    cfg, err = load_config(kubeadm, tmp_path, I3 + "---\n" + C3)
    assert sorted(cfg) == ["ClusterConfiguration", "InitConfiguration"]
    assert [(where.split(":")[0], body) for where, body in warnings_of(err)] == [
        ("common.go", deprecated_spec("kubeadm.k8s.io/v1beta3", "ClusterConfiguration")),
        ("common.go", deprecated_spec("kubeadm.k8s.io/v1beta3", "InitConfiguration"))]


def test_v1beta2_is_still_read_by_1_26(double, tmp_path):
    kubeadm = double("v1.26.0")
    cfg, err = load_config(kubeadm, tmp_path, "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n")
    assert list(cfg) == ["ClusterConfiguration"]
    assert [body for _where, body in warnings_of(err)] == [
        'your configuration file uses a deprecated API spec: "kubeadm.k8s.io/v1beta2". Please use \'kubeadm config '
        "migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer "
        "API version."]


def test_unknown_fields_are_only_warned_about_like_kubeadm(double, tmp_path):
    """kubeadm 1.32: `W... initconfiguration.go:333] error unmarshaling configuration
    schema.GroupVersionKind{...Kind:"ClusterConfiguration"}: strict decoding error: unknown field
    "localAPIEndpoint"` and init goes on."""
    kubeadm = double()
    text = (I4 + "foo: 1\nnodeRegistration:\n  criSocket: unix:///run/c.sock\n  bar: 2\n"
            "bootstrapTokens:\n- token: abcdef.0123456789abcdef\n  baz: 3\n"
            "---\n" + C4 + "localAPIEndpoint:\n  advertiseAddress: 10.0.0.1\nnetworking:\n  podCIDR: x\n"
            "timeoutForControlPlane: 4m\n")
    cfg, err = load_config(kubeadm, tmp_path, text)
    assert cfg["InitConfiguration"]["foo"] == 1
    found = warnings_of(err)
    assert [where.split(":")[0] for where, _body in found] == ["initconfiguration.go"] * 2
    assert [body for _where, body in found] == [
        "error unmarshaling configuration " + gvk("kubeadm.k8s.io", "v1beta4", "ClusterConfiguration")
        + ': strict decoding error: unknown field "localAPIEndpoint", unknown field "networking.podCIDR", '
          'unknown field "timeoutForControlPlane"',
        "error unmarshaling configuration " + gvk("kubeadm.k8s.io", "v1beta4", "InitConfiguration")
        + ': strict decoding error: unknown field "bootstrapTokens[0].baz", unknown field "foo", '
          'unknown field "nodeRegistration.bar"']


def test_fields_of_the_other_api_version_are_unknown(double, tmp_path):
    kubeadm = double("v1.30.0")
    _cfg, err = load_config(kubeadm, tmp_path, I3 + "timeouts:\n  kubeletHealthCheck: 4m\ndryRun: true\n")
    assert [body for _where, body in warnings_of(err)] == [
        "error unmarshaling configuration " + gvk("kubeadm.k8s.io", "v1beta3", "InitConfiguration")
        + ': strict decoding error: unknown field "dryRun", unknown field "timeouts"']


def test_duplicate_keys_are_strict_errors_too(double, tmp_path):
    kubeadm = double()
    cfg, err = load_config(kubeadm, tmp_path, I4 + "---\n" + KUBELET + "cgroupDriver: cgroupfs\n")
    assert cfg["KubeletConfiguration"]["cgroupDriver"] == "cgroupfs"
    assert [body for _where, body in warnings_of(err)] == [
        "error unmarshaling configuration " + gvk("kubelet.config.k8s.io", "v1beta1", "KubeletConfiguration")
        + ': strict decoding error: yaml: unmarshal errors:\n  line 4: key "cgroupDriver" already set in map']


def test_documents_of_unknown_groups_and_kinds_are_ignored_with_a_warning(double, tmp_path):
    kubeadm = double()
    text = (I4 + "---\napiVersion: example.com/v1\nkind: Foo\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: Bar\n"
            "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n")
    cfg, err = load_config(kubeadm, tmp_path, text)
    assert list(cfg) == ["InitConfiguration"]
    assert [(where.split(":")[0], body) for where, body in warnings_of(err)] == [
        ("initconfiguration.go", "unknown configuration " + gvk("example.com", "v1", "Foo")),
        ("initconfiguration.go", "[config] WARNING: Ignored configuration document with GroupVersionKind "
                                 "example.com/v1, Kind=Foo"),
        ("initconfiguration.go", "unknown configuration " + gvk("kubeadm.k8s.io", "v1beta4", "Bar")),
        ("initconfiguration.go", "[config] WARNING: Ignored configuration document with GroupVersionKind "
                                 "kubeadm.k8s.io/v1beta4, Kind=Bar"),
        ("initconfiguration.go", "[config] WARNING: Ignored configuration document with GroupVersionKind "
                                 "kubeadm.k8s.io/v1beta4, Kind=JoinConfiguration")]


def test_warnings_are_klog_lines_on_stderr(double, tmp_path):
    kubeadm = double()
    _cfg, err = load_config(kubeadm, tmp_path, I4 + "foo: 1\n")
    assert re.fullmatch(r"W\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ initconfiguration\.go:\d+\] error unmarshaling "
                        r"configuration schema\.GroupVersionKind\{Group:\"kubeadm\.k8s\.io\", Version:\"v1beta4\", "
                        r"Kind:\"InitConfiguration\"\}: strict decoding error: unknown field \"foo\"\n", err)


ACCEPTED_SPLITS = [
    ("no separator at all", I4),
    ("leading separator", "---\n" + I4),
    ("separators in a row", "---\n---\n" + I4 + "---\n---\n" + C4),
    ("trailing separator", I4 + "---\n"),
    ("comment after the separator", "--- # first\n" + I4 + "---   # second\n" + C4),
    ("comment inside a document", "---\n# about\n" + I4 + "# more\n---\n# about the cluster\n" + C4),
    ("windows line ends", ("---\n" + I4 + "---\n" + C4).replace("\n", "\r\n")),
    ("no final newline", I4 + "---\n" + C4.rstrip("\n")),
    ("blank lines inside documents", "---\n\n" + I4 + "\n\n---\n" + C4 + "\n"),
    ("JSON documents", '{"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",\n'
                       ' "nodeRegistration": {"kubeletExtraArgs": [{"name": "v", "value": "2"}]}}\n---\n'
                       '{"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration"}\n'),
]


@pytest.mark.parametrize("name,text", ACCEPTED_SPLITS, ids=[case[0] for case in ACCEPTED_SPLITS])
def test_splits_that_kubeadm_accepts(double, tmp_path, name, text):
    kubeadm = double()
    cfg, err = load_config(kubeadm, tmp_path, text)
    assert err == "", name
    assert "InitConfiguration" in cfg or "ClusterConfiguration" in cfg


@pytest.mark.parametrize("minor,served", [
    (26, {"v1beta2": "deprecated", "v1beta3": "served"}),
    (27, {"v1beta2": "old", "v1beta3": "served"}),
    (30, {"v1beta3": "served", "v1beta4": "experimental"}),
    (31, {"v1beta3": "deprecated", "v1beta4": "served"}),
    (36, {"v1beta2": "old", "v1beta3": "deprecated", "v1beta4": "served"}),
    (37, {"v1beta3": "old", "v1beta4": "served", "v1": "experimental"}),
])
def test_kubeadm_api_versions_per_release(double, minor, served):
    table = double().kubeadm_api_versions(minor)
    assert {version: table.get(version, ("unknown",))[0] for version in served} == served
    for version in ("v1alpha1", "v1alpha2", "v1alpha3", "v1beta1"):
        assert table[version][0] == "old"


def test_the_version_override_is_what_the_double_reports(double):
    kubeadm = double("v1.30.4")
    assert run(kubeadm, "version", "-o", "short") == (0, "v1.30.4\n", "")
    assert double().VERSION == "v1.36.1"


# ---------------------------------------------------------------- reading YAML as go-yaml v2 does

def test_yaml_documents_split_like_kubeadm(double):
    kubeadm = double()
    assert kubeadm.load_yaml_documents("# only a comment\n---\na: 1\n") == [None, {"a": 1}]
    assert kubeadm.load_yaml_documents("---\n---\na: 1\n---\n") == [{"a": 1}]
    assert kubeadm.load_yaml_documents("a: 1\n--- # c\nb: 2\n") == [{"a": 1}, {"b": 2}]
    with pytest.raises(kubeadm.KubeadmError, match="^invalid Yaml document separator: -$"):
        kubeadm.load_yaml_documents("a: 1\n----\nb: 2\n")


@pytest.mark.parametrize("text,value", [
    ("v: y", True), ("v: N", False), ("v: off", False), ("v: 'y'", "y"), ("v: 2024-01-02", "2024-01-02"),
    ("1: a", {"1": "a"}), ("yes: a", {"true": "a"}),
])
def test_where_go_yaml_differs_from_pyyaml_the_double_follows_go_yaml(double, text, value):
    docs = double().load_yaml_documents(text + "\n")
    assert docs == [value if isinstance(value, dict) else {"v": value}]


def test_what_to_nice_yaml_writes_reads_back_unchanged(double, tmp_path):
    """ansible.builtin.to_nice_yaml(indent=2) output (the roles render the config with it) reads
    back as the data it was made from, and a file put together as the role's template does is
    accepted."""
    core = pytest.importorskip("ansible.plugins.filter.core")
    kubeadm = double()
    init = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
            "nodeRegistration": {"criSocket": "unix:///run/containerd/containerd.sock",
                                 "kubeletExtraArgs": [{"name": "node-ip", "value": "10.0.0.1"},
                                                      {"name": "max-pods", "value": "110"},
                                                      {"name": "v", "value": "2"},
                                                      {"name": "fail-swap-on", "value": "false"}],
                                 "taints": [], "ignorePreflightErrors": ["SystemVerification", "Swap"]},
            "localAPIEndpoint": {"bindPort": 6443, "advertiseAddress": "10.0.0.1"},
            "bootstrapTokens": [{"token": "abcdef.0123456789abcdef", "ttl": "24h0m0s",
                                 "usages": ["signing", "authentication"], "groups": ["system:bootstrappers:x"],
                                 "description": "it's a 'token': #1\nsecond line\n"}]}
    cluster = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "clusterName": "kubelab",
               "kubernetesVersion": "v1.36.1", "networking": {"podSubnet": "10.244.0.0/16",
                                                              "serviceSubnet": "10.96.0.0/12"},
               "controlPlaneEndpoint": "cp.example:6443",
               "apiServer": {"extraArgs": [{"name": "audit-log-maxage", "value": "30"},
                                           {"name": "enable-admission-plugins", "value": "NodeRestriction,x"},
                                           {"name": "empty", "value": ""}, {"name": "yes", "value": "on"}]},
               "controllerManager": {"extraArgs": []}, "scheduler": {}, "featureGates": {"SomeGate": True}}
    kubelet = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
               "cgroupDriver": "systemd", "failCgroupV1": False, "maxPods": 110}
    proxy = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
             "conntrack": {"maxPerCore": 0}}
    rendered = [core.to_nice_yaml(doc, indent=2, width=1000) for doc in (init, cluster, kubelet, proxy)]
    for doc, text in zip((init, cluster, kubelet, proxy), rendered, strict=True):
        assert kubeadm.load_yaml_documents(text) == [doc], text
    text = ("---\n# Managed by the kubelab.cluster.control_plane role.\n" + rendered[0] + "\n---\n" + rendered[1]
            + "\n---\n" + rendered[2] + "\n---\n" + rendered[3])
    cfg, err = load_config(kubeadm, tmp_path, text)
    assert err == ""
    assert cfg == {"InitConfiguration": init, "ClusterConfiguration": cluster, "KubeletConfiguration": kubelet,
                   "KubeProxyConfiguration": proxy}
