#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The phone app as an outside developer builds it: the build is installed
# into a temporary prefix, examples/device_app.c is compiled against that
# copy with nothing but `pkg-config splitkey-device` (and -lnng for its own
# transport: Debian's nng has no .pc file), and the program so
# built goes through the whole of device_app.sh (enrolment, a relying
# party's session with a wrong PIN first, a signature of its own) against
# the build's splitkey-server and splitkey-rp on loopback.
#
#   device_app_installed.sh BUILD_DIR SOURCE_DIR CC BIN_DIR
set -euo pipefail
build=$1 src=$2 cc=$3 bin=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
lib="$work/prefix/${libdir:-lib}"
export PKG_CONFIG_PATH="$lib/pkgconfig"
pkg-config --exists splitkey-device || { echo "pkg-config finds no splitkey-device"; exit 1; }

flags=$(pkg-config --cflags --libs splitkey-device)
case " $flags " in
  *" -lsplitkey "*) echo "splitkey-device.pc names the full library: $flags"; exit 1 ;;
esac
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror "$src/examples/device_app.c" $flags \
      -lnng -Wl,-rpath,"$lib" -o "$work/device-app"

ldd "$work/device-app" >"$work/ldd.txt"
loaded=$(sed -n 's/^[[:space:]]*libsplitkey-device\.so\.0 => \([^ ]*\) .*/\1/p' "$work/ldd.txt")
[ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$lib/libsplitkey-device.so.0")" ] \
  || { echo "the program does not load the installed libsplitkey-device.so.0:"; cat "$work/ldd.txt"; exit 1; }
if grep -E 'libsplitkey\.so|libsqlite3|libpq' "$work/ldd.txt"; then
  echo "the device app loads a library it must not need"; exit 1
fi
# nng brings mbedTLS for its TLS; the device library itself needs none of it
if objdump -p "$lib/libsplitkey-device.so.0" | grep NEEDED | grep -E 'nng|sqlite|libpq|mbedx509|mbedtls\.'; then
  echo "libsplitkey-device.so.0 needs a library a phone app must not need"; exit 1
fi
echo "built examples/device_app.c from the installed copy; it loads $loaded"

SK_DEVICE_APP="$work/device-app" bash "$src/tests/install/device_app.sh" "$bin"
