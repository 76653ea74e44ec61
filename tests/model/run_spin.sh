#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# run_spin.sh - verify the Promela model with SPIN and check the outcome.
#
#   run_spin.sh MODEL.pml [-DNAME[=VALUE]...] [--each "CFG_A CFG_B ..."]
#               --expect pass|fail [--prop TAG] [--dfs]
#
# In a fresh temporary directory (never the source tree): spin -a with the
# -D macros, the verifier pan.c compiled with the system C compiler
# ($CC, default cc), run exhaustively (safety: assertions and invalid end
# states).
#
#   --expect pass  the search must be complete: "errors: 0", no "max search
#                  depth too small", the depth reached below the limit, no
#                  memory exhaustion.  With --each, one run per listed
#                  macro (each run gets -D<macro> on top of the others).
#   --expect fail  pan must report errors > 0 and write a trail, which
#                  "spin -t" must replay to a violated assertion (or an
#                  invalid end state); with --prop TAG the violated
#                  assertion's line must carry TAG in its comment (every
#                  assertion of the model is tagged with its property).
#                  A failing run searches breadth first (-DBFS), so the
#                  trail is a shortest one, unless --dfs is given or that
#                  search runs out of memory first.
# The property and the first lines of the readable trail are printed.
#
# Environment: SPIN (default spin), CC (default cc), PAN_DEPTH (default
# 10000), PAN_MEMLIM in MB (default 2048), KEEP=1 keeps the directory.

set -u

usage() {
    echo "usage: $0 MODEL.pml [-DNAME[=V]...] [--each \"CFG...\"] --expect pass|fail [--prop TAG] [--dfs]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
model=$1
shift
defs=""
each=""
expect=""
prop=""
dfs=0
while [ $# -gt 0 ]; do
    case $1 in
    --expect) [ $# -ge 2 ] || usage; expect=$2; shift 2 ;;
    --prop) [ $# -ge 2 ] || usage; prop=$2; shift 2 ;;
    --each) [ $# -ge 2 ] || usage; each=$2; shift 2 ;;
    --dfs) dfs=1; shift ;;
    -D*) defs="$defs $1"; shift ;;
    *) usage ;;
    esac
done
case $expect in pass | fail) ;; *) usage ;; esac
[ -f "$model" ] || { echo "FAIL: no model $model" >&2; exit 1; }

SPIN=${SPIN:-spin}
CC=${CC:-cc}
depth=${PAN_DEPTH:-10000}
memlim=${PAN_MEMLIM:-2048}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/skmodel.XXXXXX") || exit 1
if [ "${KEEP:-0}" = 1 ]; then
    echo "(working directory: $tmp)"
else
    trap 'rm -rf "$tmp"' EXIT INT TERM
fi
name=$(basename "$model")
cp "$model" "$tmp/$name" || exit 1
pp=pp_$name   # the preprocessed model
cd "$tmp" || exit 1

# the property tag of a model line: the text of its /* ... */ comment
tag_of_line() {
    sed -n "$1p" "$pp" | sed -n 's|.*/\*[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*\*/.*|\1|p'
}

# the printf narrative of a replayed trail, without the final dump of the
# variables and processes
readable() {
    tab=$(printf '\t')
    grep -v "^$tab\|^[[:space:]]*[0-9]*:[[:space:]]*proc \|^#processes\|processes created" "$1"
}

# compile pan.c with the flags $1 and run it; sets start, end
run_pan() {
    rm -f pan "$pp.trail"
    if ! $CC $1 -w -o pan pan.c >cc.out 2>&1; then
        echo "FAIL: $CC $1 pan.c"
        cat cc.out
        return 1
    fi
    start=$(date +%s)
    ./pan -m"$depth" -n >pan.out 2>&1
    end=$(date +%s)
    return 0
}

# one verification; $1: the -D macros.  The model is preprocessed here
# (comments kept, no line markers) and spin reads the result, so that the
# line numbers spin reports are exact even inside inline bodies with
# conditional parts, and the violated line's tag comment can be looked up.
verify() {
    d=$1
    rm -f pan pan.* "$pp" "$pp.trail"
    # shellcheck disable=SC2086
    if ! $CC -E -P -C -x c $d "$name" >"$pp" 2>cpp.out; then
        echo "FAIL: $CC -E$d $name"
        cat cpp.out
        return 1
    fi
    if ! $SPIN -a "$pp" >spin.out 2>&1; then
        echo "FAIL: spin -a ($d) $name"
        cat spin.out
        return 1
    fi
    if [ "$expect" = fail ] && [ "$dfs" = 0 ]; then
        # breadth first for a shortest trail; if that runs out of its
        # memory before a violation, depth first
        # (a violation is found after a small part of the state space: an
        # unoptimised verifier compiles in a fraction of the time)
        run_pan "-O0 -DSAFETY -DBFS -DMEMLIM=${PAN_BFS_MEMLIM:-768}" || return 1
        if grep -q "reached -DMEMLIM bound" pan.out && [ ! -s "$pp.trail" ]; then
            echo "(breadth-first search ran out of memory: depth first)"
            run_pan "-O1 -DSAFETY -DCOLLAPSE -DMEMLIM=$memlim" || return 1
        fi
    elif [ "$expect" = fail ]; then
        run_pan "-O1 -DSAFETY -DCOLLAPSE -DMEMLIM=$memlim" || return 1
    else
        run_pan "-O1 -DSAFETY -DCOLLAPSE -DMEMLIM=$memlim" || return 1
    fi
    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | head -n 1)
    reached=$(sed -n 's/.*depth reached \([0-9][0-9]*\).*/\1/p' pan.out | head -n 1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | head -n 1)
    mem=$(sed -n 's/^ *\([0-9.]*\).*total actual memory usage.*/\1/p' pan.out | head -n 1)
    summary="$states states, depth $reached, ${mem:-?} MB, $((end - start)) s"
    if { [ "$expect" = pass ] || [ "${errors:-0}" = 0 ]; } &&
        grep -q "out of memory\|max search depth too small\|resolution too small\|reached -DMEMLIM bound" pan.out; then
        echo "FAIL:$d: the search was not exhaustive ($summary)"
        grep "out of memory\|max search depth too small\|resolution too small\|reached -DMEMLIM bound" pan.out
        return 1
    fi
    if [ -z "$errors" ]; then
        echo "FAIL:$d: no verdict from pan"
        cat pan.out
        return 1
    fi

    if [ "$expect" = pass ]; then
        if [ "$errors" != 0 ] || [ -z "$reached" ] || [ "$reached" -ge "$depth" ] ||
            grep -q "Search not completed" pan.out; then
            echo "FAIL:$d: expected no violation, pan says errors: $errors ($summary)"
            if [ -f "$pp.trail" ]; then
                $SPIN -T -t "$pp" >trail.out 2>&1
                line=$(sed -n "s/.*spin: $pp:\([0-9]*\), Error.*/\1/p" trail.out | head -n 1)
                [ -n "$line" ] && echo "violated: $(tag_of_line "$line") (line $line)"
                echo "--- trail (spin -t) ---"
                readable trail.out | head -n 60
            fi
            return 1
        fi
        echo "ok:$d: all properties hold, search complete ($summary)"
        return 0
    fi

    # expect fail
    if [ "$errors" = 0 ]; then
        echo "FAIL:$d: expected a violation, pan found none ($summary)"
        return 1
    fi
    if [ ! -s "$pp.trail" ]; then
        echo "FAIL:$d: pan reports errors: $errors but wrote no trail"
        return 1
    fi
    $SPIN -T -t "$pp" >trail.out 2>&1
    if ! grep -q "assertion violated\|invalid end state" trail.out; then
        echo "FAIL:$d: spin -t does not replay the trail to a violation"
        head -n 40 trail.out
        return 1
    fi
    line=$(sed -n "s/.*spin: $pp:\([0-9]*\), Error.*/\1/p" trail.out | head -n 1)
    tag=""
    [ -n "$line" ] && tag=$(tag_of_line "$line")
    steps=$(sed -n 's/^spin: trail ends after \([0-9]*\) steps.*/\1/p' trail.out | head -n 1)
    if [ -n "$prop" ]; then
        case " $tag " in
        *" $prop "*) ;;
        *)
            echo "FAIL:$d: a violation, but of \"$tag\" (line $line), not $prop"
            readable trail.out | head -n 60
            return 1
            ;;
        esac
    fi
    echo "ok:$d: violation found as required: $tag (line $line; trail of ${steps:-?} steps; $summary)"
    echo "--- trail (spin -T -t, first lines) ---"
    readable trail.out | head -n 45
    return 0
}

status=0
if [ -n "$each" ]; then
    for c in $(echo "$each" | tr ',' ' '); do
        verify "$defs -D$c" || status=1
    done
else
    verify "$defs" || status=1
fi
exit $status
