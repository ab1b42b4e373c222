#!/usr/bin/env python
"""A Proxmox VE API TEST DOUBLE (PVE 8.x); not Proxmox VE. It answers what community.proxmox's proxmox_kvm,
proxmox_disk, proxmox_vm_info, proxmox_node_info and proxmox (LXC) send through proxmoxer, with PVE's paths,
JSON shapes, status codes and error texts. With --docker-image a cloned VM is a Docker node container.
What it imitates, from which source and what it cannot know: tests/doubles/README.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import hashlib
import json
import os
import random
import re
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# What GET /version answers (a PVE 8.2 node).
VERSION = {"version": "8.2.4", "release": "8.2", "repoid": "faa83925c9641325"}
API = "/api2/json"
# A task reports "running" this long before "stopped" (the work itself is done at once; real timings are unknown).
TASK_SECONDS = 0.3
# The template's disk: Debian's genericcloud image is 2 GiB (PVE writes sizes as format_size does: 2G).
TEMPLATE_DISK = 2 << 30
OSTEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
# As molecule/app/molecule.yml: every capability but SYS_RESOURCE, never --privileged.
# The node containers' capabilities (one home for the lab's containers).
CAPS = [line for line in (Path(__file__).resolve().parents[2] / "images" / "node-capabilities").read_text().split("\n")
        if line and not line.startswith("#")]
INT_KEYS = {"cores", "sockets", "vcpus", "balloon", "cpuunits", "template", "onboot", "numa", "protection", "tablet",
            "kvm", "acpi", "swap", "unprivileged", "cpulimit"}
# The keys of a qemu config the double takes (qemu-server's json_config_properties has more: those are refused as
# "not defined in schema", as PVE refuses an unknown key).
QEMU_KEYS = re.compile(r"^(name|description|tags|cores|sockets|vcpus|cpu|cpulimit|cpuunits|memory|balloon|agent|"
                       r"onboot|boot|bootdisk|scsihw|ostype|vga|machine|bios|numa|protection|tablet|kvm|acpi|hotplug|"
                       r"startup|smbios1|vmgenid|ciuser|cipassword|citype|ciupgrade|cicustom|sshkeys|nameserver|"
                       r"searchdomain|(net|ipconfig|serial|scsi|virtio|sata|ide)\d+)$")
DISK_KEY = re.compile(r"^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$")
LXC_KEYS = re.compile(r"^(hostname|description|tags|memory|swap|cores|cpulimit|onboot|nameserver|searchdomain|"
                      r"unprivileged|features|ostype|arch|timezone|rootfs|net\d+)$")
SIZE_RE = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?$")
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
DNS_NAME = re.compile(r"^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$")
_LOCAL = threading.local()  # the request's method (config: POST is a task, PUT is not)
# pve-common JSONSchema's format 'urlencoded' (sshkeys must be URL-encoded *inside* the form value).
URLENCODED = re.compile(r"^[-%a-zA-Z0-9_.!~*'()]*$")


def log(msg):
    sys.stderr.write("%s pve-api-double: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class ApiError(Exception):
    """PVE puts the message in the HTTP reason phrase (where proxmoxer reads it) and answers {"data": null}."""

    def __init__(self, code, message, errors=None):
        Exception.__init__(self, message)
        self.code, self.message, self.errors = code, message, errors


def param_error(**errors):
    return ApiError(400, "Parameter verification failed.", errors)


def format_size(size):
    """PVE::JSONSchema::format_size: the largest unit that divides the size."""
    for unit in "TGMK":
        if size % UNITS[unit] == 0:
            return "%d%s" % (size // UNITS[unit], unit)
    return str(size)


def parse_size(text):
    match = SIZE_RE.match(text or "")
    return int(float(match.group(2)) * UNITS.get(match.group(3), 1)) if match else None


def drive_size(value):
    for part in value.split(",")[1:]:
        if part.startswith("size="):
            return parse_size(part[5:])
    return 0


def with_size(value, size):
    parts = [p for p in value.split(",") if not p.startswith("size=")]
    return ",".join(parts + ["size=" + format_size(size)])


def random_mac():
    # PVE 8's default MAC prefix (datacenter.cfg mac_prefix) is BC:24:11.
    return "BC:24:11:%02X:%02X:%02X" % tuple(random.randrange(256) for _i in range(3))


def set_mac(net, key):
    """print_net: the model gets a MAC (a new one on clone, as qemu-server's clone_vm always does)."""
    parts = net.split(",")
    model = parts[0].split("=")[0]
    return ",".join(["%s=%s" % (model, random_mac())] + parts[1:]) if model in ("virtio", "e1000", "rtl8139", "vmxnet3") \
        else ",".join(parts + ["%s=%s" % (key, random_mac())])


def agent_enabled(conf):
    value = str(conf.get("agent", "0")).split(",", 1)[0]
    return value in ("1", "enabled=1")


class Docker:
    """The VMs as node containers (docker CLI)."""

    def __init__(self, image, network, label):
        self.image, self.network, self.label = image, network, label

    @staticmethod
    def run(*args):
        proc = subprocess.run(["docker"] + list(args), capture_output=True, text=True, timeout=180, check=False)
        if proc.returncode:
            raise RuntimeError("docker %s: %s" % (args[0], (proc.stderr or proc.stdout).strip()))
        return proc.stdout

    def create(self, name, vmid):
        args = ["create", "--name", name, "--hostname", name, "--label", "kubelab.pve-double=" + self.label,
                "--label", "kubelab.pve-double.vmid=%d" % vmid, "--stop-signal", "SIGRTMIN+3", "--security-opt", "seccomp=unconfined",
                "--security-opt", "apparmor=unconfined", "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "-v", "/var/lib/containerd", "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp"]
        args += ["--network", self.network] if self.network else []
        for cap in CAPS:
            args += ["--cap-add", cap]
        self.run(*(args + [self.image, "/bin/bash", "-c", "mount -o remount,rw /proc/sys && exec /lib/systemd/systemd"]))

    def put_file(self, name, path, text):
        tmp = "%s/.pve-double-%s" % (os.environ.get("TMPDIR", "/tmp"), uuid.uuid4().hex)
        with open(tmp, "w") as handle:
            handle.write(text)
        try:
            self.run("cp", tmp, "%s:%s" % (name, path))
        finally:
            os.unlink(tmp)

    def cloud_init(self, name, hostname, user, keys):
        """What cloud-init's per-instance modules do on the first boot, for the keys the double reads: the host
        name, the default user with the SSH keys and passwordless sudo. /etc/machine-id is not touched."""
        script = ("set -e; hostname %(h)s; echo %(h)s > /etc/hostname; grep -q ' %(h)s$' /etc/hosts || "
                  "echo '127.0.1.1 %(h)s' >> /etc/hosts; id -u %(u)s >/dev/null 2>&1 || useradd -m -s /bin/bash %(u)s; "
                  "install -d -m 700 -o %(u)s -g %(u)s /home/%(u)s/.ssh; cat > /home/%(u)s/.ssh/authorized_keys; "
                  "chown %(u)s: /home/%(u)s/.ssh/authorized_keys; chmod 600 /home/%(u)s/.ssh/authorized_keys; "
                  "echo '%(u)s ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/90-cloud-init-users; "
                  "chmod 440 /etc/sudoers.d/90-cloud-init-users") % {"h": hostname, "u": user}
        proc = subprocess.run(["docker", "exec", "-i", name, "/bin/sh", "-c", script], input=keys, capture_output=True,
                              text=True, timeout=60, check=False)
        if proc.returncode:
            raise RuntimeError("cloud-init (test double): %s" % proc.stderr.strip())

    def addresses(self, name):
        info = json.loads(self.run("inspect", name))[0]
        if not info["State"]["Running"]:
            return None
        nets = info["NetworkSettings"]["Networks"]
        net = nets.get(self.network) or next(iter(nets.values()))
        return net["IPAddress"], net["IPPrefixLen"], net["MacAddress"]


class Pve:
    def __init__(self, opts):
        self.opts = opts
        self.nodes = opts.node or ["pve"]
        self.storage = opts.storage
        self.lock = threading.RLock()
        self.state_file = os.path.join(opts.state_dir, "pve-state.json")
        self.tasks = {}
        self.tickets = {}
        self.docker = Docker(opts.docker_image, opts.docker_network, os.path.abspath(opts.state_dir)) \
            if opts.docker_image else None
        self.state = {"vms": {}, "pid": 1000}
        if os.path.exists(self.state_file):
            with open(self.state_file) as handle:
                self.state = json.load(handle)
        for spec in opts.template or []:
            vmid, _sep, name = spec.partition("=")
            if vmid not in self.state["vms"]:
                self.state["vms"][vmid] = self.template(int(vmid), name)
        self.save()

    def template(self, vmid, name):
        """A cloud-init template as `qm template` leaves one (base- disk, cloud-init drive on ide2, agent on)."""
        store = self.storage
        # memory is a string: a property string since PVE 8.1 (remembered, not read).
        conf = {"name": name, "template": 1, "agent": "1", "cores": 1, "sockets": 1, "memory": "2048",
                "ostype": "l26", "scsihw": "virtio-scsi-single", "boot": "order=scsi0", "serial0": "socket",
                "vga": "serial0", "ipconfig0": "ip=dhcp", "net0": "virtio=%s,bridge=vmbr0" % random_mac(),
                "scsi0": "%s:base-%d-disk-0,size=%s" % (store, vmid, format_size(TEMPLATE_DISK)),
                "ide2": "%s:vm-%d-cloudinit,media=cdrom" % (store, vmid),
                "smbios1": "uuid=%s" % uuid.uuid4(), "vmgenid": str(uuid.uuid4())}
        # The template's disk was booted once (to install the guest agent), so it holds a machine id: PVE copies
        # disks bit by bit, every clone starts with it. The node image itself ships an empty /etc/machine-id.
        return {"type": "qemu", "node": self.nodes[0], "conf": conf, "running": False, "machine_id": uuid.uuid4().hex}

    def save(self):
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=1, sort_keys=True)
        os.replace(tmp, self.state_file)

    # ---- lookups

    def node(self, node):
        if node not in self.nodes:
            # PVE proxies /nodes/{node}/... to the node; cannot know the exact wording for an unknown one.
            raise ApiError(500, "no such cluster node '%s'" % node)
        return node

    def vm(self, node, vmid, kind="qemu", running_check=True):
        """The VM of this node; the texts of qemu-server's check_running and AbstractConfig's load_config."""
        self.node(node)
        rec = self.state["vms"].get(str(vmid))
        if rec is None or rec["node"] != node or rec["type"] != kind:
            if kind == "lxc":
                raise ApiError(500, "Configuration file 'nodes/%s/lxc/%s.conf' does not exist" % (node, vmid))
            if running_check:
                raise ApiError(500, "unable to find configuration file for VM %s on node '%s'" % (vmid, node))
            raise ApiError(500, "Configuration file 'nodes/%s/qemu-server/%s.conf' does not exist" % (node, vmid))
        return rec

    def check_unused(self, vmid):
        """pve-cluster's check_vmid_unused."""
        rec = self.state["vms"].get(str(vmid))
        if rec:
            raise ApiError(500, "%s %s already exists on node '%s'" % ("VM" if rec["type"] == "qemu" else "CT", vmid,
                                                                       rec["node"]))

    @staticmethod
    def check_lock(rec, vmid):
        if rec.get("lock"):
            raise ApiError(500, "VM is locked (%s)" % rec["lock"])

    @staticmethod
    def digest(conf):
        text = "".join("%s: %s\n" % (k, conf[k]) for k in sorted(conf))
        return hashlib.sha1(text.encode()).hexdigest()

    def task(self, node, kind, vmid, user, work):
        """fork_worker: the UPID as PVE::Tools::upid_encode writes it, at once; the work runs in a thread (without
        the API's lock, so docker may take its time) and its error ends the task, as a worker's die does."""
        self.state["pid"] += 1
        now = time.time()
        upid = "UPID:%s:%08X:%08X:%08X:%s:%s:%s:" % (
            node, self.state["pid"], int(now * 100) & 0xFFFFFFFF, int(now), kind, vmid, user)
        entry = self.tasks[upid] = {"node": node, "type": kind, "id": str(vmid), "user": user, "pid": self.state["pid"],
                                    "starttime": int(now), "start": now, "exitstatus": None, "log": []}

        def run():
            lines, status = [], "OK"
            try:
                lines = work() or []
            except (ApiError, RuntimeError, OSError, subprocess.SubprocessError) as exc:
                status = getattr(exc, "message", None) or str(exc)
            with self.lock:
                entry["log"] = lines + ["TASK OK" if status == "OK" else "TASK ERROR: " + status]
                entry["exitstatus"] = status
                self.save()
        threading.Thread(target=run, daemon=True).start()
        return upid


def vmid_param(params, key, required=True):
    """pve-vmid: an integer from 100 to 999999999."""
    value = params.get(key)
    if value is None:
        if required:
            raise param_error(**{key: "property is missing and it is not optional"})
        return None
    if not re.match(r"^-?\d+$", str(value)):
        raise param_error(**{key: "type check ('integer') failed - got '%s'" % value})
    if not 100 <= int(value) <= 999999999:
        raise param_error(**{key: "value must have a minimum value of 100" if int(value) < 100
                             else "value must have a maximum value of 999999999"})
    return int(value)


def uri_params(params, args):
    """pve-manager's PVE/HTTPServer.pm rest_handler: a parameter of the path may come in the body as well (community.proxmox
    sends node and vmid with an LXC config update) when it has the same value; then it is the path's."""
    for key, value in args.items():
        if key in params:
            if params.pop(key) != str(value):
                raise param_error(**{key: "duplicate parameter (already defined in URI) with conflicting values!"})


def unique_tags(value):
    """pve-manager's PVE/GuestHelpers.pm get_unique_tags (the default datacenter tag-style): split as PVE::Tools::split_list
    splits (NUL, else ',', ';' and spaces), lowercased, sorted, each once, joined by ';'."""
    tags = value.split("\0") if "\0" in value else re.split(r"[,;\s]+", value.strip())
    return ";".join(sorted({tag.lower() for tag in tags if tag}))


def check_features(user, conf, changes):
    """pve-container's PVE/LXC.pm check_ct_modify_config_perm: feature flags of a privileged container, and any flag but
    nesting, are root@pam's alone (a ticket of root@pam; an API token's user is USER@REALM!TOKEN, never root@pam)."""
    if "features" not in changes or user == "root@pam":
        return
    if not int(conf.get("unprivileged", 0)):
        raise ApiError(403, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)")
    old = set((conf.get("features") or "").split(","))
    if any(not flag.startswith("nesting=") for flag in set(changes["features"].split(",")) ^ old if flag):
        raise ApiError(403, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)")


def only(params, allowed, pattern=None):
    extra = {k: "property is not defined in schema and the schema does not allow additional properties"
             for k in params if k not in allowed and not (pattern and pattern.match(k))}
    if extra:
        raise ApiError(400, "Parameter verification failed.", extra)


class App:
    def __init__(self, pve):
        self.pve = pve
        ids = "<node>/%s/<vmid>"
        self.map = Map([
            Rule(API + "/version", endpoint="version", methods=["GET"]),
            Rule(API + "/access/ticket", endpoint="ticket", methods=["POST"]),
            Rule(API + "/nodes", endpoint="nodes", methods=["GET"]),
            Rule(API + "/cluster/nextid", endpoint="nextid", methods=["GET"]),
            Rule(API + "/cluster/resources", endpoint="resources", methods=["GET"]),
            Rule(API + "/nodes/<node>/tasks/<upid>/status", endpoint="task_status", methods=["GET"]),
            Rule(API + "/nodes/<node>/tasks/<upid>/log", endpoint="task_log", methods=["GET"]),
            Rule(API + "/nodes/<node>/storage/<storage>/content", endpoint="content", methods=["GET"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>", endpoint="vm_list", methods=["GET"]),
            Rule(API + "/nodes/<node>/lxc", endpoint="lxc_create", methods=["POST"]),
            Rule(API + "/nodes/" + ids % "qemu" + "/clone", endpoint="clone", methods=["POST"]),
            Rule(API + "/nodes/" + ids % "qemu" + "/resize", endpoint="resize", methods=["PUT"]),
            Rule(API + "/nodes/" + ids % "qemu" + "/agent/network-get-interfaces", endpoint="agent_net", methods=["GET"]),
            Rule(API + "/nodes/" + ids % "lxc" + "/interfaces", endpoint="lxc_net", methods=["GET"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>/<vmid>/config", endpoint="config_get", methods=["GET"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>/<vmid>/config", endpoint="config_set", methods=["POST", "PUT"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>/<vmid>/status/current", endpoint="status", methods=["GET"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>/<vmid>/status/<any(start,stop,shutdown):action>",
                 endpoint="power", methods=["POST"]),
            Rule(API + "/nodes/<node>/<any(qemu,lxc):kind>/<vmid>", endpoint="destroy", methods=["DELETE"]),
        ])

    # ---- WSGI

    def __call__(self, environ, start_response):
        request = Request(environ)
        _LOCAL.method = request.method
        try:
            endpoint, args = self.map.bind_to_environ(environ).match()
        except HTTPException:
            body, status = {"data": None}, "501 Method '%s %s' not implemented (not imitated by the PVE API test double)" \
                % (request.method, request.path[len(API):])
        else:
            try:
                # pve-http-server's decode_urlencoded: a key given more than once is one value, its parts joined by
                # NUL (as CGI.pm does; requests sends a list so, e.g. community.proxmox's LXC tags).
                params = {k: "\0".join(request.args.getlist(k)) for k in request.args}
                params.update({k: "\0".join(request.form.getlist(k)) for k in request.form})
                if request.is_json:
                    params.update({k: str(v) for k, v in (request.get_json(silent=True) or {}).items()})
                uri_params(params, args)
                with self.pve.lock:
                    user = None if endpoint == "ticket" else self.authenticate(request)
                    body, status = {"data": getattr(self, endpoint)(params, user, **args)}, "200 OK"
            except ApiError as exc:
                body, status = {"data": None}, "%d %s" % (exc.code, exc.message.replace("\n", " "))
                if exc.errors:
                    body["errors"] = exc.errors
        log("%s %s -> %s" % (request.method, request.full_path.rstrip("?"), status))
        return Response(json.dumps(body), status=status, content_type="application/json;charset=UTF-8")(environ, start_response)

    def authenticate(self, request):
        """API token (Authorization: PVEAPIToken=USER@REALM!ID=SECRET) or ticket (PVEAuthCookie, and the
        CSRFPreventionToken header on writes), as pve-http-server checks them."""
        header = request.headers.get("Authorization", "")
        if header.startswith("PVEAPIToken="):
            if not self.pve.opts.token or header[len("PVEAPIToken="):] != self.pve.opts.token:
                # PVE also waits ~3 s before answering a failed login; the double does not.
                raise ApiError(401, "authentication failure")
            return self.pve.opts.token.split("=", 1)[0]
        ticket = request.cookies.get("PVEAuthCookie")
        if not ticket:
            raise ApiError(401, "No ticket")
        if ticket not in self.pve.tickets:
            raise ApiError(401, "authentication failure")
        user, csrf = self.pve.tickets[ticket]
        if request.method != "GET" and request.headers.get("CSRFPreventionToken") != csrf:
            raise ApiError(401, "Permission denied - invalid csrf token")
        return user

    # ---- access, cluster, nodes

    def version(self, params, user):
        return VERSION

    def ticket(self, params, user):
        only(params, {"username", "password", "realm", "otp", "path", "privs", "new-format", "tfa-challenge"})
        username, password = params.get("username", ""), params.get("password", "")
        if params.get("realm") and "@" not in username:
            username += "@" + params["realm"]
        if not self.pve.opts.password or "%s=%s" % (username, password) != self.pve.opts.password:
            raise ApiError(401, "authentication failure")
        stamp = "%08X" % int(time.time())
        ticket = "PVE:%s:%s::%s" % (username, stamp, secrets.token_urlsafe(48))
        csrf = "%s:%s" % (stamp, secrets.token_urlsafe(32))
        self.pve.tickets[ticket] = (username, csrf)
        return {"username": username, "ticket": ticket, "CSRFPreventionToken": csrf,
                "cap": {"vms": {"VM.Allocate": 1, "VM.PowerMgmt": 1, "VM.Config.Disk": 1}}}

    def nodes(self, params, user):
        return [self.node_entry(n) for n in self.pve.nodes]

    @staticmethod
    def node_entry(node):
        return {"node": node, "id": "node/" + node, "type": "node", "status": "online", "level": "", "cpu": 0.01,
                "maxcpu": 8, "mem": 2 << 30, "maxmem": 32 << 30, "disk": 4 << 30, "maxdisk": 100 << 30, "uptime": 86400}

    def nextid(self, params, user):
        """pve-manager API2/Cluster.pm: the first free id from 100, or the given vmid if it is free. The schema says
        integer, but the id was used as a hash key before JSON encoding, so PVE sends a string ("100")."""
        only(params, {"vmid"})
        vmid = vmid_param(params, "vmid", required=False)
        if vmid is not None:
            if str(vmid) in self.pve.state["vms"]:
                raise param_error(vmid="VM %d already exists" % vmid)
            return str(vmid)
        vmid = 100
        while str(vmid) in self.pve.state["vms"]:
            vmid += 1
        return str(vmid)

    def resources(self, params, user):
        only(params, {"type"})
        kind = params.get("type")
        if kind not in (None, "vm", "node", "storage", "sdn"):
            raise param_error(type="value '%s' does not have a value in the enumeration 'vm, storage, node, sdn'" % kind)
        vms = sorted(self.pve.state["vms"].items(), key=lambda i: int(i[0])) if kind in (None, "vm") else []
        res = [self.vm_entry(vmid, rec, cluster=True) for vmid, rec in vms]
        return res + ([self.node_entry(n) for n in self.pve.nodes] if kind in (None, "node") else [])

    def vm_entry(self, vmid, rec, cluster=False):
        conf = rec["conf"]
        disk = sum(drive_size(v) for k, v in conf.items() if (DISK_KEY.match(k) or k == "rootfs") and "media=cdrom" not in v)
        mem = int(str(conf.get("memory", "512")).split(",", 1)[0].replace("current=", "")) << 20
        entry = {"vmid": int(vmid), "name": conf.get("name", conf.get("hostname")), "status": "running" if rec["running"] else "stopped",
                 "template": conf.get("template", 0), "maxmem": mem, "maxdisk": disk, "cpu": 0, "mem": 0, "disk": 0,
                 "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0, "cpus": conf.get("cores", 1) * conf.get("sockets", 1),
                 "uptime": int(time.time() - rec["started"]) if rec["running"] else 0}
        if conf.get("tags"):
            entry["tags"] = conf["tags"]
        if cluster:
            entry.update({"id": "%s/%s" % (rec["type"], vmid), "type": rec["type"], "node": rec["node"],
                          "maxcpu": entry.pop("cpus")})
        return entry

    def content(self, params, user, node, storage):
        self.pve.node(node)
        if storage not in (self.pve.storage, "local"):
            raise ApiError(500, "storage '%s' does not exist" % storage)
        res = [{"volid": v, "content": "vztmpl", "format": "tzst", "size": 126 << 20}
               for v in (self.pve.opts.ostemplate or [OSTEMPLATE]) if v.startswith(storage + ":")]
        for vmid, rec in self.pve.state["vms"].items():
            for key, value in rec["conf"].items():
                if (DISK_KEY.match(key) or key == "rootfs") and value.startswith(storage + ":") and "cloudinit" not in value:
                    res.append({"volid": value.split(",")[0], "content": "images" if rec["type"] == "qemu" else "rootdir",
                                "vmid": int(vmid), "format": "raw", "size": drive_size(value)})
        return [r for r in res if "vmid" not in params or str(r.get("vmid")) == params["vmid"]]

    # ---- tasks

    def get_task(self, node, upid):
        self.pve.node(node)
        task = self.pve.tasks.get(upid)
        if task is None or task["node"] != node:
            # Tasks live in memory only: a restart forgets them (PVE keeps them under /var/log/pve/tasks).
            raise ApiError(500, "no such task")
        return task

    def task_status(self, params, user, node, upid):
        task = self.get_task(node, upid)
        res = {"upid": upid, "node": node, "pid": task["pid"], "pstart": task["starttime"] * 100 & 0xFFFFFFFF,
               "starttime": task["starttime"], "type": task["type"], "id": task["id"], "user": task["user"],
               "status": "running"}
        if task["exitstatus"] is not None and time.time() - task["start"] >= TASK_SECONDS:
            res.update(status="stopped", exitstatus=task["exitstatus"])
        return res

    def task_log(self, params, user, node, upid):
        task = self.get_task(node, upid)
        start, limit = int(params.get("start", 0)), int(params.get("limit", 50))
        return [{"n": n + 1, "t": t} for n, t in enumerate(task["log"])][start:start + limit]

    # ---- qemu and lxc

    def vm_list(self, params, user, node, kind):
        self.pve.node(node)
        return [self.vm_entry(vmid, rec) for vmid, rec in sorted(self.pve.state["vms"].items())
                if rec["node"] == node and rec["type"] == kind]

    def clone(self, params, user, node, vmid):
        """qemu-server API2/Qemu.pm clone_vm: its checks in its order, then the qmclone worker."""
        only(params, {"newid", "name", "description", "pool", "snapname", "storage", "format", "full", "target", "bwlimit"})
        vmid = vmid_param({"vmid": vmid}, "vmid")
        newid = vmid_param(params, "newid")
        if params.get("name") and not DNS_NAME.match(params["name"]):
            raise param_error(name="invalid format - value does not look like a valid DNS name")
        target = params.get("target")
        if target and target != node:
            self.pve.node(target)
        storage = params.get("storage")
        if storage and storage not in (self.pve.storage, "local"):
            raise ApiError(500, "storage '%s' does not exist" % storage)
        if params.get("pool"):
            raise ApiError(500, "pool '%s' does not exist" % params["pool"])
        src = self.pve.vm(node, vmid)
        self.pve.check_unused(newid)
        self.pve.check_lock(src, vmid)
        if params.get("snapname"):
            raise ApiError(500, "snapshot '%s' does not exist" % params["snapname"])
        full = params.get("full", "0" if src["conf"].get("template") else "1") in ("1", "true")
        if (storage or params.get("format")) and not full:
            raise ApiError(500, "parameter '%s' not allowed for linked clones" % ("storage" if storage else "format"))
        if target and target != node:
            # local-lvm is not shared, as on a default install.
            raise ApiError(500, "can't clone VM to node '%s' (VM uses local storage)" % target)
        conf, disk_no = {}, 0
        for key, value in src["conf"].items():
            if key == "template":
                continue
            if key.startswith("net"):
                value = set_mac(value, "macaddr")
            elif DISK_KEY.match(key) and "cloudinit" in value:
                value = "%s:vm-%d-cloudinit,media=cdrom" % (storage or value.split(":")[0], newid)
            elif DISK_KEY.match(key) and "media=cdrom" not in value:
                volume, opts = value.split(",", 1)
                store, volname = volume.split(":", 1)
                value = ("%s:vm-%d-disk-%d,%s" % (storage or store, newid, disk_no, opts) if full
                         else "%s:%s/vm-%d-disk-%d,%s" % (store, volname, newid, disk_no, opts))
                disk_no += 1
            conf[key] = value
        conf.update(smbios1="uuid=%s" % uuid.uuid4(), vmgenid=str(uuid.uuid4()),
                    name=params.get("name") or "Copy-of-VM-%s" % src["conf"].get("name", vmid))
        if params.get("description"):
            conf["description"] = params["description"]
        # The new id is taken at once (qemu-server writes a locked temporary config before the worker).
        rec = {"type": "qemu", "node": node, "conf": conf, "running": False, "lock": "clone",
               "machine_id": src.get("machine_id")}
        self.pve.state["vms"][str(newid)] = rec

        def work():
            if self.pve.docker:
                try:
                    self.pve.docker.create(conf["name"], newid)
                    if rec["machine_id"]:
                        self.pve.docker.put_file(conf["name"], "/etc/machine-id", rec["machine_id"] + "\n")
                except RuntimeError as exc:
                    with self.pve.lock:
                        del self.pve.state["vms"][str(newid)]
                    raise RuntimeError("clone failed: %s" % exc)
                rec["container"] = conf["name"]
            del rec["lock"]
            return ["create %s clone of drives (test double: no data is copied)" % ("full" if full else "linked")]
        return self.pve.task(node, "qmclone", vmid, user, work)

    def config_get(self, params, user, node, kind, vmid):
        only(params, {"current", "snapshot"})
        rec = self.pve.vm(node, vmid, kind, running_check=False)
        conf = dict(rec["conf"])
        if rec.get("lock"):
            conf["lock"] = rec["lock"]
        if conf.get("cipassword"):
            conf["cipassword"] = "**********"
        conf["digest"] = self.pve.digest(rec["conf"])
        return conf

    def config_set(self, params, user, node, kind, vmid):
        """update_vm_api (qemu; POST: a qmconfig task, PUT: null) and pve-container's update_vm (PUT)."""
        keys = QEMU_KEYS if kind == "qemu" else LXC_KEYS
        only(params, {"digest", "delete", "revert", "skiplock", "force", "background_delay"}, keys)
        rec = self.pve.vm(node, vmid, kind, running_check=False)
        changes = {k: v for k, v in params.items() if keys.match(k)}
        for key, value in changes.items():
            if key in INT_KEYS:
                if not re.match(r"^-?\d+$", value):
                    raise param_error(**{key: "type check ('integer') failed - got '%s'" % value})
                changes[key] = int(value)
        if kind == "lxc":
            check_features(user, rec["conf"], changes)
        if "tags" in changes:
            changes["tags"] = unique_tags(changes["tags"])
        if "name" in changes and not DNS_NAME.match(changes["name"]):
            raise param_error(name="invalid format - value does not look like a valid DNS name")
        if "sshkeys" in changes and not URLENCODED.match(changes["sshkeys"]):
            raise param_error(sshkeys="invalid urlencoded string: %s" % changes["sshkeys"])
        if "skiplock" in params and not user.startswith("root@pam"):
            raise param_error(skiplock="Only root may use this option.")
        deletes = [d for d in re.split(r"[,;\s]+", params.get("delete", "")) if d]
        for key in deletes:
            if not keys.match(key):
                raise param_error(delete="unknown option '%s'" % key)
            if key in changes:
                raise param_error(delete="you can't use '-%s' and -delete %s' at the same time" % (key, key))
        if not changes and not deletes and not params.get("revert"):
            raise ApiError(500, "no options specified")
        if params.get("digest") and params["digest"] != self.pve.digest(rec["conf"]):
            raise ApiError(500, "checksum missmatch (file change by other user?)")
        self.pve.check_lock(rec, vmid)
        if any(DISK_KEY.match(k) and rec["conf"].get(k) != v for k, v in changes.items()) or \
                any(DISK_KEY.match(k) for k in deletes) or "rootfs" in changes:
            raise ApiError(501, "adding or changing disks through the config is not imitated by the PVE API test double")
        if "cipassword" in changes:
            # PVE stores a crypt() hash; the double keeps a stand-in (GET shows ********** either way).
            changes["cipassword"] = "$5$test-double$" + hashlib.sha256(changes["cipassword"].encode()).hexdigest()
        for key, value in changes.items():
            if key.startswith("net") and not re.search(r"(^|,)(virtio|e1000|rtl8139|vmxnet3|hwaddr)=", value):
                changes[key] = set_mac(value, "hwaddr")

        def work():
            # No pending section: every change applies at once, also to a running VM (hotplug is not imitated).
            with self.pve.lock:
                for key in deletes:
                    rec["conf"].pop(key, None)
                rec["conf"].update(changes)
            shown = ["-%s %s" % (k, "<hidden>" if k == "cipassword" else v) for k, v in sorted(changes.items())]
            return ["update VM %s: %s" % (vmid, " ".join(shown))]
        if kind == "qemu" and _LOCAL.method == "POST":
            return self.pve.task(node, "qmconfig", vmid, user, work)
        work()
        self.pve.save()
        return None

    def resize(self, params, user, node, vmid):
        """resize_vm: PVE 8 answers with a task (community.proxmox waits for it from 8.0 on); the checks run before
        the worker, as in the older source read. The worker name 'resize' is pve-container's; qemu's is assumed."""
        only(params, {"disk", "size", "digest", "skiplock"})
        rec = self.pve.vm(node, vmid, running_check=False)
        disk, sizestr = params.get("disk"), params.get("size")
        if not disk or not DISK_KEY.match(disk):
            raise param_error(disk="property is missing and it is not optional" if not disk
                              else "value '%s' does not have a value in the enumeration" % disk)
        if sizestr is None or not SIZE_RE.match(sizestr):
            raise param_error(size="property is missing and it is not optional" if sizestr is None
                              else "value does not match the regex pattern")
        if params.get("digest") and params["digest"] != self.pve.digest(rec["conf"]):
            raise ApiError(500, "checksum missmatch (file change by other user?)")
        self.pve.check_lock(rec, vmid)
        value = rec["conf"].get(disk)
        if not value:
            raise ApiError(500, "disk '%s' does not exist" % disk)
        if "media=cdrom" in value:
            raise ApiError(500, "you can't resize a cdrom")
        size = drive_size(value)
        newsize = parse_size(sizestr) + (size if sizestr.startswith("+") else 0)
        if newsize < size:
            raise ApiError(500, "shrinking disks is not supported")

        def work():
            if newsize != size:
                rec["conf"][disk] = with_size(value, newsize)
                return ["Resizing %s from %s to %s (test double: no volume)" % (disk, format_size(size), format_size(newsize))]
            return []
        return self.pve.task(node, "resize", vmid, user, work)

    def status(self, params, user, node, kind, vmid):
        rec = self.pve.vm(node, vmid, kind)
        res = self.vm_entry(vmid, rec)
        if kind == "qemu":
            res.update(qmpstatus=res["status"], ha={"managed": 0})
            if agent_enabled(rec["conf"]):
                res["agent"] = 1
        return res

    def power(self, params, user, node, kind, vmid, action):
        only(params, {"skiplock", "timeout", "forceStop", "keepActive", "migratedfrom", "machine", "force-cpu",
                      "stateuri", "targetstorage", "migration_type", "migration_network"})
        rec = self.pve.vm(node, vmid, kind)
        name = {"qemu": "qm", "lxc": "vz"}[kind] + action
        ctr = rec.get("container") if self.pve.docker else None

        def start():
            if rec["conf"].get("template"):
                raise ApiError(500, "you can't start a vm if it's a template")
            if rec["running"]:
                raise ApiError(500, "VM %s already running" % vmid)
            if ctr:
                self.start_container(rec, ctr)
            rec.update(running=True, started=time.time())
            return ["start VM %s" % vmid]

        def stop():
            if ctr and rec["running"]:
                Docker.run("stop", "-t", str(params.get("timeout", 10)), ctr)
            rec["running"] = False
            return []
        return self.pve.task(node, name, vmid, user, start if action == "start" else stop)

    def start_container(self, rec, ctr):
        conf = rec["conf"]
        ip = re.search(r"(?:^|,)ip=([\d.]+)/\d+", conf.get("ipconfig0", ""))
        if ip and not rec.get("cloud_init_done"):
            # A static ipconfig0 becomes the container's address on the network (the gateway is docker's).
            Docker.run("network", "disconnect", self.pve.docker.network, ctr)
            Docker.run("network", "connect", "--ip", ip.group(1), self.pve.docker.network, ctr)
        Docker.run("start", ctr)
        if not rec.get("cloud_init_done"):
            # Once, as cloud-init's per-instance modules; PVE regenerates the drive on later changes and a new
            # instance id re-runs them, which the double does not. /etc/machine-id stays as the disk has it (the
            # template's, shared by every clone): the role must notice and renew it, as on real clones.
            keys = urllib.parse.unquote(conf.get("sshkeys", ""))
            self.pve.docker.cloud_init(ctr, conf["name"], conf.get("ciuser", "debian"), keys)
            rec["cloud_init_done"] = True

    def destroy(self, params, user, node, kind, vmid):
        only(params, {"purge", "skiplock", "destroy-unreferenced-disks", "force"})
        rec = self.pve.vm(node, vmid, kind, running_check=False)
        # pve-container's destroy_vm takes force ("Force destroy, even if running"): it stops the container first.
        force = kind == "lxc" and params.get("force") in ("1", "true")
        if rec["running"] and not force:
            # destroy_vm's text; pve-container's wording for a running CT is not confirmed.
            raise ApiError(500, "%s %s is running - destroy failed" % ("VM" if kind == "qemu" else "CT", vmid))
        self.pve.check_lock(rec, vmid)

        def work():
            rec["running"] = False
            if rec.get("container") and self.pve.docker:
                Docker.run("rm", "-f", "-v", rec["container"])
            with self.pve.lock:
                del self.pve.state["vms"][str(vmid)]
            return ["destroy %s %s" % (kind, vmid)]
        return self.pve.task(node, "qmdestroy" if kind == "qemu" else "vzdestroy", vmid, user, work)

    def agent_net(self, params, user, node, vmid):
        """Agent.pm: the config must exist, then agent_available (its three texts as remembered from PVE 8, not read),
        then the guest agent's answer wrapped in {"result": ...}."""
        rec = self.pve.vm(node, vmid, running_check=False)
        if not agent_enabled(rec["conf"]):
            raise ApiError(500, "No QEMU guest agent configured")
        if not rec["running"]:
            raise ApiError(500, "VM %s is not running" % vmid)
        if time.time() - rec["started"] < self.pve.opts.agent_delay:
            raise ApiError(500, "QEMU guest agent is not running")
        if rec.get("container") and self.pve.docker:
            addr = self.pve.docker.addresses(rec["container"])
            if addr is None:
                raise ApiError(500, "QEMU guest agent is not running")
            ip, prefix, mac = addr
        else:
            # No guest: a made-up address from TEST-NET-1 (192.0.2.0/24), one per VM id, and net0's MAC.
            ip, prefix = "192.0.2.%d" % (int(vmid) % 253 + 1), 24
            mac = re.search(r"=([0-9A-Fa-f:]{17})", rec["conf"].get("net0", "=00:00:00:00:00:00")).group(1).lower()
        return {"result": [
            {"name": "lo", "hardware-address": "00:00:00:00:00:00",
             "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": "127.0.0.1", "prefix": 8},
                              {"ip-address-type": "ipv6", "ip-address": "::1", "prefix": 128}]},
            {"name": "eth0", "hardware-address": mac,
             "ip-addresses": [{"ip-address-type": "ipv4", "ip-address": ip, "prefix": prefix}]}]}

    def lxc_create(self, params, user, node):
        """pve-container API2/LXC.pm create_vm, state only (no container runs)."""
        only(params, {"vmid", "ostemplate", "storage", "password", "ssh-public-keys", "start", "pool", "force",
                      "restore", "unique", "bwlimit", "ignore-unpack-errors"}, LXC_KEYS)
        self.pve.node(node)
        vmid = vmid_param(params, "vmid")
        if not params.get("ostemplate"):
            raise param_error(ostemplate="property is missing and it is not optional")
        self.pve.check_unused(vmid)
        if params["ostemplate"] not in (self.pve.opts.ostemplate or [OSTEMPLATE]):
            raise ApiError(500, "volume '%s' does not exist" % params["ostemplate"])
        storage = params.get("storage", "local")
        rootfs = params.get("rootfs", "%s:8" % storage)
        store, _sep, size = rootfs.split(",")[0].partition(":")
        conf = {k: v for k, v in params.items() if LXC_KEYS.match(k)}
        # unprivileged: 0 is what create_vm's schema defaults to.
        check_features(user, {"unprivileged": conf.get("unprivileged", 0)}, conf)
        if "tags" in conf:
            conf["tags"] = unique_tags(conf["tags"])
        conf.update(hostname=params.get("hostname", "CT%d" % vmid), arch="amd64", ostype="debian",
                    rootfs="%s:vm-%d-disk-0,size=%s" % (store, vmid, format_size(int(float(size or 8)) << 30)))
        for key in INT_KEYS & set(conf):
            conf[key] = int(conf[key])
        for key in [k for k in conf if k.startswith("net") and "hwaddr=" not in conf[k]]:
            conf[key] = set_mac(conf[key], "hwaddr")

        def work():
            with self.pve.lock:
                self.pve.state["vms"][str(vmid)] = {"type": "lxc", "node": node, "conf": conf, "running": False}
            return ["extracting archive '%s' (test double: nothing is extracted)" % params["ostemplate"]]
        return self.pve.task(node, "vzcreate", vmid, user, work)

    def lxc_net(self, params, user, node, vmid):
        rec = self.pve.vm(node, vmid, "lxc")
        if not rec["running"]:
            raise ApiError(500, "CT %s not running" % vmid)
        mac = re.search(r"hwaddr=([0-9A-Fa-f:]{17})", rec["conf"].get("net0", "hwaddr=00:00:00:00:00:00")).group(1)
        # No container runs: a made-up address from TEST-NET-1, as for VMs without --docker-image.
        return [{"name": "lo", "hwaddr": "00:00:00:00:00:00", "inet": "127.0.0.1/8", "inet6": "::1/128"},
                {"name": "eth0", "hwaddr": mac.lower(), "inet": "192.0.2.%d/24" % (int(vmid) % 253 + 1)}]


def certificate(state_dir):
    """A self-signed certificate, made once in the state dir (clients use validate_certs: false)."""
    crt, key = os.path.join(state_dir, "pve-ssl.pem"), os.path.join(state_dir, "pve-ssl.key")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "3650", "-subj", "/CN=pve-test-double", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return crt, key


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Proxmox VE API test double (PVE 8.x; see tests/doubles/README.md)")
    parser.add_argument("--listen", default="127.0.0.1:8006", help="HOST:PORT (port 0 picks a free one)")
    parser.add_argument("--state-dir", required=True, help="VMs (pve-state.json), certificate and address file")
    parser.add_argument("--node", action="append", help="a cluster node (repeatable; default pve)")
    parser.add_argument("--token", help="USER@REALM!ID=SECRET: the API token that authenticates")
    parser.add_argument("--password", help="USER@REALM=PASS: the user that gets tickets")
    parser.add_argument("--template", action="append", help="VMID=NAME: a cloud-init template on the first node")
    parser.add_argument("--storage", default="local-lvm", help="the VM disk storage (default local-lvm)")
    parser.add_argument("--ostemplate", action="append", help="an LXC template volume (default %s)" % OSTEMPLATE)
    parser.add_argument("--agent-delay", type=float, default=2.0, help="seconds after start before the guest agent answers")
    parser.add_argument("--docker-image", help="clones become containers of this image")
    parser.add_argument("--docker-network", help="the docker network of those containers")
    parser.add_argument("--background", action="store_true", help="detach; the parent exits 0 once /version answers")
    parser.add_argument("--pid-file")
    parser.add_argument("--log-file")
    opts = parser.parse_args(argv)
    if not opts.token and not opts.password:
        parser.error("give --token or --password (the test double needs a way in)")
    for spec, pattern in ((opts.token, r"^[^@!=]+@[^!=]+![^=]+=.+$"), (opts.password, r"^[^@=]+@[^=]+=.+$")):
        if spec and not re.match(pattern, spec):
            parser.error("malformed credential %r" % spec)
    return opts


def serve(opts):
    os.makedirs(opts.state_dir, exist_ok=True)
    pve = Pve(opts)
    host, _sep, port = opts.listen.rpartition(":")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate(opts.state_dir))
    server = make_server(host or "127.0.0.1", int(port), App(pve), threaded=True, ssl_context=context)
    address = "%s:%d" % (host or "127.0.0.1", server.server_port)
    with open(os.path.join(opts.state_dir, "address"), "w") as handle:
        handle.write(address + "\n")
    if opts.pid_file:
        with open(opts.pid_file, "w") as handle:
            handle.write("%d\n" % os.getpid())
    signal.signal(signal.SIGTERM, lambda _s, _f: threading.Thread(target=server.shutdown, daemon=True).start())
    log("test double listening on https://%s (nodes %s, state %s)" % (address, ",".join(pve.nodes), opts.state_dir))
    try:
        server.serve_forever()
    finally:
        if opts.pid_file and os.path.exists(opts.pid_file):
            os.unlink(opts.pid_file)
    return 0


def answering(address_file, token):
    """The base URL once the server answers GET /version (any HTTP status: a ticket-only double answers 401)."""
    try:
        with open(address_file) as handle:
            base = "https://" + handle.read().strip()
        request = urllib.request.Request(base + API + "/version", headers={"Authorization": "PVEAPIToken=" + (token or "")})
        urllib.request.urlopen(request, timeout=2, context=ssl._create_unverified_context()).close()  # noqa: S323
    except urllib.error.HTTPError:
        pass
    except OSError:
        return None
    return base


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = parse_args(argv)
    if not opts.background:
        return serve(opts)
    # --background: the same command detached; the parent waits for the address file and an answer.
    os.makedirs(opts.state_dir, exist_ok=True)
    address_file = os.path.join(opts.state_dir, "address")
    if os.path.exists(address_file):
        os.unlink(address_file)
    with open(opts.log_file or os.devnull, "ab") as out:
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + [a for a in argv if a != "--background"],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    for _i in range(300):
        if child.poll() is not None:
            break
        base = answering(address_file, opts.token)
        if base:
            print("pve-api-double: test double pid %d serving %s" % (child.pid, base))
            return 0
        time.sleep(0.1)
    sys.stderr.write("pve-api-double: the background test double did not start (see %s)\n" % (opts.log_file or "its log"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
