"""Smoke checks: the node container is a booted systemd host Ansible can manage."""


def test_systemd_is_pid_one_and_running(host):
    assert host.process.get(pid=1).comm == "systemd"
    state = host.run("systemctl is-system-running --wait").stdout.strip()
    assert state == "running", host.run("systemctl --failed --no-legend").stdout


def test_sysctl_applied_and_persisted(host):
    assert host.sysctl("net.ipv4.ip_forward") == 1
    conf = host.file("/etc/sysctl.d/99-kubelab-smoke.conf")
    assert conf.exists
    assert "net.ipv4.ip_forward=1" in conf.content_string.replace(" ", "")


def test_python_and_docker_connection(host):
    assert host.exists("python3")
    assert host.system_info.distribution == "debian"
