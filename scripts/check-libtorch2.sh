#!/usr/bin/env bash
# Compiles every source of the library, the CLI and the Python bindings
# against LibTorch 2.6 (Debian trixie's libtorch-dev, unpacked into
# third_party/libtorch2/, never installed), so that the code keeps building
# on 2.x while this machine runs 1.13. Compile only: 2.6's libraries need a
# newer glibc. Needs the dependencies of scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.6.0+dfsg-7
deb="libtorch-dev_${version}_amd64.deb"
dir=third_party/libtorch2
if [ ! -f "$dir/$version.unpacked" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  curl -fsSL --retry 3 -o "$dir/$deb" "http://deb.debian.org/debian/pool/main/p/pytorch/$deb"
  dpkg-deb -x "$dir/$deb" "$dir/root" && rm "$dir/$deb"
  touch "$dir/$version.unpacked"
fi
include="$dir/root/usr/include"
grep -q "TORCH_VERSION_MAJOR 2" "$include/torch/csrc/api/include/torch/version.h"

# Compile commands come from a configure against the installed LibTorch; the
# 2.6 headers are searched first. USE_C10D_MPI is what 2.6's CMake adds.
cmake -S . -B build-libtorch2 -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DFCNLAB_BUILD_PYTHON=ON -DFCNLAB_BUILD_TESTS=OFF -DFCNLAB_BUILD_BENCH=OFF >/dev/null
cmake --build build-libtorch2 --target fcnlab_proto >/dev/null # generated headers
/usr/bin/python3 scripts/syntax_check.py build-libtorch2 --under csrc \
  --include "$include/torch/csrc/api/include" --include "$include" \
  --define USE_C10D_MPI --jobs "${FCNLAB_JOBS:-2}"
