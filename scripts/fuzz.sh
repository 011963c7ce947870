#!/usr/bin/env bash
# Fuzzes every reader of outside files with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (Debian's clang; scripts/install-deps.sh adds
# it). Builds the harnesses in build-fuzz/, writes seed corpora with
# fcnlab's own writers, then runs each harness for SECONDS (default 20):
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     (harnesses: see fuzz/)
#
# FCNLAB_FUZZ_RUNS=N stops a harness after N executions if that comes first.
#
# Corpora grow in build-fuzz/corpus/<harness>/ and are reused by the next
# run. A crash, leak, hang (over 10 s) or allocation over 1 GiB stops that
# harness: its input is saved in build-fuzz/findings/<harness>/, and the
# script exits 1 after running the others. A fixed finding's input belongs
# in fuzz/regressions/<harness>/, which the test suite replays.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  harnesses=(caffemodel prototxt datum label image tar model_file snapshot mat solver)
fi

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFCNLAB_BUILD_FUZZ=ON -DFCNLAB_SHARED=OFF -DFCNLAB_BUILD_TESTS=OFF \
  -DFCNLAB_BUILD_CLI=OFF -DFCNLAB_BUILD_BENCH=OFF >/dev/null
targets=(fcnlab_fuzz_seeds)
for h in "${harnesses[@]}"; do targets+=("${h}_fuzzer"); done
cmake --build build-fuzz -j "${FCNLAB_JOBS:-2}" --target "${targets[@]}"

# Seeds and the harnesses' input files live in a scratch folder of this run,
# so that runs of different harnesses can go on side by side.
source scripts/scratch.sh
scratch_tmpdir fcnlab-fuzz
seeds=$FCNLAB_SCRATCH/seeds
build-fuzz/fuzz/fcnlab_fuzz_seeds "$seeds" >/dev/null

# A lower pixel limit keeps executions fast; the check is the same.
export FCNLAB_MAX_IMAGE_PIXELS=${FCNLAB_MAX_IMAGE_PIXELS:-4000000}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export OMP_NUM_THREADS=1
failed=()
printf '%-12s %10s %8s %8s %s\n' harness execs cov ft result
for h in "${harnesses[@]}"; do
  corpus=build-fuzz/corpus/$h
  findings=build-fuzz/findings/$h
  log=build-fuzz/$h.log
  mkdir -p "$corpus" "$findings"
  inputs=("$corpus" "$seeds/$h")
  [ -d "fuzz/regressions/$h" ] && inputs+=("fuzz/regressions/$h")
  result=ok
  runs=()
  [ -n "${FCNLAB_FUZZ_RUNS:-}" ] && runs=(-runs="$FCNLAB_FUZZ_RUNS")
  if ! "build-fuzz/fuzz/${h}_fuzzer" -max_total_time="$seconds" -timeout=10 "${runs[@]}" \
    -rss_limit_mb=3072 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${inputs[@]}" >"$log" 2>&1; then
    result="FAILED (see $log and $findings/)"
    failed+=("$h")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-12s %10s %8s %8s %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if ((${#failed[@]})); then
  echo "findings in: ${failed[*]}" >&2
  exit 1
fi
