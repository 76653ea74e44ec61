#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the whole test suite on a fresh Debian 12 machine: installs what it
# needs, then
#   1. builds a second tree with clang and AddressSanitizer +
#      UndefinedBehaviorSanitizer (build-asan) and runs its ctest (every test
#      except the valgrind ones, which cannot run under ASan and are not
#      registered there; the SPIN model checks, which run no project C code;
#      and the tests labelled slow - the replay of attacks through the
#      programs - whose code the other service tests run under ASan too:
#      those run once, in stage 3; and the PostgreSQL copies of the scenario
#      tests, label pg, which run the same server code on the other store,
#      and the headless-Chromium test of splitkey-rp's web page, label
#      browser: those run once, in stage 4);
#   2. builds the constant-time test with clang (build-clang) and runs it
#      under valgrind: the main build uses the default compiler (gcc), and a
#      compiler can turn masking into branches (clang did once; phone builds
#      use clang);
#   3. cross-builds the library and its unit and protocol tests for arm64
#      (build-arm64) and runs them under qemu-user;
#   4. builds the main tree with warnings as errors and runs its ctest,
#      constant-time (valgrind) test included.
# Any failing stage fails the script.  Its last line is the main ctest summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# install-deps.sh installed PostgreSQL: its tests fail (rather than skip) when
# the server binaries are missing.
export SK_REQUIRE_PG=${SK_REQUIRE_PG:-1}

jobs=$(nproc)
if [ "$jobs" -gt 2 ]; then jobs=2; fi
jobs=${SK_JOBS:-$jobs}
build=${SK_BUILD_DIR:-build}
asan_build=${SK_ASAN_BUILD_DIR:-build-asan}
clang_build=${SK_CLANG_BUILD_DIR:-build-clang}
arm64_build=${SK_ARM64_BUILD_DIR:-build-arm64}

# Stage 1: sanitizers.  Leaks are errors too (LeakSanitizer is part of ASan).
if command -v clang >/dev/null 2>&1; then asan_cc=clang; else asan_cc=gcc; fi
echo "test.sh: sanitizer build ($asan_cc, address,undefined) in $asan_build" >&2
CC=$asan_cc cmake -S . -B "$asan_build" -DSK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSK_SANITIZE=address,undefined >/dev/null
cmake --build "$asan_build" -j"$jobs"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1} \
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  ctest --test-dir "$asan_build" --output-on-failure -j"$jobs" -LE "ctime|model|slow|pg|browser"

# Stage 2: the valgrind constant-time test built with clang.
if command -v clang >/dev/null 2>&1 && command -v valgrind >/dev/null 2>&1; then
  echo "test.sh: constant-time test with clang in $clang_build" >&2
  CC=clang cmake -S . -B "$clang_build" -DSK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSK_BUILD_TOOLS=OFF -DSK_BUILD_SERVICES=OFF -DSK_BUILD_BENCH=OFF \
    -DSK_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$clang_build" -j"$jobs" --target ctime_test
  ctest --test-dir "$clang_build" --output-on-failure -j"$jobs" -L ctime --no-tests=error
fi

# Stage 3: the library, the device library and their unit and protocol
# tests cross-built for arm64 (Debian's aarch64 cross compiler and arm64
# packages) and run under qemu-user; SK_NO_ARM64=1 skips it.
if [ "${SK_NO_ARM64:-0}" != 1 ]; then
  echo "test.sh: arm64 cross build in $arm64_build, tests under qemu-user" >&2
  cmake -S . -B "$arm64_build" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake \
    -DSK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSK_BUILD_TOOLS=OFF \
    -DSK_BUILD_SERVICES=OFF -DSK_BUILD_BENCH=OFF -DSK_BUILD_EXAMPLES=OFF \
    -DSK_CTIME_HOOKS=OFF >/dev/null
  cmake --build "$arm64_build" -j"$jobs"
  ctest --test-dir "$arm64_build" --output-on-failure -j"$jobs" -L "unit|protocol" \
    -LE "ctime|slow" --no-tests=error
fi

# Stage 4: the main build, last, so that its summary ends the output.
echo "test.sh: main build in $build" >&2
cmake -S . -B "$build" -DSK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
