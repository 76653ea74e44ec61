#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_state_lock.sh - two splitkey-client commands on one state directory at
# once: the second waits for the first (an exclusive lock on DIR/lock), so
# they never send two requests with one one-time password, which the server
# would take for a clone and destroy the key.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
for round in 1 2 3; do
  pids=""
  for i in 1 2 3; do
    "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
      --in "$T/doc.txt" --out "$T/s$round$i.sig" >"$T/s$round$i.out" 2>&1 &
    pids="$pids $!"
  done
  n=0
  for p in $pids; do
    n=$((n + 1))
    wait "$p"
    check "round $round: concurrent sign $n succeeded" test $? = 0
  done
  for i in 1 2 3; do
    check "round $round: signature $i verifies" \
      openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/s$round$i.sig"
  done
done
"$CLIENT" status --state "$DEV" --purpose sign >"$T/status.out" 2>&1
check "the key is still active" grep -qi "active" "$T/status.out"
e2e_finish
