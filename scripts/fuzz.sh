#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS]
# Builds the libFuzzer harnesses of tests/fuzz (clang, -fsanitize=fuzzer,
# address,undefined; build dir build-fuzz) and runs each for SECONDS (default
# 600), one after the other.  Each run starts from the committed seeds
# (tests/fuzz/corpus/<harness>, read only) plus what earlier runs found
# (build-fuzz/corpus/<harness>).  Crashes, leaks, timeouts and out-of-memory
# inputs land in tests/fuzz/crashes/<harness>/ (git-ignored): add the ones
# that matter to the committed corpus once fixed, so that ctest replays them.
# Prints per harness: runs, coverage (edges), features, corpus size, findings.
# Exits 1 when any harness had a finding.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-600}
build=${SK_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${SK_JOBS:-2}
harnesses=(pubkey pss unwrap server_key client_modulus)

CC=${SK_FUZZ_CC:-clang} cmake -S . -B "$build" -DSK_BUILD_FUZZ=ON -DSK_WERROR=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_BUILD_TOOLS=OFF -DSK_BUILD_SERVICES=OFF \
  -DSK_BUILD_BENCH=OFF -DSK_BUILD_EXAMPLES=OFF >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$build" -j"$jobs" "${targets[@]}"

summary=()
failed=0
for h in "${harnesses[@]}"; do
  corpus="$build/corpus/$h"
  crashes="tests/fuzz/crashes/$h"
  log="$build/fuzz-$h.log"
  mkdir -p "$corpus" "$crashes"
  before=$(find "$crashes" -type f | wc -l)
  echo "fuzz.sh: $h for ${secs}s (log: $log)" >&2
  rc=0
  "$build/fuzz/fuzz_$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "tests/fuzz/corpus/$h" \
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
