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
#
# Expects T (a temporary directory) and SERVER (splitkey-server).

RP_TEST_UUID=0b9d3c1e-5a47-4f26-9e1d-7c2b8a6f4d30
RP_TEST_NAMES='Bank|Bank A|Bike shop|sk_drive bank|ra_drive bank|splitkey-bench'
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
        --cert "$T/rp-test.crt" --levels ADVANCED,QUALIFIED --purposes auth,sign,certchoice \
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
