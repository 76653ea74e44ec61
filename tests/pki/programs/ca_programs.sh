# SPDX-License-Identifier: Apache-2.0
# ca_programs.sh BINDIR TOOL rsa3072|ec-p384 - splitkey-ca and splitkey-ocsp
# end to end: init, RAs, issuance for a split key through ca_client,
# refusals, revocation by the operator and by the RA, OCSP answers checked
# by openssl and GnuTLS (POST and GET), CRL, audit log tampering, SIGTERM.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pki_setup "$@"
KEY=$3

# --- init -------------------------------------------------------------------
run "init a $KEY CA" "$CA" init --dir ca --subject "CN=Splitkey Test CA,O=Splitkey Test,C=LV" \
    --key "$KEY" --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:8080/ocsp \
    --ca-url http://127.0.0.1:8080/ca.crt --pds-url https://example.org/pds_en.pdf
for f in ca.key ocsp.key ca.db audit.log; do
  [ "$(stat -c %a "ca/$f")" = 600 ] && ok "ca/$f is 0600" || bad "ca/$f is $(stat -c %a "ca/$f")"
done
openssl x509 -in ca/ca.pem -noout -text >ca.txt
expect "the CA certificate is a CA" "CA:TRUE" ca.txt
if [ "$KEY" = ec-p384 ]; then
  expect "the CA key is P-384" "NIST CURVE: P-384" ca.txt
else
  expect "the CA key is RSA-3072" "Public-Key: (3072 bit)" ca.txt
fi
run "the OCSP signer chains to the CA" openssl verify -CAfile ca/ca.pem ca/ocsp.pem
openssl x509 -in ca/ocsp.pem -noout -text >ocsp.txt
expect "the OCSP signer has id-kp-OCSPSigning" "OCSP Signing" ocsp.txt
cp ca/ca.pem ca.pem.before
run_status "init refuses to overwrite a CA" 2 "$CA" init --dir ca --subject "CN=Other,O=Other,C=LV" \
    --ocsp-url http://127.0.0.1:8080/ocsp --ca-url http://127.0.0.1:8080/ca.crt \
    --pds-url https://example.org/pds_en.pdf
expect "init says why" "refusing to overwrite" out.txt
cmp -s ca/ca.pem ca.pem.before && ok "the CA certificate is unchanged" || bad "ca.pem changed"

# --- RAs ----------------------------------------------------------------------
mkdir ra1 ra2 ra3
for r in ra1 ra2 ra3; do "$TOOL" identity $r; done
run "add-ra registers the first RA" "$CA" add-ra --dir ca --pub ra1/server.pub
run "add-ra registers the second RA" "$CA" add-ra --dir ca --pub ra2/server.pub

# --- start the CA and the responder ------------------------------------------
start ca "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready
wait_ready ca.ready "$PID_ca"
CAURL=$(cat ca.ready)
start ocsp "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready
wait_ready ocsp.ready "$PID_ocsp"
OURL=$(cat ocsp.ready)
echo "CA at $CAURL, OCSP at $OURL"

# --- issuance -----------------------------------------------------------------
mkdir out
if "$TOOL" enrol ra1 "$CAURL" ca/ca.pem out >enrol.txt 2>&1; then ok "enrolment through ca_client"; else
  bad "enrolment through ca_client"; fi
cat enrol.txt
grep -q FAILED enrol.txt && bad "a check inside the enrolment failed" || ok "every enrolment check held"
run "an unregistered RA is refused" "$TOOL" issue-expect ra3 "$CAURL" unknown-ra
run "openssl verify accepts the issued certificates" \
    openssl verify -x509_strict -CAfile ca/ca.pem out/sign.pem out/auth.pem out/authb.pem
openssl x509 -in out/sign.pem -noout -text -nameopt RFC2253 >sign.txt
expect "SIGN certificate subject" 'serialNumber=PNOLV-010101-12345,GN=ANDRIS,SN=BERZINS,CN=BERZINS\,ANDRIS,C=LV' sign.txt
expect "SIGN certificate is nonRepudiation" "Non Repudiation" sign.txt
expect "SIGN certificate is qualified" "Policy: 0.4.0.194112.1.2" sign.txt
expect "SIGN certificate has the operator policy" "Policy: 1.3.6.1.4.1.99999.1.1" sign.txt
expect "SIGN certificate has the OCSP URL" "OCSP - URI:http://127.0.0.1:8080/ocsp" sign.txt
expect_not "no CRL distribution point without crl-url" "CRL Distribution Points" sign.txt
expect "the leaf key is the 2048-bit composite modulus" "Public-Key: (2048 bit)" sign.txt
openssl x509 -in out/auth.pem -noout -text >auth.txt
expect "AUTH certificate is clientAuth" "TLS Web Client Authentication" auth.txt
expect "AUTH certificate is NCP+" "Policy: 0.4.0.2042.1.2" auth.txt
openssl x509 -in out/authb.pem -noout -text >authb.txt
expect "basic AUTH certificate is NCP" "Policy: 0.4.0.2042.1.1" authb.txt
# the leaf key is the enrolled n
openssl x509 -in out/sign.pem -noout -modulus | sed 's/^Modulus=//' | tr 'A-F' 'a-f' >mod.txt
od -An -tx1 -v out/n.bin | tr -d ' \n' >n.txt; echo >>n.txt
cmp -s mod.txt n.txt && ok "the certificate holds the enrolled n" || bad "modulus differs from n"
run "audit-verify after issuance" "$CA" audit-verify --dir ca
expect "only the OCSP signer and the three issuances were logged (refusals stored nothing)" \
    " 4 entries" out.txt

SIGN=$(cat out/sign.serial)
AUTH=$(cat out/auth.serial)
AUTHB=$(cat out/authb.serial)

# --- OCSP: good ---------------------------------------------------------------
ocsp_ask() { # CERT [DIGEST] -> ocsp.txt
  openssl ocsp -url "$OURL" -issuer ca/ca.pem ${2:+-$2} -cert "$1" -CAfile ca/ca.pem -nonce \
      -resp_text >ocsp.txt 2>&1 || true
}
ocsp_ask out/sign.pem
expect "openssl: the response verifies" "Response verify OK" ocsp.txt
expect "openssl: SIGN is good" "out/sign.pem: good" ocsp.txt
expect "openssl: the nonce is echoed" "OCSP Nonce" ocsp.txt
expect_not "openssl: no nonce warning" "WARNING: no nonce" ocsp.txt
expect "the signer certificate is in the response" "OCSP Responder" ocsp.txt
ocsp_ask out/auth.pem sha256
expect "openssl: SHA-256 CertID answered good" "out/auth.pem: good" ocsp.txt
expect "openssl: SHA-256 CertID echoed" "Hash Algorithm: sha256" ocsp.txt

# GnuTLS: ocsptool asks the responder itself, and checks a POSTed request
if command -v ocsptool >/dev/null; then
  ocsptool --ask="$OURL" --load-issuer ca/ca.pem --load-cert out/auth.pem \
      --load-trust ca/ca.pem >gnutls.txt 2>&1 || true
  expect "ocsptool --ask: AUTH good" "Response Status: Successful" gnutls.txt
  expect "ocsptool --ask: verified" "Verifying OCSP Response: Success" gnutls.txt
  expect "ocsptool --ask: certificate good" "Certificate Status: good" gnutls.txt
  ocsptool --generate-request --load-issuer ca/ca.pem --load-cert out/sign.pem \
      --outfile gnutls_req.der >/dev/null 2>&1
  "$TOOL" http POST "$OURL" / gnutls_req.der gnutls_resp.der gnutls_head.txt
  run "ocsptool -e verifies the POSTed answer" \
      ocsptool -e --load-trust ca/ca.pem --load-response gnutls_resp.der
  expect "ocsptool -e: Success" "Verifying OCSP Response: Success" out.txt
  ocsptool -j --load-response gnutls_resp.der >gnutls_info.txt 2>&1 || true
  expect "ocsptool -j: SIGN good" "Certificate Status: good" gnutls_info.txt
fi

# GET (RFC 5019): the request base64 in the path, cache headers on the answer
openssl ocsp -issuer ca/ca.pem -cert out/authb.pem -no_nonce -reqout get_req.der >/dev/null 2>&1
B64=$(base64 -w0 get_req.der | sed -e 's/+/%2B/g' -e 's|/|%2F|g' -e 's/=/%3D/g')
"$TOOL" http GET "$OURL" "/$B64" - get_resp.der get_head.txt
expect "GET: HTTP 200" "HTTP/1.1 200" get_head.txt
expect_i "GET: content type" "Content-Type: application/ocsp-response" get_head.txt
expect_i "GET: Cache-Control max-age" "Cache-Control: max-age=" get_head.txt
expect_i "GET: Expires" "Expires: " get_head.txt
expect_i "GET: ETag" "ETag: \"" get_head.txt
expect_i "GET: Last-Modified" "Last-Modified: " get_head.txt
openssl ocsp -respin get_resp.der -issuer ca/ca.pem -cert out/authb.pem -CAfile ca/ca.pem \
    -resp_text >get.txt 2>&1 || true
expect "GET: the answer verifies" "Response verify OK" get.txt
expect "GET: basic AUTH is good" "out/authb.pem: good" get.txt
RAW=$(base64 -w0 get_req.der)
"$TOOL" http GET "$OURL" "/ocsp/$B64" - get2_resp.der get2_head.txt
openssl ocsp -respin get2_resp.der -issuer ca/ca.pem -cert out/authb.pem -CAfile ca/ca.pem >get2.txt 2>&1 || true
expect "GET under a path prefix" "out/authb.pem: good" get2.txt
"$TOOL" http GET "$OURL" "/ocsp/$RAW" - get3_resp.der get3_head.txt
openssl ocsp -respin get3_resp.der -issuer ca/ca.pem -cert out/authb.pem -CAfile ca/ca.pem >get3.txt 2>&1 || true
expect "GET with the base64 not URL-encoded" "out/authb.pem: good" get3.txt
"$TOOL" http POST "$OURL" / get_req.der post_resp.der post_head.txt
expect_i "POST answers are not cached" "Cache-Control: no-store" post_head.txt

# --- revocation -----------------------------------------------------------------
run "the operator revokes SIGN (keyCompromise)" "$CA" revoke --dir ca --serial "$SIGN" --reason keyCompromise
ocsp_ask out/sign.pem
expect "openssl: SIGN revoked at once" "out/sign.pem: revoked" ocsp.txt
expect "openssl: with its reason" "Reason: keyCompromise" ocsp.txt
expect "openssl: revoked answer verifies" "Response verify OK" ocsp.txt
run_status "revoking it again fails" 1 "$CA" revoke --dir ca --serial "$SIGN" --reason superseded
expect "and says why" "already revoked" out.txt
run_status "a serial never issued cannot be revoked" 1 "$CA" revoke --dir ca --serial 0123456789abcdef --reason superseded

run "the RA revokes its AUTH certificate (superseded)" "$TOOL" revoke ra1 "$CAURL" "$AUTH" superseded
ocsp_ask out/auth.pem
expect "openssl: AUTH revoked after the RA revoke" "out/auth.pem: revoked" ocsp.txt
expect "openssl: reason superseded" "Reason: superseded" ocsp.txt
run_status "another RA may not revoke it" 1 "$TOOL" revoke ra2 "$CAURL" "$AUTHB" superseded
expect "the CA says not-owner" "not-owner" out.txt
run_status "an unregistered RA may not revoke" 1 "$TOOL" revoke ra3 "$CAURL" "$AUTHB" superseded
expect "the CA says unknown-ra" "unknown-ra" out.txt
run_status "revoking twice through the RA" 1 "$TOOL" revoke ra1 "$CAURL" "$AUTH" keyCompromise
expect "the CA says already-revoked" "already-revoked" out.txt
run "hand-made envelopes: bad signature, stale, replay" "$TOOL" raw-checks ra1 "$CAURL" "$AUTHB"
cat out.txt
run "the status operation" "$TOOL" status "$CAURL" "$AUTHB"
expect "status: basic AUTH revoked" "revoked cessationOfOperation" out.txt

if command -v ocsptool >/dev/null; then
  ocsptool --ask="$OURL" --load-issuer ca/ca.pem --load-cert out/auth.pem \
      --load-trust ca/ca.pem >gnutls.txt 2>&1 || true
  expect "ocsptool --ask: AUTH revoked" "Certificate Status: revoked" gnutls.txt
fi

openssl ocsp -url "$OURL" -issuer ca/ca.pem -serial 0x0123456789abcdef -CAfile ca/ca.pem \
    -nonce >ocsp.txt 2>&1 || true
expect "openssl: a serial never issued is unknown" "0x0123456789abcdef: unknown" ocsp.txt

# --- malformed and foreign requests ---------------------------------------------
printf 'this is not an OCSP request' >junk.bin
"$TOOL" http POST "$OURL" / junk.bin junk_resp.der junk_head.txt
expect "garbage POST: HTTP 200" "HTTP/1.1 200" junk_head.txt
[ "$(od -An -tx1 junk_resp.der | tr -d ' \n')" = 30030a0101 ] &&
  ok "garbage POST: malformedRequest" || bad "garbage POST answer: $(od -An -tx1 junk_resp.der)"
"$TOOL" http GET "$OURL" "/not*base64!" - junkget_resp.der junkget_head.txt
[ "$(od -An -tx1 junkget_resp.der | tr -d ' \n')" = 30030a0101 ] &&
  ok "garbage GET: malformedRequest" || bad "garbage GET answer: $(od -An -tx1 junkget_resp.der)"
openssl ocsp -issuer out/sign.pem -serial 0x01 -no_nonce -reqout foreign.der >/dev/null 2>&1
"$TOOL" http POST "$OURL" / foreign.der foreign_resp.der foreign_head.txt
[ "$(od -An -tx1 foreign_resp.der | tr -d ' \n')" = 30030a0106 ] &&
  ok "another issuer: unauthorized" || bad "foreign answer: $(od -An -tx1 foreign_resp.der)"
kill -0 "$PID_ocsp" && ok "the responder is still running" || bad "the responder died"

# --- remote status through the CA ----------------------------------------------
start ocsp2 "$OCSP" run --ca "$CAURL" --ocsp-cert ca/ocsp.pem --ocsp-key ca/ocsp.key \
    --http 127.0.0.1:0 --ready-file ocsp2.ready
wait_ready ocsp2.ready "$PID_ocsp2"
OURL2=$(cat ocsp2.ready)
openssl ocsp -url "$OURL2" -issuer ca/ca.pem -cert out/sign.pem -CAfile ca/ca.pem -nonce \
    -resp_text >ocsp.txt 2>&1 || true
expect "--ca URL responder: SIGN revoked" "out/sign.pem: revoked" ocsp.txt
expect "--ca URL responder: verifies" "Response verify OK" ocsp.txt

# --- CRL ---------------------------------------------------------------------------
run "crl" "$CA" crl --dir ca --out crl.pem
run "openssl verifies the CRL" openssl crl -in crl.pem -CAfile ca/ca.pem -noout
expect "CRL signature" "verify OK" out.txt
openssl crl -in crl.pem -text -noout >crl.txt
for s in "$SIGN" "$AUTH" "$AUTHB"; do expect_i "the CRL lists $s" "Serial Number: $s" crl.txt; done
expect "CRL reason keyCompromise" "Key Compromise" crl.txt
expect "CRL reason superseded" "Superseded" crl.txt
expect "CRL reason cessationOfOperation" "Cessation Of Operation" crl.txt
expect "the CRL has a number" "X509v3 CRL Number" crl.txt

# --- stop -----------------------------------------------------------------------
stop "$PID_ocsp2"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: the remote responder exits 0" || bad "ocsp2 exit $STOPPED"
stop "$PID_ocsp"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: the responder exits 0" || bad "ocsp exit $STOPPED"
stop "$PID_ca"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: the CA exits 0" || bad "ca exit $STOPPED"
expect "the CA logs one line per request" "req op=issue" ca.log
expect "the CA logs refusals" "result=unknown-ra" ca.log
expect "the responder logs one line per request" "req method=GET http=200 ocsp=successful" ocsp.log
expect_not "no CSR or key bytes in the CA log" "BEGIN" ca.log

# --- audit log ---------------------------------------------------------------------
run "audit-verify: the full log" "$CA" audit-verify --dir ca
expect "seven entries (the OCSP signer, 3 issued, 3 revoked)" " 7 entries" out.txt
cp ca/audit.log audit.good
sed -i '2s/BERZINS/BERZINZ/' ca/audit.log
run_status "audit-verify catches an edited line" 1 "$CA" audit-verify --dir ca
expect "and names it" "line 2 is bad" out.txt
cp audit.good ca/audit.log
sed -i '3d' ca/audit.log
run_status "audit-verify catches a deleted line" 1 "$CA" audit-verify --dir ca
expect "and names where the chain breaks" "line 3 is bad" out.txt
cp audit.good ca/audit.log
head -n 6 audit.good >ca/audit.log
run_status "audit-verify catches a truncated log" 1 "$CA" audit-verify --dir ca
expect "and says so" "cut off the end" out.txt
run_status "the CA refuses to start on a truncated log" 1 "$CA" run --dir ca --listen tcp://127.0.0.1:0
expect "and says why" "refusing to start" out.txt
cp audit.good ca/audit.log
run "audit-verify passes again once restored" "$CA" audit-verify --dir ca

finish
