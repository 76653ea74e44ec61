#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_v2_flood.sh BIN_DIR - one relying party floods the HTTPS API (many
# connections at once, session creations for the person, long polls) while
# another asks the same person for an authentication: the other's session
# is created, listed on the device next to the flood's, approved and
# answered; the flood is held to its rate, its running sessions per person
# and its share of the workers, and every refusal creates nothing.
. "$(dirname "$0")/rp_lib.sh"
e2e_pins
rp_init
rp_cert flooder
rp_cert honest
UF=4c6e8132-2d90-4fbc-9e65-8b304f5e6d7c
UH=5d7f9243-3ea1-4acd-af76-9c415a6f7e8d
check "rp add the flooder" "$SERVER" rp add --dir "$SRV" --uuid "$UF" --names Flood \
  --cert "$T/flooder.crt" --levels ADVANCED --rate 5 --pending 50
check "rp add the honest one" "$SERVER" rp add --dir "$SRV" --uuid "$UH" --names Honest \
  --cert "$T/honest.crt" --levels ADVANCED
rp_start --rp-workers 8 --rp-person-pending 2
DEV="$T/dev"
check "enrol auth" e2e_enrol "$DEV" auth "$T/pin1"
check "pubkey auth" "$CLIENT" pubkey --state "$DEV" --purpose auth --out "$T/auth.pub"
BASE=$(count_sessions) # the enrolment's proof-of-possession session

# The flood: 16 threads, each creating sessions for the person with fresh
# nonces and polling each one it got; it reports what it was answered.
python3 - "$V2_CLIENT" "$RPURL" "$PIN" "$T/flooder.crt" "$T/flooder.key" "$UF" "$PERSON" \
  "$T/flood.out" "$T/flood.stop" <<'PYEOF' &
import collections, importlib.util, os, sys, threading, time
spec = importlib.util.spec_from_file_location("v2_client", sys.argv[1])
v2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(v2)
base, pin, cert, key, uuid, person, out, stop = sys.argv[2:10]
counts = collections.Counter()
lock = threading.Lock()
def run(n):
    cl = v2.V2Client(base, pin, uuid, "Flood", cert, key, timeout=60)
    i = 0
    while not os.path.exists(stop) and i < 100000:
        i += 1
        try:
            st, doc, _ = cl.create("authentication", "etsi", person, os.urandom(32),
                                   level="ADVANCED", nonce="f%d-%d" % (n, i),
                                   interactions=[{"type": "displayTextAndPIN",
                                                  "displayText60": "Flood"}])
        except Exception as e:  # connections closed at the per-address cap
            st = "error %s" % type(e).__name__
            time.sleep(0.01)
        with lock:
            counts["create %s" % st] += 1
        if st == 200:
            try:
                cl.status(doc["sessionID"], 3000)  # a long poll that holds a worker
            except Exception:
                pass
ts = [threading.Thread(target=run, args=(n,)) for n in range(16)]
for t in ts:
    t.start()
for t in ts:
    t.join()
with open(out, "w") as f:
    for k, v in sorted(counts.items()):
        f.write("%s %d\n" % (k, v))
PYEOF
FLOOD=$!
# the flood is running: wait until it was refused at least once
for i in $(seq 1 200); do
  [ "$(count_events 38)" -ge 1 ] && break
  sleep 0.1
done
assert "the flood reached its limits" "$(count_events 38)" -ge 1

# from another address: the per-address connection cap holds the flood's
# connections, not the honest one's
H() { V2_SOURCE=127.0.0.2 v2 honest "$UH" Honest "$@"; }
head -c 32 /dev/urandom >"$T/h"
H create authentication etsi "$PERSON" --hash-file "$T/h" --level ADVANCED --text "Honest log in"
expect_status 200 "the honest relying party's session is created during the flood"
SID=$(jget sessionID)
check "the device lists the honest session among the flood's" \
  sh -c "'$CLIENT' sessions --state '$DEV' | grep -q '^$(hexid "$SID") .*Honest: Honest log in'"
FLOODING=$("$CLIENT" sessions --state "$DEV" | grep -c 'Flood: Flood')
assert "the flood has at most 2 running sessions for the person" "$FLOODING" -le 2
check "approve the honest session" "$CLIENT" approve "$(hexid "$SID")" --state "$DEV" \
  --pin-file "$T/pin1"
H status "$SID" --timeout-ms 30000
expect_status 200 "the honest status during the flood"
assert "the honest session is answered OK" "$(jget result.endResult)" = OK
check "openssl verifies the honest signature" verify_sig "$T/auth.pub" sha256 "$T/h" \
  "$(jget signature.value)"
assert "the flood was still running" -z "$(kill -0 "$FLOOD" 2>&1)"
touch "$T/flood.stop"
wait "$FLOOD"
sed 's/^/  flood: /' "$T/flood.out"
check "the flood was refused (403)" grep -q '^create 403 ' "$T/flood.out"
ok=$(awk '$1 == "create" && $2 == 200 { print $3 }' "$T/flood.out")
refused=$(awk '$1 == "create" && $2 == 403 { print $3 }' "$T/flood.out")
assert "refusals outnumber the flood's sessions" "${refused:-0}" -gt "${ok:-0}"
# every session in the store is one answered 200 (the honest one included)
assert "refused creations stored nothing" "$(count_sessions)" -eq $((BASE + ${ok:-0} + 1))
e2e_finish
