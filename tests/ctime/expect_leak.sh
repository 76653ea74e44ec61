#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# expect_leak.sh VALGRIND PROGRAM MODE PATTERN [VALGRIND OPTIONS...]
# Runs PROGRAM MODE under valgrind and passes only when valgrind found an error
# (exit status 42) whose report matches PATTERN: the proof that the
# constant-time check can fail.  Any other outcome, including valgrind not
# running or the program failing on its own, is a failure.
set -u
if [ "$#" -lt 4 ]; then
    echo "usage: $0 VALGRIND PROGRAM MODE PATTERN [VALGRIND OPTIONS...]" >&2
    exit 2
fi
vg=$1 prog=$2 mode=$3 pattern=$4
shift 4
out=$("$vg" --error-exitcode=42 "$@" "$prog" "$mode" --require-valgrind 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 42 ]; then
    echo "expect_leak: valgrind exit status $rc, expected 42 (an error reported)" >&2
    exit 1
fi
if ! printf '%s\n' "$out" | grep -q -- "$pattern"; then
    echo "expect_leak: no report matching '$pattern'" >&2
    exit 1
fi
echo "expect_leak: valgrind caught the deliberate leak ($mode)"
