#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_metrics.sh SERVER DRIVE SQLITE3 CLIENT PYTHON3 CURL - the operator's
# listener of splitkey-server (--metrics-listen): a known load, then a scrape
# of /metrics that must count exactly what was sent.
#
#   sk_drive sign     2 keys x 5 signings
#   sk_drive lockout  3 wrong PINs on one key: it locks
#   sk_drive clone    2 signings, then a clone: the key is destroyed
#   splitkey-client   1 wrong PIN, then 1 signing with the right PIN
#
# Every enrolment ends with a proof of possession (one more sign-submit), so
# with 5 keys: sign-submit ok = 10 + 2 + 1 + 5 = 18, wrong PINs = 4, keys
# locked = 1, clones = 1.  splitkey_requests_total must also agree with the
# server's request log line by line, and each duration histogram's _count
# with its kind's requests.  Then: /health 200, POST 405 with Allow: GET,
# 404 elsewhere, and a non-loopback address refused at start (exit 2) unless
# --metrics-allow-remote is given.
SERVER=$1 DRIVE=$2 SQLITE3=$3 CLIENT=$4 PYTHON3=$5 CURL=$6
. "$(dirname "$0")/server_lib.sh"
CHECKER="$(dirname "$0")/metrics_check.py"

# metrics_url: the listener's URL from the server's notice (port 0 picks one)
metrics_url() {
    grep -o 'metrics and health for the operator on http://[^ ]*' "$T/server.log" | tail -n1 |
        awk '{print $NF}'
}

start_server --open-enrolment --pool-profiles 4K --pool-size 2 \
    --metrics-listen http://127.0.0.1:0 || { echo "server did not start" >&2; exit 1; }
M=$(metrics_url)
check "the metrics listener is announced" test -n "$M"

# --- /health, methods, paths ----------------------------------------------------
code=$("$CURL" -s -o "$T/health" -w '%{http_code}' "$M/health")
check "/health: 200" test "$code" = 200
check "/health: ok" test "$(cat "$T/health")" = ok
"$CURL" -s -D "$T/post.h" -o /dev/null -X POST --data x "$M/metrics"
check "POST /metrics: 405" grep -q '^HTTP/1.1 405' "$T/post.h"
check "405 names the method allowed" grep -qi '^Allow: GET' "$T/post.h"
code=$("$CURL" -s -o /dev/null -w '%{http_code}' -X DELETE "$M/health")
check "DELETE /health: 405" test "$code" = 405
code=$("$CURL" -s -o /dev/null -w '%{http_code}' "$M/")
check "GET /: 404" test "$code" = 404
code=$("$CURL" -s -o /dev/null -w '%{http_code}' "$M/metricsx")
check "GET /metricsx: 404" test "$code" = 404

# --- the load -------------------------------------------------------------------
drive --threads 2 --signs 5 sign >"$T/sign.out" 2>&1
check "sk_drive sign" test $? = 0
check "no signing needed a resend" grep -q '^signed 10 failures 0 errors 0' "$T/sign.out"
check "sk_drive lockout" drive lockout >"$T/lockout.out" 2>&1
check "sk_drive clone" drive clone >"$T/clone.out" 2>&1

printf '24680\n' >"$T/pin"
printf '13579\n' >"$T/pin-wrong"
printf 'one document\n' >"$T/doc"
client_enrol() {
    "$CLIENT" enrol --state "$T/dev" --server "$URL" --server-pub "$T/srv/server.pub" \
        --purpose sign --pin-file "$T/pin" --profile 4K \
        --subject "C=LV,GN=ANNA,SN=BERZINA,serialNumber=PNOLV-010101-12345" >/dev/null
}
check "client enrol" client_enrol
"$CLIENT" sign --state "$T/dev" --purpose sign --pin-file "$T/pin-wrong" --in "$T/doc" \
    --out "$T/doc.sig" >/dev/null 2>&1
check "client: a wrong PIN exits 3" test $? = 3
check "client signs with the right PIN" "$CLIENT" sign --state "$T/dev" --purpose sign \
    --pin-file "$T/pin" --in "$T/doc" --out "$T/doc.sig"

# --- the scrape -----------------------------------------------------------------
"$CURL" -s -D "$T/metrics.h" -o "$T/metrics" "$M/metrics"
check "GET /metrics: 200" grep -q '^HTTP/1.1 200' "$T/metrics.h"
check "text format 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/metrics.h"
version=$("$SERVER" --version | awk '{print $2}')
# the request log is complete once no request is in flight: the drivers
# have exited, and the scrape comes after their last reply
check "the counters are exactly what was sent" "$PYTHON3" "$CHECKER" "$T/metrics" \
    "$T/server.log" \
    "splitkey_requests_total{kind=\"sign-submit\",outcome=\"ok\"}=18" \
    "splitkey_requests_total{kind=\"sign-submit\",outcome=\"wrong_pin\"}=4" \
    "splitkey_requests_total{kind=\"enrol-init\",outcome=\"ok\"}=5" \
    "splitkey_requests_total{kind=\"enrol-submit\",outcome=\"ok\"}=5" \
    "splitkey_wrong_pins_total=4" \
    "splitkey_keys_locked_total=1" \
    "splitkey_clones_detected_total=1" \
    "splitkey_keys_destroyed_total{reason=\"clone\"}=1" \
    "splitkey_keys_destroyed_total{reason=\"lockout\"}=0" \
    "splitkey_store_errors_total=0" \
    "splitkey_request_duration_seconds_count{kind=\"sign-submit\"}=23" \
    "splitkey_build_info{program=\"splitkey-server\",version=\"$version\"}=1" \
    "splitkey_pool_keys{profile=\"4K\"}~" \
    "splitkey_connections_open~" \
    "splitkey_start_time_seconds~"
# and the store's event log (handler.h: kind 6 wrong PIN, 7 locked)
check "the event log agrees: 4 wrong PINs" test "$(sql "SELECT count(*) FROM events WHERE kind = 6")" = 4
check "the event log agrees: 1 lock" test "$(sql "SELECT count(*) FROM events WHERE kind = 7")" = 1
pool=$(awk '$1 == "splitkey_pool_keys{profile=\"4K\"}" {print $2}' "$T/metrics")
check "the pool gauge is within 0..2 ($pool)" test "${pool:-x}" -ge 0 -a "${pool:-x}" -le 2

check "SIGTERM stops the server cleanly" stop_server

# --- who may listen -------------------------------------------------------------
"$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$T/server.db" \
    --metrics-listen http://192.0.2.1:9464 >"$T/remote.out" 2>&1
check "a non-loopback metrics address is refused (exit 2)" test $? = 2
check "the refusal says why" grep -q 'not a loopback address' "$T/remote.out"
cp "$T/srv/server.conf" "$T/server.conf"
printf 'metrics-listen = http://0.0.0.0:9464\n' >>"$T/server.conf"
"$SERVER" run --dir "$T/srv" --config "$T/server.conf" --listen tcp://127.0.0.1:0 \
    --db "sqlite:$T/server.db" >"$T/remote2.out" 2>&1
check "metrics-listen in the config file: refused too (exit 2)" test $? = 2
check "... naming the address" grep -q '0.0.0.0 is not a loopback address' "$T/remote2.out"
"$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$T/server.db" \
    --metrics-listen 127.0.0.1:9464 >"$T/bad.out" 2>&1
check "a metrics address that is not http://ADDR:PORT: exit 2" test $? = 2
URL=
start_server --metrics-listen http://0.0.0.0:0 --metrics-allow-remote ||
    { fail "--metrics-allow-remote: the server did not start"; finish; }
port=$(metrics_url | sed 's/.*://')
code=$("$CURL" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")
check "--metrics-allow-remote: serves on 0.0.0.0 (health 200 through loopback)" \
    test "$code" = 200
check "SIGTERM stops it" stop_server
finish
