#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what it
# needs, builds with warnings as errors, runs ctest.  Its last line is ctest's
# summary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
build=${SK_BUILD_DIR:-build}

cmake -S . -B "$build" -DSK_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"$jobs"
