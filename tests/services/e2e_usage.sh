#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# e2e_usage.sh - the command-line contract's usage side: --help
# everywhere, exit 2 on usage and configuration errors, and a PIN is never
# accepted as a flag value.  Bad input changes no stored state.
. "$(dirname "$0")/e2e_lib.sh"
e2e_pins

check "client --help" "$CLIENT" --help
grep_last "usage: splitkey-client" "client usage text"
for c in enrol sign sessions approve refuse pubkey cert status revoke; do
  check "client $c --help" "$CLIENT" "$c" --help
  grep_last "usage: splitkey-client $c" "client $c usage text"
done
check "rp --help" "$RP" --help
for c in sign auth; do
  check "rp $c --help" "$RP" "$c" --help
done

# splitkey-server migrate: its usage side (pg_migrate runs it on PostgreSQL)
check "server migrate --help" "$SERVER" migrate --help
grep_last "usage: splitkey-server migrate --from sqlite:PATH --to URI" "migrate usage text"
expect_exit 2 "migrate without --to" "$SERVER" migrate --from "sqlite:$T/x.db"
grep_last "missing --to" "missing --to named"
expect_exit 2 "migrate without --from" "$SERVER" migrate --to postgresql://127.0.0.1/x
grep_last "missing --from" "missing --from named"
expect_exit 2 "migrate to a scheme that is no store" "$SERVER" migrate --from "sqlite:$T/x.db" \
  --to "mysql://127.0.0.1/x"
assert "migrate created no source file" ! -e "$T/x.db"

expect_exit 2 "client without a command" "$CLIENT"
expect_exit 2 "client unknown command" "$CLIENT" frobnicate
expect_exit 2 "rp without a command" "$RP"
expect_exit 2 "rp unknown command" "$RP" frobnicate
expect_exit 2 "sign without --state" "$CLIENT" sign --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc.txt" --out "$T/x.sig"
grep_last "missing --state" "missing --state named"
expect_exit 2 "unknown option" "$CLIENT" status --state "$T" --purpose sign --colour blue
expect_exit 2 "bad purpose" "$CLIENT" status --state "$T" --purpose admin
expect_exit 2 "state directory that does not exist" "$CLIENT" status --state "$T/none" --purpose sign
expect_exit 2 "enrol with a bad URL" "$CLIENT" enrol --state "$T/d" --server nowhere \
  --server-pub "$T/pin1" --purpose auth --pin-file "$T/pin1"
expect_exit 2 "enrol with a file that is not server.pub" "$CLIENT" enrol --state "$T/d" \
  --server tcp://127.0.0.1:1 --server-pub "$T/doc.txt" --purpose auth --pin-file "$T/pin1"
assert "no state directory made by a refused enrolment" ! -e "$T/d"
expect_exit 2 "token and subject together" "$CLIENT" enrol --state "$T/d" \
  --server tcp://127.0.0.1:1 --server-pub "$T/doc.txt" --purpose auth --pin-file "$T/pin1" \
  --token-file "$T/pin1" --subject y
expect_exit 2 "bad profile" "$CLIENT" enrol --state "$T/d" --server tcp://127.0.0.1:1 \
  --server-pub "$T/doc.txt" --purpose auth --pin-file "$T/pin1" --profile 5K
expect_exit 2 "approve without SESSION" "$CLIENT" approve --state "$T" --pin-file "$T/pin1"
expect_exit 2 "approve with a malformed id" "$CLIENT" approve xyz --state "$T" --pin-file "$T/pin1"
NOAPI=(--api https://127.0.0.1:1/v2/ --server-cert-sha256 "$(printf '%064d' 0)"
  --rp-cert "$T/doc.txt" --rp-key "$T/doc.txt" --rp-uuid 0b9d3c1e-5a47-4f26-9e1d-7c2b8a6f4d30)
expect_exit 2 "rp sign without --person" "$RP" sign "${NOAPI[@]}" --purpose sign \
  --in "$T/doc.txt" --out "$T/x.sig" --pub "$T/doc.txt"
expect_exit 2 "rp sign without --api" "$RP" sign --person P --purpose sign \
  --in "$T/doc.txt" --out "$T/x.sig" --pub "$T/doc.txt"
expect_exit 2 "rp sign over the old device socket (--server is gone)" "$RP" sign \
  --server tcp://127.0.0.1:1 --person P --purpose sign --in "$T/doc.txt" --out "$T/x.sig"
expect_exit 2 "rp sign with the PSS scheme (the v2 API signs PKCS#1 v1.5)" "$RP" sign \
  "${NOAPI[@]}" --person P --purpose sign --in "$T/doc.txt" --out "$T/x.sig" --pub "$T/doc.txt" \
  --scheme pss
grep_last "RSASSA-PKCS1-v1_5 only" "the scheme refusal says why"
expect_exit 2 "rp sign with both --api and --server" "$RP" sign "${NOAPI[@]}" \
  --server https://127.0.0.1:1/v2/ --person P --purpose sign --in "$T/doc.txt" --out "$T/x.sig" \
  --pub "$T/doc.txt"
expect_exit 2 "rp sign with neither --ca-cert nor --pub" "$RP" sign "${NOAPI[@]}" --person P \
  --purpose sign --in "$T/doc.txt" --out "$T/x.sig"
expect_exit 2 "rp with a missing document" "$RP" sign "${NOAPI[@]}" --person P \
  --purpose sign --in "$T/none.txt" --out "$T/x.sig" --pub "$T/doc.txt"
assert "nothing written by refused rp commands" ! -e "$T/x.sig"

# PIN values on the command line are refused, in every spelling
e2e_start_server
DEV="$T/dev"
check "enrol sign" e2e_enrol "$DEV" sign "$T/pin2"
state_sum() { sha256sum "$DEV/sign.state" | cut -d' ' -f1; }
before=$(state_sum)
for flag in "--pin 12345" "--pin=12345" "--pin2 12345" "--pin-value 12345"; do
  expect_exit 2 "PIN as a flag value ($flag)" "$CLIENT" sign --state "$DEV" --purpose sign \
    $flag --in "$T/doc.txt" --out "$T/x.sig"
  grep_last "never taken from the command line" "PIN flag refusal explained ($flag)"
done
expect_exit 2 "revoke with --pin" "$CLIENT" revoke --state "$DEV" --purpose sign --pin 12345
expect_exit 2 "approve with --pin" "$CLIENT" approve 00112233445566778899aabbccddeeff \
  --state "$DEV" --pin=12345
# a PIN that breaks the rules of its purpose is refused before any request
printf '1234\n' >"$T/short"
expect_exit 2 "a 4-digit PIN for the signing key" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/short" --in "$T/doc.txt" --out "$T/x.sig"
printf '12a45\n' >"$T/letters"
expect_exit 2 "a PIN with letters" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/letters" --in "$T/doc.txt" --out "$T/x.sig"
expect_exit 2 "a missing PIN file" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/none" --in "$T/doc.txt" --out "$T/x.sig"
# no PIN file and no terminal to ask
expect_exit 2 "no PIN and no terminal" setsid "$CLIENT" sign --state "$DEV" --purpose sign \
  --in "$T/doc.txt" --out "$T/x.sig"
expect_exit 2 "a document that does not exist" "$CLIENT" sign --state "$DEV" --purpose sign \
  --pin-file "$T/pin2" --in "$T/none.txt" --out "$T/x.sig"
expect_exit 2 "no key of that purpose" "$CLIENT" sign --state "$DEV" --purpose auth \
  --pin-file "$T/pin1" --in "$T/doc.txt" --out "$T/x.sig"
assert "refused commands changed no state" "$(state_sum)" = "$before"
assert "no signature written" ! -e "$T/x.sig"
check "the key still signs" "$CLIENT" sign --state "$DEV" --purpose sign --pin-file "$T/pin2" \
  --in "$T/doc.txt" --out "$T/ok.sig"
check "a PIN from standard input" sh -c "printf '12345\n' | '$CLIENT' sign --state '$DEV' \
  --purpose sign --pin-file - --in '$T/doc.txt' --out '$T/ok2.sig'"
# a storage key readable by others is refused
chmod 644 "$DEV/storage.key"
expect_exit 2 "storage key readable by others" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "0600" "the permission problem is named"
chmod 600 "$DEV/storage.key"
# a tampered sealed state is refused and left as it is
cp "$DEV/sign.state" "$T/saved.state"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[40]^=1; open(p,"wb").write(b)' "$DEV/sign.state"
expect_exit 1 "tampered state" "$CLIENT" status --state "$DEV" --purpose sign
grep_last "cannot open the sealed state" "tampering reported"
cp "$T/saved.state" "$DEV/sign.state"
check "the restored state works" "$CLIENT" status --state "$DEV" --purpose sign
# a reply timeout that is not a number of milliseconds from 100 to 600000
for v in abc 0 -5 99 600001 99999999999999999999 12ms; do
  SPLITKEY_CLIENT_TIMEOUT_MS=$v expect_exit 2 "SPLITKEY_CLIENT_TIMEOUT_MS=$v refused" \
    "$CLIENT" status --state "$DEV" --purpose sign
  grep_last "SPLITKEY_CLIENT_TIMEOUT_MS=$v" "the bad timeout variable named ($v)"
done

# a server that is not there is reported at once, not after the reply
# timeout: with a 10-minute timeout the commands must end on their own well
# within 60 s (timeout(1) would exit 124) with the connection error
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
before=$(state_sum)
export SPLITKEY_CLIENT_TIMEOUT_MS=600000
expect_exit 1 "client status, nothing listening" timeout 60 "$CLIENT" status --state "$DEV" \
  --purpose sign
grep_last "cannot connect to $URL: connection refused" "client: refused connection named"
expect_exit 1 "client sign, nothing listening" timeout 60 "$CLIENT" sign --state "$DEV" \
  --purpose sign --pin-file "$T/pin2" --in "$T/doc.txt" --out "$T/x.sig"
grep_last "cannot connect to $URL: connection refused" "client sign: refused connection named"
assert "a refused connection changed no state" "$(state_sum)" = "$before"
expect_exit 1 "rp sign, nothing listening" timeout 60 "$RP" sign "${RP_API_ARGS[@]}" \
  --person "$PERSON" --purpose sign --in "$T/doc.txt" --out "$T/x.sig" --pub "$T/doc.txt"
grep_last "${RPURL#https://}" "rp: the unreachable server named"
unset SPLITKEY_CLIENT_TIMEOUT_MS
e2e_finish
