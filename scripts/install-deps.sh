#!/usr/bin/env bash
# Installs the Debian 12 packages splitkey builds, tests and runs with.
# Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3
  libgmp-dev libsodium-dev libmbedtls-dev libnng-dev
  libprotobuf-c-dev protobuf-c-compiler
  libsqlite3-dev sqlite3 libpq-dev postgresql
  openssl libssl-dev gnutls-bin
  valgrind clang libclang-rt-14-dev
  spin faketime
)

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
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
