#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# with_pg.sh COMMAND [ARGS...] - runs a scenario test written for SQLite on
# PostgreSQL: starts a cluster (pg_lib.sh; skips with 77 without
# PostgreSQL, fails when SK_REQUIRE_PG=1), exports SK_TEST_STORE=postgresql,
# and runs COMMAND with, among its arguments, the splitkey-server program
# replaced by pg_server.sh, the sqlite3 program by pg_sqlite3.sh, and a
# directory holding splitkey-server by a directory of links to the same
# programs with pg_server.sh as splitkey-server.  Exits with COMMAND's
# status (1 when it used no PostgreSQL database).  CMake registers the
# PostgreSQL copies (NAME_pg) through it.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/sk-withpg-XXXXXX")
trap 'rm -rf "$W"' EXIT
. "$here/pg_lib.sh"
pg_require
pg_start || { echo "FAIL: the PostgreSQL cluster did not start" >&2; exit 1; }
export SK_TEST_STORE=postgresql
args=()
for a in "$@"; do
    if [ -f "$a" ] && [ "$(basename -- "$a")" = splitkey-server ]; then
        export SK_REAL_SERVER=$a
        a=$here/pg_server.sh
    elif [ -f "$a" ] && [ "$(basename -- "$a")" = sqlite3 ]; then
        a=$here/pg_sqlite3.sh
    elif [ -d "$a" ] && [ -x "$a/splitkey-server" ]; then
        export SK_REAL_SERVER=$a/splitkey-server
        mkdir -p "$W/bin"
        for f in "$a"/*; do
            ln -s "$f" "$W/bin/$(basename -- "$f")"
        done
        rm -f "$W/bin/splitkey-server"
        ln -s "$here/pg_server.sh" "$W/bin/splitkey-server"
        a=$W/bin
    fi
    args+=("$a")
done
"${args[@]}"
rc=$?
# a copy that never reached PostgreSQL would only repeat the SQLite test
if [ $rc = 0 ] && [ -z "$(ls -A "$PG_DIR/sk-dbs" 2>/dev/null)" ]; then
    echo "FAIL: with_pg.sh: the test used no PostgreSQL database" >&2
    rc=1
fi
exit $rc
