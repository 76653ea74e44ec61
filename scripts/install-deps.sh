#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages splitkey builds, tests and runs with.
# Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3
  libgmp-dev libsodium-dev libmbedtls-dev libnng-dev
  libprotobuf-c-dev protobuf-c-compiler
  libsqlite3-dev sqlite3 libpq-dev postgresql
  openssl libssl-dev gnutls-bin python3-cryptography python3-pyasn1 python3-pyasn1-modules curl
  valgrind clang libclang-rt-14-dev
  spin faketime
  help2man libjansson-dev libsystemd-dev systemd
  chromium chromium-driver
)

# The arm64 cross build of the library and its tests (scripts/test.sh runs
# them under qemu-user): the cross compiler and arm64 development packages.
cross_packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
arm64_packages=(libgmp-dev:arm64 libsodium-dev:arm64 libmbedtls-dev:arm64 libprotobuf-c-dev:arm64)
if [ "${SK_NO_ARM64:-0}" != 1 ]; then
  packages+=("${cross_packages[@]}" "${arm64_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
   ! dpkg --print-foreign-architectures | grep -qx arm64; then
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
fi
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
