# SPDX-License-Identifier: Apache-2.0
# tsa.sh BINDIR rsa3072|ec-p384 - splitkey-tsa and splitkey-ca issue-tsa end
# to end: the TSA key and request, the certificate (critical EKU
# timeStamping, checked by openssl and certtool), recorded in ca.db and the
# audit log; queries made by openssl ts and posted with curl; tokens read and
# verified by openssl ts; unique serials, also across a restart; every
# refusal with its failInfo; HTTP method, type and size errors; the
# qualified statement only in qualified mode; run --config FILE with flags
# winning over the file, and bad files refused.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pki_setup "$1"
KEY=$2

TSA="$BIN/splitkey-tsa"
SUBJECT="C=LV,O=Example,CN=Example TSA"
CT='Content-Type: application/timestamp-query'

run "init a CA" "$CA" init --dir ca --subject "CN=Splitkey Test CA,O=Splitkey Test,C=LV" \
    --key ec-p384 --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:8080/ocsp \
    --ca-url http://127.0.0.1:8080/ca.crt --pds-url https://example.org/pds_en.pdf

# --- the TSA key and certificate ----------------------------------------------
run_status "init refuses a subject without O" 2 "$TSA" init --dir tsa --subject "C=LV,CN=X"
[ ! -e tsa/tsa.key ] && ok "nothing written for a bad subject" || bad "tsa.key written"
run_status "init refuses an unknown key type" 2 "$TSA" init --dir tsa --subject "$SUBJECT" \
    --key dsa
run "init the TSA ($KEY)" "$TSA" init --dir tsa --subject "$SUBJECT" --key "$KEY"
[ "$(stat -c %a tsa/tsa.key)" = 600 ] && ok "tsa.key is 0600" || bad "tsa.key mode"
run_status "init refuses to replace the key" 2 "$TSA" init --dir tsa --subject "$SUBJECT"
run "the request verifies (openssl req)" openssl req -in tsa/tsa.csr -noout -verify

# A tampered request: refused, nothing recorded.
"$CA" audit-verify --dir ca >before.txt
python3 - tsa/tsa.csr bad.csr <<'EOF'
import base64, sys
lines = open(sys.argv[1]).read().split('\n')
der = bytearray(base64.b64decode(''.join(l for l in lines if l and not l.startswith('-'))))
der[-5] ^= 1
open(sys.argv[2], 'wb').write(der)
EOF
run_status "issue-tsa refuses a request that does not verify" 2 "$CA" issue-tsa --dir ca \
    --subject "$SUBJECT" --csr bad.csr --out bad.pem
expect "the refusal names the proof of possession" "does not verify" out.txt
run_status "issue-tsa refuses a person-like subject" 2 "$CA" issue-tsa --dir ca \
    --subject "C=LV,CN=Example TSA" --csr tsa/tsa.csr --out bad.pem
"$CA" audit-verify --dir ca >after.txt
if cmp -s before.txt after.txt && [ ! -e bad.pem ]; then ok "refusals change nothing"; else
  bad "a refusal changed the audit log or wrote a file"; fi

run "issue-tsa" "$CA" issue-tsa --dir ca --subject "$SUBJECT" --csr tsa/tsa.csr \
    --out tsa/tsa.pem --days 30
serial=$(openssl x509 -in tsa/tsa.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
expect "the audit log records the TSA certificate" "$serial" ca/audit.log
run "the audit log is valid" "$CA" audit-verify --dir ca
run "openssl verify: the TSA certificate chains to the CA" \
    openssl verify -x509_strict -CAfile ca/ca.pem -purpose timestampsign tsa/tsa.pem
openssl x509 -in tsa/tsa.pem -noout -text >tsa.txt
expect "EKU is critical" "X509v3 Extended Key Usage: critical" tsa.txt
grep -A1 "Extended Key Usage" tsa.txt >eku.txt
expect "EKU is timeStamping" "Time Stamping" eku.txt
if [ "$(sed -n 2p eku.txt | tr -d ' ')" = "TimeStamping" ]; then ok "EKU has nothing else"; else
  bad "EKU: $(sed -n 2p eku.txt)"; fi
expect "key usage is critical" "X509v3 Key Usage: critical" tsa.txt
expect "key usage digitalSignature" "Digital Signature" tsa.txt
expect "subject from the operator" "Subject: C = LV, O = Example, CN = Example TSA" tsa.txt
expect "the operator policy" "1.3.6.1.4.1.99999.1.1" tsa.txt
expect "AIA OCSP" "OCSP - URI:http://127.0.0.1:8080/ocsp" tsa.txt
if [ -n "$(command -v certtool)" ]; then
  certtool -i --infile tsa/tsa.pem >certtool.txt 2>&1
  expect "certtool: EKU critical" "Key Purpose (critical):" certtool.txt
  expect "certtool: time stamping" "Time stamping." certtool.txt
fi

# --- serving --------------------------------------------------------------------
start_tsa() { # NAME ARGS...
  local name=$1; shift
  rm -f "$name.ready"
  start "$name" "$TSA" run --dir tsa --http 127.0.0.1:0 --ready-file "$name.ready" "$@"
  local pid
  eval "pid=\$PID_$name"
  wait_ready "$name.ready" "$pid"
  URL=$(cat "$name.ready")
}
post() { # QUERYFILE REPLYFILE
  curl -sS -o "$2" -w '%{http_code}' -H "$CT" --data-binary "@$1" "$URL"
}

start_tsa q --qualified --policy 1.3.6.1.4.1.99999.2 --accuracy-seconds 2
echo "the data" >data.txt
openssl ts -query -data data.txt -sha256 -cert -out q.tsq
openssl ts -query -in q.tsq -text >q.txt
qnonce=$(grep "Nonce:" q.txt | awk '{print $2}')
code=$(post q.tsq r1.tsr)
[ "$code" = 200 ] && ok "POST answered 200" || bad "POST answered $code"
openssl ts -reply -in r1.tsr -text >r1.txt
expect "granted" "Status: Granted." r1.txt
expect "policy" "Policy OID: 1.3.6.1.4.1.99999.2" r1.txt
expect "nonce echoed" "Nonce: $qnonce" r1.txt
expect "accuracy" "Accuracy: 0x02 seconds" r1.txt
expect "hash algorithm" "Hash Algorithm: sha256" r1.txt
expect "ordering false" "Ordering: no" r1.txt
s1=$(grep "Serial number:" r1.txt | awk '{print $3}')
[ -n "$s1" ] && ok "serial $s1" || bad "no serial"
run "openssl ts -verify -data" openssl ts -verify -data data.txt -in r1.tsr -CAfile ca/ca.pem \
    -untrusted tsa/tsa.pem
run "openssl ts -verify -queryfile" openssl ts -verify -queryfile q.tsq -in r1.tsr \
    -CAfile ca/ca.pem -untrusted tsa/tsa.pem
echo "other data" >other.txt
if openssl ts -verify -data other.txt -in r1.tsr -CAfile ca/ca.pem -untrusted tsa/tsa.pem \
    >out.txt 2>&1; then bad "a token verifies for other data"; else
  ok "a token does not verify for other data"; fi

# the qualified statement in TSTInfo (openssl asn1parse)
tstinfo() { # REPLY OUT: TSTInfo parsed by openssl asn1parse
  openssl ts -reply -in "$1" -token_out -out tok.der
  local off
  openssl asn1parse -inform DER -in tok.der >tok.txt
  off=$(awk '/id-smime-ct-TSTInfo/ {f=1; next} f && /OCTET STRING/ {sub(":.*", "", $1); print $1; exit}' tok.txt)
  openssl asn1parse -inform DER -in tok.der -strparse "$off" >"$2"
}
tstinfo r1.tsr tst1.txt
expect "qualified: qcStatements in TSTInfo" "qcStatements" tst1.txt
grep "OCTET STRING" tst1.txt | tail -1 | sed 's/.*HEX DUMP\]://' >qc.hex
if grep -qi "300b300906070400" qc.hex && grep -qi "81975e0101" qc.hex; then
  ok "qualified: esi4-qtstStatement-1 (0.4.0.19422.1.1)"; else
  bad "no 0.4.0.19422.1.1 statement: $(cat qc.hex)"; sed 's/^/    /' tst1.txt >&2; fi

code=$(post q.tsq r2.tsr)
s2=$(openssl ts -reply -in r2.tsr -text | grep "Serial number:" | awk '{print $3}')
[ "$s1" != "$s2" ] && ok "two replies, two serials" || bad "serial repeated: $s1"

for h in sha384 sha512; do
  openssl ts -query -data data.txt -"$h" -cert -out "$h.tsq"
  post "$h.tsq" "$h.tsr" >/dev/null
  run "$h accepted and verified" openssl ts -verify -queryfile "$h.tsq" -in "$h.tsr" \
      -CAfile ca/ca.pem -untrusted tsa/tsa.pem
done
openssl ts -query -data data.txt -sha256 -no_nonce -out nocert.tsq
post nocert.tsq nocert.tsr >/dev/null
run "without certReq: verified with the certificate given" openssl ts -verify \
    -queryfile nocert.tsq -in nocert.tsr -CAfile ca/ca.pem -untrusted tsa/tsa.pem

# --- refusals -------------------------------------------------------------------
reject() { # DESCRIPTION QUERYFILE FAILURE-TEXT
  local code
  code=$(post "$2" rej.tsr)
  openssl ts -reply -in rej.tsr -text >rej.txt 2>&1 || true
  if [ "$code" = 200 ] && grep -qF "Status: Rejected." rej.txt && grep -qF "$3" rej.txt; then
    ok "$1"; else bad "$1 (HTTP $code)"; sed 's/^/    /' rej.txt >&2; fi
}
openssl ts -query -data data.txt -sha1 -out sha1.tsq
reject "SHA-1: badAlg" sha1.tsq "unrecognized or unsupported algorithm identifier"
head -c 100 /dev/urandom >garbage.tsq
reject "garbage: badDataFormat" garbage.tsq "the data submitted has the wrong format"
head -c 20 q.tsq >trunc.tsq
reject "truncated: badDataFormat" trunc.tsq "the data submitted has the wrong format"
openssl ts -query -data data.txt -sha256 -tspolicy 1.2.3.4 -out pol.tsq
reject "another policy: unacceptedPolicy" pol.tsq "policy is not supported"
python3 - q.tsq ver.tsq ext.tsq <<'EOF'
import sys
def tlv(tag, body):
    n = len(body)
    if n < 128: l = bytes([n])
    elif n < 256: l = bytes([0x81, n])
    else: l = bytes([0x82, n >> 8, n & 0xff])
    return bytes([tag]) + l + body
def content(der):
    n = der[1]
    if n < 128: return der[2:]
    k = n & 0x7f
    return der[2 + k:]
q = open(sys.argv[1], 'rb').read()
c = content(q)
assert c[:3] == b'\x02\x01\x01'
open(sys.argv[2], 'wb').write(tlv(0x30, b'\x02\x01\x02' + c[3:]))
ext = tlv(0x30, tlv(0x06, bytes([0x2b, 6, 1, 4, 1, 0x86, 0x8d, 0x1f, 9])) + tlv(0x04, b'\x05\x00'))
open(sys.argv[3], 'wb').write(tlv(0x30, c + tlv(0xa0, ext)))
EOF
reject "version 2: badRequest" ver.tsq "transaction not permitted or supported"
reject "an extension: unacceptedExtension" ext.tsq "extension is not supported"
kill -0 "$PID_q" && ok "still running after the refusals" || bad "the TSA died"

# --- HTTP errors ----------------------------------------------------------------
curl -sS -i -X GET "$URL" >get.txt
expect "GET: 405" "405" get.txt
expect_i "405 names POST in Allow" "Allow: POST" get.txt
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
  --data-binary @q.tsq "$URL")
[ "$code" = 415 ] && ok "wrong Content-Type: 415" || bad "wrong Content-Type: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$CT" --data-binary @/dev/null "$URL")
[ "$code" = 400 ] && ok "empty body: 400" || bad "empty body: $code"
head -c 20000 /dev/zero >big.bin
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "$CT" --data-binary @big.bin "$URL" || true)
case "$code" in 400 | 413) ok "oversize body: $code" ;; *) bad "oversize body: $code" ;; esac
if grep -qi "$(openssl dgst -sha256 -r data.txt | cut -c1-64)" q.log; then
  bad "the imprint is in the log"; else ok "the log has no imprint"; fi
expect "one log line per request" "status=granted" q.log
stop "$PID_q"
[ "$STOPPED" = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $STOPPED"

# --- restart, not qualified -----------------------------------------------------
start_tsa p --tsa-name
post q.tsq r3.tsr >/dev/null
openssl ts -reply -in r3.tsr -text >r3.txt
s3=$(grep "Serial number:" r3.txt | awk '{print $3}')
[ -n "$s3" ] && [ "$s3" != "$s1" ] && [ "$s3" != "$s2" ] && ok "a new serial after a restart" ||
  bad "serial after restart: $s3 ($s1 $s2)"
expect "default policy" "Policy OID: 0.4.0.2023.1.1" r3.txt
expect "TSA name" "TSA: DirName:/C=LV/O=Example/CN=Example TSA" r3.txt
run "verified" openssl ts -verify -queryfile q.tsq -in r3.tsr -CAfile ca/ca.pem \
    -untrusted tsa/tsa.pem
tstinfo r3.tsr tst3.txt
expect_not "not qualified: no qcStatements" "qcStatements" tst3.txt
stop "$PID_p"

# --- run --config FILE: the file's settings, flags winning ------------------------
cat >tsa.conf <<EOF
# a test configuration
dir = $WORK/tsa
http = 127.0.0.1:0
policy = 1.3.6.1.4.1.99999.3
accuracy-seconds = 5
tsa-name = yes
EOF
rm -f c.ready
start c "$TSA" run --config tsa.conf --accuracy-seconds 3 --ready-file c.ready
wait_ready c.ready "$PID_c"
URL=$(cat c.ready)
post q.tsq r4.tsr >/dev/null
openssl ts -reply -in r4.tsr -text >r4.txt
expect "--config: the file's policy" "Policy OID: 1.3.6.1.4.1.99999.3" r4.txt
expect "--config: the file's tsa-name" "TSA: DirName:/C=LV/O=Example/CN=Example TSA" r4.txt
expect "--config: the flag wins over the file (accuracy)" "Accuracy: 0x03 seconds" r4.txt
stop "$PID_c"
[ "$STOPPED" = 0 ] && ok "--config: SIGTERM, exit 0" || bad "--config: SIGTERM, exit $STOPPED"
printf 'dir = %s/tsa\nhttp = 127.0.0.1:0\nacuracy-seconds = 2\n' "$WORK" >typo.conf
run_status "--config: an unknown key is refused" 2 "$TSA" run --config typo.conf
expect "--config: the refusal names FILE:LINE" 'typo.conf:3: unknown key "acuracy-seconds"' out.txt
printf 'dir = %s/tsa\nhttp = 127.0.0.1:0\naccuracy-seconds = 61\n' "$WORK" >range.conf
run_status "--config: a value out of range is refused" 2 "$TSA" run --config range.conf
printf 'config = other.conf\n' >self.conf
run_status "--config: config is not a key of the file" 2 "$TSA" run --config self.conf \
    --dir tsa --http 127.0.0.1:0
run_status "--config: a missing file is refused" 2 "$TSA" run --config missing.conf

run_status "run refuses a bad policy" 2 "$TSA" run --dir tsa --http 127.0.0.1:0 --policy x.y
run_status "run refuses the CA certificate as TSA certificate" 2 "$TSA" run --dir tsa \
    --http 127.0.0.1:0 --cert ca/ca.pem
finish
