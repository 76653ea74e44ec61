# SPDX-License-Identifier: Apache-2.0
# ca_publish.sh BINDIR TOOL - what makes the CA deployable for validators:
# init refuses placeholders and incomplete CA names (exit 2, one line,
# nothing written); "serve" publishes the CA certificate and the CRL over
# HTTP (checked with curl and with "openssl verify -crl_download
# -crl_check" before and after revocations); the CRL follows every
# revocation and a schedule (--crl-refresh-seconds, and the half-lifetime
# rule under faketime), also with several processes at once; the OCSP
# signer is recorded, renewed and revocable.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pki_setup "$@"
# everything here is on loopback: no proxy
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

NAME="CN=Publish Test CA,O=Splitkey Test,C=LV"
OCSPU=http://127.0.0.1:1/ocsp
CAU=http://127.0.0.1:1/ca.crt
CRLU=http://127.0.0.1:1/ca.crl
PDSU=https://pki.example.org/pds_en.pdf

# --- init refusals -----------------------------------------------------------
# refuse DESCRIPTION PATTERN INIT-ARGS...: exit 2, PATTERN in its one line,
# and the directory r not made
refuse() {
  local d=$1 pat=$2; shift 2
  run_status "init refuses $d" 2 "$CA" init --dir r --key ec-p384 "$@"
  expect "  ... and says so" "$pat" out.txt
  [ "$(wc -l <out.txt)" -eq 1 ] && ok "  ... in one line" || bad "  $d: $(wc -l <out.txt) lines"
  [ ! -e r ] && ok "  ... and writes nothing" || { bad "  $d: r was made"; rm -rf r; }
}
refuse "without --ocsp-url" "missing --ocsp-url" --subject "$NAME" --ca-url $CAU --pds-url $PDSU
refuse "without --ca-url" "missing --ca-url" --subject "$NAME" --ocsp-url $OCSPU --pds-url $PDSU
refuse "without --pds-url" "missing --pds-url" --subject "$NAME" --ocsp-url $OCSPU --ca-url $CAU
refuse "an https OCSP URL" "--ocsp-url https://ocsp.example.org/: not an http:// URL" \
    --subject "$NAME" --ocsp-url https://ocsp.example.org/ --ca-url $CAU --pds-url $PDSU
expect "  ... and explains why http" "plain http" out.txt
refuse "an https CA URL" "--ca-url https://pki.example.org/ca.crt: not an http:// URL" \
    --subject "$NAME" --ocsp-url $OCSPU --ca-url https://pki.example.org/ca.crt --pds-url $PDSU
refuse "an http PDS URL" "--pds-url http://pki.example.org/pds.pdf: not an https:// URL" \
    --subject "$NAME" --ocsp-url $OCSPU --ca-url $CAU --pds-url http://pki.example.org/pds.pdf
expect "  ... and names the standard" "EN 319 412-5" out.txt
refuse "an https CRL URL" "--crl-url https://pki.example.org/ca.crl: not an http:// URL" \
    --subject "$NAME" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU \
    --crl-url https://pki.example.org/ca.crl
refuse "a relative OCSP URL" "--ocsp-url ocsp.example.org: not an http:// URL" \
    --subject "$NAME" --ocsp-url ocsp.example.org --ca-url $CAU --pds-url $PDSU
refuse "a URL without a host" "--ocsp-url http:///ocsp: has no host" \
    --subject "$NAME" --ocsp-url http:///ocsp --ca-url $CAU --pds-url $PDSU
refuse "a URL with a bad port" "has a bad port" \
    --subject "$NAME" --ocsp-url http://ocsp.example.org:99999/ --ca-url $CAU --pds-url $PDSU
refuse "a URL with a space" "contains a space" \
    --subject "$NAME" --ocsp-url "http://ocsp.example.org/a b" --ca-url $CAU --pds-url $PDSU
refuse "a URL with a user name" "has a user name" \
    --subject "$NAME" --ocsp-url http://user@ocsp.example.org/ --ca-url $CAU --pds-url $PDSU
refuse "a CA name without O" "the CA name has no O (organizationName)" \
    --subject "CN=Test CA,C=LV" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU
expect "  ... and names the standard" "EN 319 412-2 requires C, O and CN" out.txt
refuse "a CA name without C" "the CA name has no C (countryName)" \
    --subject "CN=Test CA,O=Test" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU
refuse "a CA name without CN" "the CA name has no CN (commonName)" \
    --subject "O=Test,C=LV" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU
refuse "a CA name without O and C" "has no C (countryName) and O (organizationName)" \
    --subject "CN=Test CA" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU
refuse "a three-letter PDS language" "--pds-lang eng: not a language code" \
    --subject "$NAME" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU --pds-lang eng
refuse "the same path for the certificate and the CRL" "have the same path /ca.crt" \
    --subject "$NAME" --ocsp-url $OCSPU --ca-url $CAU --pds-url $PDSU \
    --crl-url http://other.example.org/ca.crt
mkdir empty
run_status "init into an existing empty directory refuses a bad URL" 2 "$CA" init --dir empty \
    --key ec-p384 --subject "$NAME" --ocsp-url https://x/ --ca-url $CAU --pds-url $PDSU
[ -z "$(ls -A empty)" ] && ok "  ... and leaves it empty" || bad "empty holds $(ls -A empty)"

# --- a CA: organizationIdentifier allowed, the PDS language lower-cased ------
run "init with organizationIdentifier (2.5.4.97) and --pds-lang EN" "$CA" init --dir ca \
    --key ec-p384 --subject "CN=Publish Test CA,O=Splitkey Test,2.5.4.97=VATLV-40003000000,C=LV" \
    --ocsp-url $OCSPU --ca-url $CAU --crl-url $CRLU --pds-url $PDSU --pds-lang EN
expect "ca.conf has the language in lower case" "pds-lang = en" ca/ca.conf
openssl x509 -in ca/ca.pem -noout -subject -nameopt RFC2253 >subject.txt
expect "the CA name has organizationIdentifier" "organizationIdentifier=VATLV-40003000000" subject.txt

# --- the OCSP signer is an issued certificate -----------------------------------
SIGNER1=$(openssl x509 -in ca/ocsp.pem -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
run "ocsp-signer show" "$CA" ocsp-signer show --dir ca
expect "show: the serial of ocsp.pem" "serial: $SIGNER1" out.txt
expect "show: good for about 30 days" "status: good, expires in 29 days" out.txt
expect "show: notAfter" "notAfter: " out.txt
[ "$(sqlite3 ca/ca.db "SELECT profile || ' ' || person_id FROM certificates WHERE serial = '$SIGNER1'")" = "100 ocsp-signer" ] &&
  ok "the signer is in ca.db with profile ocsp-signer" || bad "the signer is not in ca.db"
grep -q "^1 .* ISSUE $SIGNER1 " ca/audit.log && ok "the audit line names its serial" ||
  bad "no ISSUE line for $SIGNER1"
run "audit-verify" "$CA" audit-verify --dir ca
expect "one entry" " 1 entries" out.txt
end=$(date -d "$(openssl x509 -in ca/ocsp.pem -noout -enddate | sed 's/^notAfter=//')" +%s)
days=$(( (end - $(date +%s)) / 86400 ))
[ "$days" -ge 29 ] && [ "$days" -le 30 ] && ok "the signer lives 30 days" || bad "signer lives $days days"
openssl x509 -in ca/ocsp.pem -noout -text >ocsp.txt
expect "the signer is no-check" "OCSP No Check" ocsp.txt

# --- serve ------------------------------------------------------------------------
start serve "$CA" serve --dir ca --http 127.0.0.1:0 --ready-file serve.ready
wait_ready serve.ready "$PID_serve"
SURL=$(cat serve.ready)
HP=${SURL#http://}
HP=${HP%/}
echo "serve at $SURL"
# Publish at the real port: later certificates carry these URLs (the paths
# are what serve reads; run reads the whole file when it starts).
sed -i "s|127.0.0.1:1/ca.crt|$HP/ca.crt|; s|127.0.0.1:1/ca.crl|$HP/ca.crl|" ca/ca.conf
expect "ca.conf points at serve" "crl-url = http://$HP/ca.crl" ca/ca.conf
[ -s ca/crl.der ] && ok "serve published ca/crl.der at start" || bad "no ca/crl.der"

get() { # PATH OUT [curl args...] -> OUT (body), OUT.h (headers)
  local p=$1 o=$2; shift 2
  curl -sS -D "$o.h" -o "$o" "$@" "$SURL${p#/}" || true
}
get /ca.crt ca.der
expect "GET the CA certificate: 200" "HTTP/1.1 200" ca.der.h
expect_i "  ... application/pkix-cert" "Content-Type: application/pkix-cert" ca.der.h
expect_i "  ... a Date" "Date: " ca.der.h
expect_i "  ... a Last-Modified" "Last-Modified: " ca.der.h
openssl x509 -in ca/ca.pem -outform der -out ca.pem.der
cmp -s ca.der ca.pem.der && ok "  ... the DER of ca.pem" || bad "the served certificate differs"
get /ca.crl crl1.der
expect "GET the CRL: 200" "HTTP/1.1 200" crl1.der.h
expect_i "  ... application/pkix-crl" "Content-Type: application/pkix-crl" crl1.der.h
expect_i "  ... a Date" "Date: " crl1.der.h
expect_i "  ... a Last-Modified" "Last-Modified: " crl1.der.h
run "  ... openssl verifies it under the CA" openssl crl -inform der -in crl1.der -CAfile ca/ca.pem -noout
openssl crl -inform der -in crl1.der -noout -text >crl1.txt
expect "  ... it lists nothing yet" "No Revoked Certificates" crl1.txt
size=$(curl -sS -I -D head.h -o /dev/null -w '%{size_download}' "${SURL}ca.crl" || true)
expect "HEAD the CRL: 200" "HTTP/1.1 200" head.h
expect_i "  ... with its type" "Content-Type: application/pkix-crl" head.h
[ "$size" = 0 ] && ok "  ... and no body" || bad "HEAD got a body of $size bytes"
get /nothing-here nf.out
expect "another path: 404" "HTTP/1.1 404" nf.out.h
get / root.out
expect "the root: 404" "HTTP/1.1 404" root.out.h
get /ca.crt post.out -X POST --data x
expect "POST: 405" "HTTP/1.1 405" post.out.h
expect_i "  ... with Allow" "Allow: GET, HEAD" post.out.h
get /ca.crl del.out -X DELETE
expect "DELETE: 405" "HTTP/1.1 405" del.out.h
expect_i "  ... with Allow" "Allow: GET, HEAD" del.out.h

# --- issuance through run, and openssl verify with the served CRL -----------------
mkdir ra1 out
"$TOOL" identity ra1
run "add-ra" "$CA" add-ra --dir ca --pub ra1/server.pub
start ca "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready
wait_ready ca.ready "$PID_ca"
CAURL=$(cat ca.ready)
if "$TOOL" enrol ra1 "$CAURL" ca/ca.pem out >enrol.txt 2>&1; then ok "enrolment"; else
  bad "enrolment"; cat enrol.txt; fi
SIGN=$(cat out/sign.serial)
AUTH=$(cat out/auth.serial)
AUTHB=$(cat out/authb.serial)
openssl x509 -in out/sign.pem -noout -text >sign.txt
expect "the certificate's CRL distribution point is serve" "URI:http://$HP/ca.crl" sign.txt
expect "its caIssuers is serve" "CA Issuers - URI:http://$HP/ca.crt" sign.txt
openssl x509 -in out/sign.pem -outform der | od -An -tx1 -v | tr -d ' \n' >sign.hex
grep -q 1302656e sign.hex && ok "the QcPDS language is \"en\"" || bad "no PrintableString en in QcPDS"
verify() { # CERT -> verify.txt
  openssl verify -crl_download -crl_check -CAfile ca/ca.pem "$1" >verify.txt 2>&1 || true
}
verify out/auth.pem
expect "openssl verify -crl_download -crl_check: AUTH is OK" "out/auth.pem: OK" verify.txt
verify out/sign.pem
expect "  ... SIGN is OK" "out/sign.pem: OK" verify.txt

run "the RA revokes AUTH" "$TOOL" revoke ra1 "$CAURL" "$AUTH" superseded
expect "run published a CRL after the revocation" "after a revocation" ca.log
verify out/auth.pem
expect "openssl verify: AUTH is revoked now" "certificate revoked" verify.txt
verify out/sign.pem
expect "  ... SIGN is still OK" "out/sign.pem: OK" verify.txt
run "the operator revokes SIGN" "$CA" revoke --dir ca --serial "$SIGN" --reason keyCompromise
expect "revoke published a CRL" "published to ca/crl.der" out.txt
verify out/sign.pem
expect "openssl verify: SIGN is revoked now" "certificate revoked" verify.txt
verify out/authb.pem
expect "  ... basic AUTH is still OK" "out/authb.pem: OK" verify.txt
get /ca.crl crl2.der
openssl crl -inform der -in crl2.der -noout -text >crl2.txt
expect_i "the served CRL lists AUTH" "Serial Number: $AUTH" crl2.txt
expect_i "  ... and SIGN" "Serial Number: $SIGN" crl2.txt
expect "  ... with its reason" "Key Compromise" crl2.txt
crl_number() { openssl crl -inform der -in "$1" -noout -crlnumber | sed 's/^crlNumber=\(0x\)\{0,1\}//'; }
n1=$(crl_number crl1.der)
n2=$(crl_number crl2.der)
[ $((16#$n2)) -gt $((16#$n1)) ] && ok "the CRL number grew ($n1 -> $n2)" || bad "CRL number $n1 -> $n2"
run "crl --out still writes a PEM CRL" "$CA" crl --dir ca --out crl.pem
run "  ... that verifies" openssl crl -in crl.pem -CAfile ca/ca.pem -noout
n3=$(openssl crl -in crl.pem -noout -crlnumber | sed 's/^crlNumber=\(0x\)\{0,1\}//')
[ $((16#$n3)) -gt $((16#$n2)) ] && ok "  ... with the next number" || bad "crl --out number $n3 after $n2"

# --- the schedule -------------------------------------------------------------------
# Two more publishers at once with a 2-second refresh, beside run and serve:
# every CRL number is used once, the file is always a whole CRL, and the
# one in place has the highest number.
cp ca/crl.der before.der
start pub1 "$CA" serve --dir ca --http 127.0.0.1:0 --crl-refresh-seconds 2 --ready-file pub1.ready
start pub2 "$CA" serve --dir ca --http 127.0.0.1:0 --crl-refresh-seconds 2 --ready-file pub2.ready
wait_ready pub1.ready "$PID_pub1"
wait_ready pub2.ready "$PID_pub2"
whole=0
for _ in $(seq 25); do
  openssl crl -inform der -in ca/crl.der -CAfile ca/ca.pem -noout >/dev/null 2>&1 || whole=1
  sleep 0.2
done
[ "$whole" -eq 0 ] && ok "ca/crl.der was a whole, valid CRL at every look" || bad "a broken crl.der was seen"
stop "$PID_pub1"; stop "$PID_pub2"
cat pub1.log pub2.log | sed -n 's/.* CRL \([0-9]*\) with .*/\1/p' | sort -n >numbers.txt
[ "$(wc -l <numbers.txt)" -ge 2 ] && ok "the refresh reissued the CRL ($(wc -l <numbers.txt) times)" ||
  bad "no scheduled CRL: $(cat pub1.log pub2.log)"
[ -z "$(uniq -d numbers.txt)" ] && ok "no CRL number was used twice" || bad "numbers reused: $(uniq -d numbers.txt)"
# either publisher may be the one that found the CRL old (the other then
# sees a fresh one): the reason must be in one of the two logs
cat pub1.log pub2.log >pubs.log
expect "the reason is logged" "older than --crl-refresh-seconds" pubs.log
last=$((16#$(crl_number ca/crl.der)))
[ "$last" -ge "$(tail -n1 numbers.txt)" ] && ok "the CRL in place has the highest number ($last)" ||
  bad "crl.der has $last, the highest issued is $(tail -n1 numbers.txt)"
openssl crl -inform der -in ca/crl.der -noout -text >crl3.txt
expect_i "  ... and still lists SIGN" "Serial Number: $SIGN" crl3.txt

# The lifetime rule (crl-days 7: reissue when less than 3.5 days are left),
# with the clock moved by libfaketime (preloaded directly: the faketime
# wrapper would stand between stop and serve).
FAKELIB=
for l in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1 \
         /usr/local/lib/faketime/libfaketime.so.1; do
  [ -f "$l" ] && { FAKELIB=$l; break; }
done
if [ -n "$FAKELIB" ]; then
  fake() { # OFFSET NAME: serve with the clock moved until its ready file appears
    rm -f "$2.ready"
    start "$2" env LD_PRELOAD="$FAKELIB" FAKETIME="$1" FAKETIME_DONT_FAKE_MONOTONIC=1 \
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
      "$CA" serve --dir ca --http 127.0.0.1:0 --ready-file "$2.ready"
    local pid
    eval "pid=\$PID_$2"
    wait_ready "$2.ready" "$pid"
    stop "$pid"
    [ "$STOPPED" -eq 0 ] && ok "  serve with the clock at $1 stops cleanly" || bad "serve at $1: exit $STOPPED"
  }
  before=$(crl_number ca/crl.der)
  fake "+1d" early
  [ "$(crl_number ca/crl.der)" = "$before" ] && ok "a day later (6 days left) the CRL is kept" ||
    bad "reissued a day later: $(cat early.log)"
  fake "+4d" late
  expect "four days later (3 left) serve reissues it" "less than half of its lifetime is left" late.log
  [ "$(crl_number ca/crl.der)" != "$before" ] && ok "  ... with a new number" || bad "same number"
  next=$(date -d "$(openssl crl -inform der -in ca/crl.der -noout -nextupdate | sed 's/^nextUpdate=//')" +%s)
  ahead=$(( (next - $(date +%s)) / 86400 ))
  [ "$ahead" -ge 10 ] && [ "$ahead" -le 11 ] && ok "  ... thisUpdate in the moved time, nextUpdate 7 days on" ||
    bad "nextUpdate $ahead days ahead"
else
  echo "libfaketime not installed (Debian package faketime): the lifetime rule is not checked"
fi

# --- the OCSP signer's lifecycle ----------------------------------------------------
start ocsp "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready
wait_ready ocsp.ready "$PID_ocsp"
ocsp_ask() { # CERT -> ocsp.txt
  openssl ocsp -url "$(cat ocsp.ready)" -issuer ca/ca.pem -cert "$1" -CAfile ca/ca.pem -nonce \
      -resp_text >ocsp.txt 2>&1 || true
}
ocsp_ask out/authb.pem
expect "openssl ocsp with the first signer: verifies" "Response verify OK" ocsp.txt
expect "  ... authb good" "out/authb.pem: good" ocsp.txt

run "ocsp-signer renew --days 10" "$CA" ocsp-signer renew --dir ca --days 10
expect "renew names the previous signer" "the previous signer $SIGNER1" out.txt
SIGNER2=$(openssl x509 -in ca/ocsp.pem -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f')
[ -n "$SIGNER2" ] && [ "$SIGNER2" != "$SIGNER1" ] && ok "a new signer serial ($SIGNER2)" || bad "serial unchanged"
[ "$(stat -c %a ca/ocsp.key)" = 600 ] && ok "ocsp.key is 0600" || bad "ocsp.key is $(stat -c %a ca/ocsp.key)"
[ "$(openssl x509 -in ca/ocsp.pem -noout -pubkey)" = "$(openssl pkey -in ca/ocsp.key -pubout)" ] &&
  ok "ocsp.key and ocsp.pem are a pair" || bad "ocsp.key does not match ocsp.pem"
run "the new signer chains to the CA" openssl verify -CAfile ca/ca.pem ca/ocsp.pem
[ "$(sqlite3 ca/ca.db "SELECT count(*) FROM certificates WHERE profile = 100 AND status = 0")" = 2 ] &&
  ok "both signers are in ca.db" || bad "ca.db has not both signers"
grep -q " ISSUE $SIGNER2 " ca/audit.log && ok "the audit log has the new signer" || bad "no ISSUE for $SIGNER2"
run "ocsp-signer show after renew" "$CA" ocsp-signer show --dir ca
expect "show: the new serial" "serial: $SIGNER2" out.txt
expect "show: 10 days" "status: good, expires in 9 days" out.txt
run "the old signer's status: still good" "$TOOL" status "$CAURL" "$SIGNER1"
expect "  ... good" "good" out.txt
stop "$PID_ocsp"
start ocsp "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp2.ready
rm -f ocsp.ready
wait_ready ocsp2.ready "$PID_ocsp"
cp ocsp2.ready ocsp.ready
ocsp_ask out/authb.pem
expect "openssl ocsp after restarting the responder: verifies" "Response verify OK" ocsp.txt
expect "  ... authb good" "out/authb.pem: good" ocsp.txt
expect "  ... signed by the new signer" "$(echo "$SIGNER2" | sed 's/../&:/g; s/:$//')" ocsp.txt
run "the operator revokes the old signer" "$CA" revoke --dir ca --serial "$SIGNER1" --reason superseded
get /ca.crl crl4.der
openssl crl -inform der -in crl4.der -noout -text >crl4.txt
expect_i "the served CRL lists the old signer" "Serial Number: $SIGNER1" crl4.txt
ocsp_ask out/authb.pem
expect "the responder still verifies with the new signer" "Response verify OK" ocsp.txt
run "the new signer is revoked too" "$CA" revoke --dir ca --serial "$SIGNER2" --reason keyCompromise
run "ocsp-signer show" "$CA" ocsp-signer show --dir ca
expect "show: revoked" "status: revoked" out.txt
expect "  ... keyCompromise" "(keyCompromise)" out.txt
run "audit-verify at the end" "$CA" audit-verify --dir ca

stop "$PID_ocsp"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: the responder exits 0" || bad "ocsp exit $STOPPED"
stop "$PID_ca"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: run exits 0" || bad "run exit $STOPPED"
stop "$PID_serve"; [ "$STOPPED" -eq 0 ] && ok "SIGTERM: serve exits 0" || bad "serve exit $STOPPED"
expect "serve logs one line per request" "req method=GET what=crl http=200" serve.log
expect "  ... and refusals" "what=- http=404" serve.log

finish
