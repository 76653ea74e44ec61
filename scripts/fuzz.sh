#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/fuzz.sh [SECONDS [HARNESS...]]
# Builds every libFuzzer harness (clang, -fsanitize=fuzzer,address,undefined;
# build dir build-fuzz) and runs each for SECONDS (default 600), one after the
# other; name harnesses to run only those.  Each run starts from the committed
# seeds (read only) plus what earlier runs found (build-fuzz/corpus/<harness>).
# Crashes, leaks, timeouts and out-of-memory inputs land in
# tests/fuzz/crashes/<harness>/ (git-ignored): add the ones that matter to the
# committed corpus once fixed, so that ctest replays them.
# Prints per harness: runs, coverage (edges), features, corpus size, findings.
# Exits 1 when any harness had a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
shift || true
build=${SK_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${SK_JOBS:-2}

# name : binary (in the build dir) : committed seeds (empty: none)
table=(
  "pubkey:fuzz/fuzz_pubkey:tests/fuzz/corpus/pubkey"
  "pss:fuzz/fuzz_pss:tests/fuzz/corpus/pss"
  "unwrap:fuzz/fuzz_unwrap:tests/fuzz/corpus/unwrap"
  "server_key:fuzz/fuzz_server_key:tests/fuzz/corpus/server_key"
  "client_modulus:fuzz/fuzz_client_modulus:tests/fuzz/corpus/client_modulus"
  "protocol:fuzz/fuzz_protocol:"
  "csr:tests/fuzz_pki_csr:tests/pki/fuzz/corpus/csr"
  "cert:tests/fuzz_pki_cert:tests/pki/fuzz/corpus/cert"
  "ocsp_request:tests/fuzz_pki_ocsp_request:tests/pki/fuzz/corpus/ocsp_request"
  "name:tests/fuzz_pki_name:tests/pki/fuzz/corpus/name"
  "audit:tests/fuzz_pki_audit:tests/pki/fuzz/corpus/audit"
  "ca_request:tests/fuzz_pki_ca_request:tests/pki/programs/corpus/ca_request"
  "share_handler:fuzz/fuzz_share_handler:tests/fuzz/corpus/share_handler"
)
wanted=("$@")

CC=${SK_FUZZ_CC:-clang} cmake -S . -B "$build" -DSK_BUILD_FUZZ=ON -DSK_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_BUILD_BENCH=OFF -DSK_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$jobs"
summary=()
failed=0
for row in "${table[@]}"; do
  IFS=: read -r h bin seeds <<<"$row"
  if [ "${#wanted[@]}" -gt 0 ] && ! printf '%s\n' "${wanted[@]}" | grep -qx "$h"; then
    continue
  fi
  corpus="$build/corpus/$h"
  crashes="tests/fuzz/crashes/$h"
  log="$build/fuzz-$h.log"
  mkdir -p "$corpus" "$crashes"
  before=$(find "$crashes" -type f | wc -l)
  echo "fuzz.sh: $h for ${secs}s (log: $log)" >&2
  rc=0
  dirs=("$corpus")
  [ -n "$seeds" ] && dirs+=("$seeds")
  "$build/$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "${dirs[@]}" \
    >"$log" 2>&1 || rc=$?
  after=$(find "$crashes" -type f | wc -l)
  findings=$((after - before))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  if [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ]; then findings=1; fi
  if [ "$findings" -ne 0 ]; then
    failed=1
    grep -E 'ERROR: |invariant failed|SUMMARY: ' "$log" | head -n 5 >&2 || true
  fi
  summary+=("$(printf '%-16s runs %-10s cov %-6s ft %-6s corpus %-6s findings %s' \
    "$h" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$findings")")
done

printf '%s\n' "${summary[@]}"
exit "$failed"
