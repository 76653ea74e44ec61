#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when the device library references any socket, file, database,
# transport or thread-creation symbol.  Usage: check_device_symbols.sh NM LIB
set -eu
nm_tool=$1
lib=$2
undefined=$("$nm_tool" -u "$lib" | awk 'NF >= 2 {print $2} NF == 1 && $1 !~ /:$/ {print $1}' | sed 's/@.*//' | sort -u)
[ -n "$undefined" ] || { echo "no undefined symbols read from $lib"; exit 1; }
bad=$(printf '%s\n' "$undefined" | grep -E '^(socket|connect|bind|listen|accept4?|getaddrinfo|gethostbyname|send|recv|sendto|recvfrom|sendmsg|recvmsg|fopen(64)?|fdopen|freopen(64)?|open(64)?|openat(64)?|creat(64)?|fread|fwrite|opendir|mmap(64)?|pthread_create|sqlite3_.*|nng_.*|PQ.*)$' || true)
if [ -n "$bad" ]; then
    echo "device library references forbidden symbols:"
    printf '  %s\n' $bad
    exit 1
fi
echo "device library: $(printf '%s\n' "$undefined" | wc -l) undefined symbols, none forbidden"
