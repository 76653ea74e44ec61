# SPDX-License-Identifier: Apache-2.0
# store_lib.sh - which store the scenario scripts run on (sourced).  The
# scripts are written for SQLite ("--db sqlite:PATH", sqlite3 PATH QUERY);
# with SK_TEST_STORE=postgresql the same scripts run on PostgreSQL, through
# with_pg.sh, which starts a cluster (pg_lib.sh) and puts pg_server.sh and
# pg_sqlite3.sh in place of splitkey-server and sqlite3.  Both use this
# file, so the mapping and the SQL translation live here only:
#
#   store_pg              true on PostgreSQL
#   store_uri PATH        the store that stands for the SQLite file PATH:
#                         "sqlite:PATH", or a database of the cluster named
#                         after PATH (created on first use), so two files
#                         of one script stay two stores
#   store_translate SQL   the SQLite spellings the scripts use, in
#                         PostgreSQL's: X'hex' -> '\xhex'::bytea, hex(c) ->
#                         upper(encode(c, 'hex')), group_concat(c) ->
#                         string_agg(c::text, ','), strftime('%s','now') ->
#                         extract(epoch from now())::bigint, GLOB -> SIMILAR TO
#   store_sql PATH SQL    runs SQL on the store of PATH (psql -At on
#                         PostgreSQL; '|' between columns, as sqlite3 prints)

store_pg() { [ "${SK_TEST_STORE:-sqlite}" = postgresql ]; }

_store_dbname() {
    local p
    p=$(realpath -m -- "$1")
    printf 'sk_%s' "$(printf '%s' "$p" | sha1sum | cut -c1-16)"
}

# _store_psql DB ARGS...: psql on database DB of the cluster (PG_BIN,
# PG_HOST, PG_PORT exported by pg_start).
_store_psql() {
    local db=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

# Creates database NAME once; concurrent callers wait for the first.
_store_ensure_db() {
    local name=$1 marks="$PG_DIR/sk-dbs" i
    mkdir -p "$marks" 2>/dev/null
    if mkdir "$marks/$name" 2>/dev/null; then
        _store_psql postgres -c "CREATE DATABASE \"$name\"" >/dev/null || return 1
        : >"$marks/$name/made"
        return 0
    fi
    for i in $(seq 1 3000); do
        [ -e "$marks/$name/made" ] && return 0
        sleep 0.02
    done
    echo "store_lib: database $name was not made" >&2
    return 1
}

store_uri() {
    if ! store_pg; then
        printf 'sqlite:%s\n' "$1"
        return 0
    fi
    local name
    name=$(_store_dbname "$1")
    _store_ensure_db "$name" || return 1
    printf 'postgresql://postgres@%s:%s/%s\n' "$PG_HOST" "$PG_PORT" "$name"
}

store_translate() {
    printf '%s' "$1" | perl -0pe '
        s/\bX\x27([0-9A-Fa-f]*)\x27/\x27\\x$1\x27::bytea/g;
        s/\bhex\(([^()]*)\)/upper(encode($1, \x27hex\x27))/gi;
        s/\bgroup_concat\(([^()]*)\)/string_agg(($1)::text, \x27,\x27)/gi;
        s/\bstrftime\(\s*\x27%s\x27\s*,\s*\x27now\x27\s*\)/extract(epoch from now())::bigint/gi;
        s/\bGLOB\s+\x27([^\x27]*)\x27/"SIMILAR TO \x27" . ($1 =~ tr#*?#%_#r) . "\x27"/gie;
    '
}

store_sql() {
    if ! store_pg; then
        "${SQLITE3:-sqlite3}" "$1" "$2"
        return
    fi
    local name
    name=$(_store_dbname "$1")
    _store_ensure_db "$name" || return 1
    _store_psql "$name" -At -F '|' -c "$(store_translate "$2")"
}
