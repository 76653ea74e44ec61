#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the build into temporary prefixes and builds an outside program
# against each installation through the exported CMake package and through
# pkg-config; every program must run and produce a verifying split signature.
#
# Two installations: the build under test with its own libdir (usually "lib"), and the Debian multiarch libdir
# "lib/<triplet>" (the .pc file and the CMake package must find the headers
# and the library from either).  The installed programs must run from the
# prefix with no LD_LIBRARY_PATH, linked to the installed libsplitkey.so.
set -euo pipefail
build=$1 example=$2 cc=$3 src=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0

triplet=$("$cc" -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

install_into() { # PREFIX LIBDIR
  local prefix=$1 libdir=$2 tree=$build
  if [ "$prefix" != "$work/plain" ]; then
    # The libdir is a configure-time setting: a second, library-only build
    # configured with it (the build tree under test stays as it is).
    tree="$work/build-$(echo "$libdir" | tr '/' '_')"
    cmake -S "$src" -B "$tree" -DCMAKE_INSTALL_LIBDIR="$libdir" -DCMAKE_C_COMPILER="$cc" \
          -DSK_BUILD_TESTS=OFF -DSK_BUILD_TOOLS=OFF -DSK_BUILD_SERVICES=OFF \
          -DSK_BUILD_BENCH=OFF -DSK_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$tree" -j2 >/dev/null
  fi
  cmake --install "$tree" --prefix "$prefix" >/dev/null
}

consume() { # PREFIX LIBDIR
  local prefix=$1 libdir=$2 lib="$1/$2" tag
  tag=$(echo "$libdir" | tr '/' '_')

  test -f "$lib/pkgconfig/splitkey.pc" || { echo "no $libdir/pkgconfig/splitkey.pc"; exit 1; }
  test -f "$lib/cmake/splitkey/splitkeyConfig.cmake" || { echo "no $libdir/cmake/splitkey"; exit 1; }

  mkdir -p "$work/cmake-$tag"
  cp "$example" "$work/cmake-$tag/main.c"
  cat > "$work/cmake-$tag/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(splitkey 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE splitkey::splitkey)
CM
  cmake -S "$work/cmake-$tag" -B "$work/cmake-$tag/build" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
  cmake --build "$work/cmake-$tag/build" >/dev/null
  LD_LIBRARY_PATH="$lib" "$work/cmake-$tag/build/consumer" "via find_package ($libdir)" \
    | tee "$work/out-cmake-$tag"
  grep -q "signature verifies" "$work/out-cmake-$tag"
  passed=$((passed + 1))

  local flags
  flags=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs splitkey)
  inc=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --variable=includedir splitkey)
  test -f "$inc/splitkey/splitkey.h" || { echo "pkg-config includedir $inc has no splitkey/splitkey.h"; exit 1; }
  # shellcheck disable=SC2086
  "$cc" -std=c11 "$example" $flags -o "$work/pc-$tag"
  LD_LIBRARY_PATH="$lib" "$work/pc-$tag" "via pkg-config ($libdir)" | tee "$work/out-pc-$tag"
  grep -q "signature verifies" "$work/out-pc-$tag"
  passed=$((passed + 1))

  # The device library alone, found by pkg-config: the shared form and the
  # static one both build and run the example, load no service library, and
  # its headers hold only what it implements (pki.h is not there).
  local dflags dstatic
  dflags=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags --libs splitkey-device)
  # shellcheck disable=SC2086
  "$cc" -std=c11 "$example" $dflags -o "$work/dev-$tag"
  LD_LIBRARY_PATH="$lib" "$work/dev-$tag" "via pkg-config splitkey-device ($libdir)" \
    | tee "$work/out-dev-$tag"
  grep -q "signature verifies" "$work/out-dev-$tag"
  if LD_LIBRARY_PATH="$lib" ldd "$work/dev-$tag" | grep -E 'libsplitkey\.so|libnng|libsqlite3|libpq|libmbedx509|libmbedtls'; then
    echo "the device consumer loads a library it must not need"; exit 1
  fi
  dstatic=$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --static --libs-only-other --libs-only-L splitkey-device)
  # shellcheck disable=SC2086
  "$cc" -std=c11 "$example" $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags splitkey-device) \
        "$lib/libsplitkey-device.a" $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --static --libs splitkey-device \
        | sed 's/-lsplitkey-device//') $dstatic -o "$work/dev-static-$tag"
  if ldd "$work/dev-static-$tag" | grep -q splitkey; then
    echo "the static device consumer still loads a splitkey library"; exit 1
  fi
  "$work/dev-static-$tag" "via libsplitkey-device.a ($libdir)" | tee "$work/out-devs-$tag"
  grep -q "signature verifies" "$work/out-devs-$tag"
  printf '#include <splitkey/pki.h>\nint main(void) { return 0; }\n' > "$work/pki-$tag.c"
  # shellcheck disable=SC2086
  if "$cc" -std=c11 -c "$work/pki-$tag.c" $(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags splitkey-device) \
       -o "$work/pki-$tag.o" 2>/dev/null; then
    echo "splitkey-device's include path offers pki.h, which it does not implement"; exit 1
  fi
  passed=$((passed + 1))

  # The installed programs: linked to the installed shared library (no
  # static copy), and they run without LD_LIBRARY_PATH.
  [ -d "$prefix/bin" ] || return 0
  local p n=0
  for p in "$prefix"/bin/splitkey*; do
    [ -e "$p" ] || continue
    n=$((n + 1))
    loaded=$(ldd "$p" | sed -n 's/^[[:space:]]*libsplitkey\.so\.0 => \([^ ]*\) .*/\1/p')
    [ -n "$loaded" ] && [ "$(realpath "$loaded")" = "$(realpath "$lib/libsplitkey.so.0")" ] \
      || { echo "$p does not load $lib/libsplitkey.so.0:"; ldd "$p"; exit 1; }
    if nm --defined-only "$p" 2>/dev/null | grep -q ' T sk_sign_verify_pkcs1\| T sk_device_enrol_start'; then
      echo "$p carries its own copy of the library"; exit 1
    fi
    "$p" --version | grep -q "^$(basename "$p") " || { echo "$p --version"; exit 1; }
  done
  if [ -e "$prefix/bin/splitkey-bench" ]; then
    echo "splitkey-bench is installed by default"; exit 1
  fi
  echo "$n installed programs load $libdir/libsplitkey.so.0"
  passed=$((passed + 1))
}

# The build under test, with the libdir it was configured with.
main_libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build/CMakeCache.txt")
install_into "$work/plain" "${main_libdir:-lib}"
consume "$work/plain" "${main_libdir:-lib}"
install_into "$work/multiarch" "lib/$triplet"
consume "$work/multiarch" "lib/$triplet"
echo "install consumer: $passed passed, 0 failed"
