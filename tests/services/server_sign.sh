#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_sign.sh SERVER DRIVE SQLITE3 OPENSSL PROFILE - enrolment and
# signing against a real splitkey-server; every signature the device got is
# verified again by OpenSSL under the composite public key (PEM written with
# sk_pubkey_export_pem), for PKCS#1 v1.5 and PSS.
SERVER=$1 DRIVE=$2 SQLITE3=$3 OPENSSL=$4 PROFILE=$5
. "$(dirname "$0")/server_lib.sh"

start_server --open-enrolment --pool-size 1 --pool-profiles "$PROFILE" --workers 2 ||
    { echo "server did not start" >&2; exit 1; }

for scheme in pkcs1 pss; do
    out="$T/$scheme"
    mkdir "$out"
    check "$PROFILE $scheme: enrol and sign 3" drive --profile "$PROFILE" --scheme "$scheme" \
        --signs 3 --out "$out" sign
    for j in 0 1 2; do
        if [ "$scheme" = pss ]; then
            opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
        else
            opts=()
        fi
        check "$PROFILE $scheme: openssl verifies signature $j" \
            "$OPENSSL" dgst -sha256 -verify "$out/t0.pem" "${opts[@]}" \
            -signature "$out/t0-$j.sig" "$out/t0-$j.msg"
    done
    # a changed message does not verify
    cp "$out/t0-0.msg" "$T/changed.msg"
    echo x >>"$T/changed.msg"
    check "$PROFILE $scheme: openssl refuses a changed message" \
        bash -c "! '$OPENSSL' dgst -sha256 -verify '$out/t0.pem' ${opts[*]:-} \
            -signature '$out/t0-0.sig' '$T/changed.msg' >/dev/null 2>&1"
    bits=$("$OPENSSL" pkey -pubin -in "$out/t0.pem" -noout -text | sed -n 's/.*(\([0-9]*\) bit).*/\1/p')
    want=$([ "$PROFILE" = 4K ] && echo 4096 || echo 6144)
    check "$PROFILE $scheme: the composite key has $want bits" test "$bits" = "$want"
    key=$(cat "$out/t0.keyid")
    check "$PROFILE $scheme: the key is ACTIVE in the database" \
        test "$(sql "SELECT state FROM keys WHERE key_id = X'$key'")" = 3
    check "$PROFILE $scheme: 4 signatures logged (proof of possession + 3)" \
        test "$(sql "SELECT count(*) FROM events WHERE kind = 5 AND key_id = X'$key'")" = 4
done

# The PIN (52719) must not appear as a word of its own; the timestamps and the
# request durations are digits too, so they are left out of the search.
check "no secret in the log" bash -c "! grep -Eqi 'pin=|otp=' '$T/server.log' &&
    ! sed -E 's/^[^ ]+ //; s/ us=[0-9]+//g' '$T/server.log' | grep -qw 52719"
check "request lines are logged" grep -q "req kind=sign-submit key=" "$T/server.log"
check "SIGTERM stops the server cleanly" stop_server
finish
