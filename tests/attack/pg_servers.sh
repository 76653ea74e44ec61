#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pg_servers.sh SERVER ATK - the PIN-counting attacks of loopback.sh spread
# over two splitkey-server processes on one PostgreSQL database (a
# temporary cluster, tests/services/pg_lib.sh): every other connection of
# each round goes to the second server (atk_loopback --peer).
#   guesses  one charged approval from many connections (both servers) with
#            different PINs: one outcome per round, exactly nine checks,
#            locks at 3 and 6 (servers with 1 s locks);
#   locked   a round while the key is locked for hours runs no check;
#   clones   copies' approvals under one OTP at both servers at once: at
#            most one charge, then clone verdicts.
# The servers run without the old relying-party frames: atk_loopback reads
# the key's state from the database with the servers' own KeyState
# (--srv-dir, --store), and their refusal of the old frames sent alongside
# the guesses is checked.  psql then counts the events: the wrong-PIN
# events of the guessed key are exactly eight before the destroying ninth
# check.  Exit 0 when every attack failed as documented (doc/security.md,
# "Several servers on one database").
SERVER=$1 ATK=$2
set -u
. "$(dirname "$0")/../services/pg_lib.sh"
pg_require
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-atk-pg-XXXXXX")
FAILED=0
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT
pg_start || { echo "FAIL: the PostgreSQL cluster did not start" >&2; exit 1; }
fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}
check() {
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
pgq() { $PG_PSQL -t -A -c "$1"; }

"$SERVER" init --dir "$T/srv" >/dev/null || { echo "init failed" >&2; exit 1; }
. "$(dirname "$0")/../services/rp_test_lib.sh"
rp_test_register "$T/srv" || exit 1
COMMON=(--open-enrolment --pool-size 2 --pool-profiles 4K --workers 8 --session-ttl 3600)

# start NAME DIR DBURI [ARGS...]: a server on a free port, with the
# relying-party API (rp_test_lib.sh); NAME_PID, NAME_URL
start() {
    local name=$1 dir=$2 db=$3
    shift 3
    [ -d "$dir" ] || cp -r "$T/srv" "$dir"
    rm -f "$T/ready.$name"
    "$SERVER" run --dir "$dir" --listen tcp://127.0.0.1:0 --ready-file "$T/ready.$name" \
        "${RP_LISTEN[@]}" --db "$db" "${COMMON[@]}" "$@" >>"$T/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    while [ ! -s "$T/ready.$name" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.02
    done
    printf -v "${name}_PID" %s "$pid"
    printf -v "${name}_URL" %s "$(head -n1 "$T/ready.$name")"
}

atk() { # atk URL STORE-URI [ARGS...] MODE (the key's state read from STORE-URI)
    local url=$1 store=$2
    shift 2
    local mode=${*: -1}
    "$ATK" --server "$url" --server-pub "$T/srv/server.pub" --srv-dir "$T/srv" \
        --store "$store" "$@" >"$T/$mode.out" 2>&1
    local rc=$?
    sed "s/^/  [$mode] /" "$T/$mode.out"
    return $rc
}

GUESS_URI=$(pg_createdb guesses) || exit 1
# servers with 1 s locks on one database, and two with the default locks on another
start G1 "$T/g1" "$GUESS_URI" --lock1-seconds 1 --lock2-seconds 1 || { echo "G1 did not start" >&2; exit 1; }
start G2 "$T/g2" "$GUESS_URI" --lock1-seconds 1 --lock2-seconds 1 || { echo "G2 did not start" >&2; exit 1; }
start A "$T/a" "$PG_URI" || { echo "A did not start" >&2; exit 1; }
start B "$T/b" "$PG_URI" || { echo "B did not start" >&2; exit 1; }
# certificate choices at G1's and A's relying-party API (atk_loopback --certchoice)
for s in G1:g1 A:a; do
    rp_test_args "$T/ready.${s%%:*}" "$T/${s#*:}" &&
        rp_test_certchoice_prog "$T/${s#*:}" "$T/certchoice.${s%%:*}" ||
        { echo "no relying-party API at ${s%%:*}" >&2; exit 1; }
done

check "guesses over two servers: one outcome per charge, exactly nine checks, locks at 3 and 6" \
    atk "$G1_URL" "$GUESS_URI" --peer "$G2_URL" --certchoice "$T/certchoice.G1" --threads 6 \
    --floods 2 guesses
gq() { $PG_PSQL -d guesses -t -A -c "$1"; }
check "guesses: the old relying-party frames alongside were refused, none served" \
    bash -c "grep -q 'old frames: [1-9][0-9]* refused' '$T/guesses.out' &&
             ! grep -q 'old frames: [0-9]* refused, [1-9]' '$T/guesses.out'"
lockout_key=$(gq "SELECT encode(key_id, 'hex') FROM events WHERE kind = 8 AND detail = 2")
check "guesses: one key destroyed by the lockout" test -n "$lockout_key"
check "guesses: exactly eight wrong-PIN events before the destroying check" \
    test "$(gq "SELECT count(*) FROM events WHERE kind = 6 AND key_id = decode('$lockout_key', 'hex')")" = 8
left=$(gq "SELECT string_agg(detail::text, ',' ORDER BY seq) FROM events
           WHERE kind = 6 AND key_id = decode('$lockout_key', 'hex')")
echo "guesses: attempts left after each wrong PIN: $left"
check "guesses: the attempts left went down one by one" test "$left" = "2,1,3,2,1,3,2,1"
check "guesses: no clone verdict from resends of one request" \
    test "$(gq "SELECT count(*) FROM events WHERE kind = 9")" = 0
check "guesses: both servers served requests" \
    bash -c "grep -q 'req kind=sign-submit' '$T/G1.log' && grep -q 'req kind=sign-submit' '$T/G2.log'"
check "locked over two servers: a round while locked runs no check" \
    atk "$A_URL" "$PG_URI" --peer "$B_URL" --certchoice "$T/certchoice.A" --threads 6 locked
check "clones over two servers: one charge at most, then clone verdicts" \
    atk "$A_URL" "$PG_URI" --peer "$B_URL" --certchoice "$T/certchoice.A" --threads 6 \
    --floods 2 clones
for key in $(sed -n 's/^key //p' "$T/clones.out"); do
    check "clones: key ${key:0:8}: one clone event, at most one wrong-PIN event" \
        test "$(pgq "SELECT count(*) FROM events WHERE kind = 9 AND key_id = decode('$key', 'hex')") \
$(pgq "SELECT (count(*) <= 1)::int FROM events WHERE kind = 6 AND key_id = decode('$key', 'hex')")" = "1 1"
done
for s in G1 G2 A B; do
    pid_var=${s}_PID
    kill -TERM "${!pid_var}"
    wait "${!pid_var}" || fail "server $s did not stop cleanly"
done
PIDS=()
check "the stores pass their check" "$SERVER" check --dir "$T/a" --db "$PG_URI"
if [ "$FAILED" -ne 0 ]; then
    for s in G1 G2 A B; do
        echo "--- server $s log (last 30 lines)" >&2
        tail -n 30 "$T/$s.log" >&2
    done
    exit 1
fi
echo "all checks passed"
exit 0
