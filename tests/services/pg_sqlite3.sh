#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg_sqlite3.sh [OPTIONS] DBFILE [SQL...] - stands in for sqlite3 when a
# scenario script runs on PostgreSQL (with_pg.sh): runs each SQL (or the
# statements on standard input) through psql on the database that stands
# for DBFILE, translated by store_lib.sh.  sqlite3's -batch, -bail and
# -cmd CMD (dot commands such as .timeout) are accepted and ignored.
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/store_lib.sh"
while [ $# -gt 0 ]; do
    case $1 in
        -cmd) shift 2 ;;
        -*) shift ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "pg_sqlite3: no database file" >&2; exit 2; }
db=$1
shift
if [ $# -eq 0 ]; then
    store_sql "$db" "$(cat)"
    exit
fi
rc=0
for q in "$@"; do
    store_sql "$db" "$q" || rc=1
done
exit $rc
