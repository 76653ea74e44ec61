#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_logs.sh SERVER DRIVE SQLITE3 PYTHON3 - the log of splitkey-server
# as JSON lines (--log-format json) and to journald (--log-target journald).
#
# JSON: a server with one enrolment and one signing, stopped by SIGTERM:
# every line of its stderr is one JSON object with ts, prog, level and msg;
# the request lines add kind, key, outcome, err and us, one per request
# (the REP loop's count matches the text log of the same run), and a
# signing is among them.  The config file's log-format key does the same.
# journald: the option is accepted; where journald's socket does not exist
# (as in CI) the server still serves and logs to stderr after exactly one
# notice.  Bad values exit 2.
SERVER=$1 DRIVE=$2 SQLITE3=$3 PYTHON3=$4
. "$(dirname "$0")/server_lib.sh"

# json_lines FILE MIN_REQUESTS: every line is a well-formed log object
json_lines() {
    "$PYTHON3" - "$1" "$2" <<'EOF'
import json, re, sys
path, min_requests = sys.argv[1], int(sys.argv[2])
ts = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
bad = 0
requests = signed = notices = 0
with open(path) as f:
    lines = f.read().split('\n')
if lines[-1] != '':
    print('the last line has no newline'); bad += 1
for n, line in enumerate(lines[:-1], 1):
    try:
        o = json.loads(line)
    except ValueError as e:
        print('line %d is not JSON (%s): %r' % (n, e, line)); bad += 1; continue
    if not isinstance(o, dict):
        print('line %d is not an object' % n); bad += 1; continue
    if not (isinstance(o.get('ts'), str) and ts.match(o['ts'])):
        print('line %d: bad ts' % n); bad += 1
    if o.get('prog') != 'splitkey-server':
        print('line %d: bad prog' % n); bad += 1
    if o.get('level') not in ('info', 'notice', 'error') or not isinstance(o.get('msg'), str):
        print('line %d: bad level or msg' % n); bad += 1
    if o.get('msg') == 'request':
        requests += 1
        ok = (isinstance(o.get('kind'), str) and isinstance(o.get('outcome'), int)
              and isinstance(o.get('us'), int) and o['us'] >= 0
              and (o.get('key') is None or re.match(r'^[0-9a-f]{8}$', o['key']))
              and 'err' in o and ((o['outcome'] == 0) == (o['err'] is None)))
        if not ok:
            print('line %d: bad request fields: %r' % (n, o)); bad += 1
        if o.get('kind') == 'sign-submit' and o.get('outcome') == 0:
            signed += 1
    else:
        notices += 1
        if set(o) != {'ts', 'prog', 'level', 'msg'}:
            print('line %d: unexpected fields %r' % (n, sorted(o))); bad += 1
if requests < min_requests or signed < 2 or notices < 2:
    print('requests %d (at least %d), signed %d (2: proof of possession and one '
          'signing), notices %d' % (requests, min_requests, signed, notices)); bad += 1
print('%d lines: %d requests, %d notices' % (len(lines) - 1, requests, notices))
sys.exit(1 if bad else 0)
EOF
}

# run_one LOGFILE ARGS...: starts a server logging to LOGFILE, enrols a key and
# signs once, stops it with SIGTERM
run_one() {
    local log=$1
    shift
    rm -f "$T/ready"
    "$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --ready-file "$T/ready" \
        --db "sqlite:$T/server.db" --open-enrolment --pool-profiles 4K --pool-size 1 "$@" \
        2>"$log" &
    SRV_PID=$!
    local i=0
    while [ ! -s "$T/ready" ]; do
        kill -0 "$SRV_PID" 2>/dev/null || { wait "$SRV_PID"; SRV_PID=; return 1; }
        i=$((i + 1))
        [ $i -gt 3000 ] && return 1
        sleep 0.02
    done
    URL=$(head -n1 "$T/ready")
    drive --threads 1 --signs 1 sign >"$T/drive.out" 2>&1 || return 1
    stop_server
}

# --- JSON -----------------------------------------------------------------------
check "a server with --log-format json signs and stops" run_one "$T/json.log" --log-format json
check "every stderr line is a JSON log object" json_lines "$T/json.log" 5
check "the JSON log holds no text line" bash -c "! grep -q '^[0-9]' '$T/json.log'"

cp "$T/srv/server.conf" "$T/json.conf"
printf 'log-format = json\n' >>"$T/json.conf"
check "log-format = json in the config file" run_one "$T/json2.log" --config "$T/json.conf"
check "... every line JSON there too" json_lines "$T/json2.log" 5

check "the same run in text" run_one "$T/text.log"
check "text lines by default" grep -q '^[0-9-]*T[0-9:.]*Z splitkey-server req kind=sign-submit' \
    "$T/text.log"
jreq=$(grep -c '"msg":"request"' "$T/json.log")
treq=$(grep -c ' req kind=' "$T/text.log")
check "as many request lines in JSON as in text ($jreq, $treq)" test "$jreq" = "$treq"

# --- journald -------------------------------------------------------------------
check "a server with --log-target journald signs and stops" \
    run_one "$T/journal.log" --log-target journald
if [ ! -S /run/systemd/journal/socket ]; then
    check "no journald here: one notice says so" \
        test "$(grep -c 'journald is not reachable' "$T/journal.log")" = 1
    check "... and the log goes on on stderr" grep -q ' req kind=sign-submit .*outcome=0 ' \
        "$T/journal.log"
    check "journald with JSON: the notice and the lines in JSON" \
        run_one "$T/journal2.log" --log-target journald --log-format json
    check "... every line JSON" json_lines "$T/journal2.log" 5
    check "... one notice" test "$(grep -c 'journald is not reachable' "$T/journal2.log")" = 1
else
    echo "journald runs here: the fall-back to stderr is not exercised"
    check "journald: nothing but possibly the start on stderr" \
        bash -c "! grep -q ' req kind=' '$T/journal.log'"
fi

# --- bad values -----------------------------------------------------------------
"$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$T/server.db" \
    --log-format xml >"$T/bad.out" 2>&1
check "--log-format xml: exit 2" test $? = 2
check "... saying what is expected" grep -q 'expected text or json' "$T/bad.out"
"$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$T/server.db" \
    --log-target syslog >"$T/bad.out" 2>&1
check "--log-target syslog: exit 2" test $? = 2
check "... saying what is expected" grep -q 'expected stderr or journald' "$T/bad.out"
finish
