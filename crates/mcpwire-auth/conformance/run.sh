#!/usr/bin/env bash
# Builds the mcpwire-auth conformance client and runs the official MCP conformance suite's
# auth client scenarios against it. Exits non-zero if any scenario fails.
#
#   crates/mcpwire-auth/conformance/run.sh            # all legs
#   MCPWIRE_SHARED=/path/to/shared CONFORMANCE_OUT=/tmp/conf crates/mcpwire-auth/conformance/run.sh
#   CONFORMANCE_CLIENT=target/debug/examples/conformance-client crates/mcpwire-auth/conformance/run.sh
#
# Legs: --suite auth at 2025-11-25 and 2026-07-28 (14 + 14), the 11 auth scenarios of
# --suite draft at 2026-07-28 (the draft suite's 6 non-auth scenarios are not ours and are not
# run), --suite backcompat (2), and --suite extensions (6: client credentials with a secret and
# with private_key_jwt, enterprise-managed authorization, workload identity federation, DPoP,
# DPoP with nonces).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
shared="${MCPWIRE_SHARED:-$root/../shared}"
conformance="$shared/tools/conformance.sh"
[ -f "$conformance" ] || { echo "run.sh: $conformance not found (set MCPWIRE_SHARED)" >&2; exit 2; }

# CONFORMANCE_CLIENT: use an already built client instead of building it here.
if [ -n "${CONFORMANCE_CLIENT:-}" ]; then
  cmd="$CONFORMANCE_CLIENT"
else
  target="${CARGO_TARGET_DIR:-$root/target}"
  cargo build --quiet --manifest-path "$root/Cargo.toml" -p mcpwire-auth --example conformance-client
  cmd="$target/debug/examples/conformance-client"
fi
[ -x "$cmd" ] || { echo "run.sh: $cmd was not built" >&2; exit 2; }

out="${CONFORMANCE_OUT:-$(mktemp -d)}"
mkdir -p "$out"
failed=()

leg() {
  local name="$1"; shift
  echo "== $name: $*" >&2
  if ! bash "$conformance" client --command "$cmd" "$@" -o "$out/$name" > "$out/$name.log" 2>&1; then
    failed+=("$name")
    sed -n '/SUITE SUMMARY\|Test Results/,$p' "$out/$name.log" >&2 || true
  else
    grep -E '^(✓|✗)|OVERALL|^Total' "$out/$name.log" >&2 || true
  fi
}

leg auth-2025-11-25 --suite auth --spec-version 2025-11-25
leg auth-2026-07-28 --suite auth --spec-version 2026-07-28

draft_auth=(
  auth/resource-mismatch
  auth/offline-access-scope
  auth/offline-access-not-supported
  auth/authorization-server-migration
  auth/iss-supported
  auth/iss-not-advertised
  auth/iss-supported-missing
  auth/iss-wrong-issuer
  auth/iss-unexpected
  auth/iss-normalized
  auth/metadata-issuer-mismatch
)
for s in "${draft_auth[@]}"; do
  leg "draft-${s#auth/}" --scenario "$s" --spec-version 2026-07-28
done

leg backcompat --suite backcompat

# All six extension scenarios: client credentials (secret, private_key_jwt), enterprise-managed
# authorization, workload identity federation, DPoP, DPoP with nonces.
leg extensions --suite extensions

echo "results: $out" >&2
if [ "${#failed[@]}" -gt 0 ]; then
  echo "conformance FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "conformance: all auth legs passed" >&2
