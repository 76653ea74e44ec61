#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# loopback.sh SERVER ATK SQLITE3 - attacks on real splitkey-server processes
# on loopback, played by atk_loopback (see its header for each mode):
#   guesses    one charged approval from many connections with different
#              PINs, KeyState readers and certificate choices at the
#              server's HTTPS API alongside (a server with 1 s locks);
#   locked     the same while the key is locked for hours;
#   clones     copies' own approvals under one OTP at once;
#   clone-any  a copy signs, the original's next request of any kind;
#   rollback   an old key row put back while the server runs, and served
#              by a second process on the same database; then the same
#              row put back across two restarts, and the honest device.
# Each server runs in a temporary directory on a port it picks (port 0,
# --ready-file), with the relying-party HTTPS API and without the old
# relying-party frames: atk_loopback reads the key's state from the
# database with the servers' own KeyState.  Exit 0 when every mode passed.
SERVER=$1 ATK=$2 SQLITE3=$3

set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-atk-XXXXXX")
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

fail() {
    echo "FAIL: $*" >&2
    FAILED=1
}

check() { # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        fail "$what"
    fi
}

"$SERVER" init --dir "$T/srv" >/dev/null || { echo "init failed" >&2; exit 1; }
. "$(dirname "$0")/../services/rp_test_lib.sh"
rp_test_register "$T/srv" || exit 1
# A server directory is bound to one store (DIR/store.id): server G, on a
# database of its own, gets a copy of the identity directory.
cp -r "$T/srv" "$T/srv-g"
COMMON=(--open-enrolment --pool-size 2 --pool-profiles 4K --workers 8 --session-ttl 3600)

# start NAME DB [EXTRA-ARGS...]: a server (directory $SRVDIR, default
# $T/srv) on a free port, with the relying-party API (rp_test_lib.sh); sets
# NAME_PID and NAME_URL once it listens.
start() {
    local name=$1 db=$2
    shift 2
    rm -f "$T/ready.$name"
    "$SERVER" run --dir "${SRVDIR:-$T/srv}" --listen tcp://127.0.0.1:0 --ready-file "$T/ready.$name" \
        "${RP_LISTEN[@]}" --db "sqlite:$db" "${COMMON[@]}" "$@" >>"$T/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    local i=0
    while [ ! -s "$T/ready.$name" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        i=$((i + 1))
        [ $i -gt 30000 ] && return 1
        sleep 0.02
    done
    printf -v "${name}_PID" %s "$pid"
    printf -v "${name}_URL" %s "$(head -n1 "$T/ready.$name")"
}

stop() { # stop NAME: SIGTERM, and the exit status
    local pid_var=${1}_PID
    kill -TERM "${!pid_var}"
    wait "${!pid_var}"
}

# atk URL [ARGS...] MODE: runs a mode, its output kept in $T/MODE.out; it
# reads the key's state from the database --db PATH or else $T/server.db
# (atk_loopback --srv-dir, --store)
atk() {
    local url=$1
    shift
    local mode=${*: -1} store=(--store "sqlite:$T/server.db")
    [[ " $* " == *" --db "* ]] && store=()
    "$ATK" --server "$url" --server-pub "$T/srv/server.pub" --srv-dir "$T/srv" "${store[@]}" \
        "$@" >"$T/$mode.out" 2>&1
    local rc=$?
    sed "s/^/  [$mode] /" "$T/$mode.out"
    return $rc
}

sql() { "$SQLITE3" "$1" "$2"; }

# certchoice NAME [SRVDIR]: $T/certchoice.NAME, certificate choices at
# server NAME's relying-party API for atk_loopback --certchoice
certchoice() {
    rp_test_args "$T/ready.$1" "${2:-$T/srv}" &&
        rp_test_certchoice_prog "${2:-$T/srv}" "$T/certchoice.$1"
}

# old_refused MODE: the old relying-party frames that mode's readers sent
# alongside its rounds were refused, none served
old_refused() {
    grep -q "old frames: [1-9][0-9]* refused" "$T/$1.out" &&
        ! grep -q "old frames: [0-9]* refused, [1-9]" "$T/$1.out"
}

SRVDIR="$T/srv-g" start G "$T/guesses.db" --lock1-seconds 1 --lock2-seconds 1 ||
    { echo "server G did not start" >&2; exit 1; }
start A "$T/server.db" || { echo "server A did not start" >&2; exit 1; }
start B "$T/server.db" || { echo "server B did not start" >&2; exit 1; }
certchoice G "$T/srv-g" && certchoice A || { echo "no relying-party API" >&2; exit 1; }

# --- many connections, one charge
check "guesses: one outcome per charge, exactly nine checks, locks at 3 and 6" \
    atk "$G_URL" --db "$T/guesses.db" --certchoice "$T/certchoice.G" --threads 6 --floods 2 \
    guesses
check "guesses: no clone verdict from resends of one request" \
    test "$(sql "$T/guesses.db" "SELECT count(*) FROM events WHERE kind = 9")" = 0
check "guesses: the old relying-party frames alongside were refused" old_refused guesses
check "locked: a round while locked runs no check" \
    atk "$A_URL" --certchoice "$T/certchoice.A" --threads 6 locked
check "locked: the old relying-party frames alongside were refused" old_refused locked
check "clones: copies' approvals under one OTP: one charge at most, then clone verdicts" \
    atk "$A_URL" --certchoice "$T/certchoice.A" --threads 6 --floods 2 clones
for key in $(sed -n 's/^key //p' "$T/clones.out"); do
    check "clones: key ${key:0:8}: one clone event, at most one wrong-PIN event" \
        test "$(sql "$T/server.db" "SELECT count(*) FROM events WHERE kind = 9 AND key_id = X'$key'") \
$(sql "$T/server.db" "SELECT count(*) <= 1 FROM events WHERE kind = 6 AND key_id = X'$key'")" = "1 1"
done
check "clones: the old relying-party frames alongside were refused" old_refused clones
check "clone-any: the original's next KeyState, fetch or sign is the verdict" \
    atk "$A_URL" clone-any

# --- rollback of a key row
mkdir -p "$T/state"
check "rollback: refused while the server runs; a second process takes it" \
    atk "$A_URL" --db "$T/server.db" --state "$T/state" --peer "$B_URL" rollback
check "rollback: the running server logged the rolled-back record" \
    grep -q "stored record rolled back" "$T/A.log"
key=$(cat "$T/state/key")
put_old() {
    read -r version state <"$T/state/old.meta"
    sql "$T/server.db" "UPDATE keys SET record = X'$(cat "$T/state/old.hex")', \
version = $version, state = $state WHERE key_id = X'$key'"
}
check "stop the servers" stop A
check "stop the peer" stop B
for round in 1 2; do
    put_old
    start A "$T/server.db" || { fail "server A did not restart"; break; }
    check "rollback after restart $round: the old row is served (the documented limit)" \
        atk "$A_URL" --state "$T/state" rollback-restart
    check "stop the server" stop A
done
check "rollback: four more wrong PINs were checked after the restarts" \
    test "$(sql "$T/server.db" "SELECT count(*) FROM events WHERE kind = 6 AND key_id = X'$key'")" = 7
start A "$T/server.db" || fail "server A did not restart"
check "rollback: the honest device's next request is the clone verdict" \
    atk "$A_URL" --state "$T/state" rollback-honest
check "SIGTERM stops the servers cleanly" stop A
check "SIGTERM stops server G cleanly" stop G
check "database integrity" test "$(sql "$T/server.db" "PRAGMA integrity_check")" = ok

if [ "$FAILED" -ne 0 ]; then
    for s in G A B; do
        echo "--- server $s log (last 30 lines)" >&2
        tail -n 30 "$T/$s.log" >&2
    done
    exit 1
fi
echo "all checks passed"
exit 0
