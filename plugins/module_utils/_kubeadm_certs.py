# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions of the kubeadm_certs module (Python standard library only).

* ``parse_check_expiration(text, now)`` - ``kubeadm certs check-expiration`` (text of every release
  since ``kubeadm alpha certs check-expiration`` in 1.15, or the ``-o json`` of 1.30+) as a list of
  entries, each with its expiry and residual time.
* ``renewal_plan(entries, below_days)`` - which certificates kubeadm can renew now, and which ones
  are below the threshold but cannot be renewed by kubeadm (CAs, externally managed, missing).

The shapes of the texts are listed in tests/unit/fixtures/kubeadm_certs/SOURCES.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import datetime
import json
import re

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_common import (
    format_rfc3339,
    parse_rfc3339,
)

# kubeadm prints -o json from 1.30 (output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo).
JSON_SINCE = (1, 30)
DAY = 86400

# "admin.conf   Dec 30, 2020 23:36 UTC   364d   ca   no": the CA column is empty for kubeconfigs
# before 1.22 and absent in the CA table and in 1.15's four-column table (true/false there).
_ROW_RE = re.compile(
    r"^(?P<name>\S+)\s+(?P<expires>[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} [A-Z]+)\s+(?P<residual>\S+)"
    r"(?:\s+(?P<ca>[a-z][a-z0-9-]*))??\s+(?P<external>yes|no|true|false)\s*$")
_MISSING_RE = re.compile(r"^!MISSING!\s+(?P<name>\S+)")
# kubeadm init alone writes super-admin.conf (1.29+): a joined control plane has none, and kubeadm's docs say its
# absence is no error (check-expiration lists it missing, renew all passes it over).
FIRST_CONTROL_PLANE_ONLY = ("super-admin.conf",)
_LEAF_HEADER_RE = re.compile(r"^CERTIFICATE\s+EXPIRES\s+RESIDUAL TIME")
_CA_HEADER_RE = re.compile(r"^CERTIFICATE AUTHORITY\s+EXPIRES\s+RESIDUAL TIME")


def _entry(name, expires, residual_text, ca, external, missing, authority, now):
    seconds = None if expires is None else int((expires - now).total_seconds())
    return {
        "name": name,
        "authority": authority,
        "ca": ca or None,
        "expires": None if expires is None else format_rfc3339(expires),
        "residual": residual_text,
        "residual_seconds": seconds,
        "residual_days": None if seconds is None else seconds // DAY,
        "externally_managed": external,
        "missing": missing,
    }


def _text_time(value):
    """``Dec 30, 2020 23:36 UTC`` as an aware datetime; kubeadm prints certificates' times in UTC."""
    stamp, _sep, zone = value.rpartition(" ")
    if zone not in ("UTC", "GMT"):
        return None
    try:
        moment = datetime.datetime.strptime(stamp, "%b %d, %Y %H:%M")
    except ValueError:
        return None
    return moment.replace(tzinfo=datetime.timezone.utc)


def _parse_text(text, now):
    entries, section = [], None
    for line in text.splitlines():
        if _CA_HEADER_RE.match(line):
            section = "authority"
            continue
        if _LEAF_HEADER_RE.match(line):
            section = "leaf"
            continue
        if section is None or not line.strip():
            continue
        authority = section == "authority"
        missing = _MISSING_RE.match(line)
        if missing:
            entries.append(_entry(missing.group("name"), None, None, None, False, True, authority, now))
            continue
        row = _ROW_RE.match(line.strip())
        if row:
            entries.append(_entry(row.group("name"), _text_time(row.group("expires")), row.group("residual"),
                                  row.group("ca"), row.group("external") in ("yes", "true"), False, authority, now))
    return entries


def _parse_json(data, now):
    if not isinstance(data, dict) or data.get("kind") != "CertificateExpirationInfo":
        return []
    entries = []
    for key, authority in (("certificates", False), ("certificateAuthorities", True)):
        for item in data.get(key) or []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            missing = bool(item.get("missing"))
            expires = None if missing else parse_rfc3339(item.get("expirationDate"))
            residual = item.get("residualTime")
            entries.append(_entry(item["name"], expires, None if missing else "%ss" % residual, item.get("caName"),
                                  bool(item.get("externallyManaged")), missing, authority, now))
    return entries


def parse_check_expiration(text, now=None):
    """Entries of ``kubeadm certs check-expiration`` output (text or ``-o json``), leaves first.

    Each entry: ``name``, ``authority`` (true in the CA table), ``ca`` (the signer, null for CAs and,
    before 1.22, kubeconfigs), ``expires`` (RFC 3339), ``residual`` (as kubeadm printed it),
    ``residual_seconds`` and ``residual_days`` (from ``expires`` at ``now``), ``externally_managed``,
    ``missing``. Unknown lines are skipped; nothing raises on bad input.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not isinstance(text, str):
        return []
    start = text.find("{")
    if start != -1 and text[start:].lstrip("{").lstrip().startswith('"'):
        try:
            return _parse_json(json.loads(text[start:]), now)
        except ValueError:
            pass
    return _parse_text(text, now)


def validate_below_days(value):
    """Raise ``ValueError`` unless ``value`` is a whole number of days from 1 to 3650 (or None)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ValueError("renew_below_days must be a whole number of days from 1 to 3650 (kubeadm's leaf "
                         "certificates live 365 days), got %r" % (value,))


def renewal_plan(entries, below_days):
    """What to do for ``below_days``: ``{"renew": [...], "argv_names": [...], "blocked": [...]}``.

    ``renew``: leaf certificates below the threshold that kubeadm can renew (present, not externally
    managed). ``argv_names``: what to pass to ``kubeadm certs renew`` - ``["all"]`` unless some
    certificate is externally managed (then the due names one by one, so kubeadm is never asked to
    renew what an external CA signs). ``blocked``: ``{"name", "reason"}`` for what is below the
    threshold (or missing) and kubeadm cannot renew: CAs, externally managed certificates, missing files (but
    super-admin.conf, which only the first control plane has).
    """
    plan = {"renew": [], "argv_names": [], "blocked": []}
    if below_days is None:
        return plan
    limit = below_days * DAY
    for item in entries:
        if item["missing"]:
            if item["name"] not in FIRST_CONTROL_PLANE_ONLY:
                plan["blocked"].append({"name": item["name"], "reason": "missing: kubeadm found no such file"})
            continue
        if item["residual_seconds"] is None or item["residual_seconds"] >= limit:
            continue
        if item["authority"]:
            plan["blocked"].append({"name": item["name"], "reason": "a certificate authority: kubeadm certs renew "
                                    "does not renew CAs (rotate it by hand, see the kubeadm docs)"})
        elif item["externally_managed"]:
            plan["blocked"].append({"name": item["name"], "reason": "externally managed: its CA key is not on the "
                                    "node, renew it with the external CA"})
        else:
            plan["renew"].append(item["name"])
    if plan["renew"]:
        external = any(item["externally_managed"] for item in entries if not item["authority"])
        plan["argv_names"] = list(plan["renew"]) if external else ["all"]
    return plan


def report_lines(entries, plan):
    """One line per certificate (name, expiry, days left, signer or what it is), then the plan's outcome."""
    lines = []
    for item in entries:
        if item["missing"]:
            what = "MISSING"
        elif item["authority"]:
            what = "certificate authority"
        else:
            what = "signed by %s" % (item["ca"] or "?")
        if item["externally_managed"]:
            what += ", externally managed"
        expires = item["expires"] or "-"
        days = "-" if item["residual_days"] is None else "%d days left" % item["residual_days"]
        lines.append("%-25s %-20s %-14s %s" % (item["name"], expires, days, what))
    if plan["renew"]:
        lines.append("renewed: %s" % ", ".join(plan["renew"]))
    for item in plan["blocked"]:
        lines.append("not renewable: %s: %s" % (item["name"], item["reason"]))
    return lines


def check_expiration_argv(kubeadm, json_output, cert_dir=None):
    argv = [kubeadm, "certs", "check-expiration"]
    if json_output:
        argv.extend(["-o", "json"])
    if cert_dir:
        argv.extend(["--cert-dir", cert_dir])
    return argv


def renew_argv(kubeadm, name, cert_dir=None):
    argv = [kubeadm, "certs", "renew", name]
    if cert_dir:
        argv.extend(["--cert-dir", cert_dir])
    return argv


def json_supported(version):
    """True when kubeadm ``version`` (``v1.30.2``) prints check-expiration as JSON."""
    match = re.match(r"^v?(\d+)\.(\d+)", version or "")
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= JSON_SINCE
