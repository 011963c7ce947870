# Sourced by the test scripts: `scratch_tmpdir NAME [GB]` points TMPDIR at a
# fresh folder under the current TMPDIR (or /tmp), removed when the script
# exits, so that files a test or a killed process leaves behind never pile
# up. With GB it first warns when less than that is free there.
scratch_tmpdir() {
  local parent=${TMPDIR:-/tmp}
  if [ -n "${2:-}" ]; then
    local free_gb
    free_gb=$(df -Pk "$parent" | awk 'NR == 2 { print int($4 / 1048576) }')
    if ((free_gb < $2)); then
      echo "warning: $parent has $free_gb GB free; the tests write up to about $2 GB there" >&2
    fi
  fi
  FCNLAB_SCRATCH=$(mktemp -d "$parent/$1.XXXXXX")
  trap 'rm -rf "$FCNLAB_SCRATCH"' EXIT
  export TMPDIR=$FCNLAB_SCRATCH
}
