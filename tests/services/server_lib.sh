# SPDX-License-Identifier: Apache-2.0
# server_lib.sh - shared by the share-server scenario scripts: a temporary
# directory, a server identity, and splitkey-server processes on a loopback
# port found free at run time (port 0; the bound URL comes back through
# --ready-file).  Sourced; expects SERVER, DRIVE (and SQLITE3) to be set.

set -u
# SK_TEST_STORE=postgresql: the same script on a PostgreSQL cluster of its
# own (with_pg.sh puts its stand-ins for splitkey-server and sqlite3 in place)
if [ "${SK_TEST_STORE:-sqlite}" = postgresql ] && [ -z "${SK_REAL_SERVER:-}" ]; then
    exec bash "$(dirname "${BASH_SOURCE[0]}")/with_pg.sh" bash "$0" "$@"
fi
. "$(dirname "${BASH_SOURCE[0]}")/store_lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/four_eyes_lib.sh" # four_eyes_token: a usable token
. "$(dirname "${BASH_SOURCE[0]}")/rp_test_lib.sh"   # RP_API_ARGS: the test relying party
T=$(mktemp -d "${TMPDIR:-/tmp}/sk-svc-XXXXXX")
SRV_PID=
URL=
FAILED=0

cleanup() {
    if [ -n "$SRV_PID" ]; then
        kill -9 "$SRV_PID" 2>/dev/null
        wait "$SRV_PID" 2>/dev/null
    fi
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
rp_test_register "$T/srv" || exit 1

# start_server [EXTRA-ARGS...]: starts on $URL if set, else on port 0; sets
# SRV_PID and URL; waits until the server listens.  Its relying-party
# listener is on a port of its own (RPURL and RP_API_ARGS, rp_test_lib.sh).
start_server() {
    local listen=${URL:-tcp://127.0.0.1:0}
    rm -f "$T/ready"
    "$SERVER" run --dir "$T/srv" --listen "$listen" --ready-file "$T/ready" \
        --db "sqlite:$T/server.db" "${RP_LISTEN[@]}" "$@" \
        >>"$T/server.log" 2>&1 &
    SRV_PID=$!
    local i=0
    while [ ! -s "$T/ready" ]; do
        if ! kill -0 "$SRV_PID" 2>/dev/null; then
            wait "$SRV_PID" 2>/dev/null
            SRV_PID=
            return 1
        fi
        i=$((i + 1))
        [ $i -gt 3000 ] && return 1
        sleep 0.02
    done
    URL=$(head -n1 "$T/ready")
    rp_test_args "$T/ready" "$T/srv"
}

stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID"
    wait "$SRV_PID"
    local rc=$?
    SRV_PID=
    return $rc
}

drive() { # drive [ARGS...] MODE
    "$DRIVE" --server "$URL" --server-pub "$T/srv/server.pub" "$@"
}

sql() { "$SQLITE3" "$T/server.db" "$1"; }

finish() {
    if [ "$FAILED" -ne 0 ]; then
        echo "--- server log (last 40 lines)" >&2
        tail -n 40 "$T/server.log" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
