#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_ca_revoke.sh SERVER RA_DRIVE CA OPENSSL - a revocation made at the
# CA ("splitkey-ca revoke", the operator) reaches the share server that
# requested the certificate, which then refuses to sign with that key; and
# the share server trusts only replies signed by the CA of --ca-cert.
#   - CA revocation with everything up: the poll destroys the key (event 22),
#     the device sees DESTROYED and cannot sign, the CA's status is revoked;
#   - the share server down at the time of the revocation: applied at start;
#   - the CA down for a while after the revocation: applied once it is back;
#   - a fake CA (the same database, another key) confirming a revocation or
#     issuing a certificate: nothing of it is stored;
#   - --ca without --ca-cert is refused (exit 2).
# Ports are picked at run time (port 0); waits poll log lines, never a
# fixed long sleep.
set -u
SERVER=$1
RA=$2
CA=$3
OPENSSL=$4

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-carev-XXXXXX")
PID_CA= PID_SRV=
FAILED=0

cleanup() {
    for p in $PID_SRV $PID_CA; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

ok() { echo "ok: $*"; }
fail() { FAILED=1; echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@" >check.out 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' check.out >&2; fi
}
wait_file() { # wait_file FILE PID
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.02
    done
}
wait_line() { # wait_line FILE FIXED-STRING COUNT PID: until FILE holds COUNT such lines
    while [ "$(grep -cF -- "$2" "$1" 2>/dev/null)" -lt "$3" ]; do
        kill -0 "$4" 2>/dev/null || return 1
        sleep 0.05
    done
}

"$CA" init --dir ca --subject "CN=Splitkey Revocation Test CA,O=Splitkey Test,C=LV" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
    --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null ||
    { echo "CA init failed" >&2; exit 1; }
"$SERVER" init --dir srv >/dev/null || { echo "server init failed" >&2; exit 1; }
"$CA" add-ra --dir ca --pub srv/server.pub >/dev/null || { echo "add-ra failed" >&2; exit 1; }

start_ca() { # start_ca DIR [URL]
    rm -f ca.ready
    "$CA" run --dir "$1" --listen "${2:-tcp://127.0.0.1:0}" --ready-file ca.ready >>ca.log 2>&1 &
    PID_CA=$!
    wait_file ca.ready "$PID_CA" || { echo "the CA did not start" >&2; cat ca.log >&2; exit 1; }
    CAURL=$(head -n1 ca.ready)
}
stop_ca() { kill -TERM "$PID_CA"; wait "$PID_CA"; PID_CA=; }
start_server() {
    rm -f srv.ready
    "$SERVER" run --dir srv --listen "${SRVURL:-tcp://127.0.0.1:0}" --ready-file srv.ready \
        --db "sqlite:$T/server.db" --open-enrolment --pool-profiles 4K --pool-size 2 \
        --ca "$CAURL" --ca-cert ca/ca.pem --ca-timeout 2000 --ca-retry-every 1 \
        --ca-revocations-every 1 >>server.log 2>&1 &
    PID_SRV=$!
    wait_file srv.ready "$PID_SRV" || { echo "the server did not start" >&2; cat server.log >&2; exit 1; }
    SRVURL=$(head -n1 srv.ready)
}
stop_server() { kill -TERM "$PID_SRV"; wait "$PID_SRV"; PID_SRV=; }
drive() { "$RA" --server "$SRVURL" --server-pub srv/server.pub "$@"; }
# the serial as the server logs it: lower-case hex, two digits a byte (a
# leading zero digit stays, or the log would never match)
serial_of() { "$OPENSSL" x509 -inform DER -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'; }
state_is() { drive --state "$1" state | grep -qx "state $2"; }

# --- (d) --ca without --ca-cert ------------------------------------------------
"$SERVER" run --dir srv --listen tcp://127.0.0.1:0 --db "sqlite:$T/none.db" \
    --ca tcp://127.0.0.1:9 >noca.out 2>&1
rc=$?
check "--ca without --ca-cert: exit 2" test "$rc" = 2
check "... saying why" grep -q -- "--ca needs --ca-cert" noca.out

start_ca ca
start_server
echo "CA $CAURL, share server $SRVURL"

enrol() { # enrol NAME SUBJECT
    drive --state "$1.st" --subject "$2" --cert-out "$1.der" enrol >"$1.enrol" 2>&1
}

# --- (a) revocation at the CA with both sides up -------------------------------
check "A enrols with a certificate" enrol a "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-11111"
SA=$(serial_of a.der)
echo "contract" >msg.txt
check "A signs before the revocation" drive --state a.st sign msg.txt a.sig
check "the operator revokes A's certificate at the CA" \
    "$CA" revoke --dir ca --serial "$SA" --reason keyCompromise
check "the share server learns it from its poll" \
    wait_line server.log "certificate $SA revoked at the CA (keyCompromise); key destroyed" 1 "$PID_SRV"
check "A's key is DESTROYED at the server" state_is a.st 5
if drive --state a.st sign msg.txt a2.sig >a2.out 2>&1; then
    fail "A still signs after the CA revoked its certificate"
else
    ok "A cannot sign any more"
fi
crl_lists() { "$CA" crl --dir ca --out crl.pem >/dev/null &&
    "$OPENSSL" crl -in crl.pem -noout -text | tr 'A-Z' 'a-z' | tr -d ' ' | grep -q "serialnumber:0*$1\$"; }
check "the CA's CRL lists A's certificate" crl_lists "$SA"

# --- (b1) the share server down at the time of the revocation ------------------
check "B enrols with a certificate" enrol b "C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222"
SB=$(serial_of b.der)
stop_server
check "the operator revokes B while the share server is down" \
    "$CA" revoke --dir ca --serial "$SB" --reason cessationOfOperation
start_server
check "the share server applies it when it starts" \
    wait_line server.log "certificate $SB revoked at the CA (cessationOfOperation); key destroyed" 1 "$PID_SRV"
check "B's key is DESTROYED" state_is b.st 5

# --- (b2) the CA down for a while after the revocation -------------------------
check "C enrols with a certificate" enrol c "C=LV,GN=LIGA,SN=KALNA,serialNumber=PNOLV-030303-33333"
SC=$(serial_of c.der)
CAURL_KEEP=$CAURL
stop_ca
check "the operator revokes C while the CA is not running" \
    "$CA" revoke --dir ca --serial "$SC" --reason keyCompromise
check "the share server's poll meets no CA" \
    wait_line server.log "revocation poll: the CA did not answer" 1 "$PID_SRV"
check "C still ACTIVE while the CA is down" state_is c.st 3
start_ca ca "$CAURL_KEEP"
check "the poll applies it once the CA is back" \
    wait_line server.log "certificate $SC revoked at the CA (keyCompromise); key destroyed" 1 "$PID_SRV"
check "C's key is DESTROYED" state_is c.st 5

# --- (c) a fake CA: the same database, another key -----------------------------
check "D enrols with a certificate" enrol d "C=LV,GN=INTA,SN=LIEPA,serialNumber=PNOLV-040404-44444"
SD=$(serial_of d.der)
stop_ca
"$CA" init --dir other --subject "CN=Someone Else,O=Splitkey Test,C=LV" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
    --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null
mkdir fake && cp -p ca/* fake/ && cp -p other/ca.key other/ca.pem other/ocsp.key other/ocsp.pem fake/
check "the fake CA (with the real database) confirms a revocation of D" \
    "$CA" revoke --dir fake --serial "$SD" --reason keyCompromise
start_ca fake "$CAURL_KEEP"
n0=$(grep -c "revocation poll: CA reply refused" server.log)
check "the share server refuses the fake CA's replies" \
    wait_line server.log "revocation poll: CA reply refused" $((n0 + 2)) "$PID_SRV"
check "D stays ACTIVE" state_is d.st 3
check "D still signs" drive --state d.st sign msg.txt d.sig
if grep -qF "certificate $SD revoked at the CA" server.log; then
    fail "the fake revocation was applied"
else
    ok "nothing of the fake revocation was applied"
fi
drive --state e.st --subject "C=LV,GN=EVA,SN=KOKA,serialNumber=PNOLV-050505-55555" \
    --cert-out e.der enrol >e.enrol 2>&1
rc=$?
check "an issue answered by the fake CA: the device is told to try again (exit 3)" test "$rc" = 3
check "... and the key stays PENDING without a certificate" state_is e.st 2
check "... logged as a refused reply" grep -q "CA reply refused" server.log
stop_ca
start_ca ca "$CAURL_KEEP"
check "with the real CA back, E's retry gets a certificate" \
    drive --state e.st --cert-out e.der pop-retry
check "E is ACTIVE" state_is e.st 3
check "D is still ACTIVE with the real CA (the real CA never revoked it)" state_is d.st 3

stop_server
stop_ca
if [ "$FAILED" -ne 0 ]; then
    echo "--- server.log (last 40 lines)" >&2
    tail -n 40 server.log >&2
    exit 1
fi
echo "all checks passed"
