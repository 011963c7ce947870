#!/usr/bin/env bash
# Runs tests under AddressSanitizer and UndefinedBehaviorSanitizer, built in
# the fuzzing tree (build-fuzz/, clang; the library instrumented as for
# scripts/fuzz.sh):
#
#   scripts/sanitize.sh [TEST_PROGRAM [GTEST_FILTER]]
#   (default: train_tests InProcessJobTest.*, the in-process training jobs)
#
# A use after free, a buffer overflow or undefined behaviour fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  set -- train_tests 'InProcessJobTest.*'
fi
program=$1
filter=${2:-'*'}

# LibTorch's own allocations are not instrumented: leaks are not checked
# (also when the build lists a test program's tests).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFCNLAB_BUILD_FUZZ=ON -DFCNLAB_SHARED=OFF -DFCNLAB_BUILD_TESTS=ON \
  -DFCNLAB_BUILD_CLI=OFF -DFCNLAB_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "${FCNLAB_JOBS:-2}" --target "$program"

source scripts/scratch.sh
scratch_tmpdir fcnlab-sanitize
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export OMP_NUM_THREADS=2
build-fuzz/tests/cpp/"$program" --gtest_filter="$filter"
