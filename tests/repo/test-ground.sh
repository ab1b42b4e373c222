#!/usr/bin/env bash
# The offline test ground of the Molecule scenarios, in one directory:
#   DIR/repo    signed apt repository (tests/repo/build-repo.sh), served by a pkgrepo container
#   DIR/images  image archives to side-load: a tiny generated OCI image (tests/repo/make-test-image.py)
# Usage: tests/repo/test-ground.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
"$here/build-repo.sh" "$1/repo"
python3 "$here/make-test-image.py" "$1/images/side-load-test.tar"
