# SPDX-License-Identifier: Apache-2.0
# pg_lib.sh - a throw-away PostgreSQL cluster for the service tests.  Sourced
# by test scripts (bash).  Functions:
#
#   pg_available      true when PostgreSQL server binaries exist
#                     (/usr/lib/postgresql/*/bin, newest major first); sets PG_BIN.
#   pg_require        pg_available, or leave the script: exit 1 with a clear
#                     message when SK_REQUIRE_PG=1 (CI), else exit 77 (ctest
#                     SKIP_RETURN_CODE) with a clear message.
#   pg_start [DB]     initdb a new cluster in a temporary directory (as the
#                     postgres user when run as root: PostgreSQL refuses root),
#                     start it on a free loopback TCP port with its unix socket
#                     in that directory, fsync=on, synchronous_commit=on,
#                     trust authentication for the superuser "postgres" on
#                     loopback only, and create database DB (default splitkey).
#                     Exports PG_URI (postgresql://postgres@127.0.0.1:PORT/DB),
#                     PG_PSQL (a psql command line for that database; use it
#                     unquoted: $PG_PSQL -c 'SELECT 1'), PG_PORT, PG_HOST,
#                     PG_DIR (temp dir), PG_DATA, PG_SOCK, PG_LOG.
#                     Returns non-zero (with the server log on stderr) when the
#                     cluster does not come up.
#   pg_createdb NAME  creates another database in the cluster and prints its URI.
#   pg_psql [ARGS]    runs psql on the cluster's database ($PG_PSQL "$@").
#   pg_stop [MODE]    stops the cluster (pg_ctl -m MODE, default fast) and
#                     removes its directory.
#   pg_kill_backends  terminates every client backend on the database (a lost
#                     connection for the servers connected to it).
#
# pg_start installs an EXIT trap that stops the cluster and then runs the
# EXIT trap the script had before (so server_lib.sh's cleanup still runs),
# and a watchdog process that stops the cluster if the test is killed
# outright (SIGKILL on a ctest timeout).

PG_BIN=${PG_BIN:-}
PG_DIR=
PG_DATA=
PG_SOCK=
PG_LOG=
PG_PORT=
PG_HOST=127.0.0.1
PG_URI=
PG_PSQL=
_pg_watchdog=

pg_available() {
    local d
    if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ]; then
        return 0
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -rn); do
        if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
            PG_BIN=$d
            return 0
        fi
    done
    return 1
}

pg_require() {
    pg_available && return 0
    if [ "${SK_REQUIRE_PG:-0}" = 1 ]; then
        echo "FAIL: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin);" \
            "SK_REQUIRE_PG=1 requires them (scripts/install-deps.sh installs postgresql)" >&2
        exit 1
    fi
    echo "SKIP: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin);" \
        "install postgresql (scripts/install-deps.sh) to run this test" >&2
    exit 77
}

# _pg_as CMD...: runs a PostgreSQL server binary as the cluster's owner.
_pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_pg_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
    else
        echo $((20000 + RANDOM % 30000))
    fi
}

pg_start() {
    local db=${1:-splitkey}
    pg_available || { echo "pg_start: no PostgreSQL binaries" >&2; return 1; }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sk-pg-XXXXXX") || return 1
    PG_DATA=$PG_DIR/data
    PG_SOCK=$PG_DIR/sock
    PG_LOG=$PG_DIR/server.log
    mkdir -p "$PG_SOCK"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$PG_DIR"
    fi
    chmod 700 "$PG_DIR"
    if ! _pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
        --no-instructions -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg_start: initdb failed:" >&2
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    # loopback TCP only; the superuser may connect without a password there
    # (the cluster lives as long as the test, in a directory only its owner reads)
    cat >"$PG_DATA/pg_hba.conf" <<'EOF'
local all all trust
host all all 127.0.0.1/32 trust
EOF
    [ "$(id -u)" = 0 ] && chown postgres: "$PG_DATA/pg_hba.conf"
    _pg_install_trap
    local try started=0
    for try in 1 2 3 4 5 6 7 8; do
        PG_PORT=$(_pg_free_port)
        if _pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 120 -o \
            "-p $PG_PORT -k $PG_SOCK -c listen_addresses=$PG_HOST -c fsync=on -c synchronous_commit=on -c max_connections=200 -c shared_buffers=16MB" \
            start >>"$PG_DIR/pg_ctl.log" 2>&1; then
            started=1
            break
        fi
        # a port taken between the probe and the bind: try another one
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1
    done
    if [ $started != 1 ]; then
        echo "pg_start: the PostgreSQL server did not start:" >&2
        tail -n 30 "$PG_LOG" "$PG_DIR/pg_ctl.log" >&2 2>/dev/null
        return 1
    fi
    _pg_start_watchdog
    PG_PSQL="$PG_BIN/psql -X -q -v ON_ERROR_STOP=1 -h $PG_HOST -p $PG_PORT -U postgres -d $db"
    if [ "$db" != postgres ]; then
        if ! "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres \
            -d postgres -c "CREATE DATABASE \"$db\"" >&2; then
            echo "pg_start: CREATE DATABASE $db failed" >&2
            return 1
        fi
    fi
    PG_URI="postgresql://postgres@$PG_HOST:$PG_PORT/$db"
    export PG_BIN PG_DIR PG_DATA PG_SOCK PG_LOG PG_PORT PG_HOST PG_URI PG_PSQL
    return 0
}

pg_createdb() {
    local db=$1
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres \
        -d postgres -c "CREATE DATABASE \"$db\"" >&2 || return 1
    echo "postgresql://postgres@$PG_HOST:$PG_PORT/$db"
}

pg_psql() {
    $PG_PSQL "$@"
}

pg_kill_backends() {
    # with a timeout, pg_terminate_backend waits until each backend is gone
    $PG_PSQL -t -A -c "SELECT count(pg_terminate_backend(pid, 600000)) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND backend_type = 'client backend'"
}

pg_stop() {
    local mode=${1:-fast}
    if [ -n "$PG_DATA" ] && [ -d "$PG_DATA" ]; then
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "$mode" -w stop >/dev/null 2>&1 ||
            _pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ -n "$_pg_watchdog" ]; then
        kill "$_pg_watchdog" 2>/dev/null
        _pg_watchdog=
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR=
    PG_DATA=
    return 0
}

_pg_exit() {
    local rc=$?
    pg_stop immediate
    if [ -n "${_pg_prev_trap:-}" ]; then
        (exit $rc)
        eval "$_pg_prev_trap"
    fi
    exit $rc
}

_pg_install_trap() {
    [ -n "${_pg_trap_set:-}" ] && return 0
    _pg_prev_trap=
    local cur
    cur=$(trap -p EXIT)
    if [ -n "$cur" ]; then
        eval "set -- $cur"
        _pg_prev_trap=$3
    fi
    trap _pg_exit EXIT
    _pg_trap_set=1
}

# A detached watchdog: when the test's shell is gone (even by SIGKILL), stop
# the cluster and remove its directory.
_pg_start_watchdog() {
    local parent=$$ data=$PG_DATA dir=$PG_DIR bin=$PG_BIN asroot=0
    [ "$(id -u)" = 0 ] && asroot=1
    (
        trap '' HUP INT
        while kill -0 "$parent" 2>/dev/null && [ -d "$data" ]; do
            sleep 1
        done
        if [ -d "$data" ]; then
            if [ $asroot = 1 ]; then
                runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m immediate stop
            else
                "$bin/pg_ctl" -D "$data" -m immediate stop
            fi
            rm -rf "$dir"
        fi
    ) </dev/null >/dev/null 2>&1 &
    _pg_watchdog=$!
    disown "$_pg_watchdog" 2>/dev/null
}
