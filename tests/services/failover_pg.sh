#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# failover_pg.sh SERVER DRIVE - two share servers on a PostgreSQL primary
# with a synchronous hot standby (pg_basebackup -R, application_name
# standby1, synchronous_standby_names), connected through the multi-host URI
#   postgresql://postgres@127.0.0.1:P1,127.0.0.1:P2/splitkey?target_session_attrs=read-write
# Under load (devices signing, lockout runs counting wrong PINs), kill -9 of
# the primary (postmaster and backends), then pg_ctl promote of the standby.
# The share servers reconnect by themselves; afterwards, in the promoted
# database: every signature a device got acknowledged is there (one event
# each, plus the proof of possession), every wrong PIN a device was told
# about is counted, no clone verdict, and signing resumed after the promote.
SERVER=$1 DRIVE=$2

set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-failover-XXXXXX")
chmod 755 "$T"
FAILED=0
PIDS=()
STANDBY=
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ -n "$STANDBY" ] && [ -d "$STANDBY" ]; then
        _pg_as "$PG_BIN/pg_ctl" -D "$STANDBY" -m immediate -w stop >/dev/null 2>&1
    fi
    rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/pg_lib.sh"
pg_require

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}
check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else fail "$what"; fi
}

pg_start splitkey || { echo "FAIL: the primary did not start" >&2; exit 1; }
P1=$PG_PORT
# the standby streams from the primary as a replication client
echo "host replication all 127.0.0.1/32 trust" >>"$PG_DATA/pg_hba.conf"
$PG_PSQL -c "SELECT pg_reload_conf()" >/dev/null
# the standby's directory: outside the primary's (pg_lib.sh removes that
# first on exit), owned by the cluster's user
STANDBY="$T/standby"
mkdir -m 700 "$STANDBY"
touch "$STANDBY.log"
[ "$(id -u)" = 0 ] && chown postgres: "$STANDBY" "$STANDBY.log"
_pg_as "$PG_BIN/pg_basebackup" -D "$STANDBY" -R -X stream -c fast \
    -d "host=127.0.0.1 port=$P1 user=postgres application_name=standby1" >"$T/basebackup.log" 2>&1 ||
    { cat "$T/basebackup.log" >&2; echo "FAIL: pg_basebackup" >&2; exit 1; }
for try in 1 2 3 4 5 6 7 8; do
    P2=$(_pg_free_port)
    _pg_as "$PG_BIN/pg_ctl" -D "$STANDBY" -l "$STANDBY.log" -w -t 120 -o \
        "-p $P2 -k $PG_SOCK -c listen_addresses=127.0.0.1 -c hot_standby=on -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=16MB" start \
        >>"$T/standby.log" 2>&1 && break
    P2=
done
[ -n "$P2" ] || { tail -n 30 "$STANDBY.log" >&2; echo "FAIL: the standby did not start" >&2; exit 1; }
# commits wait for the standby from now on
$PG_PSQL -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" -c "SELECT pg_reload_conf()" >/dev/null
psql1() { "$PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d splitkey -c "$2"; }
for i in $(seq 1 600); do
    [ "$(psql1 "$P1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ] && break
    sleep 0.1
done
check "the standby is synchronous (pg_stat_replication)" \
    test "$(psql1 "$P1" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync
check "the standby is in recovery (hot standby, read-only)" test "$(psql1 "$P2" "SELECT pg_is_in_recovery()")" = t

URI="postgresql://postgres@127.0.0.1:$P1,127.0.0.1:$P2/splitkey?target_session_attrs=read-write"
echo "servers on $URI"
"$SERVER" init --dir "$T/srv" >/dev/null || { echo "init failed" >&2; exit 1; }
start() { # start NAME: sets NAME_URL
    local name=$1 i
    rm -f "$T/ready.$name"
    "$SERVER" run --dir "$T/srv" --listen tcp://127.0.0.1:0 --ready-file "$T/ready.$name" \
        --db "$URI" --open-enrolment --pool-size 2 --pool-profiles 4K --workers 4 \
        >>"$T/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    for i in $(seq 1 6000); do
        [ -s "$T/ready.$name" ] && break
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.02
    done
    printf -v "${name}_PID" %s "$pid"
    printf -v "${name}_URL" %s "$(head -n1 "$T/ready.$name")"
}
start A || { cat "$T/A.log" >&2; echo "FAIL: server A did not start" >&2; exit 1; }
start B || { cat "$T/B.log" >&2; echo "FAIL: server B did not start" >&2; exit 1; }

signs() { psql1 "$1" "SELECT count(*) FROM events WHERE kind = 5"; }
for i in 0 1; do
    url=$([ $i = 0 ] && echo "$A_URL" || echo "$B_URL")
    "$DRIVE" --server "$url" --server-pub "$T/srv/server.pub" --threads 2 --signs 300 \
        --timeout 3000 --give-up 600 sign >"$T/sign$i.out" 2>&1 &
    SIGNERS[$i]=$!
    PIDS+=("${SIGNERS[$i]}")
done
# lockout runs (three wrong PINs each) before, across and after the failover
lockouts() { # lockouts N URL
    local n
    for n in $(seq 1 "$1"); do
        "$DRIVE" --server "$2" --server-pub "$T/srv/server.pub" --timeout 3000 --give-up 600 \
            lockout >"$T/lockout.$RANDOM$RANDOM.out" 2>&1 || echo "lockout run failed" >>"$T/lockout.fail"
    done
}
lockouts 4 "$B_URL" &
LOCKOUTS=$!
PIDS+=("$LOCKOUTS")

# under load: wait for 150 signatures, then the primary goes
while [ "$(signs "$P1")" -lt 150 ]; do sleep 0.1; done
before=$(signs "$P1")
pm=$(head -n1 "$PG_DATA/postmaster.pid")
kids=$(ps -o pid= --ppid "$pm")
kill -9 "$pm" $kids 2>/dev/null
echo "kill -9 of the primary (postmaster $pm and its backends) at $before signatures"
sleep 1
check "pg_ctl promote of the standby" _pg_as "$PG_BIN/pg_ctl" -D "$STANDBY" -w promote
check "the promoted standby is the primary now" test "$(psql1 "$P2" "SELECT pg_is_in_recovery()")" = f
# a promoted standby with synchronous_standby_names set would wait for a
# standby it does not have: turn synchronous replication off there (the
# operator's step until a new standby is attached; doc/operations.md)
psql1 "$P2" "ALTER SYSTEM SET synchronous_standby_names = ''" >/dev/null
psql1 "$P2" "SELECT pg_reload_conf()" >/dev/null
# signing resumes through the same servers, now on the promoted database
resumed=0
for i in $(seq 1 3000); do
    [ "$(signs "$P2")" -gt "$before" ] && { resumed=1; break; }
    sleep 0.1
done
check "signing resumed on the promoted database" test $resumed = 1
lockouts 2 "$A_URL"
wait "$LOCKOUTS"
for i in 0 1; do
    wait "${SIGNERS[$i]}"
    check "signer $i: every signature acknowledged and verified under n" test $? = 0
    grep '^signed' "$T/sign$i.out"
done

# --- what the devices saw against the promoted database -------------------------
total=0
while read -r _ key _ n _; do
    stored=$(psql1 "$P2" "SELECT count(*) FROM events WHERE kind = 5 AND key_id = '\\x$key'::bytea")
    check "key ${key:0:8}: $n acknowledged signatures, all in the promoted database ($stored events = $n + proof of possession)" \
        test "$stored" = $((n + 1))
    total=$((total + n))
done < <(grep -h '^key ' "$T/sign0.out" "$T/sign1.out")
check "1200 acknowledged signatures in all" test "$total" = 1200
check "no lockout run failed" test ! -e "$T/lockout.fail"
nl=0
for f in "$T"/lockout.*.out; do
    key=$(sed -n 's/^key \([0-9a-f]*\)$/\1/p' "$f")
    [ -n "$key" ] || { fail "$(basename "$f"): no key"; continue; }
    nl=$((nl + 1))
    check "lockout key ${key:0:8}: the 3 wrong PINs the device was told of are counted, 1 lock" \
        test "$(psql1 "$P2" "SELECT count(*) FROM events WHERE kind = 6 AND key_id = '\\x$key'::bytea") $(psql1 "$P2" "SELECT count(*) FROM events WHERE kind = 7 AND key_id = '\\x$key'::bytea")" = "3 1"
done
check "6 lockout runs" test "$nl" = 6
check "no clone verdict" test "$(psql1 "$P2" "SELECT count(*) FROM events WHERE kind = 9")" = 0
check "no key destroyed" test "$(psql1 "$P2" "SELECT count(*) FROM keys WHERE state = 5")" = 0
for s in A B; do
    pid_var=${s}_PID
    kill -TERM "${!pid_var}"
    wait "${!pid_var}"
    check "SIGTERM stops server $s cleanly" test $? = 0
done
if [ "$FAILED" -ne 0 ]; then
    for s in A B; do
        echo "--- server $s log (last 20 lines)" >&2
        tail -n 20 "$T/$s.log" >&2
    done
    exit 1
fi
echo "all checks passed"
