# SPDX-License-Identifier: Apache-2.0
# pki_gnutls.sh TOOL - checks with GnuTLS certtool and ocsptool what the
# library writes: certificates, CSR, CRL, and OCSP responses to requests
# made by ocsptool.
set -euo pipefail

TOOL=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAILED: $*" >&2; }
expect() { if grep -qF -- "$2" "$3"; then ok "$1"; else bad "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -40 >&2; fi; }
run() { local d=$1; shift; if "$@" >out.txt 2>&1; then ok "$d"; else bad "$d: $*"; sed 's/^/    /' out.txt >&2; fi; }

"$TOOL" setup . ec

for c in ca sign auth signb authb ocsp seal; do
  run "certtool -i parses $c.pem" certtool -i --infile $c.pem
done
certtool -i --infile sign.pem >sign.txt
expect "certtool sees nonRepudiation" "Non repudiation" sign.txt
expect "certtool sees QCP-n-qscd" "0.4.0.194112.1.2" sign.txt
expect "certtool sees qcStatements" "1.3.6.1.5.5.7.1.3" sign.txt
expect "certtool sees the OCSP URL" "Access Location URI: http://127.0.0.1:8080/ocsp" sign.txt
expect "certtool sees the CRL URL" "URI: http://127.0.0.1:8080/ca.crl" sign.txt
certtool -i --infile seal.pem >seal.txt
expect "certtool sees the seal's nonRepudiation" "Non repudiation" seal.txt
expect "certtool sees QCP-l-qscd" "0.4.0.194112.1.3" seal.txt
expect "certtool sees the seal's qcStatements" "1.3.6.1.5.5.7.1.3" seal.txt
expect "certtool sees the organisation" "O=Example SIA" seal.txt
# 2.5.4.97 as a PrintableString (tag 0x13) holding VATLV-40003000000
expect "certtool sees the organizationIdentifier" "2.5.4.97=#13115641544c562d3430303033303030303030" seal.txt
certtool -i --infile auth.pem >auth.txt
expect "certtool sees clientAuth" "TLS WWW Client" auth.txt
certtool -i --infile ocsp.pem >ocsp.txt
expect "certtool sees OCSP signing" "OCSP signing" ocsp.txt

for c in sign auth signb authb ocsp seal; do
  run "certtool --verify accepts $c.pem" certtool --verify --load-ca-certificate ca.pem --infile $c.pem
  expect "$c.pem trusted" "The certificate is trusted" out.txt
done

run "certtool parses the CSR" certtool --crq-info --infile csr.pem
expect "CSR self signature verified" "Self signature: verified" out.txt

auth_serial=$(certtool -i --infile auth.pem | sed -n 's/.*Serial Number (hex): *//p')
"$TOOL" revoke . "$auth_serial" superseded
"$TOOL" crl . crl.pem
run "certtool verifies the CRL" certtool --verify-crl --load-ca-certificate ca.pem --infile crl.pem
expect "CRL trusted" "Verified" out.txt
certtool --crl-info --infile crl.pem >crl.txt
expect "CRL lists the revoked serial" "$auth_serial" crl.txt
expect "CRL is v2" "Version: 2" crl.txt

for c in sign auth; do
  ocsptool --generate-request --load-issuer ca.pem --load-cert $c.pem --outfile req_$c.der
  "$TOOL" ocsp . req_$c.der resp_$c.der >/dev/null
  run "ocsptool verifies the $c response against the CA" \
      ocsptool --verify-response --load-trust ca.pem --load-response resp_$c.der
  expect "$c response verified" "Verifying OCSP Response: Success" out.txt
  run "ocsptool verifies the $c response against the signer" \
      ocsptool --verify-response --load-signer ocsp.pem --load-response resp_$c.der
  ocsptool --response-info --load-response resp_$c.der >resp_$c.txt
done
expect "ocsptool: SIGN good" "Certificate Status: good" resp_sign.txt
expect "ocsptool: AUTH revoked" "Certificate Status: revoked" resp_auth.txt
# (ocsptool 3.7 prints the revocation time but not the reason)
expect "ocsptool: revocation time" "Revocation time:" resp_auth.txt

echo "pki_gnutls: $checks checks, $fails failed"
[ "$fails" -eq 0 ]
