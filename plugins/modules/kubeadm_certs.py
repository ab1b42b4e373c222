#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = r"""
---
module: kubeadm_certs
short_description: Report the expiry of a control-plane node's kubeadm certificates and renew them below a threshold
version_added: 0.1.0
description:
  - Runs C(kubeadm certs check-expiration) on a control-plane node (C(-o json) from kubeadm 1.30, the text table
    before) and returns every certificate and certificate authority with its expiry and residual time.
  - With O(renew_below_days), when a leaf certificate kubeadm can renew has less than that many days left, runs
    C(kubeadm certs renew all) (or, when some certificate is externally managed, C(kubeadm certs renew) for each due
    certificate) and reads the expiry again. CAs, externally managed and missing certificates are never renewed;
    they are returned in RV(blocked), but for C(super-admin.conf), which C(kubeadm init) alone writes (a joined
    control plane has none, and kubeadm reports its absence as no error).
  - It does not restart the control-plane static pods; the C(playbooks/certs.yml) playbook does, the kubeadm way.
author:
  - kubelab.cluster maintainers (@kubelab)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - kubelab.cluster.kubeadm
  - kubelab.cluster.attributes
attributes:
  check_mode:
    support: full
    details: The expiry is read (read-only); nothing is renewed and RV(renewed) lists what would be.
  diff_mode:
    support: full
    details: Reports the expiry of the renewed certificates before and after.
options:
  renew_below_days:
    description:
      - Renew when a leaf certificate kubeadm manages has less than this many days left (1 to 3650).
      - Unset, the module only reports.
    type: int
  cert_dir:
    description:
      - The certificate directory kubeadm reads (its C(--cert-dir)); kubeadm's default when unset.
    type: path
  timeout:
    description:
      - Seconds each kubeadm call may run.
    type: int
    default: 120
seealso:
  - module: kubelab.cluster.kubeadm_token
"""

EXAMPLES = r"""
- name: Report the certificates' expiry
  kubelab.cluster.kubeadm_certs:
  register: kubelab_certs

- name: Renew every certificate when one has less than 30 days left
  kubelab.cluster.kubeadm_certs:
    renew_below_days: 30
"""

RETURN = r"""
certificates:
  description: Every leaf certificate of C(kubeadm certs check-expiration), after a renewal when one ran.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: kubeadm's name of the certificate (C(apiserver), C(admin.conf), ...).
      type: str
    ca:
      description: Name of the CA that signed it; null when kubeadm did not print one (kubeconfigs before 1.22).
      type: str
    expires:
      description: Expiry (RFC 3339, UTC); null when missing.
      type: str
    residual:
      description: The residual time as kubeadm printed it (C(364d), C(<invalid>)); seconds with C(-o json).
      type: str
    residual_seconds:
      description: Seconds from now to the expiry (negative when expired); null when missing.
      type: int
    residual_days:
      description: Whole days from now to the expiry; null when missing.
      type: int
    externally_managed:
      description: Whether kubeadm cannot renew it because its CA key is not on the node.
      type: bool
    missing:
      description: Whether kubeadm found no such file.
      type: bool
  sample:
    - name: apiserver
      ca: ca
      expires: "2027-12-07T02:10:00Z"
      residual: 364d
      residual_seconds: 31535400
      residual_days: 364
      externally_managed: false
      missing: false
authorities:
  description: The certificate authorities, with the same keys as RV(certificates) (C(ca) is null).
  returned: always
  type: list
  elements: dict
renewed:
  description: Names of the leaf certificates that were below O(renew_below_days) and were renewed (or would be, in check mode).
  returned: always
  type: list
  elements: str
report:
  description: One line per certificate and authority (name, expiry, days left, signer), then what was renewed and what cannot be.
  returned: always
  type: list
  elements: str
  sample:
    - "apiserver                 2027-12-07T02:10:00Z 364 days left  signed by ca"
    - "ca                        2036-12-05T02:10:00Z 3649 days left certificate authority"
blocked:
  description: Certificates below O(renew_below_days) (or missing) that kubeadm cannot renew, each with the reason.
  returned: always
  type: list
  elements: dict
  sample:
    - name: ca
      reason: "a certificate authority: kubeadm certs renew does not renew CAs (rotate it by hand, see the kubeadm docs)"
"""

from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_certs import (
    check_expiration_argv,
    json_supported,
    parse_check_expiration,
    renew_argv,
    renewal_plan,
    report_lines,
    validate_below_days,
)
from ansible_collections.kubelab.cluster.plugins.module_utils._kubeadm_module import (
    find_kubeadm,
    kubeadm_version,
    run_kubeadm,
    start_module,
)


def read_expiration(module, kubeadm, json_output, result):
    run, raw = run_kubeadm(module, check_expiration_argv(kubeadm, json_output, module.params["cert_dir"]))
    entries = parse_check_expiration(raw)
    if run["rc"] != 0 or not entries:
        result.update(run)
        module.fail_json(msg="kubeadm certs check-expiration failed (rc=%s) or printed no certificate; run this on an "
                             "initialized control-plane node (see stderr)" % run["rc"], **result)
    return entries


def main():
    module, _checked, _ignore = start_module(dict(
        renew_below_days=dict(type="int"),
        cert_dir=dict(type="path"),
    ), 120, check=lambda params: validate_below_days(params["renew_below_days"]))
    params = module.params
    kubeadm = find_kubeadm(module)
    json_output = json_supported(kubeadm_version(module, kubeadm))
    result = dict(changed=False, certificates=[], authorities=[], renewed=[], blocked=[], report=[])

    entries = read_expiration(module, kubeadm, json_output, result)
    plan = renewal_plan(entries, params["renew_below_days"])
    result["blocked"] = plan["blocked"]
    if plan["renew"]:
        result["changed"] = True
        result["renewed"] = plan["renew"]
        before = dict((item["name"], item["expires"]) for item in entries if item["name"] in plan["renew"])
        if not module.check_mode:
            for name in plan["argv_names"]:
                run, _raw = run_kubeadm(module, renew_argv(kubeadm, name, params["cert_dir"]))
                if run["rc"] != 0:
                    result.update(run)
                    module.fail_json(msg="kubeadm certs renew %s failed (rc=%s); see stderr" % (name, run["rc"]), **result)
            entries = read_expiration(module, kubeadm, json_output, result)
        if module._diff:
            after = dict((item["name"], item["expires"]) for item in entries if item["name"] in plan["renew"])
            if module.check_mode:
                after = dict((name, "(renewed)") for name in before)
            result["diff"] = dict(before=before, after=after)
    result["report"] = report_lines(entries, plan)
    result["certificates"] = [item for item in entries if not item["authority"]]
    result["authorities"] = [item for item in entries if item["authority"]]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
