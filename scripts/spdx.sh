#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Licence headers: every source file of the project names its licence in an
# SPDX-License-Identifier line near its top (the full text is in LICENSE).
#
#   scripts/spdx.sh          add the line where it is missing (idempotent)
#   scripts/spdx.sh --check  list files without it; exit 1 if there are any
#
# Source files: C and headers, CMake files, shell, Python, JavaScript,
# protobuf and Promela.  Generated files, test corpora and vectors are data,
# not source, and are left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tag="SPDX-License-Identifier: Apache-2.0"
check=0
[ "${1:-}" = "--check" ] && check=1

cd "$root"
mapfile -t files < <(find . \( -path ./.git -o -path './build*' -o -path ./tests/fuzz/corpus \
                              -o -path ./tests/vectors/twoparty/data -o -name node_modules \) -prune -o \
                       -type f \( -name '*.c' -o -name '*.h' -o -name '*.cmake' -o -name '*.cmake.in' \
                              -o -name CMakeLists.txt -o -name '*.sh' -o -name '*.py' -o -name '*.js' \
                              -o -name '*.mjs' -o -name '*.proto' -o -name '*.pml' -o -name '*.map.in' \
                              -o -name '*.pc.in' -o -path './.ci/*' \) -print | sort)

missing=0
for f in "${files[@]}"; do
  head -n 5 "$f" | grep -q "SPDX-License-Identifier:" && continue
  if [ "$check" -eq 1 ]; then
    echo "spdx: ${f#./}: no SPDX-License-Identifier line"
    missing=$((missing + 1))
    continue
  fi
  case "$f" in
    *.c|*.h|*.pml|*.map.in) line="/* $tag */" ;;
    *.proto|*.js|*.mjs)     line="// $tag" ;;
    *)                      line="# $tag" ;;
  esac
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$line"; tail -n +2 "$f"; } > "$f.spdx"
  else
    { echo "$line"; cat "$f"; } > "$f.spdx"
  fi
  chmod --reference="$f" "$f.spdx"
  mv "$f.spdx" "$f"
  missing=$((missing + 1))
done

if [ "$check" -eq 1 ]; then
  echo "spdx: ${#files[@]} source files, $missing without a licence line"
  [ "$missing" -eq 0 ]
else
  echo "spdx: ${#files[@]} source files, $missing given a licence line"
fi
