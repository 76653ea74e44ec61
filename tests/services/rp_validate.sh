#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_validate.sh BIN_DIR - splitkey-rp --ca-cert validates the certificate
# that comes with a signature before it reports success: a CA with its OCSP
# responder (splitkey-ocsp), the share server as its registration authority,
# a device with a qualified authentication and signing key (four-eyes
# tokens), and then:
#   - a good signature: exit 0, the OCSP answer reported good, and openssl
#     verifies the signature under the certificate's key independently;
#   - a good authentication: exit 0;
#   - --ca-cert of another CA: exit 7 (no chain);
#   - the key asked for by its document number for another person: exit 7
#     (person);
#   - an advanced (open enrolment, NCP) signing certificate, where the
#     share server asks the CA for one: refused at the default level (the
#     API asks certificateLevel QUALIFIED: HTTP 471, exit 1), exit 0 with
#     --level advanced;
#   - the signing certificate revoked at the CA (splitkey-ca revoke; the
#     share server does not poll for it here, so it still signs): exit 8;
#   - a good OCSP answer captured before the revocation and replayed from
#     the responder's address (another request's nonce): exit 9;
#   - the OCSP responder down: exit 9;
#   - usage: --ca-cert with --pub, a file that is no CA certificate,
#     --server with a tcp:// URL: exit 2.
# splitkey-rp speaks the share server's HTTPS API (--api, the server's
# certificate pinned, the relying party's TLS certificate registered with
# "splitkey-server rp add").  Also: a refusal (exit 6), a wrong pin or an
# unknown relying-party certificate (exit 1), and the bank site (serve).
. "$(dirname "$0")/e2e_lib.sh"
. "$(dirname "$0")/ca_lib.sh"
WEB_PID= REPLAY_PID=
rpv_cleanup() {
  local p
  for p in $WEB_PID $REPLAY_PID; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  ca_lib_cleanup
}
trap rpv_cleanup EXIT

e2e_pins
ca_lib_init "$T/ca" "Splitkey RP Validation CA"
ca_lib_init "$T/other" "Someone Else CA"
ca_lib_start_ocsp "$T/ca"
ca_lib_start_ca "$T/ca"
# the share server asks the CA for revocations only once a day: the
# revoked certificate's key keeps signing, and only OCSP can tell
ca_lib_server_init --ca-revocations-every 86400
# a relying party of the HTTPS API (doc/rp-api.md) of its own, registered
# with the defaults of "rp add": its TLS certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rp.key" \
  -out "$T/rp.crt" -days 2 -subj /CN=bank 2>/dev/null
UUID=1f1bfa89-4f8b-420a-a98e-fb3a161a30bc
check "rp add" "$SERVER" rp add --dir "$SRV" --uuid "$UUID" --names Bank --cert "$T/rp.crt"
e2e_run_server
API="${RPURL%/}/v2/"
PIN=$RP_PIN
openssl x509 -in "$SRV/rp-tls.crt" -out "$T/pinned.pem"
# the API's options (certificateLevel QUALIFIED by default: the keys enrolled
# with four-eyes tokens are qualified)
API_OPTS=(--api "$API" --server-cert "$T/pinned.pem" --rp-cert "$T/rp.crt" --rp-key "$T/rp.key"
  --rp-uuid "$UUID" --name Bank)

DEV="$T/dev"
for p in auth sign; do
  four_eyes_token "$SRV" "$SUBJECT" "$p" >"$T/token.$p" 2>>"$T/server.log" ||
    { echo "no $p token" >&2; exit 1; }
done
pin_of() { if [ "$1" = auth ]; then echo "$T/pin1"; else echo "$T/pin2"; fi; }
for p in auth sign; do
  check "enrol $p with a token" "$CLIENT" enrol --state "$DEV" --server "$URL" \
    --server-pub "$SRV/server.pub" --purpose "$p" --pin-file "$(pin_of "$p")" --profile 4K \
    --token-file "$T/token.$p"
  check "the $p certificate" "$CLIENT" cert --state "$DEV" --purpose "$p" --out "$T/$p.pem"
done
check "the signing certificate is good at OCSP (openssl)" sh -c \
  "openssl ocsp -url '$OCSP_URL' -issuer '$T/ca/ca.pem' -cert '$T/sign.pem' -CAfile '$T/ca/ca.pem' -respout '$T/good-ocsp.der' 2>&1 | grep -q ': good'"

# rp_run DEV PURPOSE PIN NAME ARGS...: runs splitkey-rp ARGS, approves its
# session on DEV with PIN (PIN "refuse": refuses it) and leaves the exit
# status in RP_EXIT
rp_run() {
  local dev=$1 purpose=$2 pin=$3 name=$4 sid i
  shift 4
  "$RP" "$@" >"$T/$name.out" 2>"$T/$name.err" &
  local pid=$!
  if ! wait_for_line "$T/$name.out" "verification code:" "$pid"; then
    fail "$name: no verification code"
    cat "$T/$name.out" "$T/$name.err" >&2
    wait "$pid"
    RP_EXIT=$?
    return
  fi
  # the API's sessionID (a UUID): the device lists it without the dashes
  sid=$(sed -n 's/^session \([0-9a-f-]\{36\}\) for .*$/\1/p' "$T/$name.out" | tr -d -)
  for i in $(seq 1 200); do
    "$CLIENT" sessions --state "$dev" | grep -q "^$sid" && break
    sleep 0.05
  done
  if [ "$pin" = refuse ]; then
    "$CLIENT" refuse "$sid" --state "$dev" >"$T/$name.approve" 2>&1
  else
    "$CLIENT" approve "$sid" --state "$dev" --pin-file "$pin" >"$T/$name.approve" 2>&1
  fi || { fail "$name: the device's answer failed"; cat "$T/$name.approve" >&2; }
  wait "$pid"
  RP_EXIT=$?
}
# expect_rp N NAME WHAT: the last rp_run exited N
expect_rp() {
  CHECKS=$((CHECKS + 1))
  if [ "$RP_EXIT" -ne "$1" ]; then
    fail "$3: exit $RP_EXIT, expected $1"
    sed 's/^/  | /' "$T/$2.out" "$T/$2.err" >&2
  fi
}
# err_has NAME TEXT: splitkey-rp's stderr says TEXT
err_has() {
  CHECKS=$((CHECKS + 1))
  grep -qF -- "$2" "$T/$1.err" || { fail "$1: no \"$2\" in stderr"; sed 's/^/  | /' "$T/$1.err" >&2; }
}

SIGN=(sign "${API_OPTS[@]}" --purpose sign --in "$T/doc.txt" --ca-cert "$T/ca/ca.pem")
AUTH=(auth "${API_OPTS[@]}" --ca-cert "$T/ca/ca.pem")

# --- good ----------------------------------------------------------------------
rp_run "$DEV" sign "$T/pin2" good "${SIGN[@]}" --person "$PERSON" --out "$T/good.sig" \
  --cert-out "$T/good.pem"
expect_rp 0 good "a good qualified signature"
check "it says the OCSP answer was good" grep -q "OCSP .*: good" "$T/good.out"
check "it names the certificate level QUALIFIED" grep -q "certificate level QUALIFIED" "$T/good.out"
check "the certificate it got is the device's" cmp "$T/good.pem" "$T/sign.pem"
openssl x509 -in "$T/good.pem" -pubkey -noout >"$T/good.pub"
check "openssl verifies the signature (PKCS#1 v1.5) under the certificate's key" \
  openssl_verify "$T/good.pub" pkcs1 sha256 "$T/doc.txt" "$T/good.sig"
DOC=$(sed -n 's/^document number \([^,]*\),.*/\1/p' "$T/good.out")
assert "the API names the document number" -n "$DOC"
case $DOC in "$PERSON"-*-Q) ;; *) fail "document number $DOC: not $PERSON-HEX-Q" ;; esac
rp_run "$DEV" auth "$T/pin1" auth "${AUTH[@]}" --person "$PERSON"
expect_rp 0 auth "a good authentication"
check "... OCSP good" grep -q "OCSP .*: good" "$T/auth.out"
rp_run "$DEV" auth "$T/pin1" api_auth auth --api "$API" --server-cert-sha256 "$PIN" \
  --rp-cert "$T/rp.crt" --rp-key "$T/rp.key" --rp-uuid "$UUID" --name Bank --level advanced \
  --person "$PERSON" --ca-cert "$T/ca/ca.pem"
expect_rp 0 api_auth "a good authentication (pin as SHA-256; a qualified key at --level advanced)"
rp_run "$DEV" sign "$T/pin2" test_rp sign "${RP_API_ARGS[@]}" --purpose sign --in "$T/doc.txt" \
  --ca-cert "$T/ca/ca.pem" --person "$PERSON" --out "$T/test_rp.sig"
expect_rp 0 test_rp "a good signature for the relying party ca_lib.sh registered"
check "... which verifies" openssl_verify "$T/good.pub" pkcs1 sha256 "$T/doc.txt" "$T/test_rp.sig"
expect_exit 1 "another server certificate than the pinned one" "$RP" auth --api "$API" \
  --server-cert-sha256 "$(printf '%064d' 0)" --rp-cert "$T/rp.crt" --rp-key "$T/rp.key" \
  --rp-uuid "$UUID" --name Bank --person "$PERSON" --ca-cert "$T/ca/ca.pem"
grep_last "not the pinned one" "the pin mismatch is named"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" \
  -out "$T/rogue.crt" -days 2 -subj /CN=rogue 2>/dev/null
expect_exit 1 "a relying party certificate the server does not know" "$RP" auth "${API_OPTS[@]}" \
  --rp-cert "$T/rogue.crt" --rp-key "$T/rogue.key" --person "$PERSON" --ca-cert "$T/ca/ca.pem"
grep_last "HTTP 401" "401 is reported"
rp_run "$DEV" sign refuse api_refused "${SIGN[@]}" --person "$PERSON" --out "$T/refused.sig"
expect_rp 6 api_refused "a refusal (USER_REFUSED)"
err_has api_refused "USER_REFUSED"
assert "nothing written for the refusal" ! -e "$T/refused.sig"

# the bank site (splitkey-rp serve, over the API; the browser test drives
# its page): a login through its JSON endpoints, the device approves
"$RP" serve --http 127.0.0.1:0 "${API_OPTS[@]}" --ca-cert "$T/ca/ca.pem" \
  --ready-file "$T/web.ready" >"$T/web.out" 2>"$T/web.err" &
WEB_PID=$!
while [ ! -s "$T/web.ready" ]; do
  kill -0 "$WEB_PID" 2>/dev/null || { cat "$T/web.err" >&2; echo "serve did not start" >&2; exit 1; }
  sleep 0.05
done
SITE=$(head -n 1 "$T/web.ready")
curl -s -H 'Content-Type: application/json' -d "{\"person\":\"$PERSON\"}" \
  "${SITE}api/login" >"$T/login.json"
WID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("id",""))' "$T/login.json")
WCODE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("code",""))' "$T/login.json")
assert "serve --api: a login session with a code" -n "$WID" -a ${#WCODE} -eq 4
for i in $(seq 1 200); do
  WSID=$("$CLIENT" sessions --state "$DEV" | awk -v c="$WCODE" '$4 == c { print $1; exit }')
  [ -n "$WSID" ] && break
  sleep 0.05
done
check "serve --api: the device approves the login" "$CLIENT" approve "$WSID" --state "$DEV" \
  --pin-file "$T/pin1"
while curl -s "${SITE}api/status?id=$WID" >"$T/wstatus.json" &&
  grep -q '"state":"pending"' "$T/wstatus.json"; do
  sleep 0.1
done
check "serve --api: the site says the person is logged in" \
  grep -q "\"state\":\"ok\".*Welcome, $PERSON" "$T/wstatus.json"
kill "$WEB_PID" && wait "$WEB_PID" 2>/dev/null
WEB_PID=

# --- invalid: foreign CA, wrong person, level ----------------------------------
rp_run "$DEV" sign "$T/pin2" foreign sign "${API_OPTS[@]}" --purpose sign --in "$T/doc.txt" \
  --ca-cert "$T/other/ca.pem" --person "$PERSON" --out "$T/foreign.sig"
expect_rp 7 foreign "a certificate from a CA the relying party does not trust"
err_has foreign "does not chain to the CA"
assert "nothing written for the foreign one" ! -e "$T/foreign.sig"
# the key named exactly (by its document number: the API has no key ids)
# for another person than the one the relying party expects
rp_run "$DEV" sign "$T/pin2" person "${SIGN[@]}" --document "$DOC" \
  --person PNOLV-020202-22222 --out "$T/person.sig"
expect_rp 7 person "the key of another person"
err_has person "not PNOLV-020202-22222's"
assert "nothing written for another person's key" ! -e "$T/person.sig"

ADV="$T/adv"
ADV_SUBJECT="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-030303-33333"
check "an advanced signing key (open enrolment)" "$CLIENT" enrol --state "$ADV" --server "$URL" \
  --server-pub "$SRV/server.pub" --purpose sign --pin-file "$T/pin2" --profile 4K \
  --subject "$ADV_SUBJECT"
check "its certificate" "$CLIENT" cert --state "$ADV" --purpose sign --out "$T/adv.pem"
if openssl x509 -in "$T/adv.pem" -noout -text | grep -q "0\.4\.0\.2042\.1\.1"; then
  # the API asks certificateLevel QUALIFIED by default: the server refuses
  # an advanced key (HTTP 471) before the device sees a session
  expect_exit 1 "an advanced key where a qualified one is required" "$RP" "${SIGN[@]}" \
    --person PNOLV-030303-33333 --out "$T/adv.sig"
  grep_last "HTTP 471" "the level refusal (471) is named"
  assert "nothing written for the advanced one" ! -e "$T/adv.sig"
  rp_run "$ADV" sign "$T/pin2" adv_ok "${SIGN[@]}" --person PNOLV-030303-33333 \
    --level advanced --out "$T/adv_ok.sig"
  expect_rp 0 adv_ok "an advanced certificate with --level advanced"
else
  echo "note: this share server asks for qualified certificates only: no advanced case"
fi

# --- revoked ----------------------------------------------------------------------
S_SIGN=$(openssl x509 -in "$T/sign.pem" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
check "the operator revokes the signing certificate" \
  "$CA" revoke --dir "$T/ca" --serial "$S_SIGN" --reason keyCompromise
rp_run "$DEV" sign "$T/pin2" revoked "${SIGN[@]}" --person "$PERSON" --out "$T/revoked.sig"
expect_rp 8 revoked "a revoked certificate"
err_has revoked "REVOKED"
err_has revoked "keyCompromise"
assert "nothing written for the revoked one" ! -e "$T/revoked.sig"
rp_run "$DEV" sign "$T/pin2" revoked_nocheck sign "${API_OPTS[@]}" --purpose sign \
  --in "$T/doc.txt" --person "$PERSON" --pub "$T/good.pub" --out "$T/nocheck.sig"
expect_rp 0 revoked_nocheck "with --pub instead of --ca-cert only the signature is checked"
check "... and it verifies" openssl_verify "$T/good.pub" pkcs1 sha256 "$T/doc.txt" "$T/nocheck.sig"

# --- a replayed OCSP answer ------------------------------------------------------
# The good answer captured before the revocation (signed by the real OCSP
# signer, for this very certificate, still within its nextUpdate) served
# again from the responder's address: it echoes another request's nonce.
kill "$OCSP_PID" && wait "$OCSP_PID" 2>/dev/null
OCSP_PID=
OCSP_PORT=$(sed 's|.*:\([0-9]*\)/.*|\1|' <<<"$OCSP_URL")
python3 - "$OCSP_PORT" "$T/good-ocsp.der" "$T/replay.ready" <<'PY' 2>"$T/replay.log" &
import http.server, socketserver, sys
answer = open(sys.argv[2], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), H) as srv:
    open(sys.argv[3], "w").write("ready\n")
    srv.serve_forever()
PY
REPLAY_PID=$!
while [ ! -s "$T/replay.ready" ]; do
  kill -0 "$REPLAY_PID" 2>/dev/null || { cat "$T/replay.log" >&2; echo "the replay did not start" >&2; exit 1; }
  sleep 0.05
done
rp_run "$DEV" sign "$T/pin2" replay "${SIGN[@]}" --person "$PERSON" --out "$T/replay.sig"
expect_rp 9 replay "a replayed good OCSP answer for the revoked certificate"
err_has replay "does not echo this request's nonce"
assert "nothing written for the replay" ! -e "$T/replay.sig"
kill "$REPLAY_PID" && wait "$REPLAY_PID" 2>/dev/null
REPLAY_PID=

# --- OCSP down ---------------------------------------------------------------------
rp_run "$DEV" auth "$T/pin1" noocsp "${AUTH[@]}" --person "$PERSON" --ocsp-timeout 2
expect_rp 9 noocsp "the OCSP responder down"
err_has noocsp "OCSP responder"
rp_run "$DEV" sign "$T/pin2" noocsp_sign "${SIGN[@]}" --person "$PERSON" --ocsp-timeout 2 \
  --out "$T/noocsp.sig"
expect_rp 9 noocsp_sign "the OCSP responder down, a signature"
assert "nothing written without an OCSP answer" ! -e "$T/noocsp.sig"

# --- usage -----------------------------------------------------------------------
expect_exit 2 "--server-cert and --server-cert-sha256 together" "$RP" auth "${API_OPTS[@]}" \
  --person "$PERSON" --ca-cert "$T/ca/ca.pem" --server-cert-sha256 "$PIN"
expect_exit 2 "--api without --ca-cert" "$RP" auth --api "$API" --server-cert "$T/pinned.pem" \
  --rp-cert "$T/rp.crt" --rp-key "$T/rp.key" --rp-uuid "$UUID" --person "$PERSON"
expect_exit 2 "--server with the device socket's tcp:// URL" "$RP" auth --server "$URL" \
  --server-cert "$T/pinned.pem" --rp-cert "$T/rp.crt" --rp-key "$T/rp.key" --rp-uuid "$UUID" \
  --person "$PERSON" --ca-cert "$T/ca/ca.pem"
grep_last "relying parties reach the share server over its HTTPS API" "the reason is named"
expect_exit 2 "no --api" "$RP" auth --server-cert "$T/pinned.pem" --rp-cert "$T/rp.crt" \
  --rp-key "$T/rp.key" --rp-uuid "$UUID" --person "$PERSON" --ca-cert "$T/ca/ca.pem"
grep_last "with --api https://" "the missing --api is named"
expect_exit 2 "--ca-cert with --pub" "$RP" "${AUTH[@]}" --person "$PERSON" --pub "$T/good.pub"
expect_exit 2 "--ca-cert that is no CA" "$RP" auth "${API_OPTS[@]}" --person "$PERSON" \
  --ca-cert "$T/sign.pem"
expect_exit 2 "--level bogus" "$RP" "${AUTH[@]}" --person "$PERSON" --level bogus
e2e_finish
