#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_pg.sh SPLITKEY-BENCH [OPTIONS...] - runs splitkey-bench with a
# throw-away PostgreSQL cluster for its store comparison: the cluster
# (tests/services/pg_lib.sh: initdb in a temporary directory, loopback port,
# fsync and synchronous_commit on) is started, its empty database passed as
# --pg-uri, and removed afterwards.  Without PostgreSQL it runs the bench
# without --pg-uri (its PostgreSQL rows then say "not available").
#   bench/run_pg.sh build/bin/splitkey-bench --profile 6K --json bench.json
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../tests/services/pg_lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 SPLITKEY-BENCH [OPTIONS...]" >&2; exit 2; }
if ! pg_available; then
    echo "run_pg.sh: no PostgreSQL server binaries: the bench runs on SQLite only" >&2
    exec "$@"
fi
pg_start splitkey_bench || { echo "run_pg.sh: the PostgreSQL cluster did not start" >&2; exit 1; }
"$@" --pg-uri "$PG_URI"
