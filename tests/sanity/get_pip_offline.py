"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test bootstraps pip in each sanity virtual environment by downloading
get-pip.py from a host that CI cannot reach. This file is placed in its cache
(`make setup`) instead: it installs pip from the interpreter's own ensurepip
wheel, then lets that pip install what ansible-test asked for (from PyPI).
"""

import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)


if __name__ == "__main__":
    main()
