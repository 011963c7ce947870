#!/usr/bin/env bash
# One command for a GPU machine (about 10 minutes): builds fcnlab with CUDA
# (scripts/build-cuda.sh), runs the GPU tests (CPU vs CUDA forward with TF32
# off, training steps in fp32/bf16/fp16, loss scaling kernels, NCCL with one
# rank when LibTorch has it, a 2-rank job on one GPU) and the GPU benchmark
# against PyTorch eager (bench/gpu_run.py), and writes everything as JSON.
#   scripts/device-check.sh [OUT_DIR]     (default device-check/)
# Environment: PYTHON (with CUDA PyTorch), CUDA_HOME, FCNLAB_BENCH_QUICK=1.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(readlink -f "${1:-device-check}")
mkdir -p "$out"
python=${PYTHON:-python3}
started=$(date +%s)
stage() { echo "== $1 ($(($(date +%s) - started)) s)" >&2; }

stage "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
  | tee "$out/gpu.txt" >&2 || true

stage "build"
FCNLAB_TARGETS="gpu_tests util_tests forward_bench train_bench fcnlab_cli" \
  scripts/build-cuda.sh >"$out/build.log" 2>&1
build_status=$?
tail -3 "$out/build.log" >&2
test_status=1 bench_status=1
if [ $build_status -eq 0 ]; then
  source build-cuda/env.sh
  stage "tests"
  build-cuda/tests/cpp/gpu_tests --gtest_output="json:$out/cuda_test.json" \
    >"$out/tests.log" 2>&1
  test_status=$?
  if [ $test_status -ne 0 ]; then
    # A crash ends the program: run each test on its own to see the rest.
    for test in $(build-cuda/tests/cpp/gpu_tests --gtest_list_tests |
      awk '/^[^ ]/ {suite=$1} /^  / {print suite $1}'); do
      echo "== $test on its own" >>"$out/tests.log"
      build-cuda/tests/cpp/gpu_tests --gtest_filter="$test" >>"$out/tests.log" 2>&1 ||
        echo "== $test: exit status $?" >>"$out/tests.log"
    done
  fi
  build-cuda/tests/cpp/util_tests \
    --gtest_filter="DeviceTest.*:PrecisionTest.*:AutocastTest.*:LinkOrderTest.*" \
    >>"$out/tests.log" 2>&1 || test_status=1
  grep -E "^\[ +(OK|FAILED|SKIPPED) +\]" "$out/tests.log" >&2
  stage "a 2-rank job on GPU 0 over Gloo (NCCL takes one GPU per rank)"
  build-cuda/fcnlab synth-voc "$out/voc.tar" --images 12 --max-side 96 >/dev/null &&
    build-cuda/fcnlab prepare-voc "$out/voc.tar" "$out/voc" >/dev/null || test_status=1
  port=$((29000 + RANDOM % 1000))
  ranks=()
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      timeout 300 build-cuda/fcnlab train "$out/voc" --epochs 1 --device cuda \
      --dist-backend gloo --output-dir "$out/job" >"$out/job_rank$rank.log" 2>&1 &
    ranks+=($!)
  done
  for pid in "${ranks[@]}"; do wait "$pid" || test_status=1; done
  grep "job:" "$out/job_rank0.log" >&2 || test_status=1
  stage "benchmark"
  "$python" bench/gpu_run.py --build-dir build-cuda --json "$out/bench.json" \
    ${FCNLAB_BENCH_QUICK:+--quick} >/dev/null 2>"$out/bench.log"
  bench_status=$?
  cat "$out/bench.log" >&2
fi

"$python" - "$out" $build_status $test_status $bench_status <<'PY'
import json, os, sys
out, build, tests, bench = sys.argv[1], *map(int, sys.argv[2:])
def load(name):
    path = os.path.join(out, name)
    return json.load(open(path)) if os.path.exists(path) else None
result = {"build_ok": build == 0, "tests_ok": tests == 0, "bench_ok": bench == 0,
          "gpu": open(os.path.join(out, "gpu.txt")).read().strip()
                 if os.path.exists(os.path.join(out, "gpu.txt")) else None,
          "tests": load("cuda_test.json"), "bench": load("bench.json")}
json.dump(result, open(os.path.join(out, "device-check.json"), "w"), indent=1)
print(f"device-check: build {'ok' if build == 0 else 'FAILED'}, tests "
      f"{'ok' if tests == 0 else 'FAILED'}, benchmark {'ok' if bench == 0 else 'FAILED'}"
      f" -> {os.path.join(out, 'device-check.json')}")
PY
stage "done"
[ $build_status -eq 0 ] && [ $test_status -eq 0 ] && [ $bench_status -eq 0 ]
