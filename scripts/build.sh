#!/usr/bin/env bash
# Configures and builds fcnlab (library, CLI, tests, benchmarks) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "${FCNLAB_JOBS:-2}"
