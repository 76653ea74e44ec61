# SPDX-License-Identifier: Apache-2.0
# e2e_lib.sh - shared by the end-to-end tests of splitkey-client and
# splitkey-rp (sourced, not run).  Each test gets a temporary directory of
# its own and its own splitkey-server on a loopback port the kernel picks
# (tcp://127.0.0.1:0, reported through --ready-file).
#
#   . e2e_lib.sh BIN_DIR
#   e2e_start_server           -> $URL, $SRV (server dir), $SERVER_PID, and the
#                                 relying-party API: $RPURL, $RP_API_ARGS
#   e2e_enrol DEV PURPOSE PINFILE
#   check "what" CMD...        a command that must succeed
#   expect_exit N "what" CMD...
#   e2e_finish                 prints the tally, exits 0 only if nothing failed

set -u
# SK_TEST_STORE=postgresql: the same script on a PostgreSQL cluster of its
# own (with_pg.sh puts its stand-in for splitkey-server in BIN_DIR's place)
if [ "${SK_TEST_STORE:-sqlite}" = postgresql ] && [ -z "${SK_REAL_SERVER:-}" ]; then
  exec bash "$(dirname "${BASH_SOURCE[0]}")/with_pg.sh" bash "$0" "$@"
fi
. "$(dirname "${BASH_SOURCE[0]}")/store_lib.sh"
BIN=${1:?usage: $0 BIN_DIR}
CLIENT="$BIN/splitkey-client"
RP="$BIN/splitkey-rp"
SERVER="$BIN/splitkey-server"
. "$(dirname "${BASH_SOURCE[0]}")/four_eyes_lib.sh" # four_eyes_token: a usable token
. "$(dirname "${BASH_SOURCE[0]}")/rp_test_lib.sh"   # RP_API_ARGS: the test relying party
SUBJECT="C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"
PERSON="PNOLV-010101-12345"

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-e2e.XXXXXX")
SERVER_PID=
FAILURES=0
CHECKS=0

e2e_cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$T"
}
trap e2e_cleanup EXIT

fail() {
  FAILURES=$((FAILURES + 1))
  printf 'FAIL: %s\n' "$*" >&2
}

# check WHAT CMD...: CMD must exit 0.
check() {
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if ! "$@" >"$T/last.out" 2>"$T/last.err"; then
    fail "$what (exit $?)"
    sed 's/^/  | /' "$T/last.out" "$T/last.err" >&2
  fi
}

# expect_exit N WHAT CMD...: CMD must exit with status N.
expect_exit() {
  local want=$1 what=$2
  shift 2
  CHECKS=$((CHECKS + 1))
  "$@" >"$T/last.out" 2>"$T/last.err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$what: exit $got, expected $want"
    sed 's/^/  | /' "$T/last.out" "$T/last.err" >&2
  fi
}

# assert WHAT TEST-ARGS...: a shell test that must hold.
assert() {
  local what=$1
  shift
  CHECKS=$((CHECKS + 1))
  if ! test "$@"; then
    fail "$what ($*)"
  fi
}

# grep_last PATTERN WHAT: the last command's stdout or stderr matches.
grep_last() {
  CHECKS=$((CHECKS + 1))
  if ! grep -q -e "$1" "$T/last.out" "$T/last.err"; then
    fail "$2: no \"$1\" in the output"
    sed 's/^/  | /' "$T/last.out" "$T/last.err" >&2
  fi
}

e2e_start_server() {
  SRV="$T/server"
  "$SERVER" init --dir "$SRV" >/dev/null || { echo "splitkey-server init failed" >&2; exit 1; }
  rp_test_register "$SRV" || exit 1
  e2e_run_server
}

# (Re)starts the server on SRV's database and waits for its ready file.
# SERVER_ARGS (an array, may be unset) adds options to 'run'; E2E_LISTEN
# (default tcp://127.0.0.1:0) is the device socket.  Relying
# parties reach it over its HTTPS listener (RP_API_ARGS, rp_test_lib.sh).
e2e_run_server() {
  rm -f "$T/ready"
  "$SERVER" run --dir "$SRV" --listen "${E2E_LISTEN:-tcp://127.0.0.1:0}" --open-enrolment \
    --pool-profiles 4K --pool-size 2 --ready-file "$T/ready" "${RP_LISTEN[@]}" \
    ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} \
    2>>"$T/server.log" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 600); do
    [ -s "$T/ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/server.log" >&2; echo "server died" >&2; exit 1; }
    sleep 0.05
  done
  [ -s "$T/ready" ] || { echo "server not ready" >&2; exit 1; }
  URL=$(head -n 1 "$T/ready")
  rp_test_args "$T/ready" "$SRV" || exit 1
}

# e2e_enrol DEV PURPOSE PINFILE: enrols a 4K key with the test subject.
e2e_enrol() {
  "$CLIENT" enrol --state "$1" --server "$URL" --server-pub "$SRV/server.pub" \
    --purpose "$2" --pin-file "$3" --profile 4K --subject "$SUBJECT"
}

# openssl_verify PUB SCHEME HASH FILE SIG
openssl_verify() {
  local opts=()
  [ "$2" = pss ] && opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
  openssl dgst "-$3" -verify "$1" -signature "$5" "${opts[@]}" "$4"
}

# The session id and code a waiting session of PURPOSE has in 'sessions'.
session_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" '$2 == p { print $1; exit }'
}
code_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" '$2 == p { print $4; exit }'
}

# Waits until FILE contains PATTERN (the relying party prints its code at
# once), or the process PID ended.
wait_for_line() {
  local file=$1 pattern=$2 pid=$3 i
  for i in $(seq 1 400); do
    grep -q -e "$pattern" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

e2e_pins() {
  printf '1234\n' >"$T/pin1"
  printf '12345\n' >"$T/pin2"
  printf '54321\n' >"$T/pin2-wrong"
  printf 'Agreement of sale: one bicycle, 350 EUR.\n' >"$T/doc.txt"
}

e2e_finish() {
  if [ "$FAILURES" -eq 0 ]; then
    printf '%s: %d checks passed\n' "$(basename "$0")" "$CHECKS"
    exit 0
  fi
  printf '%s: %d of %d checks failed\n' "$(basename "$0")" "$FAILURES" "$CHECKS" >&2
  exit 1
}
