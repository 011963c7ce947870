#!/usr/bin/env bash
# Downloads published Caffe models into weights/ (default: bvlc_alexnet) and
# verifies the SHA1 where one is published.
#   weights/fetch.sh [alexnet|vgg16|fcn_alexnet|fcn32s|fcn16s|fcn8s|fcn8s_atonce ...]
set -euo pipefail
cd "$(dirname "$0")"

fetch() { # URL FILE [SHA1]
  local url=$1 file=$2 sha1=${3:-}
  if [ -f "$file" ] && { [ -z "$sha1" ] || echo "$sha1  $file" | sha1sum --check --status; }; then
    echo "$file is present${sha1:+ and verified}"
    return 0
  fi
  if ! curl --fail --location --connect-timeout 30 -o "$file.part" "$url"; then
    rm -f "$file.part"
    echo "error: cannot download $url (no network?)" >&2
    return 1
  fi
  if [ -n "$sha1" ] && ! echo "$sha1  $file.part" | sha1sum --check --status; then
    rm -f "$file.part"
    echo "error: $url does not have SHA1 $sha1" >&2
    return 1
  fi
  mv "$file.part" "$file"
  echo "saved $(pwd)/$file"
}

fcn=http://dl.caffe.berkeleyvision.org
for name in "${@:-alexnet}"; do
  case "$name" in
    alexnet) fetch "$fcn/bvlc_alexnet.caffemodel" bvlc_alexnet.caffemodel \
      9116a64c0fbe4459d18f4bb6b56d647b63920377 ;;
    vgg16) fetch http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel \
      VGG_ILSVRC_16_layers.caffemodel ;;
    fcn_alexnet) fetch "$fcn/fcn-alexnet-pascal.caffemodel" fcn-alexnet-pascal.caffemodel ;;
    fcn32s | fcn16s | fcn8s) fetch "$fcn/$name-heavy-pascal.caffemodel" "$name-heavy-pascal.caffemodel" ;;
    fcn8s_atonce) fetch "$fcn/fcn8s-atonce-pascal.caffemodel" fcn8s-atonce-pascal.caffemodel ;;
    *) echo "error: unknown model '$name' (alexnet vgg16 fcn_alexnet fcn32s fcn16s fcn8s fcn8s_atonce)" >&2
       exit 2 ;;
  esac
done
