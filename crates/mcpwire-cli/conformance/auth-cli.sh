#!/usr/bin/env bash
# A conformance-suite client made of the CLI alone: `mcpwire auth login --headless`, then
# `mcpwire auth token`, then one MCP `initialize` carrying that token, as an MCP client would.
# The suite appends the server URL; MCP_CONFORMANCE_CONTEXT may hold a pre-registered client.
# `cargo xtask conformance` runs it (its last leg) with MCPWIRE_BIN set to the built binary and
# expected-failures.yaml as the baseline.
set -euo pipefail
url="${*: -1}"
bin="${MCPWIRE_BIN:-target/debug/mcpwire}"
export MCPWIRE_HOME="$(mktemp -d)"
trap 'rm -rf "$MCPWIRE_HOME"' EXIT
ctx() { python3 -c 'import json,os,sys; print(json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}").get(sys.argv[1]) or "")' "$1"; }
args=(auth login --headless --client-metadata-url https://conformance-test.local/client-metadata.json)
client_id="$(ctx client_id)"
if [ -n "$client_id" ]; then
  args+=(--client-id "$client_id")
  secret="$(ctx client_secret)"
  [ -n "$secret" ] && export MCPWIRE_CLIENT_SECRET="$secret"
fi
"$bin" "${args[@]}" "$url"
token="$("$bin" auth token "$url")"
TOKEN="$token" URL="$url" VERSION="${MCP_CONFORMANCE_PROTOCOL_VERSION:-2025-11-25}" python3 - <<'PY'
import json, os, urllib.request
body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": os.environ["VERSION"], "capabilities": {},
                   "clientInfo": {"name": "mcpwire-cli", "version": "0"}}}
req = urllib.request.Request(os.environ["URL"], data=json.dumps(body).encode(), method="POST", headers={
    "Authorization": "Bearer " + os.environ["TOKEN"], "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": os.environ["VERSION"]})
urllib.request.urlopen(req, timeout=10).read()
PY
