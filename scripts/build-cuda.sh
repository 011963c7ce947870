#!/usr/bin/env bash
# Builds fcnlab (library, CLI, tests, benchmarks) with CUDA into build-cuda/,
# against the LibTorch inside the installed PyTorch (pip wheel) and a CUDA
# toolkit with nvcc. Other dependencies come from the system (apt:
# scripts/install-deps.sh) or, on a machine without apt, from
# third_party/debian-deps.tar.xz (made by scripts/bundle-debian-deps.sh on a
# Debian 12 machine), unpacked into third_party/debian/.
#   PYTHON=python3 CUDA_HOME=/usr/local/cuda scripts/build-cuda.sh [CMAKE ARGS]
# Then: source build-cuda/env.sh (library paths) before running what it built.
# FCNLAB_TARGETS="a b" builds only those targets; FCNLAB_JOBS the parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
read -r torch_prefix torch_lib torch_cuda < <("$python" -c '
import os, torch
print(torch.utils.cmake_prefix_path, os.path.join(os.path.dirname(torch.__file__), "lib"),
      torch.version.cuda or "none")')
if [ "$torch_cuda" = none ] && [ -z "${FCNLAB_ALLOW_CPU_TORCH:-}" ]; then
  echo "build-cuda: $python's torch has no CUDA; install a CUDA build of PyTorch" >&2
  exit 1
fi

# The dashboard needs no GPU, and the bundle carries no cpp-httplib or
# Graphviz: it is left out of this build.
# Winograd needs Debian's libdnnl, which the bundle does not carry (and
# LibTorch 2.x brings its own oneDNN).
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DFCNLAB_BUILD_BENCH=ON -DFCNLAB_BUILD_SERVE=OFF
  -DFCNLAB_WITH_ONEDNN=OFF
  "-DCMAKE_SHARED_LINKER_FLAGS=-Wl,--no-as-needed" # keeps libtorch_cuda linked
  "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--no-as-needed")
prefixes="$torch_prefix"
library_path="$torch_lib"
if [ "$torch_cuda" != none ]; then
  nvcc=${CUDA_HOME:+$CUDA_HOME/bin/nvcc}
  nvcc=${nvcc:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  if [ ! -x "$nvcc" ]; then
    echo "build-cuda: no nvcc (set CUDA_HOME to a CUDA $torch_cuda toolkit);" \
      "LibTorch's CMake files need it" >&2
    exit 1
  fi
  cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
  cmake_args+=("-DCMAKE_CUDA_COMPILER=$nvcc" "-DCUDAToolkit_ROOT=$cuda_root")
  # cuDNN, cuBLAS and NCCL of the nvidia-* wheels next to torch.
  for dir in "$(dirname "$(dirname "$torch_lib")")"/nvidia/*/lib; do
    [ -d "$dir" ] && library_path="$library_path:$dir"
  done
fi

bundle=third_party/debian-deps.tar.xz
deps=third_party/debian/root
if [ -f "$bundle" ] && [ ! "$deps" -nt "$bundle" ]; then
  rm -rf third_party/debian && mkdir -p third_party/debian
  tar -C third_party/debian -xJf "$bundle"
  touch "$deps"
fi
if [ -d "$deps" ]; then
  deps=$(readlink -f "$deps")
  prefixes="$prefixes;$deps/usr"
  library_path="$library_path:$deps/usr/lib/x86_64-linux-gnu"
  cmake_args+=("-DCMAKE_PROGRAM_PATH=$deps/usr/bin"
    "-DProtobuf_PROTOC_EXECUTABLE=$deps/usr/bin/protoc"
    "-DCMAKE_LIBRARY_ARCHITECTURE=x86_64-linux-gnu")
fi
export LD_LIBRARY_PATH="$library_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cmake_args+=("-DCMAKE_PREFIX_PATH=$prefixes" "-DCMAKE_BUILD_RPATH=${library_path//:/;}")

cmake -S . -B build-cuda "${cmake_args[@]}" "$@"
# FCNLAB_TARGETS: only these targets (space-separated), e.g. for a quick check.
cmake --build build-cuda -j "${FCNLAB_JOBS:-$(nproc)}" \
  ${FCNLAB_TARGETS:+--target $FCNLAB_TARGETS}
echo "export LD_LIBRARY_PATH=\"$library_path\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\"" \
  > build-cuda/env.sh
echo "build-cuda: built against torch $("$python" -c 'import torch;print(torch.__version__)')" \
  "(CUDA $torch_cuda) in build-cuda/"
