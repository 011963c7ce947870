#!/usr/bin/env bash
# Installs the dependencies (when run as root), builds fcnlab and runs the
# whole test suite: the C++ tests through CTest, then the Python package's.
# Everything the tests write goes to one scratch folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  scripts/install-deps.sh
fi
scripts/build.sh -DFCNLAB_BUILD_BENCH=OFF # benchmarks are not tests
source scripts/scratch.sh
scratch_tmpdir fcnlab-test "${FCNLAB_TEST_SCRATCH_GB:-10}"
ctest --test-dir build --output-on-failure -j 2
scripts/python-install.sh
.venv/bin/python -m pytest tests/python -q
