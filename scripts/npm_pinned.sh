# npm_pinned DIR PACKAGE VERSION: installs one pinned npm package into
# DIR/node_modules (an ignored project folder), unless that version is
# there already. Sourced by the install-*.sh scripts; extra environment
# for npm (such as a post-install switch) comes from the caller.
npm_pinned() {
  local dir=$1 package=$2 version=$3
  if node -e "process.exit(require('./$dir/node_modules/$package/package.json').version === '$version' ? 0 : 1)" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$dir"
  cat > "$dir/package.json" <<JSON
{"name": "fcnlab-$(basename "$dir")", "private": true,
 "dependencies": {"$package": "$version"}}
JSON
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
}
