# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bounded request loop: GET a URL again and again until a stop file appears (or a time limit), then print
JSON counts: requests, failed (anything but a 200 answer), codes, the first failures and the duration.

The app role's rolling update check runs it in the background on the controller during rollouts.
Python standard library only.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import socket
import sys
import time

try:
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen
except ImportError:  # pragma: no cover - Python 2 has no place here
    sys.exit("request_loop.py needs Python 3")


def one_request(url, timeout):
    """The outcome of one GET: the status code as text, or the error's name."""
    try:
        with urlopen(url, timeout=timeout) as answer:  # nosec - the URL is the user's own service
            answer.read()
            return str(answer.status)
    except HTTPError as exc:
        return str(exc.code)
    except (URLError, socket.timeout, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return "error:%s" % type(reason).__name__


def run(url, stop_file, max_seconds, interval, timeout, clock=time.monotonic, sleep=time.sleep, request=one_request):
    """Loop until STOP_FILE exists or MAX_SECONDS passed; return the counts."""
    start = clock()
    counts = {"url": url, "requests": 0, "failed": 0, "codes": {}, "samples": []}
    while True:
        if os.path.exists(stop_file) or clock() - start >= max_seconds:
            break
        outcome = request(url, timeout)
        counts["requests"] += 1
        counts["codes"][outcome] = counts["codes"].get(outcome, 0) + 1
        if outcome != "200":
            counts["failed"] += 1
            if len(counts["samples"]) < 5:
                counts["samples"].append("%.1f s: %s" % (clock() - start, outcome))
        sleep(interval)
    counts["duration"] = round(clock() - start, 1)
    counts["stopped_by"] = "stop file" if os.path.exists(stop_file) else "time limit"
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--stop-file", required=True, help="stop when this file exists")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long in any case")
    parser.add_argument("--interval", type=float, default=0.05, help="pause between requests")
    parser.add_argument("--timeout", type=float, default=2, help="seconds one request may take")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.url, args.stop_file, args.max_seconds, args.interval, args.timeout), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
