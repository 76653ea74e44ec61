#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_levels.sh - certificate levels, interactions and verification-code
# choice through the real programs (splitkey-server, splitkey-rp,
# splitkey-client), checked with sqlite3 and openssl:
#  - an openly enrolled key is ADVANCED, a key enrolled with a four-eyes
#    token QUALIFIED; a QUALIFIED request on the ADVANCED key is refused and
#    creates nothing (no session row, one level event);
#  - verificationCodeChoice: three distinct codes, the relying party's among
#    them, the same on every listing; approve without --vc is refused
#    locally (exit 2, the session still waits, no attempt spent); the right
#    code signs and openssl verifies; a wrong code ends the session WRONG_VC,
#    the relying party exits 6, the PIN attempts stay at 3;
#  - confirmationMessage: approve without --confirm is refused locally;
#    with it the signature verifies;
#  - a display text over the interaction's limit is refused at creation.
. "$(dirname "$0")/e2e_lib.sh"
SQLITE=$(command -v sqlite3 || true)
e2e_pins
e2e_start_server
DB="$SRV/server.db"
sq() { store_sql "$DB" "$1"; } # sqlite3, or psql on the PostgreSQL copy
DEV="$T/dev"
QDEV="$T/qdev"
QSUBJECT="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222"
QPERSON="PNOLV-020202-22222"
check "enrol sign openly (advanced)" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
umask 077
if four_eyes_token "$SRV" "$QSUBJECT" sign >"$T/qtoken"; then
  check "enrol sign with a token (qualified)" "$CLIENT" enrol --state "$QDEV" --server "$URL" \
    --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K \
    --token-file "$T/qtoken"
  check "pubkey (qualified key)" "$CLIENT" pubkey --state "$QDEV" --purpose sign --out "$T/q.pub"
else
  fail "no four-eyes token"
fi

# The choices line of the relying party's session in 'sessions'.
choices_of() {
  "$CLIENT" sessions --state "$1" |
    awk -v s="$RP_SID" '$1 == s { want = 1; next } want && $1 == "interaction" { print; exit }'
}
listed() { "$CLIENT" sessions --state "$1" | grep -q "^$RP_SID "; }
attempts() { "$CLIENT" status --state "$1" --purpose sign | awk '/^attempts left:/ { print $3 }'; }
# splitkey-rp sign as the test relying party: "$RP" sign "${RPA[@]}" ..., or
# rp_start NAME sign "${sign_args[@]}" ... (which adds RP_API_ARGS itself)
sign_args=(--purpose sign --in "$T/doc.txt" --name Bank)
RPA=("${RP_API_ARGS[@]}" "${sign_args[@]}")

# --- levels ------------------------------------------------------------------
if [ -n "$SQLITE" ]; then
  sessions0=$(sq "SELECT count(*) FROM sessions;")
  level_events0=$(sq "SELECT count(*) FROM events WHERE kind = 41;")
fi
expect_exit 1 "a qualified request on an advanced key" "$RP" sign "${RPA[@]}" --person "$PERSON" \
  --out "$T/q-on-a.sig" --pub "$T/sign.pub" --level qualified
grep_last "HTTP 471" "the refusal is the API's 471 (no account of that level)"
assert "no signature" ! -e "$T/q-on-a.sig"
check "nothing waits on the device" sh -c "'$CLIENT' sessions --state '$DEV' | grep -q 'no session is waiting'"
if [ -n "$SQLITE" ]; then
  assert "no session row was made" "$(sq "SELECT count(*) FROM sessions;")" = "$sessions0"
  assert "one level-refused event (41)" \
    "$(sq "SELECT count(*) FROM events WHERE kind = 41;")" = "$((level_events0 + 1))"
fi
expect_exit 2 "an unknown --level" "$RP" sign "${RPA[@]}" --person "$PERSON" --out "$T/x.sig" \
  --pub "$T/sign.pub" --level basic
rp_start qq sign "${sign_args[@]}" --person "$QPERSON" --out "$T/qq.sig" --pub "$T/q.pub" --level qualified
check "the qualified key gets the qualified request" listed "$QDEV"
check "approve on the qualified key" "$CLIENT" approve "$RP_SID" --state "$QDEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp --level qualified exits 0" "$RP_EXIT" -eq 0
check "openssl verifies (qualified)" openssl_verify "$T/q.pub" pkcs1 sha256 "$T/doc.txt" "$T/qq.sig"
rp_start qa sign "${sign_args[@]}" --person "$QPERSON" --out "$T/qa.sig" --pub "$T/q.pub" --level advanced
check "approve an advanced request on the qualified key" "$CLIENT" approve "$RP_SID" \
  --state "$QDEV" --pin-file "$T/pin2"
rp_wait
assert "an advanced request is served by a qualified key" "$RP_EXIT" -eq 0

# --- verification-code choice: the right pick --------------------------------
rp_start vc sign "${sign_args[@]}" --person "$PERSON" --level advanced --out "$T/vc.sig" --pub "$T/sign.pub" \
  --interaction verificationCodeChoice --text "Pay 12 EUR"
line1=$(choices_of "$DEV")
line2=$(choices_of "$DEV")
assert "the session lists its interaction" -n "$(echo "$line1" | grep verificationCodeChoice)"
read -r -a C <<<"$(echo "$line1" | sed -n 's/.*choices \([0-9]\{4\}\) \([0-9]\{4\}\) \([0-9]\{4\}\)$/\1 \2 \3/p')"
assert "three codes offered" "${#C[@]}" -eq 3
assert "the three are distinct" "$(printf '%s\n' "${C[@]}" | sort -u | wc -l)" -eq 3
assert "the relying party's code is one of them" \
  "$(printf '%s\n' "${C[@]}" | grep -c "^$RP_CODE\$")" -eq 1
assert "the same three in the same order on another listing" "$line1" = "$line2"
a0=$(attempts "$DEV")
expect_exit 2 "approve without --vc" "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2"
grep_last "run with --vc CODE" "the refusal says what to do"
expect_exit 2 "approve with a code not offered" "$CLIENT" approve "$RP_SID" --state "$DEV" \
  --pin-file "$T/pin2" --vc 99999
check "the session still waits (nothing was sent)" listed "$DEV"
assert "no attempt spent by the local refusals" "$(attempts "$DEV")" = "$a0"
check "approve with the relying party's code" "$CLIENT" approve "$RP_SID" --state "$DEV" \
  --pin-file "$T/pin2" --vc "$RP_CODE"
grep_last "verificationCodeChoice" "approve shows the interaction"
rp_wait
assert "splitkey-rp exits 0 after the right pick" "$RP_EXIT" -eq 0
check "openssl verifies the VC-choice signature" openssl_verify "$T/sign.pub" pkcs1 sha256 \
  "$T/doc.txt" "$T/vc.sig"

# --- verification-code choice: a wrong pick ----------------------------------
rp_start wrong sign "${sign_args[@]}" --person "$PERSON" --level advanced --out "$T/wrong.sig" --pub "$T/sign.pub" \
  --interaction verificationCodeChoice --text "Pay 13 EUR"
read -r -a C <<<"$(choices_of "$DEV" | sed -n 's/.*choices \([0-9 ]*\)$/\1/p')"
BAD=
for c in "${C[@]}"; do [ "$c" != "$RP_CODE" ] && BAD=$c && break; done
assert "a decoy to pick" -n "$BAD"
[ -n "$SQLITE" ] && wrong0=$(sq "SELECT count(*) FROM events WHERE kind = 40;")
[ -n "$SQLITE" ] && pin0=$(sq "SELECT count(*) FROM events WHERE kind = 6;")
expect_exit 6 "approve with a wrong code" "$CLIENT" approve "$RP_SID" --state "$DEV" \
  --pin-file "$T/pin2" --vc "$BAD"
grep_last "wrong verification code" "the device is told"
rp_wait
assert "splitkey-rp exits 6 after a wrong pick" "$RP_EXIT" -eq 6
check "the relying party is told" grep -q "wrong verification code" "$T/wrong.err"
assert "no signature after a wrong pick" ! -e "$T/wrong.sig"
assert "PIN attempts unchanged" "$(attempts "$DEV")" = "3"
expect_exit 6 "the session is over" "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2" \
  --vc "$RP_CODE"
if [ -n "$SQLITE" ]; then
  assert "one WRONG_VC event (40)" "$(sq "SELECT count(*) FROM events WHERE kind = 40;")" = "$((wrong0 + 1))"
  assert "no wrong-PIN event" "$(sq "SELECT count(*) FROM events WHERE kind = 6;")" = "$pin0"
fi

# --- confirmation message ------------------------------------------------------
MSG="I, Anna Berzina, confirm the sale of one bicycle for 350 EUR to Janis Ozols, handed over today in Riga; the buyer paid in full and I have no further claim."
rp_start conf sign "${sign_args[@]}" --person "$PERSON" --level advanced --out "$T/conf.sig" --pub "$T/sign.pub" \
  --interaction confirmationMessage --text "$MSG"
expect_exit 2 "approve a confirmation message without --confirm" "$CLIENT" approve "$RP_SID" \
  --state "$DEV" --pin-file "$T/pin2"
grep_last "confirmationMessage" "approve shows the interaction"
grep_last "in full and I have no further claim" "approve shows the whole message"
grep_last "run with --confirm" "the refusal says what to do"
check "the session still waits" listed "$DEV"
check "approve with --confirm" "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2" \
  --confirm
rp_wait
assert "splitkey-rp exits 0 after the confirmation" "$RP_EXIT" -eq 0
check "openssl verifies the confirmed signature" openssl_verify "$T/sign.pub" pkcs1 sha256 \
  "$T/doc.txt" "$T/conf.sig"

# --- display text limits -------------------------------------------------------
LONG61=$(printf 'x%.0s' $(seq 1 61))
expect_exit 1 "61 characters for displayTextAndPIN" "$RP" sign "${RPA[@]}" --person "$PERSON" \
  --out "$T/long.sig" --pub "$T/sign.pub" --interaction displayTextAndPIN --text "$LONG61" --level advanced
grep_last "HTTP 400" "the refusal is a 400"
grep_last "displayText60" "the refusal names the field"
LONG201=$(printf 'y%.0s' $(seq 1 201))
expect_exit 1 "201 characters for confirmationMessage" "$RP" sign "${RPA[@]}" --person "$PERSON" \
  --out "$T/long.sig" --pub "$T/sign.pub" --interaction confirmationMessage --text "$LONG201" --level advanced
check "nothing waits after the refusals" sh -c "'$CLIENT' sessions --state '$DEV' | grep -q 'no session is waiting'"
e2e_finish
