# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is ``kubeadm init`` finished? Decided from the cluster, not from files on disk.

An interrupted ``kubeadm init`` (a dropped connection, Ctrl-C) leaves admin.conf, the
certificates and the static pod manifests, but none of the API objects its later phases
create. Those objects are what workers need to join, so they decide. Pure functions: the
caller does the HTTPS requests (:func:`probe_plan`) and hands back the status codes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import re

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    kubeconfig_cluster,
    kubeconfig_data,
    kubeconfig_section,
)

# (phase of kubeadm init that creates it, API path). upload-config stores the kubeadm-config
# ConfigMap; bootstrap-token creates cluster-info and, last, the Role that lets anonymous
# joiners read it. The addon phase (CoreDNS, kube-proxy) is not asked for: users skip it on
# purpose (kube-proxy-free CNIs), so its absence says nothing.
INIT_OBJECTS = (
    ("upload-config", "/api/v1/namespaces/kube-system/configmaps/kubeadm-config"),
    ("bootstrap-token", "/api/v1/namespaces/kube-public/configmaps/cluster-info"),
    ("bootstrap-token",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles/kubeadm:bootstrap-signer-clusterinfo"),
)

COMPLETE = "complete"
PARTIAL = "partial"
UNREACHABLE = "unreachable"
REFUSED = "refused"

# Re-run every phase but preflight: kubeadm reuses the certificates and kubeconfigs it finds
# (when they match the CA and endpoint) and writes the rest; preflight would refuse the
# files and ports the interrupted run left.
FINISH_SKIP_PHASES = "preflight"

_USER_KEY_RE = re.compile(r"^\s*-?\s*(client-certificate-data|client-key-data|client-certificate|client-key)\s*:\s*(.*?)\s*$")


def kubeconfig_credentials(text):
    """``{server, ca_pem, cert_pem, key_pem, cert_file, key_file}`` of a kubeadm-written kubeconfig.

    Keys that are absent are ``None`` (first cluster, first user).
    """
    cluster = kubeconfig_cluster(text)
    found = kubeconfig_section(text, "users", _USER_KEY_RE)
    return {
        "server": cluster.get("server"),
        "ca_pem": kubeconfig_data(cluster.get("certificate-authority-data")),
        "ca_file": cluster.get("certificate-authority"),
        "cert_pem": kubeconfig_data(found.get("client-certificate-data")),
        "key_pem": kubeconfig_data(found.get("client-key-data")),
        "cert_file": found.get("client-certificate"),
        "key_file": found.get("client-key"),
    }


def probe_plan():
    """The API paths to GET, in order."""
    return [path for _phase, path in INIT_OBJECTS]


def init_state(answers):
    """Decide from ``answers`` (API path -> HTTP status, or ``None`` when the server did not answer).

    Returns ``(state, missing_phases, detail)``:
    - ``complete``: every object exists (200);
    - ``partial``: the API server answers but objects of later phases are missing (404), or admin.conf
      is not allowed to read them yet (403: from 1.29 kubeadm binds admin.conf's group to cluster-admin
      in its upload-config phase, so an init stopped before that gets 403);
    - ``unreachable``: no answer to one of the requests (the caller asks again until its deadline);
    - ``refused``: any other status (401: admin.conf is not a credential of this API server).
    """
    statuses = [answers.get(path) for path in probe_plan()]
    if any(status is None for status in statuses):
        return UNREACHABLE, [], "the API server did not answer"
    odd = [(path, status) for path, status in zip(probe_plan(), statuses) if status not in (200, 403, 404)]
    if odd:
        return REFUSED, [], "; ".join("GET %s answered HTTP %s" % item for item in odd)
    missing = []
    for (phase, path), status in zip(INIT_OBJECTS, statuses):
        if status != 200 and phase not in missing:
            missing.append(phase)
    if not missing:
        return COMPLETE, [], "kubeadm-config, cluster-info and its RBAC Role exist"
    detail = ", ".join("%s %s" % (path.rsplit("/", 1)[-1], "forbidden" if status == 403 else "missing")
                       for path, status in zip(probe_plan(), statuses) if status != 200)
    return PARTIAL, missing, detail


def finish_argv(init_argv):
    """``kubeadm init`` argv that finishes an interrupted init: every phase again but preflight."""
    return list(init_argv) + ["--skip-phases=%s" % FINISH_SKIP_PHASES]
