#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_rp.sh - relying-party sessions end to end: splitkey-rp asks for an
# authentication and a signature, the device lists them with the same
# verification code, approves them, and the relying party verifies the
# result (and OpenSSL agrees).  Also refusal, expiry and a wrong PIN on the
# way to an approval.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
e2e_start_server
RP_API_ARGS+=(--level advanced) # openly enrolled keys are ADVANCED
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"

# session_of DEV PURPOSE, restricted to the relying party's own session: the
# id the device lists must be the one splitkey-rp printed.
session_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" -v s="$RP_SID" '$2 == p && $1 == s { print $1 }'
}
code_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" -v s="$RP_SID" '$2 == p && $1 == s { print $4 }'
}
# --- authentication -------------------------------------------------------
rp_start auth auth --person "$PERSON" --pub "$T/auth.pub" --name "Bank" --out "$T/auth.sig"
SID=$(session_of "$DEV" auth)
assert "the auth session is listed" -n "$SID"
assert "same code on both sides (auth)" "$(code_of "$DEV" auth)" = "$RP_CODE"
check "approve auth" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin1"
grep_last "verification code: $RP_CODE" "approve shows the code"
grep_last "Bank asks" "approve shows the relying party"
rp_wait
assert "splitkey-rp auth exits 0" "$RP_EXIT" -eq 0
check "auth output" grep -q "authenticated $PERSON" "$T/auth.out"
assert "auth signature written" -s "$T/auth.sig"

# --- signature (PKCS#1 v1.5, as the v2 API signs), with one wrong PIN first ------------------------------
rp_start sign sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp.sig" --hash sha256 --text "Sale contract 42" --pub "$T/sign.pub" \
  --cert-out "$T/cert.pem"
SID=$(session_of "$DEV" sign)
assert "the sign session is listed" -n "$SID"
assert "same code on both sides (sign)" "$(code_of "$DEV" sign)" = "$RP_CODE"
check "listing shows the text" sh -c "'$CLIENT' sessions --state '$DEV' | grep -q 'Sale contract 42'"
# the verification code is SHA-256(digest)[30..31] (big-endian) mod 10000
want=$(python3 -c '
import hashlib,sys
d=hashlib.sha256(open(sys.argv[1],"rb").read()).digest()
h=hashlib.sha256(d).digest()
print("%04d" % (int.from_bytes(h[30:32],"big") % 10000))' "$T/doc.txt")
assert "the code is derived from the digest" "$RP_CODE" = "$want"
expect_exit 3 "approve with PIN1 on the sign key" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2-wrong"
assert "relying party still waiting after a wrong PIN" -z "$(kill -0 "$RP_PID" 2>&1)"
check "approve with PIN2" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp sign exits 0" "$RP_EXIT" -eq 0
check "openssl verifies the relying party's signature" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/rp.sig"
check "no certificate without a CA" grep -q "no certificate" "$T/sign.out"
assert "no certificate file" ! -e "$T/cert.pem"

# --- SHA-512 ----------------------------------------------------------------
rp_start sign2 sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp2.sig" --hash sha512 --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "approve pkcs1" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp pkcs1 exits 0" "$RP_EXIT" -eq 0
check "openssl verifies pkcs1/sha512" openssl_verify "$T/sign.pub" pkcs1 sha512 "$T/doc.txt" "$T/rp2.sig"

# --- the key named by its document number instead of the person -----------------
DOCNR=$(sed -n 's/^document number \([^,]*\),.*/\1/p' "$T/sign2.out")
assert "splitkey-rp printed the key's document number" -n "$DOCNR"
case $DOCNR in "$PERSON"-*-A) ;; *) fail "document number $DOCNR: not $PERSON-HEX-A" ;; esac
rp_start bydoc sign --document "$DOCNR" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp3.sig" --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "approve a session created by document number" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp --document exits 0" "$RP_EXIT" -eq 0
check "openssl verifies the signature asked for by document number" openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/rp3.sig"
expect_exit 2 "--person and --document together without --ca-cert" "$RP" sign "${RP_API_ARGS[@]}" \
  --person "$PERSON" --document "$DOCNR" --purpose sign --in "$T/doc.txt" --out "$T/x.sig" --pub "$T/sign.pub"
expect_exit 2 "neither --person nor --document" "$RP" auth "${RP_API_ARGS[@]}" --pub "$T/auth.pub"
expect_exit 2 "neither --pub nor --ca-cert" "$RP" auth "${RP_API_ARGS[@]}" --person "$PERSON"
expect_exit 1 "a document number of no key" "$RP" auth "${RP_API_ARGS[@]}" \
  --document "$PERSON-00000000-A" --pub "$T/auth.pub"
grep_last "404" "an unknown document number is a 404"
expect_exit 1 "a malformed document number" "$RP" auth "${RP_API_ARGS[@]}" --document 12zz \
  --pub "$T/auth.pub"
assert "no signature by a refused document number" ! -e "$T/x.sig"

# --- --server with the API's https:// URL is the same as --api -----------------
API_ARGS_SAVED=("${RP_API_ARGS[@]}")
RP_API_ARGS[0]=--server # rp_start passes RP_API_ARGS: --server https://... instead of --api
rp_start srvform auth --person "$PERSON" --pub "$T/auth.pub" --name Bank --out "$T/srvform.sig"
RP_API_ARGS=("${API_ARGS_SAVED[@]}")
SID=$(session_of "$DEV" auth)
assert "a session made with --server https://..." -n "$SID"
check "approve it" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin1"
rp_wait
assert "splitkey-rp --server https://... exits 0" "$RP_EXIT" -eq 0

# --- refusal ------------------------------------------------------------------
rp_start refuse sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/refused.sig" --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "refuse" "$CLIENT" refuse "$SID" --state "$DEV"
rp_wait
assert "splitkey-rp exits 6 when refused" "$RP_EXIT" -eq 6
check "refusal explained" grep -q "refused" "$T/refuse.err"
assert "no signature after a refusal" ! -e "$T/refused.sig"
expect_exit 6 "approving a refused session" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"

# --- nobody answers -------------------------------------------------------------
expect_exit 6 "no answer before --timeout" "$RP" sign "${RP_API_ARGS[@]}" --person "$PERSON" \
  --purpose sign --in "$T/doc.txt" --out "$T/late.sig" --pub "$T/sign.pub" --timeout 1
assert "no signature without an answer" ! -e "$T/late.sig"

# --- a signature checked under the wrong key is refused -------------------------
rp_start wrongkey sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/wrongkey.sig" --pub "$T/auth.pub"
SID=$(session_of "$DEV" sign)
check "approve (relying party holds the wrong key)" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp refuses a signature under another key" "$RP_EXIT" -eq 1
assert "nothing written for a signature that does not verify" ! -e "$T/wrongkey.sig"

# --- --ca-cert and an answer without a certificate (this server has no CA) -------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
  -subj "/CN=some CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
rp_start nocert sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/nocert.sig" --ca-cert "$T/ca.pem" --cert-out "$T/nocert.pem"
SID=$(session_of "$DEV" sign)
check "approve (the relying party validates certificates)" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "an answer without a certificate is refused under --ca-cert (exit 7)" "$RP_EXIT" -eq 7
check "the refusal says why" grep -q "carries none" "$T/nocert.err"
assert "no signature written" ! -e "$T/nocert.sig"
assert "no certificate written" ! -e "$T/nocert.pem"

# --- a session outlives the server's restart ------------------------------------
# The relying party's session is in the store; the API's own facts about it
# (owner, document number, hash) come back from the reference the session
# logic keeps with it, so its owner collects the signature after a restart
# (or from another server on the same store), and nobody else can.
V2="$(dirname "$0")/../rp/v2_client.py"
v2st() { # v2st CERT KEY UUID SESSION: status -> $T/v2.out (HTTP status, body)
  python3 "$V2" --base "$RPURL" --pin "$RP_PIN" --cert "$1" --key "$2" --uuid "$3" \
    --name Bank status "$4" --timeout-ms 1000 >"$T/v2.out" 2>"$T/v2.err"
}
rp_start restart sign --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/restart.sig" --pub "$T/sign.pub" --timeout 2
RESTART_SID=$(sed -n 's/^session \([0-9a-f-]\{36\}\) for .*$/\1/p' "$T/restart.out")
rp_wait # gave up after 2 s, before the person answered
kill "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=
E2E_LISTEN=$URL e2e_run_server # the device's socket where the device knows it
RP_API_ARGS+=(--level advanced)
check "the device still lists the session after the restart" \
  sh -c "'$CLIENT' sessions --state '$DEV' | grep -q '^$RP_SID '"
check "approve it" "$CLIENT" approve "$RP_SID" --state "$DEV" --pin-file "$T/pin2"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
  -out "$T/other.crt" -days 2 -subj "/CN=another relying party" 2>/dev/null
OTHER=5d7f9243-3e80-4acd-8f76-9c4a5f6e7d8b
check "rp add another relying party" "$SERVER" rp add --dir "$SRV" --uuid "$OTHER" --names Bank \
  --cert "$T/other.crt"
sleep 1 # the registry file is read again at the next request
v2st "$T/other.crt" "$T/other.key" "$OTHER" "$RESTART_SID"
assert "another relying party gets 404 for it" "$(sed -n 1p "$T/v2.out")" = 404
v2st "$T/rp-test.crt" "$T/rp-test.key" "$RP_TEST_UUID" "$RESTART_SID"
assert "its owner gets 200 after the restart" "$(sed -n 1p "$T/v2.out")" = 200
python3 - "$(sed -n 2p "$T/v2.out")" "$T/restart.sig" "$PERSON" <<'PYEOF' >"$T/v2.check"
import base64, json, sys
d = json.loads(sys.argv[1])
r = d.get("result", {})
print(d.get("state"), r.get("endResult"), r.get("documentNumber", "").startswith(sys.argv[3] + "-"))
open(sys.argv[2], "wb").write(base64.b64decode(d.get("signature", {}).get("value", "")))
PYEOF
assert "COMPLETE, OK, the person's document number" "$(cat "$T/v2.check")" = "COMPLETE OK True"
check "openssl verifies the signature collected after the restart" \
  openssl_verify "$T/sign.pub" pkcs1 sha256 "$T/doc.txt" "$T/restart.sig"

# --- unknown person ----------------------------------------------------------------
expect_exit 1 "unknown person" "$RP" auth "${RP_API_ARGS[@]}" --person PNOLV-999999-99999 --pub "$T/auth.pub"
grep_last "HTTP 404" "unknown person explained"
e2e_finish
