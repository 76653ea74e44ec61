#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_rp.sh - relying-party sessions end to end: splitkey-rp asks for an
# authentication and a signature, the device lists them with the same
# verification code, approves them, and the relying party verifies the
# result (and OpenSSL agrees).  Also refusal, expiry and a wrong PIN on the
# way to an approval.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins
LEGACY_RP=(--legacy-rp) # splitkey-rp --server still speaks the old frames
e2e_start_server
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
check "pubkey sign" "$CLIENT" pubkey --state "$DEV" --purpose sign --out "$T/sign.pub"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"

# starts splitkey-rp in the background: rp_start NAME ARGS...
rp_start() {
  local name=$1
  shift
  "$RP" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  RP_PID=$!
  if ! wait_for_line "$T/$name.out" "verification code:" "$RP_PID"; then
    fail "$name: no verification code printed"
    cat "$T/$name.out" "$T/$name.err" >&2
  fi
  RP_CODE=$(sed -n 's/^verification code: \([0-9]\{4\}\)$/\1/p' "$T/$name.out")
  RP_SID=$(sed -n 's/^session \([0-9a-f]\{32\}\) for .*$/\1/p' "$T/$name.out")
}

# session_of DEV PURPOSE, restricted to the relying party's own session: the
# id the device lists must be the one splitkey-rp printed.
session_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" -v s="$RP_SID" '$2 == p && $1 == s { print $1 }'
}
code_of() {
  "$CLIENT" sessions --state "$1" | awk -v p="$2" -v s="$RP_SID" '$2 == p && $1 == s { print $4 }'
}
rp_wait() {
  wait "$RP_PID"
  RP_EXIT=$?
}

# --- authentication -------------------------------------------------------
rp_start auth auth --server "$URL" --person "$PERSON" --pub "$T/auth.pub" --name "Bank" --out "$T/auth.sig"
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

# --- signature, PSS, with one wrong PIN first ------------------------------
rp_start sign sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp.sig" --scheme pss --hash sha256 --text "Sale contract 42" --pub "$T/sign.pub" \
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
check "openssl verifies the relying party's signature" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/rp.sig"
check "no certificate without a CA" grep -q "no certificate" "$T/sign.out"
assert "no certificate file" ! -e "$T/cert.pem"

# --- PKCS#1 v1.5 with SHA-512 ------------------------------------------------
rp_start sign2 sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp2.sig" --scheme pkcs1 --hash sha512 --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "approve pkcs1" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp pkcs1 exits 0" "$RP_EXIT" -eq 0
check "openssl verifies pkcs1/sha512" openssl_verify "$T/sign.pub" pkcs1 sha512 "$T/doc.txt" "$T/rp2.sig"

# --- the key named by its id instead of the person ------------------------------
KEYID=$("$CLIENT" status --state "$DEV" --purpose sign | awk '$1 == "key" && $2 == "id:" { print $3 }')
assert "the device shows the sign key's id" ${#KEYID} -eq 32
rp_start bykey sign --server "$URL" --key-id "$KEYID" --purpose sign --in "$T/doc.txt" \
  --out "$T/rp3.sig" --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "approve a session created by key id" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp --key-id exits 0" "$RP_EXIT" -eq 0
check "openssl verifies the signature asked for by key id" openssl_verify "$T/sign.pub" pss sha256 "$T/doc.txt" "$T/rp3.sig"
expect_exit 2 "--person and --key-id together" "$RP" sign --server "$URL" --person "$PERSON" \
  --key-id "$KEYID" --purpose sign --in "$T/doc.txt" --out "$T/x.sig"
expect_exit 2 "a malformed --key-id" "$RP" auth --server "$URL" --key-id 12zz
expect_exit 2 "neither --person nor --key-id" "$RP" auth --server "$URL"
expect_exit 1 "an unknown key id" "$RP" auth --server "$URL" --key-id 00000000000000000000000000000000 \
  --pub "$T/auth.pub"

# --- refusal ------------------------------------------------------------------
rp_start refuse sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/refused.sig" --pub "$T/sign.pub"
SID=$(session_of "$DEV" sign)
check "refuse" "$CLIENT" refuse "$SID" --state "$DEV"
rp_wait
assert "splitkey-rp exits 6 when refused" "$RP_EXIT" -eq 6
check "refusal explained" grep -q "refused" "$T/refuse.err"
assert "no signature after a refusal" ! -e "$T/refused.sig"
expect_exit 6 "approving a refused session" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"

# --- nobody answers -------------------------------------------------------------
expect_exit 6 "no answer before --timeout" "$RP" sign --server "$URL" --person "$PERSON" \
  --purpose sign --in "$T/doc.txt" --out "$T/late.sig" --pub "$T/sign.pub" --timeout 1
assert "no signature without an answer" ! -e "$T/late.sig"

# --- no key to verify with: nothing is written ------------------------------------
rp_start nopub sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/nopub.sig"
SID=$(session_of "$DEV" sign)
check "approve (no --pub at the relying party)" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp without a key to verify under exits 1" "$RP_EXIT" -eq 1

assert "no unverified signature written" ! -e "$T/nopub.sig"

# --- a signature checked under the wrong key is refused -------------------------
rp_start wrongkey sign --server "$URL" --person "$PERSON" --purpose sign --in "$T/doc.txt" \
  --out "$T/wrongkey.sig" --pub "$T/auth.pub"
SID=$(session_of "$DEV" sign)
check "approve (relying party holds the wrong key)" "$CLIENT" approve "$SID" --state "$DEV" --pin-file "$T/pin2"
rp_wait
assert "splitkey-rp refuses a signature under another key" "$RP_EXIT" -eq 1
assert "nothing written for a signature that does not verify" ! -e "$T/wrongkey.sig"

# --- unknown person ----------------------------------------------------------------
expect_exit 1 "unknown person" "$RP" auth --server "$URL" --person PNOLV-999999-99999 --pub "$T/auth.pub"
grep_last "no such person" "unknown person explained"
e2e_finish
