#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_kill_steps.sh - enrolment and signing survive a crash of the device
# program or of the share server between every two steps.
#
# A relay (tests/attack/mitm_proxy.py) stands between splitkey-client and
# splitkey-server and stops the exchange at each request of each flow, in
# four ways:
#   client-before  the client is killed (SIGKILL) while its request is held
#                  back: the server never saw it;
#   client-after   the server handled the request and the client is killed
#                  while the reply is held back;
#   server-before  the server is killed while the request is held back, is
#                  started again, and the held request goes on to it;
#   server-after   the server handled the request and is killed while the
#                  reply is held back, then started again.
# A killed client is simply run again with the same command; a client whose
# server died must finish on its own (it sends its request again with the
# same request id).  Every case must end with the command done - an enrolled
# key that signs, a signature that verifies with openssl - no clone verdict
# and no key destroyed, and the key ACTIVE with all three PIN attempts.
#
# The approval of a relying party's session (splitkey-rp, talking to the
# server's HTTPS API directly and polling through the restarts) gets the
# same treatment for its SessionFetch and SignSubmit: exactly one signature
# is made, and the relying party must get it and it must verify, across a
# restart too (the API makes its record of the session again from the
# reference the session logic keeps with it).  So does a refusal
# (SessionRefuse), which the relying party must see as a refusal.
#
#   e2e_kill_steps.sh SERVER CLIENT PYTHON3 SQLITE3 OPENSSL PROXY_PY RP
set -u
if [ $# -lt 7 ]; then
  echo "usage: $0 SERVER CLIENT PYTHON3 SQLITE3 OPENSSL PROXY_PY RP" >&2
  exit 2
fi
SERVER=$1 CLIENT=$2 PY=$3 SQLITE=$4 OPENSSL=$5 PROXY_PY=$6 RP=$7
. "$(dirname "$0")/four_eyes_lib.sh"
. "$(dirname "$0")/rp_test_lib.sh"

FAULT_MS=5000   # how long a client waits for a reply that will not come
HONEST_MS=60000

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-kill.XXXXXX")
CTL="$T/ctl.sock"
[ ${#CTL} -gt 100 ] && CTL=$(mktemp -u /tmp/sk-kill.XXXXXX)
SERVER_PID=
PROXY_PID=
BG=
FAILED=0
CASES=0

RP_PID=
cleanup() {
  local p
  for p in $BG $RP_PID $PROXY_PID $SERVER_PID; do
    if kill -0 "$p" 2>/dev/null; then
      kill -9 "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  rm -f "$CTL"
  rm -rf "$T"
}
trap cleanup EXIT

die() {
  printf 'FAIL: setup: %s\n' "$*"
  for f in "$T/server.log" "$T/proxy.log" "$T/last.out" "$T/last.err"; do
    [ -s "$f" ] && sed "s|^|  $(basename "$f")| |" "$f" | tail -n 20
  done
  exit 1
}

CASE=
CASE_BAD=0
bad() {
  CASE_BAD=1
  printf 'FAIL: %s: %s\n' "$CASE" "$*"
}
show() { sed 's/^/  | /' "$T/last.out" "$T/last.err" | tail -n 12; }

px() { "$PY" "$PROXY_PY" ctl "$CTL" "$@"; }
sq() { "$SQLITE" -batch -cmd ".timeout 60000" "$DB" "$@"; }

# ------------------------------------------------------------ the server

SRV="$T/srv"
DB="$SRV/server.db"
PORT=

# The relying-party listener keeps its port across restarts as the device
# socket does, so that splitkey-rp polls on through them.
RP_PORT=
start_server() {
  rm -f "$T/ready"
  "$SERVER" run --dir "$SRV" --listen "tcp://127.0.0.1:${PORT:-0}" \
    --rp-listen "https://127.0.0.1:${RP_PORT:-0}" --pool-profiles 4K \
    --pool-size 2 --session-ttl 3600 --enrolling-ttl 86400 --session-keep 86400 \
    --ready-file "$T/ready" 2>>"$T/server.log" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 6000); do
    [ -s "$T/ready" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  [ -s "$T/ready" ] || return 1
  PORT=$(head -n 1 "$T/ready")
  PORT=${PORT##*:}
  RP_PORT=$(sed -n 2p "$T/ready")
  RP_PORT=${RP_PORT##*:}
  [ -n "$RP_PORT" ]
}

kill_server() {
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

"$SERVER" init --dir "$SRV" >/dev/null 2>"$T/server.log" || die "splitkey-server init failed"
rp_test_register "$SRV" 2>>"$T/server.log" || die "cannot register the relying party"
start_server || die "splitkey-server did not start"
rp_test_args "$T/ready" "$SRV" 2>>"$T/server.log" || die "no relying-party listener"
"$PY" "$PROXY_PY" serve "$PORT" "$T/proxy.port" "$CTL" 2>>"$T/proxy.log" &
PROXY_PID=$!
for i in $(seq 1 6000); do
  [ -s "$T/proxy.port" ] && break
  kill -0 "$PROXY_PID" 2>/dev/null || die "mitm_proxy.py died"
  sleep 0.05
done
[ -s "$T/proxy.port" ] || die "mitm_proxy.py not ready"
PX_URL="tcp://127.0.0.1:$(cat "$T/proxy.port")"
printf '12345\n' >"$T/pin"
chmod 600 "$T/pin"

# ------------------------------------------------------------ the client

# run MS ARGS...: splitkey-client in the foreground; RC its status.
run() {
  local ms=$1
  shift
  SPLITKEY_CLIENT_TIMEOUT_MS=$ms "$CLIENT" "$@" >"$T/last.out" 2>"$T/last.err"
  RC=$?
  return $RC
}

# bg ARGS...: splitkey-client in the background (BG its pid).
bg() {
  SPLITKEY_CLIENT_TIMEOUT_MS=$FAULT_MS "$CLIENT" "$@" >"$T/bg.out" 2>"$T/bg.err" &
  BG=$!
}
bg_wait() {
  wait "$BG"
  RC=$?
  BG=
  cp "$T/bg.out" "$T/last.out"
  cp "$T/bg.err" "$T/last.err"
  return $RC
}

NDEV=0
mint_token() { # mint_token FILE PERSON
  four_eyes_token "$SRV" "C=LV,GN=ANNA,SN=BERZINA,serialNumber=$2" sign >"$1" 2>>"$T/server.log" || return 1
  chmod 600 "$1"
}
ENROL_ARGS=()
next_device() {
  NDEV=$((NDEV + 1))
  DEV="$T/dev$NDEV"
  PERSON=$(printf 'PNOLV-020202-%05d' "$NDEV")
  mint_token "$T/token$NDEV" "$PERSON" || die "cannot mint a token"
  ENROL_ARGS=(enrol --state "$DEV" --server "$PX_URL" --server-pub "$SRV/server.pub"
    --purpose sign --pin-file "$T/pin" --profile 4K --token-file "$T/token$NDEV")
}
NDOC=0
next_doc() {
  NDOC=$((NDOC + 1))
  DOC="$T/doc$NDOC.txt"
  SIG="$T/doc$NDOC.sig"
  printf 'Document %d: %d\n' "$NDOC" "$RANDOM" >"$DOC"
  SIGN_ARGS=(sign --state "$DEV" --purpose sign --pin-file "$T/pin" --in "$DOC" --out "$SIG")
}
verifies() {
  run "$HONEST_MS" pubkey --state "$DEV" --purpose sign --out "$T/pub.pem" || return 1
  "$OPENSSL" dgst -sha256 -verify "$T/pub.pem" -signature "$SIG" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest "$DOC" >/dev/null 2>&1
}
# verifies_rp: the same for a relying party's signature (the API's are
# PKCS#1 v1.5)
verifies_rp() {
  run "$HONEST_MS" pubkey --state "$DEV" --purpose sign --out "$T/pub.pem" || return 1
  "$OPENSSL" dgst -sha256 -verify "$T/pub.pem" -signature "$SIG" -sigopt rsa_padding_mode:pkcs1 \
    "$DOC" >/dev/null 2>&1
}

wait_for() { # wait_for CMD...: until it succeeds (or the client ended)
  local i
  for i in $(seq 1 12000); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
held_one() { [ "$(px held)" -ge 1 ]; }
reply_held() { [ "$(px fired "$RULE")" -ge 1 ]; }

# fault TYPE MODE ARGS...: runs the client command ARGS with the fault;
# leaves the command finished (RC) or reports why not.
fault() {
  local type=$1 mode=$2
  shift 2
  px clear >/dev/null
  case $mode in
  *-before) RULE=$(px hold-request "$type") ;;
  *-after) RULE=$(px hold-reply "$type") ;;
  esac
  RULE=$(printf '%s\n' "$RULE" | sed -n 's/.*rule \([0-9][0-9]*\).*/\1/p' | head -n 1)
  bg "$@"
  case $mode in
  *-before) wait_for held_one || { bad "the request never came"; bg_wait; return; } ;;
  *-after) wait_for reply_held || { bad "the reply never came"; bg_wait; return; } ;;
  esac
  case $mode in
  client-*)
    kill -9 "$BG"
    bg_wait
    px clear >/dev/null
    px forget >/dev/null # a request the dead client sent never arrives
    run "$HONEST_MS" "$@"
    ;;
  server-before)
    kill_server
    start_server || die "the server did not start again"
    px release >/dev/null
    px clear >/dev/null
    bg_wait
    ;;
  server-after)
    kill_server
    start_server || die "the server did not start again"
    px clear >/dev/null
    bg_wait
    ;;
  esac
}

# No clone verdict and no key destroyed anywhere, ever.  (An enrolment that
# never finished and was started again with its token is given up: reason
# 5, abandoned; such a key never signed and its device lost it.)
no_harm() {
  local clones destroyed abandoned
  clones=$(sq "SELECT count(*) FROM events WHERE kind = 9;")
  destroyed=$(sq "SELECT count(*) FROM events WHERE kind = 8 AND detail != 5;")
  abandoned=$(sq "SELECT count(*) FROM keys WHERE state = 5;")
  [ "$clones" = 0 ] || bad "clone verdicts: $clones"
  [ "$destroyed" = 0 ] || bad "keys destroyed: $destroyed"
  [ "$abandoned" = "$(sq "SELECT count(*) FROM events WHERE kind = 8 AND detail = 5;")" ] ||
    bad "destroyed keys with no event saying why"
}

key_is_healthy() {
  if ! run "$HONEST_MS" status --state "$DEV" --purpose sign; then
    bad "status failed (exit $RC)"
    show
    return 1
  fi
  grep -q "state: *ACTIVE\$" "$T/last.out" && grep -q "attempts left: 3\$" "$T/last.out" ||
    { bad "the key is not ACTIVE with 3 attempts left"; show; }
}

finish() {
  no_harm
  if [ "$CASE_BAD" -eq 0 ]; then
    printf 'ok: %s\n' "$CASE"
  else
    FAILED=$((FAILED + 1))
  fi
}

# ------------------------------------------------------------ enrolment

for type in EnrolInit EnrolSubmit SessionCreate SignSubmit; do
  for mode in client-before client-after server-before server-after; do
    CASE="enrol, $mode $type"
    case "$CASE" in ${SK_KILL_ONLY:-*}) ;; *) continue ;; esac
    CASE_BAD=0
    CASES=$((CASES + 1))
    next_device
    fault "$type" "$mode" "${ENROL_ARGS[@]}"
    if [ "$RC" != 0 ]; then
      # a second run of the same command is what a user does after a failure
      # the client itself reports; it must not be needed after a crash
      bad "enrol did not finish (exit $RC)"
      show
    else
      next_doc
      if ! run "$HONEST_MS" "${SIGN_ARGS[@]}"; then
        bad "the new key does not sign (exit $RC)"
        show
      elif ! verifies; then
        bad "the signature does not verify"
      fi
      key_is_healthy
    fi
    finish
  done
done

# ------------------------------------------------------------ signing

next_device
run "$HONEST_MS" "${ENROL_ARGS[@]}" || { show; die "the honest enrolment failed"; }
for type in SessionCreate SignSubmit; do
  for mode in client-before client-after server-before server-after; do
    CASE="sign, $mode $type"
    case "$CASE" in ${SK_KILL_ONLY:-*}) ;; *) continue ;; esac
    CASE_BAD=0
    CASES=$((CASES + 1))
    next_doc
    fault "$type" "$mode" "${SIGN_ARGS[@]}"
    if [ "$RC" != 0 ]; then
      bad "sign did not finish (exit $RC)"
      show
    elif ! verifies; then
      bad "the signature does not verify"
    fi
    next_doc
    run "$HONEST_MS" "${SIGN_ARGS[@]}" || { bad "the next signature failed (exit $RC)"; show; }
    key_is_healthy
    finish
  done
done

# ------------------------------------------------------------ approval

# rp_session: splitkey-rp asks for a signature over a new document through
# the HTTPS API (straight to the server, not through the relay); SID the
# session as the device lists it (the API's UUID without its dashes).
#
# When the server is killed (server-*), the relying party either got its
# answer before the kill (the commit wakes its parked poll) or gets it from
# the restarted server, which knows the session again from the store.
signs() { sq "SELECT count(*) FROM events WHERE kind = 5;"; }
rp_session() {
  next_doc
  run "$HONEST_MS" pubkey --state "$DEV" --purpose sign --out "$T/pub.pem" || die "pubkey failed"
  "$RP" sign "${RP_API_ARGS[@]}" --person "$PERSON" --purpose sign --in "$DOC" \
    --out "$SIG" --pub "$T/pub.pem" --timeout 600 >"$T/rp.out" 2>"$T/rp.err" &
  RP_PID=$!
  SID=
  for i in $(seq 1 6000); do
    SID=$(sed -n 's/^session \([0-9a-f-]\{36\}\) .*$/\1/p' "$T/rp.out" 2>/dev/null | tr -d -)
    [ -n "$SID" ] && break
    kill -0 "$RP_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$SID" ] || { cat "$T/rp.err"; die "splitkey-rp opened no session"; }
}

for type in SessionFetch SignSubmit; do
  for mode in client-before client-after server-before server-after; do
    CASE="approve, $mode $type"
    case "$CASE" in ${SK_KILL_ONLY:-*}) ;; *) continue ;; esac
    CASE_BAD=0
    CASES=$((CASES + 1))
    rp_session
    signed=$(signs)
    fault "$type" "$mode" approve "$SID" --state "$DEV" --pin-file "$T/pin"
    if [ "$RC" != 0 ]; then
      bad "approve did not finish (exit $RC)"
      show
    fi
    wait "$RP_PID"
    rp_rc=$?
    RP_PID=
    [ "$(signs)" = $((signed + 1)) ] || bad "not exactly one signature made ($signed, then $(signs))"
    [ "$rp_rc" = 0 ] || { bad "the relying party got no signature (exit $rp_rc)"; sed 's/^/  rp| /' "$T/rp.err" | tail -n 5; }
    verifies_rp || bad "the relying party's signature does not verify"
    key_is_healthy
    finish
  done
done

# ------------------------------------------------------------ refusal

for mode in client-before client-after server-before server-after; do
  CASE="refuse, $mode SessionRefuse"
  case "$CASE" in ${SK_KILL_ONLY:-*}) ;; *) continue ;; esac
  CASE_BAD=0
  CASES=$((CASES + 1))
  rp_session
  fault SessionRefuse "$mode" refuse "$SID" --state "$DEV"
  if [ "$RC" != 0 ]; then
    bad "refuse did not finish (exit $RC)"
    show
  fi
  wait "$RP_PID"
  rp_rc=$?
  RP_PID=
  [ "$rp_rc" = 6 ] || bad "the relying party did not see the refusal (exit $rp_rc)"
  grep -q "refused" "$T/rp.err" || bad "the relying party was not told of the refusal"
  [ ! -e "$SIG" ] || bad "the relying party wrote a signature for a refused session"
  key_is_healthy
  finish
done

if [ "$FAILED" -ne 0 ]; then
  echo "e2e_kill_steps.sh: $FAILED of $CASES cases failed"
  tail -n ${SK_KILL_LOG_LINES:-30} "$T/server.log" | sed 's/^/  server.log| /'
  exit 1
fi
echo "e2e_kill_steps.sh: all $CASES cases ended with the work done and no key harmed"
