# SPDX-License-Identifier: Apache-2.0
# four_eyes_lib.sh - registration tokens the four-eyes way for the tests
# (sourced; expects SERVER).  Two test operators are made and registered in
# the server directory on first use; their keys live in DIR.operators/.
#
#   four_eyes_token DIR SUBJECT PURPOSE [DB-URI [JOURNAL]] > FILE
#       prints a token requested by operator test-a and approved by test-b:
#       one an enrolment accepts.  The server's store (DIR/server.db, or
#       DB-URI as given to run; "" for the default) must exist: the steps go
#       to its event log (and to run's commit journal JOURNAL if it keeps one).
four_eyes_operators() { # four_eyes_operators DIR [DB-URI [JOURNAL]]
  local dir=$1 ops="$1.operators" db=()
  [ $# -ge 2 ] && [ -n "$2" ] && db=(--db "$2")
  [ $# -ge 3 ] && [ -n "$3" ] && db+=(--journal "$3")
  [ -f "$ops/b.key" ] && return 0
  mkdir -p "$ops" &&
    "$SERVER" operator keygen --out "$ops/a.key" >/dev/null &&
    "$SERVER" operator keygen --out "$ops/b.key" >/dev/null &&
    "$SERVER" operator add --dir "$dir" --name test-a --pub "$ops/a.key.pub" \
      ${db[@]+"${db[@]}"} >/dev/null &&
    "$SERVER" operator add --dir "$dir" --name test-b --pub "$ops/b.key.pub" \
      ${db[@]+"${db[@]}"} >/dev/null
}

four_eyes_token() {
  local dir=$1 subject=$2 purpose=$3 ops="$1.operators" db=() rc
  [ $# -ge 4 ] && [ -n "$4" ] && db=(--db "$4")
  [ $# -ge 5 ] && [ -n "$5" ] && db+=(--journal "$5")
  four_eyes_operators "$dir" "${4:-}" "${5:-}" || return 1
  (umask 077 && "$SERVER" token --dir "$dir" --subject "$subject" --purpose "$purpose" \
    --operator-key "$ops/a.key" ${db[@]+"${db[@]}"} >"$ops/request" 2>"$ops/request.err") ||
    { cat "$ops/request.err" >&2; return 1; }
  "$SERVER" token approve --dir "$dir" --operator-key "$ops/b.key" --token-file "$ops/request" \
    ${db[@]+"${db[@]}"} 2>"$ops/approve.err"
  rc=$?
  [ $rc -eq 0 ] || cat "$ops/approve.err" >&2
  rm -f "$ops/request"
  return $rc
}
