#!/usr/bin/env bash
# Downloads bvlc_alexnet.caffemodel into weights/ and verifies its SHA1.
set -euo pipefail
cd "$(dirname "$0")"
url=http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel
sha1=9116a64c0fbe4459d18f4bb6b56d647b63920377
file=bvlc_alexnet.caffemodel

if [ -f "$file" ] && echo "$sha1  $file" | sha1sum --check --status; then
  echo "$file is present and verified"
  exit 0
fi
if ! curl --fail --location --connect-timeout 30 -o "$file.part" "$url"; then
  rm -f "$file.part"
  echo "error: cannot download $url (no network?)" >&2
  exit 1
fi
if ! echo "$sha1  $file.part" | sha1sum --check --status; then
  rm -f "$file.part"
  echo "error: $url does not have SHA1 $sha1" >&2
  exit 1
fi
mv "$file.part" "$file"
echo "saved $(pwd)/$file"
