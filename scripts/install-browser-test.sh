#!/usr/bin/env bash
# Installs playwright-core (npm, pinned, no browser download) into
# third_party/browser/, where tests/browser/dashboard.js drives Debian's
# Chromium with it. 1.61.1 is the newest that runs on Debian 12's nodejs 18.
# Idempotent; without npm or a registry the browser test skips itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/npm_pinned.sh
npm_pinned third_party/browser playwright-core 1.61.1 ||
  echo "playwright-core could not be installed: the browser test will skip" >&2
