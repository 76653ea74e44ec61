#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_rp_cancel.sh - a relying party that stops waiting, end to end: the
# device is not offered (nor can it approve) a session nobody waits for.
# The v2 API has no cancel: the server's idle rule (--rp-idle-seconds, a
# session whose relying party has not polled for that long past the end of
# its last poll's wait is cancelled) is what ends such a session.
#   - splitkey-rp --timeout passes with no approval: it exits 6; once the
#     idle limit ran the device does not list the session, 'approve SID'
#     exits 6 (as for an expired session), and the key signs a fresh one;
#   - SIGTERM or SIGINT to a waiting splitkey-rp (exit 130), or SIGKILL:
#     nothing written, and the same once the idle limit ran;
#   - an honest relying party that keeps polling is never taken for gone.
# Sessions live 600 s here, so no session disappears by expiring.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
SERVER_ARGS=(--rp-idle-seconds 2 --session-ttl 600)
e2e_start_server
RP_API_ARGS+=(--level advanced) # openly enrolled keys are ADVANCED
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"

rp_sign() { # rp_sign NAME [ARGS...]
  local name=$1
  shift
  rp_start "$name" sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
    --out "$T/$name.sig" --pub "$T/sign.pub" "$@"
}
# listed SID: the device's 'sessions' lists it
listed() { "$CLIENT" sessions --state "$DEV" | awk -v s="$1" '$1 == s { f = 1 } END { exit !f }'; }

# gone SID WHAT: within a bound that only makes a failure end, the idle
# limit runs out: not listed, and approving it answers "session gone" (6)
gone() {
  local i
  for i in $(seq 1 240); do
    listed "$1" || break
    sleep 0.25
  done
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
  check "$1: openssl verifies" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/$1.sig"
}

# --- --timeout passes, nobody approves ----------------------------------------
rp_sign late --timeout 2
SID=$RP_SID
assert "the session id was printed" -n "$SID"
check "listed while the relying party waits" listed "$SID"
rp_wait
assert "no answer within --timeout: exit 6" "$RP_EXIT" -eq 6
check "the timeout is reported" grep -q "no answer within 2 s" "$T/late.err"
assert "no signature without an answer" ! -e "$T/late.sig"
gone "$SID" "after --timeout"
signs_fine after-timeout

# --- SIGTERM, SIGINT, SIGKILL while splitkey-rp waits ------------------------------
for sig in TERM INT KILL; do
  rp_sign "sig$sig"
  assert "SIG$sig: the session is offered while the relying party waits" -n "$RP_SID"
  check "SIG$sig: listed before the signal" listed "$RP_SID"
  kill "-$sig" "$RP_PID"
  rp_wait
  if [ "$sig" = KILL ]; then
    assert "SIGKILL: splitkey-rp killed (got $RP_EXIT)" "$RP_EXIT" -eq 137
  else
    assert "SIG$sig: splitkey-rp exits 130 (got $RP_EXIT)" "$RP_EXIT" -eq 130
    check "SIG$sig: the interruption is reported" grep -q "interrupted (SIG$sig)" "$T/sig$sig.err"
  fi
  assert "SIG$sig: nothing written" ! -e "$T/sig$sig.sig"
  gone "$RP_SID" "after SIG$sig and the idle limit"
done
signs_fine after-signals

# --- an honest relying party that keeps polling ------------------------------------
rp_sign honest
SID=$RP_SID
assert "the session is listed" -n "$SID"
# its polls are further apart than --rp-idle-seconds (each one waits up to
# 10 s), yet it is never idle
sleep 3
check "an honest waiting relying party keeps its session offered" listed "$SID"
sleep 3
check "still offered after twice the idle limit" listed "$SID"
check "approve it" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "the honest relying party gets its signature" "$RP_EXIT" -eq 0
check "openssl verifies it" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/honest.sig"
e2e_finish
