#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_rp_cancel.sh - a relying party that stops waiting, end to end: the
# device is not offered (nor can it approve) a session nobody waits for.
#   - splitkey-rp --timeout passes with no approval: it cancels the session
#     and exits 6; the device does not list it, 'approve SID' exits 6 (as
#     for an expired session), and the key signs a fresh session;
#   - SIGTERM or SIGINT to a waiting splitkey-rp: the same, exit 130;
#   - splitkey-rp killed with SIGKILL (no cancel sent): once the server saw
#     no poll for --rp-idle-seconds the session is no longer offered, while
#     an honest relying party that keeps polling is never taken for gone.
# Sessions live 600 s here, so no session disappears by expiring.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
SERVER_ARGS=(--rp-idle-seconds 2 --session-ttl 600)
LEGACY_RP=(--legacy-rp) # splitkey-rp --server still speaks the old frames
e2e_start_server
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"

# rp_start NAME ARGS...: splitkey-rp in the background; RP_PID, RP_SID
rp_start() {
  local name=$1
  shift
  "$RP" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  RP_PID=$!
  if ! wait_for_line "$T/$name.out" "verification code:" "$RP_PID"; then
    fail "$name: no verification code printed"
    cat "$T/$name.out" "$T/$name.err" >&2
  fi
  RP_SID=$(sed -n 's/^session \([0-9a-f]\{32\}\) for .*$/\1/p' "$T/$name.out")
}
rp_sign() { # rp_sign NAME [ARGS...]
  local name=$1
  shift
  rp_start "$name" sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
    --out "$T/$name.sig" --pub "$T/sign.pub" "$@"
}
# listed SID: the device's 'sessions' lists it
listed() { "$CLIENT" sessions --state "$DEV" | awk -v s="$1" '$1 == s { f = 1 } END { exit !f }'; }

# gone SID WHAT: not listed, and approving it answers "session gone" (6)
gone() {
  CHECKS=$((CHECKS + 1))
  if listed "$1"; then
    fail "$2: the device still lists the session"
  fi
  expect_exit 6 "$2: approve answers session gone" "$CLIENT" approve "$1" --state "$DEV" \
    --pin-file "$T/pin2"
}

# signs_fine NAME: a fresh session is approved and verified
signs_fine() {
  rp_sign "$1"
  assert "$1: session listed" -n "$RP_SID"
  check "$1: approve a fresh session" "$CLIENT" approve "$RP_SID" --state "$DEV" \
    --pin-file "$T/pin2"
  wait "$RP_PID"
  assert "$1: splitkey-rp exits 0" "$?" -eq 0
  check "$1: openssl verifies" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/$1.sig"
}

# --- --timeout passes, nobody approves ----------------------------------------
expect_exit 6 "no answer within --timeout" "$RP" sign --server "$URL" --person "$PERSON" \
  --purpose sign --in "$T/doc.txt" --out "$T/late.sig" --pub "$T/sign.pub" --timeout 2
grep_last "no answer within 2 s; the session is cancelled" "the timeout cancels the session"
SID=$(sed -n 's/^session \([0-9a-f]\{32\}\) for .*$/\1/p' "$T/last.out")
assert "the session id was printed" -n "$SID"
assert "no signature without an answer" ! -e "$T/late.sig"
gone "$SID" "after --timeout"
signs_fine after-timeout

# --- SIGTERM, then SIGINT, while splitkey-rp waits --------------------------------
for sig in TERM INT; do
  rp_sign "sig$sig"
  assert "SIG$sig: the session is offered while the relying party waits" -n "$RP_SID"
  check "SIG$sig: listed before the signal" listed "$RP_SID"
  kill "-$sig" "$RP_PID"
  wait "$RP_PID"
  rc=$?
  assert "SIG$sig: splitkey-rp exits 130 (got $rc)" "$rc" -eq 130
  check "SIG$sig: the interruption and the cancel are reported" \
    grep -q "interrupted (SIG$sig); the session $RP_SID is cancelled" "$T/sig$sig.err"
  assert "SIG$sig: nothing written" ! -e "$T/sig$sig.sig"
  gone "$RP_SID" "after SIG$sig"
done
signs_fine after-signals

# --- SIGKILL: no cancel, the server's idle rule ------------------------------------
rp_sign killed
SID=$RP_SID
assert "the session is listed" -n "$SID"
# a relying party that keeps polling is never idle, though its polls are
# further apart than --rp-idle-seconds (each one waits up to 10 s)
sleep 3
check "an honest waiting relying party keeps its session offered" listed "$SID"
kill -KILL "$RP_PID"
wait "$RP_PID" 2>/dev/null
# its last poll counts until the end of the wait it asked for (10 s), then
# the idle limit runs; the bound is only there so a failure ends
for i in $(seq 1 240); do
  listed "$SID" || break
  sleep 0.25
done
gone "$SID" "after SIGKILL and the idle limit"
signs_fine after-kill
e2e_finish
