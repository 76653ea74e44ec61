#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# versions.sh BIN_DIR VERSION - every program answers --version with its
# name and the one project version, exits 0, and writes nothing else.
set -u
BIN=$1 WANT=$2
failed=0
for p in splitkey splitkey-client splitkey-rp splitkey-server splitkey-ca splitkey-ocsp splitkey-tsa \
  splitkey-bench example-split-sign; do
  if [ ! -x "$BIN/$p" ]; then
    echo "skipped: $p is not part of this build"
    continue
  fi
  out=$("$BIN/$p" --version 2>"$BIN/../versions.err")
  rc=$?
  if [ $rc -eq 0 ] && [ "$out" = "$p $WANT" ] && [ ! -s "$BIN/../versions.err" ]; then
    echo "ok: $p --version: $out"
  else
    echo "FAIL: $p --version (exit $rc): '$out' $(cat "$BIN/../versions.err"), expected '$p $WANT'"
    failed=1
  fi
done
rm -f "$BIN/../versions.err"
exit $failed
