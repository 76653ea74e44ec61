# SPDX-License-Identifier: Apache-2.0
# lib.sh - helpers for the PKI program tests: checks that count, and
# background programs that are stopped and reaped on exit.

fails=0
checks=0
PIDS=()
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAILED: $*" >&2; }
# expect DESCRIPTION PATTERN FILE: a fixed string must appear in FILE
expect() {
  if grep -qF -- "$2" "$3"; then ok "$1"; else
    bad "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -40 >&2; fi
}
# expect_i: the same, ignoring case
expect_i() {
  if grep -qiF -- "$2" "$3"; then ok "$1"; else
    bad "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -40 >&2; fi
}
expect_not() { if grep -qF -- "$2" "$3"; then bad "$1 ('$2' in $3)"; else ok "$1"; fi; }
# run DESCRIPTION CMD...: must exit 0 (output in out.txt)
run() {
  local d=$1; shift
  if "$@" >out.txt 2>&1; then ok "$d"; else bad "$d: $*"; sed 's/^/    /' out.txt >&2; fi
}
# run_status DESCRIPTION STATUS CMD...: must exit with STATUS (output in out.txt)
run_status() {
  local d=$1 want=$2; shift 2
  local got=0
  "$@" >out.txt 2>&1 || got=$?
  if [ "$got" -eq "$want" ]; then ok "$d"; else
    bad "$d: exit $got, expected $want: $*"; sed 's/^/    /' out.txt >&2; fi
}

# start NAME CMD...: runs CMD in the background, stderr to NAME.log; the pid
# is kept in PID_<NAME>.
start() {
  local name=$1; shift
  "$@" >"$name.out" 2>"$name.log" &
  local pid=$!
  PIDS+=("$pid")
  eval "PID_${name}=$pid"
}
# wait_ready FILE PID: polls until FILE has content; fails if PID died.
wait_ready() {
  while [ ! -s "$1" ]; do
    if ! kill -0 "$2" 2>/dev/null; then echo "process $2 died before $1 appeared" >&2; return 1; fi
    sleep 0.1
  done
}
# stop PID: SIGTERM, then the exit status in STOPPED
stop() {
  kill -TERM "$1" 2>/dev/null || true
  STOPPED=0
  wait "$1" || STOPPED=$?
}
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
# pki_setup BINDIR [TOOL]: the start every PKI program test shares: BIN and
# TOOL from the arguments, CA and OCSP (the programs in BIN), a new WORK
# directory made the current one, and cleanup on exit (the background
# programs stopped, WORK removed).  The caller sets -euo pipefail and
# sources this file from its own directory first.
pki_setup() {
  BIN=$1
  TOOL=${2-}
  CA="$BIN/splitkey-ca"
  OCSP="$BIN/splitkey-ocsp"
  WORK=$(mktemp -d)
  trap cleanup EXIT
  cd "$WORK"
}
finish() {
  echo "$(basename "$0"): $checks checks, $fails failed"
  [ "$fails" -eq 0 ]
}
