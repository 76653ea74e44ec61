# SPDX-License-Identifier: Apache-2.0
# rp_test_lib.sh - the relying party the service and attack tests speak as
# (sourced, not run).  Relying parties reach splitkey-server only over its
# HTTPS API (--rp-listen), authenticated by a registered client
# certificate; this file keeps that set-up in one place:
#
#   rp_test_register SRVDIR   makes $T/rp-test.crt and .key (self-signed
#                             P-256, once per $T) and registers them in
#                             SRVDIR as $RP_TEST_UUID with the names in
#                             $RP_TEST_NAMES, every level and purpose and
#                             limits no test reaches (rate, pending)
#   rp_test_args READYFILE SRVDIR
#                             after the server wrote READYFILE (started with
#                             --rp-listen https://127.0.0.1:0): RPURL (its
#                             second line), RP_PIN (the server certificate's
#                             SHA-256) and RP_API_ARGS, the options that
#                             splitkey-rp and the test drivers take to speak
#                             as that relying party:
#                               --api RPURL/v2/ --server-cert-sha256 HEX
#                               --rp-cert FILE --rp-key FILE --rp-uuid UUID
#   RP_LISTEN                 the option pair that starts the listener
#   rp_start NAME COMMAND ARGS...
#                             "splitkey-rp COMMAND" as that relying party
#                             ($RP_API_ARGS first), in the background, its
#                             output in $T/NAME.out and .err; once it printed
#                             its verification code: RP_PID, RP_CODE and
#                             RP_SID (the session as the device lists it: the
#                             API's sessionID, a UUID, without its dashes)
#   rp_wait                   waits for it: RP_EXIT
#   rp_test_certchoice_prog SRVDIR OUT
#                             after rp_test_args: writes the program OUT,
#                             run as OUT PERSON NONCE: one certificate-choice
#                             create for PERSON (ADVANCED) at RPURL as the
#                             test relying party (curl; the server's key from
#                             SRVDIR/rp-tls.crt pinned), printing the HTTP
#                             status (000: no answer).  A fresh NONCE makes
#                             each create a new one, never an idempotent
#                             repeat.
#
# Expects T (a temporary directory) and SERVER (splitkey-server); rp_start
# expects RP (splitkey-rp).

RP_TEST_UUID=0b9d3c1e-5a47-4f26-9e1d-7c2b8a6f4d30
RP_TEST_NAMES='Bank|Bank A|Bike shop|sk_drive bank|ra_drive bank|splitkey-bench|splitkey-rp|Splitkey Bank'
RP_LISTEN=(--rp-listen https://127.0.0.1:0)
RPURL=
RP_PIN=
RP_API_ARGS=()

rp_test_register() {
    local srvdir=$1
    if [ ! -s "$T/rp-test.crt" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$T/rp-test.key" -out "$T/rp-test.crt" -days 2 \
            -subj "/CN=splitkey test relying party" 2>/dev/null ||
            { echo "rp_test_register: openssl req failed" >&2; return 1; }
    fi
    # registered already (a second start on the same directory): keep it
    if "$SERVER" rp list --dir "$srvdir" 2>/dev/null | grep -q "^$RP_TEST_UUID "; then
        return 0
    fi
    "$SERVER" rp add --dir "$srvdir" --uuid "$RP_TEST_UUID" --names "$RP_TEST_NAMES" \
        --cert "$T/rp-test.crt" --levels ADVANCED,QUALIFIED --purposes auth,sign,certchoice,seal \
        --rate 100000 --pending 100000 >/dev/null ||
        { echo "rp_test_register: rp add failed" >&2; return 1; }
}

rp_test_args() {
    local ready=$1 srvdir=$2
    RPURL=$(sed -n 2p "$ready")
    RP_PIN=$("$SERVER" rp pin --dir "$srvdir" | awk '$1 == "sha256" { print $2 }')
    if [ -z "$RPURL" ] || [ ${#RP_PIN} -ne 64 ]; then
        echo "rp_test_args: the server has no relying-party listener" >&2
        return 1
    fi
    RP_API_ARGS=(--api "$RPURL/v2/" --server-cert-sha256 "$RP_PIN" --rp-cert "$T/rp-test.crt"
        --rp-key "$T/rp-test.key" --rp-uuid "$RP_TEST_UUID")
}

rp_start() {
    local name=$1 cmd=$2 i
    shift 2
    RP_CODE= RP_SID=
    "$RP" "$cmd" "${RP_API_ARGS[@]}" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    RP_PID=$!
    for i in $(seq 1 400); do
        grep -q "^verification code:" "$T/$name.out" 2>/dev/null && break
        kill -0 "$RP_PID" 2>/dev/null || break
        sleep 0.05
    done
    RP_CODE=$(sed -n 's/^verification code: \([0-9]\{4\}\)$/\1/p' "$T/$name.out")
    RP_SID=$(sed -n 's/^session \([0-9a-f-]\{36\}\) for .*$/\1/p' "$T/$name.out" | tr -d -)
    if [ -z "$RP_CODE" ] || [ ${#RP_SID} -ne 32 ]; then
        echo "rp_start $name: splitkey-rp printed no session" >&2
        cat "$T/$name.out" "$T/$name.err" >&2
        return 1
    fi
}

rp_wait() {
    wait "$RP_PID"
    RP_EXIT=$?
}

rp_test_certchoice_prog() {
    local srvdir=$1 out=$2
    openssl x509 -in "$srvdir/rp-tls.crt" -pubkey -noout >"$out.pub" ||
        { echo "rp_test_certchoice_prog: no server certificate in $srvdir" >&2; return 1; }
    cat >"$out" <<EOF
#!/bin/bash
exec curl -s -o /dev/null -w '%{http_code}' --insecure --pinnedpubkey '$out.pub' \\
    --cert '$T/rp-test.crt' --key '$T/rp-test.key' -H 'Content-Type: application/json' \\
    -d '{"relyingPartyUUID": "$RP_TEST_UUID", "relyingPartyName": "Bank",
         "certificateLevel": "ADVANCED", "nonce": "'"\$2"'"}' \\
    "$RPURL/v2/certificatechoice/etsi/\$1"
EOF
    chmod +x "$out"
}
