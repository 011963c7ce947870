#!/usr/bin/env bash
# Installs the dependencies (when run as root), builds fcnlab and runs the
# whole test suite: the C++ tests through CTest, then the Python package's.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh
fi
scripts/build.sh -DFCNLAB_BUILD_BENCH=OFF # benchmarks are not tests
ctest --test-dir build --output-on-failure -j 2
scripts/python-install.sh
.venv/bin/python -m pytest tests/python -q
