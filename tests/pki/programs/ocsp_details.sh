#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ocsp_details.sh BINDIR TOOL - what eIDAS validators look at in the
# answers of splitkey-ocsp, checked with openssl and GnuTLS ocsptool:
# archiveCutoff, certHash (--cert-hash), expired certificates keeping their
# real status, a backdated thisUpdate accepted by a client whose clock is
# 10 minutes slow (faketime) where no backdate is refused, SHA-384/512
# CertIDs, the HTTP Date and Allow headers, and the signer's life cycle: a
# renewed pair picked up, bad or half-written pairs refused (the old one
# kept), an expired or revoked signer answering tryLater; SIGHUP loading a
# renewed pair at once (and refusing a bad one) under a long --signer-check.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pki_setup "$@"
if ! command -v faketime >/dev/null; then
  echo "faketime is not installed (scripts/install-deps.sh)" >&2
  exit 1
fi
hex() { od -An -tx1 -v "$1" | tr -d ' \n'; }

# --- a CA three days old whose person certificates live one day ------------
# Everything the CA does runs three days in the past, so the certificates it
# issues have expired by now; the OCSP signer (365 days) has not.
run "init a CA three days ago" faketime -f '-3d' "$CA" init --dir ca \
    --subject "CN=Detail CA,O=Splitkey Test,C=LV" --key ec-p384 --validity-days 1 \
    --ocsp-url http://127.0.0.1:8080/ocsp --ca-url http://127.0.0.1:8080/ca.crt \
    --pds-url https://example.org/pds_en.pdf
mkdir ra1 out
"$TOOL" identity ra1
run "add-ra" "$CA" add-ra --dir ca --pub ra1/server.pub
start ca faketime -f '-3d' "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready
wait_ready ca.ready "$PID_ca"
# faketime runs the CA as its child and does not pass SIGTERM on: the CA
# itself is stopped (and killed on the way out) by its own pid.
CA_CHILD=$(pgrep -P "$PID_ca" || true)
[ -n "$CA_CHILD" ] && PIDS+=("$CA_CHILD")
if faketime -f '-3d' "$TOOL" enrol ra1 "$(cat ca.ready)" ca/ca.pem out >enrol.txt 2>&1; then
  ok "enrolment three days ago"; else bad "enrolment three days ago"; sed 's/^/    /' enrol.txt >&2; fi
# faketime runs the CA as its child and does not pass SIGTERM on: stop the
# child first, or it outlives the test
for child in $(pgrep -P "$PID_ca" || true); do stop "$child"; done
stop "$PID_ca"
now=$(date +%s)
na=$(date -d "$(openssl x509 -in out/sign.pem -noout -enddate | sed 's/^notAfter=//')" +%s)
[ "$na" -lt "$now" ] && ok "the SIGN certificate has expired" || bad "SIGN notAfter $na is not past"
run "revoke the expired AUTH certificate" "$CA" revoke --dir ca --serial "$(cat out/auth.serial)" \
    --reason keyCompromise

# --- the responder with certHash --------------------------------------------
start ocsp "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready --cert-hash \
    --signer-check 0
wait_ready ocsp.ready "$PID_ocsp"
OURL=$(cat ocsp.ready)

openssl ocsp -url "$OURL" -issuer ca/ca.pem -cert out/sign.pem -cert out/auth.pem \
    -CAfile ca/ca.pem -nonce -resp_text -respout resp.der >resp.txt 2>&1 || true
expect "the response verifies" "Response verify OK" resp.txt
expect "the expired SIGN certificate is good, not unknown" "out/sign.pem: good" resp.txt
expect "the expired AUTH certificate is revoked" "out/auth.pem: revoked" resp.txt
expect "with its reason" "Reason: keyCompromise" resp.txt
expect_not "the times are valid" "Status times invalid" resp.txt
n=$(grep -c "OCSP Archive Cutoff:" resp.txt || true)
[ "$n" = 2 ] && ok "archiveCutoff in both SingleResponses" || bad "$n archiveCutoffs"
cutoff=$(grep -A1 "OCSP Archive Cutoff:" resp.txt | sed -n 2p | sed 's/^ *//')
ca_nb=$(openssl x509 -in ca/ca.pem -noout -startdate | sed 's/^notBefore=//')
[ "$cutoff" = "$ca_nb" ] && ok "archiveCutoff is the CA's notBefore ($cutoff)" ||
  bad "archiveCutoff '$cutoff', CA notBefore '$ca_nb'"
n=$(grep -c "1.3.36.8.3.13:" resp.txt || true)
[ "$n" = 2 ] && ok "certHash in both SingleResponses" || bad "$n certHash extensions"
# certHash = SEQUENCE { sha256 AlgorithmIdentifier, OCTET STRING SHA-256(DER) }
for c in sign auth; do
  openssl x509 -in out/$c.pem -outform DER -out $c.der
  h=$(sha256sum $c.der | cut -c1-64)
  case "$(hex resp.der)" in
    *06052b2408030d04*300b0609608648016503040201"0420$h"*) ok "certHash of $c is SHA-256 of its DER" ;;
    *) bad "no certHash with SHA-256 of $c.der in the response" ;;
  esac
done
# thisUpdate is 900 s (the default) before producedAt
produced=$(date -d "$(sed -n 's/^ *Produced At: //p' resp.txt)" +%s)
this=$(date -d "$(sed -n 's/^ *This Update: //p' resp.txt | head -1)" +%s)
next=$(date -d "$(sed -n 's/^ *Next Update: //p' resp.txt | head -1)" +%s)
[ $((produced - this)) = 900 ] && ok "thisUpdate = producedAt - 900" ||
  bad "producedAt $produced thisUpdate $this"
[ $((next - produced)) = 3600 ] && ok "nextUpdate = producedAt + validity" ||
  bad "producedAt $produced nextUpdate $next"

if command -v ocsptool >/dev/null; then
  run "ocsptool -e verifies the certHash answer" ocsptool -e --load-trust ca/ca.pem \
      --load-response resp.der
  expect "ocsptool -e: Success" "Verifying OCSP Response: Success" out.txt
  ocsptool -j --load-response resp.der >gnutls.txt 2>&1 || true
  expect "ocsptool -j: good" "Certificate Status: good" gnutls.txt
  expect "ocsptool -j: revoked" "Certificate Status: revoked" gnutls.txt
fi

# SHA-384 and SHA-512 CertIDs
for h in sha384 sha512; do
  openssl ocsp -url "$OURL" -issuer ca/ca.pem -$h -cert out/sign.pem -CAfile ca/ca.pem \
      -resp_text -respout resp_$h.der >resp_$h.txt 2>&1 || true
  expect "$h CertID: verifies" "Response verify OK" resp_$h.txt
  expect "$h CertID: good" "out/sign.pem: good" resp_$h.txt
  expect "$h CertID: echoed" "Hash Algorithm: $h" resp_$h.txt
  if command -v ocsptool >/dev/null; then
    run "ocsptool -e verifies the $h answer" ocsptool -e --load-trust ca/ca.pem \
        --load-response resp_$h.der
    ocsptool -j --load-response resp_$h.der >gnutls_$h.txt 2>&1 || true
    expect "ocsptool -j: $h answer good" "Certificate Status: good" gnutls_$h.txt
  fi
done

# --- a client whose clock is 10 minutes slow -----------------------------------
faketime -f '-10m' openssl ocsp -url "$OURL" -issuer ca/ca.pem -cert out/sign.pem \
    -CAfile ca/ca.pem >slow.txt 2>&1 || true
expect "a slow client accepts the backdated answer" "out/sign.pem: good" slow.txt
expect_not "a slow client: times valid" "Status times invalid" slow.txt
start ocsp0 "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp0.ready \
    --this-update-backdate 0
wait_ready ocsp0.ready "$PID_ocsp0"
faketime -f '-10m' openssl ocsp -url "$(cat ocsp0.ready)" -issuer ca/ca.pem -cert out/sign.pem \
    -CAfile ca/ca.pem >slow0.txt 2>&1 || true
expect "without a backdate the slow client refuses the answer" "Status times invalid" slow0.txt
openssl ocsp -url "$(cat ocsp0.ready)" -issuer ca/ca.pem -cert out/sign.pem -CAfile ca/ca.pem \
    -resp_text >nohash.txt 2>&1 || true
expect_not "no certHash without --cert-hash" "1.3.36.8.3.13" nohash.txt
expect "archiveCutoff without --cert-hash too" "OCSP Archive Cutoff" nohash.txt
stop "$PID_ocsp0"

# --- HTTP headers -----------------------------------------------------------------
"$TOOL" http PUT "$OURL" / - put_resp.bin put_head.txt || true
expect "PUT: 405" "405" put_head.txt
expect_i "405 names the allowed methods" "Allow: GET, POST" put_head.txt
expect_i "405 has a Date" "Date: " put_head.txt
printf 'junk' >junk.bin
"$TOOL" http POST "$OURL" / junk.bin junk_resp.der junk_head.txt
expect_i "malformedRequest answer has a Date" "Date: " junk_head.txt
openssl ocsp -issuer ca/ca.pem -cert out/sign.pem -no_nonce -reqout get_req.der >/dev/null 2>&1
B64=$(base64 -w0 get_req.der | sed 's/+/%2B/g; s|/|%2F|g; s/=/%3D/g')
"$TOOL" http GET "$OURL" "/$B64" - get_resp.der get_head.txt
expect_i "GET answer has a Date" "Date: " get_head.txt
date_v=$(sed -n 's/^[Dd]ate: //p' get_head.txt | tr -d '\r')
case "$date_v" in
  [A-Z][a-z][a-z],\ [0-9][0-9]\ [A-Z][a-z][a-z]\ [0-9][0-9][0-9][0-9]\ [0-9][0-9]:[0-9][0-9]:[0-9][0-9]\ GMT)
    ok "Date is an IMF-fixdate ($date_v)" ;;
  *) bad "Date '$date_v' is not an IMF-fixdate" ;;
esac

# --- the signer's life cycle ------------------------------------------------------
# Independent signer certificates are made with openssl and the CA key.
mksigner() { # NAME SERIAL DAYS EKU(yes|no) [faketime offset]
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out $1.key 2>/dev/null
  openssl req -new -key $1.key -subj "/CN=Renewed OCSP $1/O=Splitkey Test/C=LV" -out $1.csr
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    [ "$4" = yes ] && echo "extendedKeyUsage=OCSPSigning"
    echo "noCheck=ignored"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
  } >$1.ext
  ${5:+faketime -f "$5"} openssl x509 -req -in $1.csr -CA ca/ca.pem -CAkey ca/ca.key \
      -set_serial "0x$2" -days "$3" -sha384 -extfile $1.ext -out $1.pem 2>/dev/null
  chmod 600 $1.key
}
# install CERT KEY: the way a renewal replaces the files (rename)
install_pair() {
  cp "$1" ca/ocsp.pem.new && mv ca/ocsp.pem.new ca/ocsp.pem
  cp "$2" ca/ocsp.key.new && chmod 600 ca/ocsp.key.new && mv ca/ocsp.key.new ca/ocsp.key
}
ask() { # -> ask.txt, ask.der
  openssl ocsp -url "$OURL" -issuer ca/ca.pem -cert out/sign.pem -CAfile ca/ca.pem \
      -resp_text -respout ask.der >ask.txt 2>&1 || true
}
mksigner new1 5e1ec7ed01 30 yes
mksigner noeku 5e1ec7ed02 30 no
mksigner new2 5e1ec7ed03 30 yes
mksigner old 5e1ec7ed04 2 yes '-10d'

install_pair new1.pem new1.key
ask
expect "renewed signer: the answer verifies" "Response verify OK" ask.txt
expect "renewed signer: good" "out/sign.pem: good" ask.txt
expect "the renewed signer certificate is in the answer" "Renewed OCSP new1" ask.txt
expect "the responder logged the renewal" "loaded the renewed OCSP signer" ocsp.log

# a half-written certificate: the pair in use stays
head -c 200 new2.pem >half.pem
install_pair half.pem new2.key
ask
expect "half-written certificate: still verifies" "Response verify OK" ask.txt
expect "half-written certificate: still signed by the previous signer" "Renewed OCSP new1" ask.txt
expect "half-written certificate: a warning" "cannot be used; still signing with the previous" ocsp.log
# a certificate without id-kp-OCSPSigning
install_pair noeku.pem noeku.key
ask
expect "no OCSPSigning: the previous signer still signs" "Renewed OCSP new1" ask.txt
expect "no OCSPSigning: still verifies" "Response verify OK" ask.txt
# a certificate with another key
install_pair new2.pem new1.key
ask
expect "mismatched key: the previous signer still signs" "Renewed OCSP new1" ask.txt
# a certificate issued by another CA
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout other.key \
    -subj "/CN=Other CA" -days 30 -out other.pem 2>/dev/null
chmod 600 other.key
install_pair other.pem other.key
ask
expect "foreign signer: the previous signer still signs" "Renewed OCSP new1" ask.txt
kill -0 "$PID_ocsp" && ok "the responder survived the bad renewals" || bad "the responder died"
n=$(grep -c "cannot be used; still signing" ocsp.log || true)
[ "$n" = 4 ] && ok "one warning per bad pair" || bad "$n warnings for 4 bad pairs"

# an expired signer: tryLater, unsigned
install_pair old.pem old.key
"$TOOL" http POST "$OURL" / get_req.der late.der late_head.txt
[ "$(hex late.der)" = 30030a0103 ] && ok "expired signer: tryLater" ||
  bad "expired signer answer: $(hex late.der)"
expect "expired signer: logged" "refusing to sign with the OCSP signer (serial 5e1ec7ed04): its certificate has expired" ocsp.log
expect "the expired pair was loaded (it is well-formed)" "serial 5e1ec7ed04)" ocsp.log

# a good pair again, then revoked in the CA database
install_pair new2.pem new2.key
ask
expect "after the expired one, a new signer answers" "Renewed OCSP new2" ask.txt
expect "and its answer verifies" "Response verify OK" ask.txt
expect "usable again: logged" "is usable again" ocsp.log
# A renewed signer is recorded in ca.db by 'splitkey-ca ocsp-signer renew';
# these signers were made by openssl, so when the CA does not know the
# serial the row is written here with sqlite3 (schema in ca_store.c), as
# the CA would have recorded and then revoked it.
if ! "$CA" revoke --dir ca --serial 5e1ec7ed03 --reason keyCompromise >revoke.txt 2>&1; then
  der_hex=$(openssl x509 -in new2.pem -outform DER | od -An -tx1 -v | tr -d ' \n')
  sqlite3 ca/ca.db "INSERT INTO certificates (serial, subject, person_id, profile, not_before,
      not_after, issued_at, status, revoked_at, reason, der) VALUES ('5e1ec7ed03',
      'CN=Renewed OCSP new2', '-', 0, $now, $((now + 30 * 86400)), $now, 1, $now, 1,
      X'$der_hex');" && ok "the signer's row marked revoked with sqlite3" ||
    bad "cannot write the signer's row"
else
  ok "splitkey-ca revoke revoked the signer"
fi
"$TOOL" http POST "$OURL" / get_req.der rev.der rev_head.txt
[ "$(hex rev.der)" = 30030a0103 ] && ok "revoked signer: tryLater" ||
  bad "revoked signer answer: $(hex rev.der)"
expect "revoked signer: logged" "(serial 5e1ec7ed03): it is revoked in the CA database" ocsp.log
expect_i "tryLater answer has a Date" "Date: " rev_head.txt
kill -0 "$PID_ocsp" && ok "the responder still runs" || bad "the responder died"

# --- SIGHUP: the signer files loaded again at once ----------------------------------
# A responder that looks at its files only once an hour: a renewal is seen
# only after SIGHUP.  The pair installed now (new2) is revoked: tryLater.
start ocsph "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsph.ready \
    --signer-check 3600
wait_ready ocsph.ready "$PID_ocsph"
HURL=$(cat ocsph.ready)
"$TOOL" http POST "$HURL" / get_req.der h0.der h0_head.txt
[ "$(hex h0.der)" = 30030a0103 ] && ok "SIGHUP responder: the revoked signer answers tryLater" ||
  bad "SIGHUP responder, revoked signer: $(hex h0.der)"
install_pair new1.pem new1.key
"$TOOL" http POST "$HURL" / get_req.der h1.der h1_head.txt
[ "$(hex h1.der)" = 30030a0103 ] && ok "renewed, no SIGHUP: not seen before --signer-check" ||
  bad "renewed without SIGHUP: $(hex h1.der)"
# hup_wait N: sends SIGHUP and waits for the N-th outcome of a reload (the
# pair loaded, or refused)
hup_wait() {
  kill -HUP "$PID_ocsph"
  while [ "$(grep -cE "SIGHUP: loaded the OCSP signer|were reloaded \(SIGHUP\)" ocsph.log ||
             true)" -lt "$1" ]; do
    kill -0 "$PID_ocsph" 2>/dev/null || { bad "the responder died on SIGHUP"; return; }
    sleep 0.05
  done
}
hup_wait 1
expect "SIGHUP: the renewed signer loaded" "SIGHUP: loaded the OCSP signer" ocsph.log
openssl ocsp -url "$HURL" -issuer ca/ca.pem -cert out/sign.pem -CAfile ca/ca.pem \
    -resp_text >hup.txt 2>&1 || true
expect "SIGHUP: usable again" "is usable again" ocsph.log
expect "SIGHUP: the new signer answers" "Renewed OCSP new1" hup.txt
expect "SIGHUP: its answer verifies" "Response verify OK" hup.txt
expect "SIGHUP: good" "out/sign.pem: good" hup.txt
# a bad pair on SIGHUP: refused, the pair in use stays
install_pair half.pem new2.key
hup_wait 2
expect "SIGHUP with a half-written pair: a warning" "were reloaded (SIGHUP) but cannot be used" ocsph.log
openssl ocsp -url "$HURL" -issuer ca/ca.pem -cert out/sign.pem -CAfile ca/ca.pem \
    -resp_text >hup2.txt 2>&1 || true
expect "SIGHUP with a bad pair: the previous signer still signs" "Renewed OCSP new1" hup2.txt
expect "SIGHUP with a bad pair: still verifies" "Response verify OK" hup2.txt
kill -0 "$PID_ocsph" && ok "the responder runs on after SIGHUP" || bad "the responder died"
stop "$PID_ocsph"
[ "$STOPPED" = 0 ] && ok "SIGTERM after SIGHUP: exit 0" || bad "SIGTERM after SIGHUP: exit $STOPPED"

# --- flags ---------------------------------------------------------------------
run_status "--cert-hash with --ca is refused" 2 "$OCSP" run --ca tcp://127.0.0.1:1 \
    --ocsp-cert ca/ocsp.pem --ocsp-key ca/ocsp.key --http 127.0.0.1:0 --cert-hash
expect "and says why" "--cert-hash needs --ca-dir" out.txt
run_status "a backdate over a day is refused" 2 "$OCSP" run --ca-dir ca --http 127.0.0.1:0 \
    --this-update-backdate 86401
run_status "a negative backdate is refused" 2 "$OCSP" run --ca-dir ca --http 127.0.0.1:0 \
    --this-update-backdate -5

stop "$PID_ocsp"
[ "$STOPPED" = 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $STOPPED"
finish
