#!/usr/bin/env bash
# Installs ONNX Runtime (npm onnxruntime-node, pinned) into
# third_party/node/, where the tests and bench/run.py run exported models
# through scripts/ort_run.js. Its post-install step would download CUDA
# parts; the CPU library is in the package itself, so it is skipped.
# Idempotent; needs node and npm (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.30.0
dir=third_party/node
if node -e "process.exit(require('./$dir/node_modules/onnxruntime-node/package.json').version === '$version' ? 0 : 1)" 2>/dev/null; then
  exit 0
fi
mkdir -p "$dir"
cat > "$dir/package.json" <<JSON
{"name": "fcnlab-test-runtimes", "private": true,
 "dependencies": {"onnxruntime-node": "$version"}}
JSON
(cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund \
  --loglevel=error >/dev/null)
node -e "require('./$dir/node_modules/onnxruntime-node')" ||
  { echo "onnxruntime-node $version does not load with $(node --version)" >&2; exit 1; }
