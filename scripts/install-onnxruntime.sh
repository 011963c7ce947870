#!/usr/bin/env bash
# Installs ONNX Runtime (npm onnxruntime-node, pinned) into
# third_party/node/, where the tests and bench/run.py run exported models
# through scripts/ort_run.js. Its post-install step would download CUDA
# parts; the CPU library is in the package itself, so it is skipped.
# Idempotent; needs node and npm (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/npm_pinned.sh
version=1.30.0
dir=third_party/node
ONNXRUNTIME_NODE_INSTALL=skip npm_pinned "$dir" onnxruntime-node "$version"
node -e "require('./$dir/node_modules/onnxruntime-node')" ||
  { echo "onnxruntime-node $version does not load with $(node --version)" >&2; exit 1; }
