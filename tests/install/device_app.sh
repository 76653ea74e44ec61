#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# device_app.sh - examples/device_app.c, a phone app over the client layer,
# against a real splitkey-server on loopback: it enrols a signing key with a
# registration token (the proof of possession makes it active), approves a
# relying party's session (splitkey-rp verifies the signature, and so does
# OpenSSL), refuses nothing with a wrong PIN but lets the server count it,
# and signs a file of its own.  The program must link the device library
# only: no libsplitkey.so, no SQLite.
#
#   device_app.sh BIN_DIR
. "$(dirname "$0")/../services/e2e_lib.sh"
# SK_DEVICE_APP: the same program built elsewhere (from an installed copy)
APP="${SK_DEVICE_APP:-$BIN/example-device-app}"
e2e_pins
e2e_start_server
ST="$T/phone/sign.state"
mkdir -p "$T/phone"

# every run of the program: its output is also kept in app.log, which must
# never show a PIN or the registration token
app() {
  "$APP" "$@" >"$T/a.out" 2>"$T/a.err"
  local rc=$?
  cat "$T/a.out"
  cat "$T/a.err" >&2
  cat "$T/a.out" "$T/a.err" >>"$T/app.log"
  return $rc
}
printf '86420\n' >"$T/pin"
printf '97531\n' >"$T/pin-wrong"

# --- what the program is linked with -------------------------------------------
ldd "$APP" >"$T/ldd.txt"
check "linked with libsplitkey-device.so" grep -q 'libsplitkey-device\.so' "$T/ldd.txt"
check "not linked with libsplitkey.so" sh -c "! grep -q 'libsplitkey\.so' '$T/ldd.txt'"
check "not linked with SQLite" sh -c "! grep -qi sqlite '$T/ldd.txt'"

# --- usage ------------------------------------------------------------------------
expect_exit 2 "no command" "$APP"
expect_exit 2 "an unknown option" app sign --server "$URL" --state "$ST" --frobnicate x
expect_exit 1 "sign before any enrolment" app sign --server "$URL" --state "$ST" \
  --pin-file "$T/pin" --in "$T/doc.txt" --out "$T/x.sig"
grep_last "enrol a key first" "says to enrol first"

# --- enrolment with a registration token ------------------------------------------
TOKEN=$(four_eyes_token "$SRV" "$SUBJECT" sign)
assert "a token was minted" -n "$TOKEN"
printf '%s\n' "$TOKEN" >"$T/token"
check "enrol" app enrol --server "$URL" --server-pub "$SRV/server.pub" --state "$ST" \
  --pin-file "$T/pin" --purpose sign --profile 4K --token-file "$T/token" --pub-out "$T/sign.pub"
grep_last "enrolled; key id [0-9a-f]\{32\}, subject .*serialNumber=$PERSON, active" "enrol reports an active key"
assert "the state is stored" -s "$ST"
assert "the storage key is 32 bytes" "$(stat -c %s "$ST.key")" -eq 32
assert "the storage key is private" "$(stat -c %a "$ST.key")" = 600
assert "no temporary file is left" ! -e "$ST.tmp"
check "the public key is a PEM RSA key" openssl pkey -pubin -in "$T/sign.pub" -noout
check "status" app status --server "$URL" --state "$ST"
grep_last "state: ACTIVE" "the key is active at the server"
ATTEMPTS=$(sed -n 's/^attempts left: //p' "$T/last.out")
assert "status shows the PIN attempts" -n "$ATTEMPTS"
expect_exit 1 "a second enrolment into the same state" app enrol --server "$URL" \
  --server-pub "$SRV/server.pub" --state "$ST" --pin-file "$T/pin" --profile 4K \
  --token-file "$T/token"
grep_last "already holds an enrolled key" "refuses a second key"

# --- a relying party asks; a wrong PIN first, counted by the server ------------------
# over the server's HTTPS API (RP_API_ARGS); the key has a token, so it is
# QUALIFIED, the API's default level; the signature comes back PKCS#1 v1.5
rp_start rp sign --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/rp.sig" \
  --hash sha256 --text "Sale contract 42" --name "Bike shop" --pub "$T/sign.pub" ||
  fail "splitkey-rp printed no session"
expect_exit 3 "approve with a wrong PIN" app approve --server "$URL" --state "$ST" \
  --pin-file "$T/pin-wrong" --wait 10
grep_last "wrong PIN ($((ATTEMPTS - 1)) attempts left)" "the wrong PIN is refused and counted"
grep_last "Bike shop asks: \"Sale contract 42\"" "the session is shown before the PIN is used"
grep_last "verification code: $RP_CODE" "the same verification code on both sides"
check "status after a wrong PIN" app status --server "$URL" --state "$ST"
grep_last "attempts left: $((ATTEMPTS - 1))" "the server counted the wrong PIN"
assert "the relying party still waits" -z "$(kill -0 "$RP_PID" 2>&1)"
check "approve with the PIN" app approve --server "$URL" --state "$ST" --pin-file "$T/pin" \
  --wait 10
grep_last "verification code: $RP_CODE" "the code again"
grep_last "approved" "approval reported"
rp_wait
assert "splitkey-rp exits 0" "$RP_EXIT" -eq 0
[ "$RP_EXIT" -eq 0 ] || sed 's/^/  rp| /' "$T/rp.out" "$T/rp.err" >&2
check "OpenSSL verifies the relying party's signature" \
  openssl dgst -sha256 -verify "$T/sign.pub" -signature "$T/rp.sig" "$T/doc.txt"
check "status after the approval" app status --server "$URL" --state "$ST"
grep_last "attempts left: $ATTEMPTS" "a correct PIN resets the count"
expect_exit 1 "approve with nothing waiting" app approve --server "$URL" --state "$ST" \
  --pin-file "$T/pin"
grep_last "no session is waiting" "says nothing waits"

# --- the device signs a file of its own ----------------------------------------------
printf 'Meeting notes, 3 March.\n' >"$T/notes.txt"
check "sign" app sign --server "$URL" --state "$ST" --pin-file "$T/pin" --in "$T/notes.txt" \
  --out "$T/notes.sig"
grep_last "verification code [0-9]\{4\}" "sign shows the code"
check "OpenSSL verifies the device's signature" \
  openssl dgst -sha256 -verify "$T/sign.pub" -signature "$T/notes.sig" "$T/notes.txt"
check "a changed file does not verify" sh -c "printf x >>'$T/notes.txt'; \
  ! openssl dgst -sha256 -verify '$T/sign.pub' -signature '$T/notes.sig' '$T/notes.txt'"

# --- a reply that never comes: the next run finishes the request first -----------------
# The app waits for a session (a fetch every half second); the server stops
# answering, so a fetch times out three times and stays in flight in the
# stored state.  The next run sends it again with the same request id before
# anything else, and the server answers it without taking it for a copy of
# the device.
DEVICE_APP_TIMEOUT_MS=300 app approve --server "$URL" --state "$ST" --pin-file "$T/pin" \
  --wait 30 >/dev/null 2>&1 &
APP_PID=$!
sleep 1
kill -STOP "$SERVER_PID"
wait "$APP_PID"
APP_EXIT=$?
kill -CONT "$SERVER_PID"
cp "$T/a.out" "$T/last.out"
cp "$T/a.err" "$T/last.err"
assert "the app gives up when no reply comes" "$APP_EXIT" -eq 1
grep_last "fetch: no reply from the server" "reports the missing reply"
check "the next run resumes, then signs" app sign --server "$URL" --state "$ST" --pin-file "$T/pin" \
  --in "$T/doc.txt" --out "$T/after.sig"
grep_last "finishing the request an earlier run left in flight" "resumes the request in flight"
grep_last "the earlier fetch finished: " "reports what it finished"
check "OpenSSL verifies the signature after the resume" \
  openssl dgst -sha256 -verify "$T/sign.pub" -signature "$T/after.sig" "$T/doc.txt"
check "status after the resume" app status --server "$URL" --state "$ST"
grep_last "state: ACTIVE" "no clone verdict: the key is still active"

# --- no server there: the state stays as it was ---------------------------------------
cp "$ST" "$T/state.before"
expect_exit 1 "no server" app sign --server tcp://127.0.0.1:1 --state "$ST" \
  --pin-file "$T/pin" --in "$T/doc.txt" --out "$T/y.sig"
grep_last "cannot connect" "reports the missing server"
check "the state is unchanged" cmp -s "$ST" "$T/state.before"
check "and still signs afterwards" app sign --server "$URL" --state "$ST" --pin-file "$T/pin" \
  --in "$T/doc.txt" --out "$T/z.sig"
check "OpenSSL verifies it" openssl dgst -sha256 -verify "$T/sign.pub" -signature "$T/z.sig" "$T/doc.txt"

# nothing leaked a PIN or the token into the output
assert "the program ran" -s "$T/app.log"
check "no PIN or token printed" sh -c "! grep -qw -e 86420 -e 97531 '$T/app.log' && ! grep -qF '$TOKEN' '$T/app.log'"

e2e_finish
