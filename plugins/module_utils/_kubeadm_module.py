# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared AnsibleModule glue for the kubeadm modules: their start (options, input checks), running kubeadm.

Only thin wrappers around ``module.run_command`` live here; every decision is made
by the pure functions in kubeadm_common and kubeadm_output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import os
import shutil
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.urls import open_url

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_cluster import (
    UNREACHABLE,
    init_state,
    kubeconfig_credentials,
    probe_plan,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    TIMEOUT_RC,
    kubeconfig_ca_hash_text,
    mask_argv,
    mask_secrets,
    validate_ignore_preflight_errors,
    version_argv,
    with_timeout,
)


def start_module(options, timeout, check=None, preflight=False):
    """The AnsibleModule of a kubeadm module, its input checked before anything runs.

    ``options`` is the module's own argument spec; ``kubeadm_path`` and ``timeout`` (default ``timeout``
    seconds) are added, and with ``preflight`` ``ignore_preflight_errors`` (``allow_ignore_all`` is read
    when the module has that option). A timeout that is not a positive number of seconds fails first;
    then the ``ValueError`` of ``check(params)`` (the module's other rules) or of the preflight list
    fails the task with its message. Returns ``(module, check's value, the checks to ignore)``.
    """
    argument_spec = dict(options)
    if preflight:
        argument_spec["ignore_preflight_errors"] = {"type": "list", "elements": "str", "default": []}
    argument_spec.update({
        "kubeadm_path": {"type": "str", "default": "kubeadm"},
        "timeout": {"type": "int", "default": timeout},
    })
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["timeout"] is None or params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds")
    checked = ignore = None
    try:
        if check is not None:
            checked = check(params)
        if preflight:
            ignore = validate_ignore_preflight_errors(params["ignore_preflight_errors"],
                                                      params.get("allow_ignore_all", False))
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    return module, checked, ignore


def find_kubeadm(module, required=True):
    """Absolute path of kubeadm, or fail with a clear message before anything runs.

    With ``required=False`` (check mode on a node the packages are not installed on yet) a missing
    kubeadm gives ``None`` instead.
    """
    path = module.params["kubeadm_path"]
    if os.path.sep in path:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            if not required:
                return None
            module.fail_json(msg="kubeadm_path %s is not an executable file" % path)
        return path
    found = module.get_bin_path(path)
    if not found and not required:
        return None
    if not found:
        module.fail_json(msg="%s was not found in PATH; install the kubeadm package first (kubelab.cluster.kube_packages)" % path)
    return found


def run_kubeadm(module, argv, secrets=(), timeout=None):
    """Run ``argv`` (wrapped in coreutils timeout when available).

    Returns ``(run, raw)``: ``run`` is ``{"rc", "stdout", "stderr", "cmd"}`` with secrets
    masked, ready to go into the result; ``raw`` is the unmasked stdout and stderr,
    for parsing only (never returned). ``rc`` is 124 when the time limit was hit.
    """
    seconds = module.params["timeout"] if timeout is None else timeout
    wrapped = with_timeout(module.get_bin_path("timeout"), seconds, argv)
    rc, out, err = module.run_command(wrapped, environ_update={"LANG": "C", "LC_ALL": "C"})
    run = {
        "rc": rc,
        "stdout": mask_secrets(out, secrets),
        "stderr": mask_secrets(err, secrets),
        "cmd": mask_argv(argv, secrets),
    }
    return run, (out or "") + "\n" + (err or "")


def kubeadm_version(module, kubeadm):
    """``v1.36.1`` from ``kubeadm version -o short`` (read-only), or ``None``."""
    rc, out, _err = module.run_command(version_argv(kubeadm), environ_update={"LANG": "C", "LC_ALL": "C"})
    if rc != 0:
        return None
    value = out.strip().splitlines()
    return value[-1].strip() if value else None


def read_text(path):
    """File contents as text, or ``None`` when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def kubeconfig_ca_hash(path):
    """``(hash, cluster)`` of the CA a kubeconfig trusts; raises ``ValueError`` with a clear message."""
    text = read_text(path)
    if text is None:
        raise ValueError("cannot read %s" % path)
    return kubeconfig_ca_hash_text(text, path, read_text)


def timed_out(rc):
    return rc == TIMEOUT_RC


def _credential_files(directory, creds):
    """Write the kubeconfig's CA, client certificate and key where the TLS stack can load them."""
    paths = {}
    for name, pem_key, file_key in (("ca", "ca_pem", "ca_file"), ("cert", "cert_pem", "cert_file"),
                                    ("key", "key_pem", "key_file")):
        if creds.get(pem_key):
            paths[name] = os.path.join(directory, name + ".pem")
            fd = os.open(paths[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(creds[pem_key])
        elif creds.get(file_key):
            paths[name] = creds[file_key]
    return paths


def _status(url, paths, timeout):
    """HTTP status of a GET (the body is not read), or ``None`` when nothing answered."""
    try:
        response = open_url(url, method="GET", validate_certs=True, ca_path=paths.get("ca"),
                            client_cert=paths.get("cert"), client_key=paths.get("key"), timeout=timeout,
                            follow_redirects="none")
        return response.getcode()
    except HTTPError as exc:
        return exc.code
    except (URLError, IOError, OSError, ValueError):
        return None


def read_init_state(kubeconfig_text, wait_seconds, sleep=time.sleep, clock=time.time):
    """Ask the API server (with admin.conf's own credentials) whether kubeadm init finished.

    Waits up to ``wait_seconds`` for the server to answer at all (its static pod may still be
    starting). Returns :func:`kubeadm_cluster.init_state`'s triple plus the server URL.
    """
    creds = kubeconfig_credentials(kubeconfig_text)
    server = (creds.get("server") or "").rstrip("/")
    if not server.startswith("https://"):
        return ("refused", [], "admin.conf names no https:// server", server)
    directory = tempfile.mkdtemp(prefix="kubelab-init-state-")
    try:
        paths = _credential_files(directory, creds)
        deadline = clock() + max(wait_seconds, 0)
        while True:
            answers = {}
            for path in probe_plan():
                answers[path] = _status(server + path, paths, 5)
                if answers[path] is None:
                    break
            state = init_state(answers)
            if state[0] != UNREACHABLE or clock() >= deadline:
                return state + (server,)
            sleep(2)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
