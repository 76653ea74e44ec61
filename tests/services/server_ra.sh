# SPDX-License-Identifier: Apache-2.0
# server_ra.sh SERVER RA_DRIVE CA OCSP OPENSSL SQLITE3 - the share server as
# a registration authority, end to end with the real programs on loopback
# ports picked at run time (port 0), in a temporary directory of its own:
#   - enrolment (SIGN and AUTH) ends with a certificate that openssl verify
#     accepts, whose key is the composite n and whose profile is right: this
#     server enrols openly (no registration token, nobody checked the
#     subject), so the basic profiles (NCP), never a qualified one;
#   - later signatures (device and relying party) verify under it, and the
#     relying party gets the certificate with the signature;
#   - OCSP: good; revoked keyCompromise after a clone; revoked
#     cessationOfOperation after a lockout (short lock times);
#   - CA down at enrolment: the key stays PENDING with no certificate, and a
#     retry after the CA is back succeeds;
#   - a revocation the CA misses is asked again when the server restarts;
#   - a share server the CA does not know as an RA gets a refusal.
set -u
SERVER=$1
RA=$2
CA=$3
OCSP=$4
OPENSSL=$5
SQLITE3=$6

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-ra-XXXXXX")
. "$(dirname "$0")/rp_test_lib.sh" # RP_API_ARGS: the test relying party
PID_CA= PID_OCSP= PID_SRV= PID_SRV2=
FAILED=0
CHECKS=0

cleanup() {
    for p in $PID_SRV $PID_SRV2 $PID_OCSP $PID_CA; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILED=1; echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@" >check.out 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' check.out >&2; fi
}
expect() { # expect DESCRIPTION FIXED-STRING FILE
    if grep -qF -- "$2" "$3"; then ok "$1"; else
        fail "$1 (no '$2' in $3)"; sed 's/^/    /' "$3" | head -60 >&2; fi
}
expect_not() {
    if grep -qF -- "$2" "$3"; then fail "$1 ('$2' in $3)"; else ok "$1"; fi
}
wait_file() { # wait_file FILE PID
    local i=0
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || return 1
        i=$((i + 1))
        [ $i -gt 3000 ] && return 1
        sleep 0.02
    done
}

# --- the CA, its responder and the share server --------------------------------
"$CA" init --dir ca --subject "CN=Splitkey RA Test CA,O=Splitkey Test,C=LV" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
    --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null ||
    { echo "CA init failed" >&2; exit 1; }
"$SERVER" init --dir srv >/dev/null || { echo "server init failed" >&2; exit 1; }
rp_test_register srv || exit 1
check "the share server is registered as an RA" "$CA" add-ra --dir ca --pub srv/server.pub

start_ca() { # start_ca [URL]
    rm -f ca.ready
    "$CA" run --dir ca --listen "${1:-tcp://127.0.0.1:0}" --ready-file ca.ready >>ca.log 2>&1 &
    PID_CA=$!
    wait_file ca.ready "$PID_CA" || { echo "the CA did not start" >&2; cat ca.log >&2; exit 1; }
    CAURL=$(head -n1 ca.ready)
}
stop_ca() { kill -TERM "$PID_CA"; wait "$PID_CA"; PID_CA=; }
start_server() {
    rm -f srv.ready
    "$SERVER" run --dir srv --listen "${SRVURL:-tcp://127.0.0.1:0}" --ready-file srv.ready "${RP_LISTEN[@]}" \
        --db "sqlite:$T/server.db" --open-enrolment --pool-profiles 4K --pool-size 2 \
        --ca "$CAURL" --ca-cert ca/ca.pem --ca-timeout 2000 --ca-retry-every 1 \
        --lock1-seconds 1 --lock2-seconds 2 >>server.log 2>&1 &
    PID_SRV=$!
    wait_file srv.ready "$PID_SRV" || { echo "the server did not start" >&2; cat server.log >&2; exit 1; }
    SRVURL=$(head -n1 srv.ready)
    rp_test_args srv.ready srv || exit 1
}
stop_server() { kill -TERM "$PID_SRV"; wait "$PID_SRV"; PID_SRV=; }

start_ca
"$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready >ocsp.log 2>&1 &
PID_OCSP=$!
wait_file ocsp.ready "$PID_OCSP" || { echo "the OCSP responder did not start" >&2; exit 1; }
OURL=$(head -n1 ocsp.ready)
start_server
echo "CA $CAURL, OCSP $OURL, share server $SRVURL"

drive() { "$RA" --server "$SRVURL" --server-pub srv/server.pub "$@"; }
ocsp() { # ocsp CERT -> ocsp.txt
    "$OPENSSL" ocsp -url "$OURL" -issuer ca/ca.pem -cert "$1" -CAfile ca/ca.pem -nonce \
        >ocsp.txt 2>&1 || true
}
der2pem() { "$OPENSSL" x509 -inform DER -in "$1" -out "$2"; }
same_key() { # same_key CERT.pem PUB.pem: the certificate holds exactly that key
    "$OPENSSL" x509 -in "$1" -noout -pubkey | "$OPENSSL" pkey -pubin -outform DER >k1.der &&
        "$OPENSSL" pkey -pubin -in "$2" -outform DER >k2.der && cmp -s k1.der k2.der
}
ANNA="C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"
JANIS="C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222"

# --- SIGN: open enrolment ends with a basic (not qualified) signing certificate ---
check "SIGN enrolment returns a certificate" \
    drive --state sign.st --subject "$ANNA" --cert-out sign.der --pub-out sign.pub enrol
der2pem sign.der sign.pem
check "openssl verify accepts the SIGN certificate" "$OPENSSL" verify -CAfile ca/ca.pem sign.pem
check "the SIGN certificate's key is the composite n" same_key sign.pem sign.pub
"$OPENSSL" x509 -in sign.pem -noout -text >sign.txt
expect "the key is the 4096-bit composite modulus" "Public-Key: (4096 bit)" sign.txt
grep -A1 "X509v3 Key Usage: critical" sign.txt >ku.txt
expect "SIGN: nonRepudiation, critical" "Non Repudiation" ku.txt
expect "SIGN (open enrolment): the basic policy NCP" "Policy: 0.4.0.2042.1.1" sign.txt
expect_not "SIGN (open enrolment): never QCP-n-qscd" "0.4.0.194112.1.2" sign.txt
"$OPENSSL" asn1parse -in sign.pem >sign.asn1
expect_not "SIGN (open enrolment): no qcStatements" "qcStatements" sign.asn1
grep -q "CA issued certificate .* (sign-basic)" server.log &&
    ok "the server logged the basic profile" || fail "no 'sign-basic' issue in server.log"
expect "SIGN: the registered subject" "serialNumber = PNOLV-010101-12345" sign.txt
check "the device reports ACTIVE" sh -c "\"$RA\" --server $SRVURL --server-pub srv/server.pub \
    --state sign.st state | grep -qx 'state 3'"

# --- a signature afterwards verifies under the certificate's key ---------------
echo "contract: 1000 EUR" >msg.txt
check "the device signs after enrolment" drive --state sign.st --cert-out sign2.der sign msg.txt msg.sig
"$OPENSSL" x509 -in sign.pem -noout -pubkey >certpub.pem
check "openssl dgst verifies the signature under the certificate's key" \
    "$OPENSSL" dgst -sha256 -verify certpub.pem -signature msg.sig msg.txt
check "the sign reply carries the same certificate" cmp -s sign.der sign2.der
echo "relying party document" >rp.txt
check "a relying party gets signature and certificate" \
    drive --state sign.st --person PNOLV-010101-12345 --cert-out rp.der "${RP_API_ARGS[@]}" \
    rp rp.txt rp.sig
check "the relying party's certificate is the key's" cmp -s sign.der rp.der
check "the relying party's signature verifies under it" \
    "$OPENSSL" dgst -sha256 -verify certpub.pem -signature rp.sig rp.txt

ocsp sign.pem
expect "OCSP: the SIGN certificate is good" "sign.pem: good" ocsp.txt
expect "OCSP: the response verifies" "Response verify OK" ocsp.txt
expect_not "OCSP: the nonce is echoed" "WARNING: no nonce" ocsp.txt
# GnuTLS as a second, independent checker when it is installed
if command -v certtool >/dev/null && command -v ocsptool >/dev/null; then
    certtool --verify --load-ca-certificate ca/ca.pem --infile sign.pem >gnutls.txt 2>&1 || true
    expect "certtool: the chain verifies" "Chain verification output: Verified" gnutls.txt
    ocsptool --ask="$OURL" --load-issuer ca/ca.pem --load-cert sign.pem \
        --load-trust ca/ca.pem >gnutls.txt 2>&1 || true
    expect "ocsptool: the response verifies" "Verifying OCSP Response: Success" gnutls.txt
    expect "ocsptool: the SIGN certificate is good" "Certificate Status: good" gnutls.txt
fi

# --- AUTH: an authentication certificate; a clone revokes it -------------------
check "AUTH enrolment returns a certificate" \
    drive --state auth.st --purpose auth --subject "$ANNA" --cert-out auth.der \
    --pub-out auth.pub enrol
der2pem auth.der auth.pem
check "openssl verify accepts the AUTH certificate" "$OPENSSL" verify -CAfile ca/ca.pem auth.pem
check "the AUTH certificate's key is the composite n" same_key auth.pem auth.pub
"$OPENSSL" x509 -in auth.pem -noout -text >auth.txt
grep -A1 "X509v3 Key Usage: critical" auth.txt >ku.txt
expect "AUTH: digitalSignature, critical" "Digital Signature" ku.txt
expect "AUTH: clientAuth" "TLS Web Client Authentication" auth.txt
expect "AUTH (open enrolment): NCP" "Policy: 0.4.0.2042.1.1" auth.txt
expect_not "AUTH (open enrolment): never NCP+" "0.4.0.2042.1.2" auth.txt
ocsp auth.pem
expect "OCSP: the AUTH certificate is good" "auth.pem: good" ocsp.txt

check "a copy of the AUTH device state is caught as a clone" \
    drive --state auth.st --purpose auth clone
ocsp auth.pem
expect "OCSP: AUTH revoked after the clone" "auth.pem: revoked" ocsp.txt
expect "OCSP: reason keyCompromise" "Reason: keyCompromise" ocsp.txt
ocsp sign.pem
expect "OCSP: the SIGN certificate is still good" "sign.pem: good" ocsp.txt

# --- SIGN: nine wrong PINs destroy the key and revoke it -----------------------
check "nine wrong PINs (locks waited out) destroy the SIGN key" drive --state sign.st lockout
ocsp sign.pem
expect "OCSP: SIGN revoked after the lockout" "sign.pem: revoked" ocsp.txt
expect "OCSP: reason cessationOfOperation" "Reason: cessationOfOperation" ocsp.txt

# --- the CA is down at enrolment ------------------------------------------------
stored_before=$("$SQLITE3" server.db "select count(*) from events where kind = 18")
stop_ca
drive --state j.st --subject "$JANIS" --cert-out j.der --pub-out j.pub enrol >j.out 2>&1
rc=$?
[ "$rc" -eq 3 ] && ok "CA down: the device is told to try again (exit 3)" ||
    { fail "CA down: enrol exit $rc, expected 3"; cat j.out >&2; }
expect "CA down: the device hears that the CA is unavailable" "certificate authority unavailable" j.out
[ ! -e j.der ] && ok "CA down: the device has no certificate" || fail "CA down: a certificate appeared"
check "CA down: the key is still PENDING at the server" sh -c "\"$RA\" --server $SRVURL \
    --server-pub srv/server.pub --state j.st state | grep -qx 'state 2'"
stored_now=$("$SQLITE3" server.db "select count(*) from events where kind = 18")
[ "$stored_now" = "$stored_before" ] && ok "CA down: no certificate was stored" ||
    fail "CA down: certificate events $stored_before -> $stored_now"
expect "CA down: the server logs why" "CA did not issue" server.log
start_ca "$CAURL"
check "CA back: approving the proof of possession again yields the certificate" \
    drive --state j.st --cert-out j.der pop-retry
der2pem j.der j.pem
check "CA back: openssl verify accepts it" "$OPENSSL" verify -CAfile ca/ca.pem j.pem
check "CA back: its key is the composite n" same_key j.pem j.pub
check "CA back: the key is ACTIVE" sh -c "\"$RA\" --server $SRVURL \
    --server-pub srv/server.pub --state j.st state | grep -qx 'state 3'"
check "the CA's audit log verifies" "$CA" audit-verify --dir ca

# --- a revocation the CA misses is not lost -------------------------------------
stop_ca
check "CA down: a clone of Janis's key is still caught" drive --state j.st clone
expect "the failed revocation is logged for a retry" "will retry" server.log
stop_server
start_ca "$CAURL"
start_server
revoked=0
for _ in $(seq 1 100); do
    ocsp j.pem
    if grep -qF "j.pem: revoked" ocsp.txt; then revoked=1; break; fi
    sleep 0.1
done
[ $revoked -eq 1 ] && ok "after a restart the revocation reaches the CA" ||
    { fail "the missed revocation never reached the CA"; cat ocsp.txt >&2; }
expect "... with reason keyCompromise" "Reason: keyCompromise" ocsp.txt
# the CA answers (and OCSP says revoked) just before the server commits
# its confirmation: wait for that commit
for _ in $(seq 1 100); do
    confirmed=$("$SQLITE3" server.db "select count(*) from events where kind = 19 and detail = 1")
    [ "$confirmed" -ge 2 ] && break
    sleep 0.1
done
[ "$confirmed" -ge 2 ] && ok "both keyCompromise revocations are confirmed in the event log" ||
    fail "confirmed keyCompromise revocations: $confirmed"

# --- a share server the CA does not know is refused -------------------------------
"$SERVER" init --dir srv2 >/dev/null || { echo "second server init failed" >&2; exit 1; }
rm -f srv2.ready
"$SERVER" run --dir srv2 --listen tcp://127.0.0.1:0 --ready-file srv2.ready \
    --db "sqlite:$T/server2.db" --open-enrolment --pool-profiles 4K --pool-size 1 \
    --ca "$CAURL" --ca-cert ca/ca.pem >>server2.log 2>&1 &
PID_SRV2=$!
wait_file srv2.ready "$PID_SRV2" || { echo "the second server did not start" >&2; exit 1; }
"$RA" --server "$(head -n1 srv2.ready)" --server-pub srv2/server.pub --state k.st \
    --subject "$JANIS" --cert-out k.der enrol >k.out 2>&1
rc=$?
[ "$rc" -eq 3 ] && ok "unregistered RA: the device is told (exit 3)" ||
    { fail "unregistered RA: enrol exit $rc, expected 3"; cat k.out >&2; }
expect "unregistered RA: the CA refused" "certificate authority refused" k.out
expect "unregistered RA: the server log says what to do" "splitkey-ca add-ra" server2.log
[ ! -e k.der ] && ok "unregistered RA: no certificate" || fail "unregistered RA: a certificate"
kill -TERM "$PID_SRV2"
wait "$PID_SRV2" && ok "the second server stops cleanly" || fail "the second server's exit status"
PID_SRV2=

stop_server && ok "the share server stops cleanly" || fail "the share server's exit status"
echo "$CHECKS checks"
if [ "$FAILED" -ne 0 ]; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 server.log >&2
    exit 1
fi
echo "all checks passed"
