#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_seal.sh - an organisation's seal key (purpose seal) through the real
# programs: tokens for legal-person subjects only, enrolment with the token
# and a PIN file, a seal over a document that openssl verifies, a relying
# party asking for a seal by the organisation's identifier and an unattended
# approval from the PIN file; and the refusals: a person's subject for a seal
# token, an organisation's subject for a sign token, a malformed
# organizationIdentifier, a seal token used for a sign key and a sign token
# used for a seal key, a PIN too short for a seal key.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
ORG="C=LV,O=Example SIA,organizationIdentifier=VATLV-40003000000"
ORGID="VATLV-40003000000"
# a token request by the first test operator (four_eyes_lib.sh): the
# subject rules are checked there; a usable token needs the second's approval
four_eyes_operators "$SRV" || fail "no test operators"
token() { "$SERVER" token --dir "$SRV" --operator-key "$SRV.operators/a.key" "$@"; }
approved() { # approved SUBJECT PURPOSE: a token both test operators approved
  four_eyes_token "$SRV" "$1" "$2" >"$T/last.out"
}
enrol_token() { # enrol_token DEV PURPOSE PINFILE TOKENFILE
  "$CLIENT" enrol --state "$1" --server "$URL" --server-pub "$SRV/server.pub" \
    --purpose "$2" --pin-file "$3" --profile 4K --token-file "$4"
}
umask 077

# --- tokens: the subject must fit the purpose ------------------------------
expect_exit 2 "a person's subject is refused for a seal token" token --purpose seal --subject "$SUBJECT"
grep_last "not an organisation's subject" "the refusal says why"
expect_exit 2 "an organisation's subject is refused for a sign token" token --purpose sign --subject "$ORG"
grep_last "use --purpose seal" "the refusal names the purpose"
expect_exit 2 "an organisation's subject is refused for an auth token" token --purpose auth --subject "$ORG"
expect_exit 2 "organizationIdentifier of another country" \
  token --purpose seal --subject "C=LV,O=Example SIA,organizationIdentifier=VATEE-40003000000"
grep_last "must equal C" "the country mismatch is named"
expect_exit 2 "a lower-case scheme" \
  token --purpose seal --subject "C=LV,O=Example SIA,organizationIdentifier=vatLV-40003000000"
expect_exit 2 "no O" token --purpose seal --subject "C=LV,organizationIdentifier=VATLV-40003000000"
expect_exit 2 "an unknown purpose" token --purpose stamp --subject "$ORG"
grep_last "auth, sign or seal" "the purposes are listed"

check "a seal token" approved "$ORG" seal
cp "$T/last.out" "$T/seal.token"
check "a sign token" approved "$SUBJECT" sign
cp "$T/last.out" "$T/sign.token"

# --- tokens are bound to their purpose --------------------------------------
expect_exit 1 "a seal token does not enrol a sign key" enrol_token "$T/d1" sign "$T/pin2" "$T/seal.token"
assert "no sign key was stored" ! -e "$T/d1/sign.state"
printf '739146\n' >"$T/seal.pin"
expect_exit 1 "a sign token does not enrol a seal key" enrol_token "$T/d2" seal "$T/seal.pin" "$T/sign.token"
assert "no seal key was stored" ! -e "$T/d2/seal.state"
expect_exit 2 "a seal PIN of 4 digits is refused" enrol_token "$T/d3" seal "$T/pin1" "$T/seal.token"
grep_last "5 to 32 digits for a seal key" "the PIN rule is named"

# --- the honest path ---------------------------------------------------------
DEV="$T/seal-device"
check "enrol a seal key with the token and a PIN file" enrol_token "$DEV" seal "$T/seal.pin" "$T/seal.token"
grep_last "enrolled the seal key" "the client names the seal key"
grep_last "organizationIdentifier=VATLV-40003000000" "the registered subject is the organisation's"
check "the proof of possession was a CSR for the organisation" \
  sh -c "openssl req -in '$DEV/seal.csr.pem' -noout -verify -subject -nameopt RFC2253 2>&1 | grep -q 'CN=Example SIA,organizationIdentifier=VATLV-40003000000,O=Example SIA,C=LV'"
expect_exit 1 "the token is used up" enrol_token "$T/d4" seal "$T/seal.pin" "$T/seal.token"
check "status of the seal key" "$CLIENT" status --state "$DEV" --purpose seal
check "pubkey of the seal key" "$CLIENT" pubkey --state "$DEV" --purpose seal --out "$T/seal.pub"
check "seal a document" "$CLIENT" sign --state "$DEV" --purpose seal --pin-file "$T/seal.pin" \
  --in "$T/doc.txt" --out "$T/doc.seal" --scheme pkcs1
check "openssl verifies the seal" openssl_verify "$T/seal.pub" pkcs1 sha256 "$T/doc.txt" "$T/doc.seal"
printf 'altered\n' >>"$T/doc.txt.bad"
cat "$T/doc.txt" >>"$T/doc.txt.bad"
expect_exit 1 "the seal does not verify over another document" \
  openssl_verify "$T/seal.pub" pkcs1 sha256 "$T/doc.txt.bad" "$T/doc.seal"
printf '739145\n' >"$T/seal-wrong.pin"
expect_exit 3 "a wrong seal PIN" "$CLIENT" sign --state "$DEV" --purpose seal \
  --pin-file "$T/seal-wrong.pin" --in "$T/doc.txt" --out "$T/bad.seal"
expect_exit 2 "there is no sign key on the seal device" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/x.sig"

# --- a relying party asks for the seal by the organisation's identifier ------
rp_start seal sign --person "$ORGID" --purpose seal --in "$T/doc.txt" --out "$T/rp.seal" \
  --hash sha256 --text "Invoice 42" --pub "$T/seal.pub"
SID=$RP_SID
assert "the relying party opened a session" -n "$SID"
check "the seal device lists it as a seal session" \
  sh -c "'$CLIENT' sessions --state '$DEV' | awk '\$1 == \"$SID\" && \$2 == \"seal\"' | grep -q ."
check "the device approves unattended with the PIN file" \
  "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/seal.pin"
rp_wait
assert "splitkey-rp exits 0" "$RP_EXIT" -eq 0
check "openssl verifies the relying party's seal" openssl_verify "$T/seal.pub" pkcs1 sha256 "$T/doc.txt" "$T/rp.seal"
expect_exit 2 "an organisation's identifier for a person's signature" "$RP" sign \
  "${RP_API_ARGS[@]}" --person "$ORGID" --purpose sign --in "$T/doc.txt" --out "$T/rp2.sig" \
  --pub "$T/seal.pub"
expect_exit 2 "a person's identifier for a seal" "$RP" sign "${RP_API_ARGS[@]}" \
  --person "$PERSON" --purpose seal --in "$T/doc.txt" --out "$T/rp2.sig" --pub "$T/seal.pub"
expect_exit 2 "splitkey-rp does not ask an organisation to authenticate" "$RP" auth \
  "${RP_API_ARGS[@]}" --person "$ORGID" --pub "$T/seal.pub"
# nor does the server, asked directly (an organisation has a seal key only)
head -c 32 /dev/urandom >"$T/challenge"
V2="$(dirname "$0")/../rp/v2_client.py"
check "an organisation's authentication asked directly" sh -c "python3 '$V2' --base '$RPURL' \
  --pin '$RP_PIN' --cert '$T/rp-test.crt' --key '$T/rp-test.key' --uuid '$RP_TEST_UUID' \
  --name Bank create authentication etsi '$ORGID' --hash-file '$T/challenge' >'$T/orgauth'"
assert "is answered 404" "$(sed -n 1p "$T/orgauth")" = 404
# a relying party registered without the purpose seal is refused, and nothing is created
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/noseal.key" \
  -out "$T/noseal.crt" -days 2 -subj "/CN=no seals" 2>/dev/null
NOSEAL=4c6e8132-2d7f-4fbc-9e65-8b3f4e5d6c7a
check "rp add without seals" "$SERVER" rp add --dir "$SRV" --uuid "$NOSEAL" --names Shop \
  --cert "$T/noseal.crt"
kill -HUP "$SERVER_PID" # the registry is read again
sleep 1
before=$("$CLIENT" sessions --state "$DEV" | wc -l)
expect_exit 1 "a seal asked by a relying party not allowed seals" "$RP" sign --api "$RPURL/v2/" \
  --server-cert-sha256 "$RP_PIN" --rp-cert "$T/noseal.crt" --rp-key "$T/noseal.key" \
  --rp-uuid "$NOSEAL" --name Shop --person "$ORGID" --purpose seal --in "$T/doc.txt" \
  --out "$T/rp3.seal" --pub "$T/seal.pub" --timeout 5
grep_last "HTTP 403" "refused with 403"
assert "no session offered to the seal device" "$("$CLIENT" sessions --state "$DEV" | wc -l)" -eq "$before"
assert "no seal written" ! -e "$T/rp3.seal"
e2e_finish
