#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_lockout_clone.sh - the server's PIN policy and clone detection as the
# device program reports them: three wrong PINs exit 3, 3, then 4 with the
# lock shown by status; a locked key refuses even the right PIN; a copy of
# the state directory that signs first makes the original's next signature
# a clone (exit 5) and the key is destroyed for both copies.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"

sign_with() { # sign_with DIR PINFILE OUT
  "$CLIENT" sign --state "$1" --purpose sign --pin-file "$2" --in "$T/doc.txt" --out "$3"
}

# --- lockout -----------------------------------------------------------------
expect_exit 3 "wrong PIN 1" sign_with "$DEV" "$T/pin2-wrong" "$T/x.sig"
grep_last "2 attempts left" "first wrong PIN: 2 left"
expect_exit 3 "wrong PIN 2" sign_with "$DEV" "$T/pin2-wrong" "$T/x.sig"
grep_last "1 attempt left" "second wrong PIN: 1 left"
expect_exit 4 "wrong PIN 3 locks" sign_with "$DEV" "$T/pin2-wrong" "$T/x.sig"
grep_last "locked until [0-9-]*T" "third wrong PIN says until when"
expect_exit 4 "the right PIN on a locked key" sign_with "$DEV" "$T/pin2" "$T/x.sig"
assert "no signature from a locked key" ! -e "$T/x.sig"
check "status while locked" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "state: *TIMELOCKED" "status shows the lock"
grep_last "locked until: *[0-9-]*T" "status shows until when"
# the other key has its own counter
check "the auth key is not locked" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/a.sig"
check "status of the auth key" "$CLIENT" status --state "$DEV" --purpose auth
grep_last "state: *ACTIVE" "auth key active"

# --- clone ----------------------------------------------------------------------
cp -a "$DEV" "$T/copy"
check "the copy signs first" "$CLIENT" sign --state "$T/copy" --purpose auth --pin-file "$T/pin1" \
  --in "$T/doc.txt" --out "$T/copy.sig"
# the device's request counter is seeded from the clock in seconds: let one
# pass so the original's next request is not taken for a replay of the copy's
sleep 1.1
expect_exit 5 "the original signs next: clone" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/orig.sig"
grep_last "clone detected" "clone reported"
assert "no signature for a clone" ! -e "$T/orig.sig"
expect_exit 5 "the original again" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/orig.sig"
sleep 1.1
expect_exit 5 "the copy after the clone was detected" "$CLIENT" sign --state "$T/copy" \
  --purpose auth --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/copy2.sig"
check "status of the copy" "$CLIENT" status --state "$T/copy" --purpose auth
grep_last "DESTROYED" "the key is destroyed at the server"
e2e_finish
