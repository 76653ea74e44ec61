#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pg_server.sh ARGS... - stands in for splitkey-server when a scenario
# script runs on PostgreSQL (with_pg.sh): "--db sqlite:PATH" becomes the
# PostgreSQL database that stands for PATH (store_lib.sh), and a command
# that uses the store without --db gets the one that stands for
# DIR/server.db (the default).  Then it execs SK_REAL_SERVER, so the
# caller's $! is the server's own process.
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/store_lib.sh"
args=()
dir=
have_db=0
while [ $# -gt 0 ]; do
    case $1 in
        --db)
            have_db=1
            if [ $# -ge 2 ] && [ "${2#sqlite:}" != "$2" ]; then
                args+=(--db "$(store_uri "${2#sqlite:}")") || exit 1
                shift 2
                continue
            fi
            ;;
        --db=sqlite:*)
            have_db=1
            args+=("--db=$(store_uri "${1#--db=sqlite:}")") || exit 1
            shift
            continue
            ;;
        --db=*) have_db=1 ;;
        --dir) [ $# -ge 2 ] && dir=$2 ;;
        --dir=*) dir=${1#--dir=} ;;
    esac
    args+=("$1")
    shift
done
uses_store=0
case "${args[0]:-} ${args[1]:-}" in
    "run "* | "check "* | "token "* | "backup "* | "restore "* | "migrate "* | \
        "operator add" | "operator remove") uses_store=1 ;;
esac
for a in "${args[@]}"; do
    case $a in -h | --help | --version) uses_store=0 ;; esac
done
if [ $uses_store = 1 ] && [ $have_db = 0 ] && [ -n "$dir" ]; then
    args+=(--db "$(store_uri "$dir/server.db")") || exit 1
fi
exec "${SK_REAL_SERVER:?pg_server.sh: SK_REAL_SERVER is not set}" "${args[@]}"
