#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_quick.sh BENCH SERVER PYTHON CHECK_JSON
# splitkey-bench's contract: --help, usage errors (exit 2), a quick run of the
# 4K profile whose JSON carries every step, grid cell and ratio (check_json.py),
# and no server or temporary file left behind, neither after a normal run nor
# after SIGTERM in the middle of the end-to-end part.  No timing is asserted.
. "$(dirname "$0")/../cli/lib.sh" # ok, fail, expect_status, expect_output, finish; $SK_TMP
BENCH=$1
SERVER=$2
PY=$3
CHECK=$4
tmp=$SK_TMP
# a server the bench failed to stop would outlive the test: kill it with the directory
trap 'pkill -KILL -f "$SK_TMP/" 2>/dev/null; rm -rf "$SK_TMP"' EXIT

# No server process works in DIR, and DIR is empty.
left_nothing() {
  local dir=$1 what=$2
  if pgrep -f "$dir/" >/dev/null; then
    fail "$what: a server still runs in $dir"
    pgrep -af "$dir/" >&2
  else
    ok
  fi
  if [ -z "$(ls -A "$dir")" ]; then ok; else fail "$what: files left in $dir: $(ls -A "$dir")"; fi
}

# --- usage -------------------------------------------------------------------
expect_status 0 "--help" -- "$BENCH" --help
expect_output "^usage: splitkey-bench" "usage line"
expect_output "--json FILE" "usage names --json"
expect_status 2 "unknown profile" -- "$BENCH" --profile 5K --no-e2e
expect_output "unknown profile '5K'" "unknown profile message"
expect_status 2 "--runs 0" -- "$BENCH" --runs 0 --no-e2e
expect_status 2 "--keygen-runs 0" -- "$BENCH" --keygen-runs 0 --no-e2e
expect_status 2 "--e2e-keys below 8" -- "$BENCH" --e2e-keys 7
expect_status 2 "--e2e-keys above 256" -- "$BENCH" --e2e-keys 257
expect_status 2 "--e2e-keys not a number" -- "$BENCH" --e2e-keys 12x
expect_status 2 "unknown argument" -- "$BENCH" --frobnicate
expect_output "unknown or incomplete argument '--frobnicate'" "unknown argument message"
expect_status 2 "--pg-uri not a postgresql:// URI" -- "$BENCH" --pg-uri sqlite:/tmp/x.db
expect_status 2 "a server binary that does not exist" -- "$BENCH" --server-bin "$tmp/none"
expect_output "no runnable splitkey-server" "missing server message"
# an unwritable --json fails at once (exit 1), before anything is measured,
# and leaves no file
mkdir "$tmp/ro"
for out in "$tmp/none/b.json" "$tmp/ro"; do
  expect_status 1 "--json $out cannot be written" -- "$BENCH" --quick --profile 4K --no-e2e \
    --json "$out"
  expect_output "cannot write $out" "unwritable --json named ($out)"
  if grep -Eq '^\[4K\]|== profile' "$SK_TMP/out"; then
    fail "--json $out: measured before the error"
  else
    ok
  fi
done
if [ -z "$(ls -A "$tmp/ro")" ]; then ok; else fail "files left by a refused --json: $(ls -A "$tmp/ro")"; fi
rmdir "$tmp/ro"

# --- a quick run ---------------------------------------------------------------
mkdir "$tmp/run"
TMPDIR="$tmp/run" "$BENCH" --quick --profile 4K --server-bin "$SERVER" --json "$tmp/b.json" \
  >"$tmp/table" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ]; then ok; else
  fail "quick run: exit status $rc"
  tail -n 40 "$tmp/err" >&2
fi
if "$PY" "$CHECK" "$tmp/b.json" 4K; then ok; else fail "the JSON of the quick run"; fi
cp "$tmp/table" "$SK_TMP/out"
expect_output "^== profile 4K " "table heading"
expect_output "server step / GMP floor +[0-9.]+" "table ratio: floor"
expect_output "signing e2e \(1 client, 1 worker\) / in-process +[0-9.]+" "table ratio: e2e"
expect_output "server throughput 2 workers / 1 \(8 clients\) +[0-9.]+" "table ratio: workers"
expect_output "^targets \(reported, not asserted\):" "targets section"
left_nothing "$tmp/run" "after a quick run"

# --- SIGTERM while the servers run ------------------------------------------------
mkdir "$tmp/sig"
TMPDIR="$tmp/sig" "$BENCH" --quick --profile 4K --server-bin "$SERVER" >/dev/null 2>"$tmp/sig.err" &
bench=$!
up=0
for _ in $(seq 1 1200); do # both servers listen once the second one's ready file exists
  if compgen -G "$tmp/sig/splitkey-bench-*/ready-w2" >/dev/null; then up=1; break; fi
  if ! kill -0 "$bench" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ "$up" -eq 1 ]; then ok; else fail "the bench never started its servers"; tail -n 20 "$tmp/sig.err" >&2; fi
if pgrep -f "$tmp/sig/" >/dev/null; then ok; else fail "no server running before SIGTERM"; fi
kill -TERM "$bench"
wait "$bench"
rc=$?
if [ "$rc" -eq 143 ]; then ok; else fail "bench after SIGTERM: exit status $rc, expected 143"; fi
left_nothing "$tmp/sig" "after SIGTERM"

finish bench_quick
