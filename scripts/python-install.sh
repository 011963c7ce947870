#!/usr/bin/env bash
# Installs the Python package (fcnlab._C built by CMake against Debian's
# torch) into .venv, a virtual environment that also sees Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/python -m pip install --no-build-isolation --no-deps --quiet .
