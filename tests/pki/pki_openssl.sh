# SPDX-License-Identifier: Apache-2.0
# pki_openssl.sh TOOL rsa|ec - checks with the openssl command what the
# library writes: a CA (RSA-3072 or P-384), a delegated OCSP signer, a CSR
# and four person certificates for a split key, a CRL and OCSP responses.
set -euo pipefail

TOOL=$1
CA_TYPE=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAILED: $*" >&2; }
# expect DESCRIPTION PATTERN FILE: a fixed string must appear in FILE
expect() { if grep -qF -- "$2" "$3"; then ok "$1"; else bad "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -40 >&2; fi; }
# expect_not DESCRIPTION PATTERN FILE
expect_not() { if grep -qF -- "$2" "$3"; then bad "$1 ('$2' in $3)"; else ok "$1"; fi; }
# run DESCRIPTION CMD...: the command must succeed (output kept in out.txt)
run() { local d=$1; shift; if "$@" >out.txt 2>&1; then ok "$d"; else bad "$d: $*"; sed 's/^/    /' out.txt >&2; fi; }
# run_fail DESCRIPTION CMD...: the command must fail
run_fail() { local d=$1; shift; if "$@" >out.txt 2>&1; then bad "$d (succeeded): $*"; else ok "$d"; fi; }

"$TOOL" setup . "$CA_TYPE"

# --- certificates -----------------------------------------------------------
run "openssl verify accepts all issued certificates" \
    openssl verify -x509_strict -CAfile ca.pem sign.pem auth.pem signb.pem authb.pem ocsp.pem
for c in sign auth signb authb ocsp; do expect "$c.pem verifies" "$c.pem: OK" out.txt; done
run "openssl verify -purpose sslclient accepts the AUTH certificate" \
    openssl verify -CAfile ca.pem -purpose sslclient auth.pem
run_fail "the SIGN certificate has no clientAuth" \
    openssl verify -CAfile ca.pem -purpose sslclient sign.pem

openssl x509 -in ca.pem -noout -text >ca.txt
expect "CA is a CA" "CA:TRUE, pathlen:0" ca.txt
expect "CA key usage" "Certificate Sign, CRL Sign" ca.txt

openssl x509 -in sign.pem -noout -text -nameopt RFC2253 >sign.txt
expect "SIGN subject" 'serialNumber=PNOLV-010101-12345,GN=ANDRIS,SN=BERZINS,CN=BERZINS\,ANDRIS,C=LV' sign.txt
expect "SIGN KU critical" "X509v3 Key Usage: critical" sign.txt
expect "SIGN KU nonRepudiation" "Non Repudiation" sign.txt
expect_not "SIGN has no digitalSignature" "Digital Signature" sign.txt
expect "SIGN policy QCP-n-qscd" "Policy: 0.4.0.194112.1.2" sign.txt
expect "SIGN operator policy" "Policy: 1.3.6.1.4.1.99999.1.1" sign.txt
expect "SIGN has qcStatements" "qcStatements" sign.txt
expect "SIGN basicConstraints" "CA:FALSE" sign.txt
expect "SIGN AIA OCSP" "OCSP - URI:http://127.0.0.1:8080/ocsp" sign.txt
expect "SIGN AIA caIssuers" "CA Issuers - URI:http://127.0.0.1:8080/ca.der" sign.txt
expect "SIGN CRL distribution point" "URI:http://127.0.0.1:8080/ca.crl" sign.txt
expect "SIGN SKI" "X509v3 Subject Key Identifier" sign.txt
expect "SIGN AKI" "X509v3 Authority Key Identifier" sign.txt
# the qcStatements extension's contents
off=$(openssl asn1parse -in sign.pem | grep -A1 ':qcStatements' | tail -1 | cut -d: -f1 | tr -d ' ')
openssl asn1parse -in sign.pem -strparse "$off" >qc.txt
for oid in 1.3.6.1.5.5.7.11.2 0.4.0.194121.1.1 0.4.0.1862.1.1 0.4.0.1862.1.4 \
           0.4.0.1862.1.6 0.4.0.1862.1.6.1 0.4.0.1862.1.5; do
  expect "qcStatements has $oid" ":$oid" qc.txt
done
expect "QcPDS URL" "IA5STRING         :https://example.org/pds_en.pdf" qc.txt
expect "QcPDS language" "PRINTABLESTRING   :en" qc.txt

openssl x509 -in auth.pem -noout -text >auth.txt
expect "AUTH KU digitalSignature" "Digital Signature" auth.txt
expect_not "AUTH has no nonRepudiation" "Non Repudiation" auth.txt
expect "AUTH EKU clientAuth" "TLS Web Client Authentication" auth.txt
expect "AUTH policy NCP+" "Policy: 0.4.0.2042.1.2" auth.txt
expect_not "AUTH has no qcStatements" "qcStatements" auth.txt

openssl x509 -in signb.pem -noout -text >signb.txt
expect "basic SIGN policy NCP" "Policy: 0.4.0.2042.1.1" signb.txt
expect_not "basic SIGN has no qcStatements" "qcStatements" signb.txt
expect_not "basic SIGN is not QCP-n-qscd" "0.4.0.194112.1.2" signb.txt
openssl x509 -in authb.pem -noout -text >authb.txt
expect "basic AUTH policy NCP" "Policy: 0.4.0.2042.1.1" authb.txt
expect_not "basic AUTH is not NCP+" "0.4.0.2042.1.2" authb.txt

# --- the seal (legal person, EN 319 412-3) -----------------------------------
run "openssl verify accepts the seal certificate" openssl verify -x509_strict -CAfile ca.pem seal.pem
expect "seal.pem verifies" "seal.pem: OK" out.txt
openssl x509 -in seal.pem -noout -text -nameopt RFC2253 >seal.txt
expect "SEAL subject" 'CN=Example SIA,organizationIdentifier=VATLV-40003000000,O=Example SIA,C=LV' seal.txt
expect "SEAL KU critical" "X509v3 Key Usage: critical" seal.txt
expect "SEAL KU nonRepudiation" "Non Repudiation" seal.txt
expect_not "SEAL has no digitalSignature" "Digital Signature" seal.txt
expect "SEAL basicConstraints critical" "X509v3 Basic Constraints: critical" seal.txt
expect "SEAL CA:FALSE" "CA:FALSE" seal.txt
expect "SEAL policy QCP-l-qscd" "Policy: 0.4.0.194112.1.3" seal.txt
expect_not "SEAL is not QCP-n-qscd" "0.4.0.194112.1.2" seal.txt
expect "SEAL operator policy" "Policy: 1.3.6.1.4.1.99999.1.1" seal.txt
expect "SEAL AIA OCSP" "OCSP - URI:http://127.0.0.1:8080/ocsp" seal.txt
expect "SEAL CRL distribution point" "URI:http://127.0.0.1:8080/ca.crl" seal.txt
expect_not "SEAL has no EKU" "Extended Key Usage" seal.txt
openssl asn1parse -in seal.pem >seal_asn1.txt
expect "organizationIdentifier is a PrintableString" "PRINTABLESTRING   :VATLV-40003000000" seal_asn1.txt
off=$(grep -A1 ':qcStatements' seal_asn1.txt | tail -1 | cut -d: -f1 | tr -d ' ')
openssl asn1parse -in seal.pem -strparse "$off" >sealqc.txt
# the statements in order: syntax-v2 + Legal, compliance, SSCD, QcType eseal, PDS
got=$(grep -o 'OBJECT *:[0-9.]*' sealqc.txt | sed 's/.*://' | tr '\n' ' ')
want="1.3.6.1.5.5.7.11.2 0.4.0.194121.1.2 0.4.0.1862.1.1 0.4.0.1862.1.4 0.4.0.1862.1.6 0.4.0.1862.1.6.2 0.4.0.1862.1.5 "
if [ "$got" = "$want" ]; then ok "SEAL qcStatements in order"; else bad "SEAL qcStatements: '$got' != '$want'"; fi
expect "SEAL QcPDS URL" "IA5STRING         :https://example.org/pds_en.pdf" sealqc.txt
openssl x509 -in seal.pem -pubkey -noout >sealpub.pem
run "the split signature verifies under the seal certificate's key" \
    openssl dgst -sha256 -verify sealpub.pem -signature data.sig data.txt

openssl x509 -in ocsp.pem -noout -text >ocsp.txt
expect "OCSP signer EKU" "OCSP Signing" ocsp.txt
expect "OCSP signer nocheck" "OCSP No Check" ocsp.txt

# serial: 128 bits, positive
serial=$(openssl x509 -in sign.pem -noout -serial | cut -d= -f2)
if [ ${#serial} -eq 32 ]; then ok "serial has 128 bits"; else bad "serial $serial is not 128 bits"; fi
# validity: 3 years by default
nb=$(date -d "$(openssl x509 -in sign.pem -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in sign.pem -noout -enddate | cut -d= -f2)" +%s)
if [ $((na - nb)) -eq $((1095 * 86400)) ]; then ok "validity 1095 days"; else bad "validity $((na - nb)) s"; fi

# --- the composite key signs like any RSA key --------------------------------
openssl x509 -in sign.pem -noout -pubkey >leafpub.pem
if cmp -s <(openssl pkey -pubin -in leafpub.pem -outform DER) <(openssl pkey -pubin -in pub.pem -outform DER); then
  ok "certificate key is the composite key n = n1*n2"; else bad "certificate key differs from the split key"; fi
run "openssl verifies a split signature under the certificate's key" \
    openssl dgst -sha256 -verify leafpub.pem -signature data.sig data.txt
printf 'tampered' >>data.txt
run_fail "a tampered message is refused" openssl dgst -sha256 -verify leafpub.pem -signature data.sig data.txt

# --- CSR ---------------------------------------------------------------------
run "openssl req -verify accepts the split-signed CSR" openssl req -verify -noout -in csr.pem
expect "CSR signature OK" "verify OK" out.txt
run "library PoP check accepts the CSR" "$TOOL" csr-check . csr.pem
"$TOOL" csr-tamper csr.pem csr_bad.pem
# (openssl 3.0 req -verify exits 0 either way: read its verdict)
openssl req -verify -noout -in csr_bad.pem >req_bad.txt 2>&1 || true
expect "openssl refuses the tampered CSR" "verify failure" req_bad.txt
expect_not "openssl does not accept the tampered CSR" "verify OK" req_bad.txt
run_fail "library PoP check refuses the tampered CSR" "$TOOL" csr-check . csr_bad.pem
expect "tampered CSR: signature error" "signature does not verify" out.txt
# a CSR made by openssl for another key: valid PoP, but not the enrolled key
openssl req -new -newkey rsa:2048 -nodes -keyout other.key -subj "/C=LV/SN=X/GN=Y/serialNumber=PNOLV-1" \
    -out other_csr.pem 2>/dev/null
run_fail "library refuses a CSR for a key other than the enrolled n" "$TOOL" csr-check . other_csr.pem
expect "other key: mismatch" "do not fit" out.txt

# --- CRL ---------------------------------------------------------------------
auth_serial=$(openssl x509 -in auth.pem -noout -serial | cut -d= -f2)
authb_serial=$(openssl x509 -in authb.pem -noout -serial | cut -d= -f2)
"$TOOL" revoke . "$auth_serial" keyCompromise
"$TOOL" revoke . "$authb_serial" cessationOfOperation
"$TOOL" crl . crl.pem
run "openssl crl verifies the CRL signature" openssl crl -in crl.pem -noout -CAfile ca.pem
expect "CRL verify OK" "verify OK" out.txt
openssl crl -in crl.pem -noout -text >crl.txt
expect "CRL v2" "Version 2 (0x1)" crl.txt
expect "CRL lists the AUTH serial" "Serial Number: $auth_serial" crl.txt
expect "CRL lists the basic AUTH serial" "Serial Number: $authb_serial" crl.txt
expect "CRL reason keyCompromise" "Key Compromise" crl.txt
expect "CRL reason cessationOfOperation" "Cessation Of Operation" crl.txt
expect "CRL number" "X509v3 CRL Number" crl.txt
expect "CRL AKI" "X509v3 Authority Key Identifier" crl.txt
expect_not "CRL does not list the SIGN serial" "$serial" crl.txt
run_fail "openssl verify -crl_check rejects the revoked certificate" \
    openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem auth.pem
expect "revoked per CRL" "certificate revoked" out.txt
run "openssl verify -crl_check accepts the good certificate" \
    openssl verify -crl_check -CAfile ca.pem -CRLfile crl.pem sign.pem

# --- OCSP --------------------------------------------------------------------
# good + revoked in one request, with a nonce (openssl's default)
openssl ocsp -issuer ca.pem -cert sign.pem -cert auth.pem -reqout req.der
"$TOOL" ocsp . req.der resp.der >/dev/null
run "openssl verifies the response and its nonce against the request" \
    openssl ocsp -respin resp.der -reqin req.der -CAfile ca.pem
expect "response verify OK" "Response verify OK" out.txt
expect_not "nonce verified" "Nonce Verify error" out.txt
expect_not "nonce present" "no nonce" out.txt
req_nonce=$(openssl ocsp -reqin req.der -req_text | grep -A1 'OCSP Nonce' | tail -1 | tr -d ' ')
resp_nonce=$(openssl ocsp -respin resp.der -resp_text -noverify | grep -A1 'OCSP Nonce' | tail -1 | tr -d ' ')
if [ -n "$req_nonce" ] && [ "$req_nonce" = "$resp_nonce" ]; then ok "nonce echoed ($resp_nonce)"; else bad "nonce '$req_nonce' vs '$resp_nonce'"; fi
run "openssl reports the statuses" openssl ocsp -respin resp.der -CAfile ca.pem -issuer ca.pem \
    -no_nonce -cert sign.pem -cert auth.pem
expect "signature verified" "Response verify OK" out.txt
expect "SIGN good" "sign.pem: good" out.txt
expect "AUTH revoked" "auth.pem: revoked" out.txt
expect "revocation reason" "Reason: keyCompromise" out.txt
expect_not "times valid" "Status times invalid" out.txt
openssl ocsp -respin resp.der -resp_text -noverify >resp.txt
expect "responder ID by key hash" "Responder Id: " resp.txt
expect "nextUpdate present" "Next Update:" resp.txt
expect "signer certificate included" "OCSP Signing" resp.txt
expect "archiveCutoff in every SingleResponse" "Archive Cutoff:" resp.txt
cutoffs=$(grep -c "Archive Cutoff:" resp.txt || true)
if [ "$cutoffs" = 2 ]; then ok "two SingleResponses, two archiveCutoffs"; else bad "archiveCutoff count $cutoffs"; fi
# archiveCutoff is the CA certificate's notBefore
ca_nb=$(openssl x509 -in ca.pem -noout -startdate | sed 's/^notBefore=//')
cutoff=$(grep -A1 "Archive Cutoff:" resp.txt | sed -n 2p | sed 's/^ *//')
if [ -n "$ca_nb" ] && [ "$cutoff" = "$ca_nb" ]; then ok "archiveCutoff = the CA's notBefore ($cutoff)"
else bad "archiveCutoff '$cutoff', the CA's notBefore '$ca_nb'"; fi

# SHA-256 CertID, no nonce
openssl ocsp -issuer ca.pem -sha256 -cert signb.pem -no_nonce -reqout req256.der
"$TOOL" ocsp . req256.der resp256.der >/dev/null
run "SHA-256 CertID answered" openssl ocsp -respin resp256.der -CAfile ca.pem -issuer ca.pem \
    -no_nonce -sha256 -cert signb.pem
expect "SHA-256 CertID good" "signb.pem: good" out.txt
openssl ocsp -respin resp256.der -resp_text -noverify >resp256.txt
expect "SHA-256 CertID echoed" "Hash Algorithm: sha256" resp256.txt
expect_not "no nonce when none was asked" "OCSP Nonce" resp256.txt

# SHA-384 and SHA-512 CertIDs name our CA too
for h in sha384 sha512; do
  openssl ocsp -issuer ca.pem -$h -cert signb.pem -no_nonce -reqout req$h.der
  "$TOOL" ocsp . req$h.der resp$h.der >/dev/null
  run "$h CertID answered" openssl ocsp -respin resp$h.der -CAfile ca.pem -issuer ca.pem \
      -no_nonce -$h -cert signb.pem
  expect "$h CertID good" "signb.pem: good" out.txt
  openssl ocsp -respin resp$h.der -resp_text -noverify >resp$h.txt
  expect "$h CertID echoed" "Hash Algorithm: $h" resp$h.txt
done

# unknown serial
openssl ocsp -issuer ca.pem -serial 0x1234567 -reqout requnk.der
"$TOOL" ocsp . requnk.der respunk.der >/dev/null
run "unknown serial answered" openssl ocsp -respin respunk.der -CAfile ca.pem -issuer ca.pem \
    -no_nonce -serial 0x1234567
expect "unknown" "0x1234567: unknown" out.txt

# garbage -> malformedRequest
head -c 64 /dev/urandom >garbage.der
"$TOOL" ocsp . garbage.der respbad.der >/dev/null
openssl ocsp -respin respbad.der -resp_text >respbad.txt 2>&1 || true
expect "garbage gives malformedRequest" "malformedrequest (1)" respbad.txt
# truncated request -> malformedRequest
head -c 40 req.der >trunc.der
"$TOOL" ocsp . trunc.der resptrunc.der >/dev/null
openssl ocsp -respin resptrunc.der -resp_text >resptrunc.txt 2>&1 || true
expect "truncated request gives malformedRequest" "malformedrequest (1)" resptrunc.txt

# another issuer -> unauthorized
openssl req -x509 -newkey rsa:2048 -nodes -keyout other_ca.key -subj "/CN=Other CA" -days 30 \
    -out other_ca.pem 2>/dev/null
openssl ocsp -issuer other_ca.pem -serial 0x01 -reqout reqother.der
"$TOOL" ocsp . reqother.der respother.der >/dev/null
openssl ocsp -respin respother.der -resp_text >respother.txt 2>&1 || true
expect "other issuer gives unauthorized" "unauthorized (6)" respother.txt

# a signed request (requestorName and signature present) is answered; its
# signature is not required and not checked
openssl ocsp -issuer ca.pem -cert sign.pem -signer other_ca.pem -signkey other_ca.key \
    -reqout reqsigned.der
openssl ocsp -reqin reqsigned.der -req_text >reqsigned.txt
expect "openssl made a signed request" "Requestor Name" reqsigned.txt
"$TOOL" ocsp . reqsigned.der respsigned.der >/dev/null
run "signed request answered" openssl ocsp -respin respsigned.der -reqin reqsigned.der -CAfile ca.pem
expect "signed request: response verifies" "Response verify OK" out.txt
run "signed request: status" openssl ocsp -respin respsigned.der -CAfile ca.pem -issuer ca.pem \
    -no_nonce -cert sign.pem
expect "signed request: SIGN good" "sign.pem: good" out.txt

echo "pki_openssl $CA_TYPE: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
