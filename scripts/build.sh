#!/usr/bin/env bash
# Configures and builds fcnlab (library, CLI, tests, benchmarks) in build/.
# Extra arguments go to CMake's configure step (they come after the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFCNLAB_BUILD_TESTS=ON \
  -DFCNLAB_BUILD_BENCH=ON "$@" >/dev/null
# FCNLAB_TARGETS: build only these targets (space-separated).
cmake --build build -j "${FCNLAB_JOBS:-2}" ${FCNLAB_TARGETS:+--target $FCNLAB_TARGETS}
