#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pg_ra_servers.sh SERVER RA_DRIVE CA - two share servers on one PostgreSQL
# database (a temporary cluster, pg_lib.sh), both registration authorities
# of one splitkey-ca, both retrying revocations and polling the CA's every
# second:
#   - a clone destroys a key while the CA is down; once the CA is back the
#     revocation is sent by one server only and confirmed once (one event
#     19, one "revoked" line in the two logs together), and the CA lists it;
#   - a revocation made at the CA destroys the key once (one event 22) and
#     the CA-revocation cursor in store_meta is the CA's seq, never behind;
#   - the revocation lease in store_meta is free again when both stop.
set -u
SERVER=$1 RA=$2 CA=$3
. "$(dirname "$0")/pg_lib.sh"
pg_require
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-pgra-XXXXXX")
PID_CA= PID_S1= PID_S2=
FAILED=0
cleanup() {
    for p in $PID_S1 $PID_S2 $PID_CA; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
pg_start || { echo "FAIL: the PostgreSQL cluster did not start" >&2; exit 1; }
cd "$T" || exit 1
ok() { echo "ok: $*"; }
fail() { FAILED=1; echo "FAIL: $*" >&2; }
check() {
    local what=$1
    shift
    if "$@" >check.out 2>&1; then ok "$what"; else fail "$what"; sed 's/^/    /' check.out >&2; fi
}
pgq() { $PG_PSQL -t -A -c "$1"; }
wait_file() {
    while [ ! -s "$1" ]; do
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.02
    done
}
wait_sql() { # wait_sql SQL VALUE: until the query gives VALUE (the servers must run)
    while [ "$(pgq "$1")" != "$2" ]; do
        kill -0 "$PID_S1" 2>/dev/null && kill -0 "$PID_S2" 2>/dev/null || return 1
        sleep 0.1
    done
}

"$CA" init --dir ca --subject "CN=Splitkey Two Servers Test CA,O=Splitkey Test,C=LV" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
    --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null ||
    { echo "CA init failed" >&2; exit 1; }
"$SERVER" init --dir srv1 >/dev/null || { echo "server init failed" >&2; exit 1; }
cp -r srv1 srv2
"$CA" add-ra --dir ca --pub srv1/server.pub >/dev/null || { echo "add-ra failed" >&2; exit 1; }

start_ca() { # start_ca [URL]
    rm -f ca.ready
    "$CA" run --dir ca --listen "${1:-tcp://127.0.0.1:0}" --ready-file ca.ready >>ca.log 2>&1 &
    PID_CA=$!
    wait_file ca.ready "$PID_CA" || { echo "the CA did not start" >&2; cat ca.log >&2; exit 1; }
    CAURL=$(head -n1 ca.ready)
}
stop_ca() { kill -TERM "$PID_CA"; wait "$PID_CA"; PID_CA=; }
start_server() { # start_server N
    rm -f "s$1.ready"
    "$SERVER" run --dir "srv$1" --listen tcp://127.0.0.1:0 --ready-file "s$1.ready" \
        --db "$PG_URI" --open-enrolment --pool-profiles 4K --pool-size 2 \
        --ca "$CAURL" --ca-cert ca/ca.pem --ca-timeout 2000 --ca-retry-every 1 \
        --ca-revocations-every 1 >>"s$1.log" 2>&1 &
    local pid=$!
    printf -v "PID_S$1" %s "$pid"
    wait_file "s$1.ready" "$pid" || { echo "server $1 did not start" >&2; cat "s$1.log" >&2; exit 1; }
    printf -v "URL_S$1" %s "$(head -n1 "s$1.ready")"
}
drive() { local url=$1; shift; "$RA" --server "$url" --server-pub srv1/server.pub "$@"; }
serial_of() { openssl x509 -inform DER -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'; }

start_ca
start_server 1
start_server 2
echo "CA $CAURL, share servers $URL_S1 $URL_S2"

# --- a clone while the CA is down; the revocation once the CA is back
check "A enrols with a certificate (server 1)" drive "$URL_S1" --state a.st \
    --subject "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-11111" --cert-out a.der enrol
SA=$(serial_of a.der)
KA=$(pgq "SELECT encode(key_id, 'hex') FROM keys")
CAURL_KEEP=$CAURL
stop_ca
check "a copy of A signs: clone detected (server 2), the key destroyed" \
    drive "$URL_S2" --state a.st clone
check "the revocation is due (event 10)" \
    test "$(pgq "SELECT count(*) FROM events WHERE kind = 10 AND key_id = decode('$KA', 'hex')")" = 1
start_ca "$CAURL_KEEP"
check "the revocation is confirmed once the CA is back" \
    wait_sql "SELECT count(*) > 0 FROM events WHERE kind = 19 AND key_id = decode('$KA', 'hex')" t
sleep 3 # both servers run several more retry passes meanwhile
check "exactly one confirmation (event 19)" \
    test "$(pgq "SELECT count(*) FROM events WHERE kind = 19 AND key_id = decode('$KA', 'hex')")" = 1
sent=$(cat s1.log s2.log | grep -c "certificate $SA revoked (keyCompromise)")
check "one server sent the revocation, once (the logs: $sent)" test "$sent" = 1
check "the CA lists A as revoked" bash -c "'$CA' crl --dir ca --out crl.pem >/dev/null &&
    openssl crl -in crl.pem -noout -text | tr 'A-Z' 'a-z' | tr -d ' ' | grep -q 'serialnumber:0*$SA\$'"

# --- a revocation made at the CA: both servers poll it, the key goes once
check "B enrols with a certificate (server 2)" drive "$URL_S2" --state b.st \
    --subject "C=LV,GN=JANIS,SN=OZOLS,serialNumber=PNOLV-020202-22222" --cert-out b.der enrol
SB=$(serial_of b.der)
KB=$(pgq "SELECT encode(key_id, 'hex') FROM keys WHERE key_id <> decode('$KA', 'hex')")
check "the operator revokes B at the CA" "$CA" revoke --dir ca --serial "$SB" --reason keyCompromise
check "a server destroys B" \
    wait_sql "SELECT count(*) > 0 FROM events WHERE kind = 22 AND key_id = decode('$KB', 'hex')" t
sleep 3
check "exactly one event 22 for B" \
    test "$(pgq "SELECT count(*) FROM events WHERE kind = 22 AND key_id = decode('$KB', 'hex')")" = 1
check "exactly one destruction of B (event 8)" \
    test "$(pgq "SELECT count(*) FROM events WHERE kind = 8 AND key_id = decode('$KB', 'hex')")" = 1
applied=$(cat s1.log s2.log | grep -c "certificate $SB revoked at the CA (keyCompromise); key destroyed")
check "one server applied it (the logs: $applied)" test "$applied" = 1
cursor=$(pgq "SELECT convert_from(value, 'UTF8') FROM store_meta WHERE name = 'ca_revocation_seq'")
check "the CA-revocation cursor is past B's revocation ($cursor)" test "${cursor:-0}" -ge 1
check "B's key is DESTROYED at both servers" bash -c \
    "'$RA' --server '$URL_S1' --server-pub srv1/server.pub --state b.st state | grep -qx 'state 5' &&
     '$RA' --server '$URL_S2' --server-pub srv1/server.pub --state b.st state | grep -qx 'state 5'"

for n in 1 2; do
    pid_var=PID_S$n
    kill -TERM "${!pid_var}"
    wait "${!pid_var}" || fail "server $n did not stop cleanly"
    printf -v "PID_S$n" %s ""
done
stop_ca
lease=$(pgq "SELECT octet_length(value) FROM store_meta WHERE name = 'ra_lease'")
check "the revocation lease is free after the servers stopped (length ${lease:-none})" \
    test "${lease:-0}" = 0
check "the store passes its check" "$SERVER" check --dir srv1 --db "$PG_URI"
if [ "$FAILED" -ne 0 ]; then
    for n in 1 2; do
        echo "--- server $n log (last 30 lines)" >&2
        tail -n 30 "s$n.log" >&2
    done
    exit 1
fi
echo "all checks passed"
exit 0
