#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pg_store.sh TEST_SVC_STORE - the store's own test (test_store.c) on
# PostgreSQL: a temporary cluster (pg_lib.sh), its URI as the argument.
set -u
. "$(dirname "$0")/pg_lib.sh"
pg_require
pg_start || { echo "FAIL: the PostgreSQL cluster did not start" >&2; exit 1; }
"$1" "$PG_URI"
rc=$?
if [ $rc -ne 0 ]; then
    echo "--- PostgreSQL log (last 30 lines)" >&2
    tail -n 30 "$PG_LOG" >&2
fi
exit $rc
