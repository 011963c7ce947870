#!/usr/bin/env bash
# Installs the Debian packages fcnlab needs. Idempotent: apt-get skips what
# is already installed. Run as root.
#   scripts/install-deps.sh        everything: build, tests, Python, fuzzing
#   scripts/install-deps.sh cli    only what the library and CLI need
#                                  (scripts/demo.sh)
set -euo pipefail

packages=(
  build-essential cmake ccache git ca-certificates curl
  libtorch-dev libopencv-dev libopencv-dnn-dev
  libpng-dev liblmdb-dev libarchive-dev libmatio-dev zlib1g-dev
  libcurl4-openssl-dev libssl-dev
  libgloo-dev # the headers of c10d's Gloo process group (distributed training)
  libprotobuf-dev protobuf-compiler
  libonnx-dev # ONNX's generated classes, checker and shape inference (export)
  libopenblas0-pthread
  libdnnl-dev # oneDNN's Winograd convolution (float32 inference)
  libcli11-dev nlohmann-json3-dev libspdlog-dev
  libcpp-httplib-dev libgraphviz-dev pkg-config # fcnlab serve, network --draw
)
if [ "${1:-all}" != cli ]; then
  packages+=(
    python3-torch python3-venv python3-pip python3-dev
    pybind11-dev libgtest-dev
    python3-pytest python3-numpy python3-pil python3-matplotlib
    jupyter-nbconvert python3-nbclient python3-ipykernel
    clang libclang-rt-14-dev # scripts/fuzz.sh: libFuzzer and sanitizers
    chromium # the dashboard's browser test (tests/browser)
  )
  # Node runs ONNX Runtime for the export tests; a node from elsewhere
  # (with its own npm) is kept.
  command -v npm >/dev/null || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done

if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-all}" != cli ]; then
  bash "$(dirname "$0")/install-onnxruntime.sh"
  bash "$(dirname "$0")/install-browser-test.sh"
fi
