#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# ca_metrics.sh SERVER RA_DRIVE CA OCSP OPENSSL PYTHON3 CURL - the operator's
# listener of splitkey-ca and splitkey-ocsp (--metrics-listen): the CA counts
# its requests by kind and by the result of its reply (an issue served, one
# refused to an RA it does not know), the responder its answers by status
# (successful, malformedRequest, and a 405 for another method); /health is
# 200 for both; a metrics address that is not loopback, or the responder's
# own HTTP address, is refused at start with exit 2.
set -u
SERVER=$1 RA=$2 CA=$3 OCSP=$4 OPENSSL=$5 PYTHON3=$6 CURL=$7
CHECKER="$(cd "$(dirname "$0")" && pwd)/metrics_check.py"

T=$(mktemp -d "${TMPDIR:-/tmp}/sk-cam-XXXXXX")
PIDS=
FAILED=0
cleanup() {
    for p in $PIDS; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T" || exit 1

fail() { echo "FAIL: $*" >&2; FAILED=1; }
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@" >check.out 2>&1; then echo "ok: $what"; else fail "$what"; sed 's/^/    /' check.out >&2; fi
}
# start NAME READY-FILE COMMAND...: runs COMMAND in the background (stderr in
# NAME.log) and waits for its ready file
start() {
    local name=$1 ready=$2 i=0
    shift 2
    "$@" 2>>"$name.log" &
    local pid=$!
    PIDS="$PIDS $pid"
    while [ ! -s "$ready" ]; do
        kill -0 "$pid" 2>/dev/null || { echo "$name did not start" >&2; cat "$name.log" >&2; exit 1; }
        i=$((i + 1))
        [ $i -gt 3000 ] && { echo "$name not ready" >&2; exit 1; }
        sleep 0.02
    done
}
metrics_url() { grep -o 'for the operator on http://[^ ]*' "$1.log" | tail -n1 | awk '{print $NF}'; }
ANNA="C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345"

"$CA" init --dir ca --subject "CN=Metrics Test CA,O=Splitkey Test,C=LV" \
    --ocsp-url http://127.0.0.1:9/ocsp --ca-url http://127.0.0.1:9/ca.crt \
    --pds-url https://example.org/pds_en.pdf >/dev/null || { echo "CA init failed" >&2; exit 1; }
"$SERVER" init --dir srv >/dev/null && "$SERVER" init --dir stranger >/dev/null ||
    { echo "server init failed" >&2; exit 1; }
"$CA" add-ra --dir ca --pub srv/server.pub >/dev/null || { echo "add-ra failed" >&2; exit 1; }

# --- refused at start -------------------------------------------------------------
"$CA" run --dir ca --listen tcp://127.0.0.1:0 --metrics-listen http://192.0.2.7:9464 \
    >remote.out 2>&1
check "splitkey-ca: a non-loopback metrics address: exit 2" test $? = 2
check "... saying why" grep -q 'not a loopback address' remote.out
"$OCSP" run --ca-dir ca --http 127.0.0.1:0 --metrics-listen http://[2001:db8::1]:9464 \
    >remote.out 2>&1
check "splitkey-ocsp: a non-loopback metrics address: exit 2" test $? = 2

# --- the services -----------------------------------------------------------------
start ca ca.ready "$CA" run --dir ca --listen tcp://127.0.0.1:0 --ready-file ca.ready \
    --metrics-listen http://127.0.0.1:0
CAURL=$(head -n1 ca.ready)
start ocsp ocsp.ready "$OCSP" run --ca-dir ca --http 127.0.0.1:0 --ready-file ocsp.ready \
    --metrics-listen http://127.0.0.1:0
OURL=$(head -n1 ocsp.ready)
for s in srv stranger; do
    start "$s" "$s.ready" "$SERVER" run --dir "$s" --listen tcp://127.0.0.1:0 \
        --ready-file "$s.ready" --db "sqlite:$T/$s.db" --open-enrolment --pool-profiles 4K \
        --pool-size 1 --ca "$CAURL" --ca-cert ca/ca.pem
done
CM=$(metrics_url ca)
OM=$(metrics_url ocsp)
check "both listeners are announced" test -n "$CM" -a -n "$OM"

# the responder's own address for the metrics: refused (nng would share one
# HTTP server between the two), not served
port=$("$PYTHON3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$OCSP" run --ca-dir ca --http "127.0.0.1:$port" --metrics-listen "http://127.0.0.1:$port" \
    --ready-file same.ready >same.out 2>&1 &
same=$!
while kill -0 "$same" 2>/dev/null && [ ! -s same.ready ]; do sleep 0.02; done
if [ -s same.ready ]; then
    fail "splitkey-ocsp: metrics on the responder's own address was accepted"
    kill -9 "$same"
    wait "$same" 2>/dev/null
else
    wait "$same"
    check "splitkey-ocsp: metrics on the responder's own address: exit 2" test $? = 2
    check "... saying why" grep -q 'another HTTP listener' same.out
fi
check "splitkey-ca /health: 200 ok" test "$("$CURL" -s "$CM/health")" = ok
check "splitkey-ocsp /health: 200 ok" test "$("$CURL" -s "$OM/health")" = ok

# --- the load -----------------------------------------------------------------------
check "an enrolment through the RA gets a certificate" "$RA" --server "$(head -n1 srv.ready)" \
    --server-pub srv/server.pub --state a.st --subject "$ANNA" --cert-out a.der enrol
"$RA" --server "$(head -n1 stranger.ready)" --server-pub stranger/server.pub --state b.st \
    --subject "$ANNA" enrol >stranger.out 2>&1
check "an RA the CA does not know gets no certificate" grep -q 'refused' stranger.out
"$OPENSSL" x509 -inform DER -in a.der -out a.pem
"$OPENSSL" ocsp -url "$OURL" -issuer ca/ca.pem -cert a.pem -CAfile ca/ca.pem >ocsp.txt 2>&1
check "openssl ocsp: good" grep -q 'a.pem: good' ocsp.txt
check "PUT to the responder: 405" \
    test "$("$CURL" -s -o /dev/null -w '%{http_code}' -X PUT --data x "$OURL")" = 405
"$CURL" -s -o /dev/null -X POST -H 'Content-Type: application/ocsp-request' \
    --data-binary 'not DER' "$OURL"

# --- the scrapes --------------------------------------------------------------------
"$CURL" -s -o ca.metrics "$CM/metrics"
"$CURL" -s -o ocsp.metrics "$OM/metrics"
check "splitkey-ca counts what it served" "$PYTHON3" "$CHECKER" ca.metrics - \
    'splitkey_requests_total{kind="issue",outcome="ok"}=1' \
    'splitkey_requests_total{kind="issue",outcome="unknown_ra"}=1' \
    'splitkey_request_duration_seconds_count{kind="issue"}=2' \
    "splitkey_build_info{program=\"splitkey-ca\",version=\"$("$CA" --version | awk '{print $2}')\"}=1" \
    'splitkey_connections_open~'
# (the share servers' revocation polls are counted under kind="revocations")
check "splitkey-ca: no other request" \
    test "$(grep '^splitkey_requests_total' ca.metrics | grep -vc 'kind="revocations"')" = 2
check "splitkey-ocsp counts its answers" "$PYTHON3" "$CHECKER" ocsp.metrics - \
    'splitkey_ocsp_responses_total{status="successful"}=1' \
    'splitkey_ocsp_responses_total{status="malformedRequest"}=1' \
    'splitkey_ocsp_responses_total{status="http-405"}=1' \
    'splitkey_ocsp_responses_total{status="internalError"}=0' \
    'splitkey_ocsp_request_duration_seconds_count=3'
check "splitkey-ocsp: no request metrics of the REP loop" \
    bash -c "! grep -q '^splitkey_requests_total' ocsp.metrics"

if [ "$FAILED" -ne 0 ]; then
    for f in ca ocsp srv stranger; do
        echo "--- $f.log (last 15 lines)" >&2
        tail -n 15 "$f.log" >&2
    done
    exit 1
fi
echo "all checks passed"
