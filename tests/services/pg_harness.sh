#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pg_harness.sh - the PostgreSQL test harness (pg_lib.sh) itself: a cluster
# comes up on loopback with the settings the store tests rely on, psql
# reaches it through PG_URI and PG_PSQL, and pg_stop removes everything.
set -u
. "$(dirname "$0")/pg_lib.sh"
pg_require
FAILED=0
check() {
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; FAILED=1; fi
}
pg_start || { echo "FAIL: pg_start" >&2; exit 1; }
check "PG_URI names the loopback port" test "$PG_URI" = "postgresql://postgres@127.0.0.1:$PG_PORT/splitkey"
check "psql through PG_PSQL" test "$($PG_PSQL -t -A -c 'SELECT 40 + 2')" = 42
check "psql through PG_URI" test "$("$PG_BIN/psql" -X -t -A "$PG_URI" -c 'SELECT current_database()')" = splitkey
check "fsync is on" test "$($PG_PSQL -t -A -c 'SHOW fsync')" = on
check "synchronous_commit is on" test "$($PG_PSQL -t -A -c 'SHOW synchronous_commit')" = on
check "listens on loopback only" test "$($PG_PSQL -t -A -c 'SHOW listen_addresses')" = 127.0.0.1
check "the unix socket is in the temp dir" test -S "$PG_SOCK/.s.PGSQL.$PG_PORT"
uri2=$(pg_createdb other)
check "pg_createdb prints a usable URI" test "$("$PG_BIN/psql" -X -t -A "$uri2" -c 'SELECT current_database()')" = other
check "pg_kill_backends runs" pg_kill_backends
dir=$PG_DIR
pg_stop
check "pg_stop removes the cluster" test ! -e "$dir"
[ $FAILED = 0 ] && echo "all checks passed"
exit $FAILED
