#!/usr/bin/env bash
# Packs fcnlab's non-LibTorch dependencies, as Debian 12 installed them
# (scripts/install-deps.sh), into third_party/debian-deps.tar.xz for a GPU
# machine without apt: headers, CMake/pkg-config files, protoc, and the
# shared libraries that libfcnlab and protoc load, with everything they load
# in turn, except the C and C++ runtimes every Linux has.
# scripts/build-cuda.sh unpacks it into third_party/debian/ and builds with it.
#   scripts/bundle-debian-deps.sh        (after scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dev_packages=(
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libopencv-dnn-dev libprotobuf-dev protobuf-compiler libpng-dev liblmdb-dev
  libarchive-dev libmatio-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
  libcli11-dev libgtest-dev zlib1g-dev libonnx-dev
  libgloo-dev # c10d's Gloo headers: a multi-rank job on the GPU machine
)
lib=/usr/lib/x86_64-linux-gnu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root$lib"

# Headers, link-time .so names and package files of the -dev packages.
for package in "${dev_packages[@]}"; do
  dpkg -L "$package" | while read -r file; do
    case "$file" in
      /usr/include/* | /usr/bin/protoc* | "$lib"/*.so | "$lib"/libgtest*.a | \
        "$lib"/libgmock*.a | "$lib"/cmake/* | \
        "$lib"/pkgconfig/* | /usr/share/*cmake* | /usr/lib/cmake/*)
        [ -f "$file" ] || [ -L "$file" ] || continue
        mkdir -p "$root$(dirname "$file")"
        cp -a "$file" "$root$file"
        ;;
    esac
  done
done

# Runtime libraries: what the dependencies load, followed to the end.
roots=("$lib"/libopencv_{core,imgproc,imgcodecs,dnn}.so.406 "$lib"/libprotobuf.so.32
  "$lib"/libprotoc.so.32 "$lib"/libpng16.so.16 "$lib"/liblmdb.so.0
  "$lib"/libarchive.so.13 "$lib"/libmatio.so.11 "$lib"/libcurl.so.4
  "$lib"/libcrypto.so.3 "$lib"/libonnx.so.1 "$lib"/libonnx_proto.so.1)
ldd "${roots[@]}" | awk '/=>/ {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s)\.so' |
  cat - <(printf '%s\n' "${roots[@]}") | sort -u | while read -r file; do
  # The file under its full version, and its soname linking to it, as
  # the -dev packages' links expect.
  real=$(readlink -f "$file")
  cp -a "$real" "$root$lib/"
  [ "$(basename "$real")" = "$(basename "$file")" ] ||
    ln -sf "$(basename "$real")" "$root$lib/$(basename "$file")"
done

# OpenCV's own CMake files name every module of Debian's build (videoio,
# highgui, ... with Qt, FFmpeg and GDAL behind them); fcnlab needs four.
# A config of just those keeps the bundle a fraction of the size.
mkdir -p "$root$lib/cmake/opencv4"
rm -f "$root$lib/cmake/opencv4/"*.cmake
cat > "$root$lib/cmake/opencv4/OpenCVConfig.cmake" <<'CMAKE'
# core, imgproc, imgcodecs and dnn of Debian 12's OpenCV 4.6 (bundled).
get_filename_component(_prefix "${CMAKE_CURRENT_LIST_DIR}/../../../.." ABSOLUTE)
set(OpenCV_VERSION 4.6.0)
set(OpenCV_INCLUDE_DIRS "${_prefix}/include/opencv4")
set(OpenCV_LIBS)
foreach(_module core imgproc imgcodecs dnn)
  if(NOT TARGET opencv_${_module})
    add_library(opencv_${_module} SHARED IMPORTED)
    set_target_properties(opencv_${_module} PROPERTIES
      IMPORTED_LOCATION "${_prefix}/lib/x86_64-linux-gnu/libopencv_${_module}.so.406"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIRS}")
  endif()
  list(APPEND OpenCV_LIBS opencv_${_module})
endforeach()
set(OpenCV_FOUND TRUE)
CMAKE
cat > "$root$lib/cmake/opencv4/OpenCVConfig-version.cmake" <<'CMAKE'
set(PACKAGE_VERSION 4.6.0)
set(PACKAGE_VERSION_COMPATIBLE TRUE)
CMAKE

mkdir -p third_party
tar -C "$stage" -cJf third_party/debian-deps.tar.xz root
echo "third_party/debian-deps.tar.xz: $(du -h third_party/debian-deps.tar.xz | cut -f1)" \
  "($(du -sh "$root" | cut -f1) unpacked)"
