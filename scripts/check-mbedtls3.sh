#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compiles (syntax and types, no code generation) every source file that
# includes an mbedTLS header against another mbedTLS's headers, e.g. 3.6:
#
#   scripts/check-mbedtls3.sh /path/to/mbedtls-3.6/include [BUILD_DIR]
#
# Debian 12 ships only mbedTLS 2.28, so this runs by hand where 3.x headers
# are at hand; doc/abi.md records the last result.  BUILD_DIR (default
# build) supplies the generated protobuf headers.  Exits 1 if a file fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
inc=${1:?usage: check-mbedtls3.sh MBEDTLS_INCLUDE_DIR [BUILD_DIR]}
build=${2:-$root/build}
test -f "$inc/mbedtls/version.h" || { echo "check-mbedtls3: $inc/mbedtls/version.h: not found" >&2; exit 2; }
test -d "$build/proto" || { echo "check-mbedtls3: $build/proto: configure and build first" >&2; exit 2; }
version=$(for h in version.h build_info.h; do
            [ -f "$inc/mbedtls/$h" ] && sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$inc/mbedtls/$h"
          done | head -n 1 || true)

cd "$root"
mapfile -t files < <(grep -rl --include=*.c '#include <mbedtls/' libsplitkey services tools bench examples | sort)
flags=(-std=c11 -fsyntax-only -Wall -Wextra -Werror -Wno-unused-parameter -DSK_BUILDING_LIBRARY
       -I"$inc" -Ilibsplitkey/include -Ilibsplitkey/src -I"$build/proto"
       -Iservices/common -Iservices/server_share -Iservices/client_share -Iservices/ca_issuer
       -Iservices/drive -Ibench)
failed=0
for f in "${files[@]}"; do
  if ! cc "${flags[@]}" "$f"; then
    echo "check-mbedtls3: $f: does not compile against mbedTLS $version" >&2
    failed=$((failed + 1))
  fi
done
echo "check-mbedtls3: ${#files[@]} files against mbedTLS $version: $((${#files[@]} - failed)) compile, $failed fail"
[ "$failed" -eq 0 ]
