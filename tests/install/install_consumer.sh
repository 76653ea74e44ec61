#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds an outside program
# against it through the exported CMake package and through pkg-config; both
# programs must run and produce a verifying split signature.
set -euo pipefail
build=$1 example=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
lib=$(ls -d "$work"/prefix/lib* | head -n 1)

mkdir -p "$work/cmake-consumer"
cp "$example" "$work/cmake-consumer/main.c"
cat > "$work/cmake-consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(splitkey 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE splitkey::splitkey)
CM
cmake -S "$work/cmake-consumer" -B "$work/cmake-consumer/build" \
      -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cmake-consumer/build" >/dev/null
LD_LIBRARY_PATH="$lib" "$work/cmake-consumer/build/consumer" "via find_package" | tee "$work/out1"
grep -q "signature verifies" "$work/out1"

export PKG_CONFIG_PATH="$lib/pkgconfig"
flags=$(pkg-config --cflags --libs splitkey)
# shellcheck disable=SC2086
"$cc" -std=c11 "$example" $flags -o "$work/pc-consumer"
LD_LIBRARY_PATH="$lib" "$work/pc-consumer" "via pkg-config" | tee "$work/out2"
grep -q "signature verifies" "$work/out2"
echo "install consumer: 2 passed, 0 failed"
