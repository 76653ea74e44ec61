#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# rp_web_browser.sh BIN_DIR CHROMEDRIVER CHROMIUM - the bank site of
# "splitkey-rp serve" in headless Chromium: a CA with its OCSP responder and
# the share server (ca_lib.sh), a device with qualified keys, splitkey-rp
# serve (over the share server's HTTPS API) on a port the kernel picks, and
# rp_web_browser.py driving the page through chromedriver (login,
# signature, refusal).  Also the site's answers without a browser (curl):
# security headers, a bad person id, signing without a login.
. "$(dirname "$0")/e2e_lib.sh"
. "$(dirname "$0")/ca_lib.sh"
CHROMEDRIVER=$2
CHROMIUM=$3
WEB_PID=

web_cleanup() {
  if [ -n "$WEB_PID" ] && kill -0 "$WEB_PID" 2>/dev/null; then
    kill "$WEB_PID" 2>/dev/null
    wait "$WEB_PID" 2>/dev/null
  fi
  ca_lib_cleanup
}
trap web_cleanup EXIT

e2e_pins
ca_lib_init "$T/ca" "Splitkey Bank Test CA"
ca_lib_start_ocsp "$T/ca"
ca_lib_start_ca "$T/ca"
ca_lib_server
DEV="$T/dev"
for p in auth sign; do
  four_eyes_token "$SRV" "$SUBJECT" "$p" >"$T/token.$p" 2>>"$T/server.log" ||
    { echo "no $p token" >&2; exit 1; }
done
check "enrol auth" "$CLIENT" enrol --state "$DEV" --server "$URL" --server-pub "$SRV/server.pub" \
  --purpose auth --pin-file "$T/pin1" --profile 4K --token-file "$T/token.auth"
check "enrol sign" "$CLIENT" enrol --state "$DEV" --server "$URL" --server-pub "$SRV/server.pub" \
  --purpose sign --pin-file "$T/pin2" --profile 4K --token-file "$T/token.sign"

# the site speaks as the test relying party over the server's HTTPS API
# (RP_API_ARGS, its default name "Splitkey Bank"); the keys have tokens, so
# they are QUALIFIED, the default level
"$RP" serve --http 127.0.0.1:0 "${RP_API_ARGS[@]}" --ca-cert "$T/ca/ca.pem" \
  --ready-file "$T/web.ready" >"$T/web.out" 2>"$T/web.err" &
WEB_PID=$!
while [ ! -s "$T/web.ready" ]; do
  kill -0 "$WEB_PID" 2>/dev/null || { cat "$T/web.err" >&2; echo "serve did not start" >&2; exit 1; }
  sleep 0.05
done
SITE=$(head -n 1 "$T/web.ready")

# --- without a browser ---------------------------------------------------------
curl -s -D "$T/h.txt" -o "$T/page.html" "$SITE" >/dev/null
check "the page is served" grep -q "Splitkey Bank" "$T/page.html"
for h in "Content-Security-Policy: default-src 'none'" "X-Content-Type-Options: nosniff" \
  "X-Frame-Options: DENY" "Cache-Control: no-store"; do
  check "header $h" grep -qiF "$h" "$T/h.txt"
done
check "no inline script in the page" sh -c "! grep -q '<script>' '$T/page.html'"
code=$(curl -s -o "$T/bad.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"person":"<script>alert(1)</script>"}' "${SITE}api/login")
assert "a person id with markup is refused (400)" "$code" = 400
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{}' \
  "${SITE}api/sign")
assert "signing without a login is refused (401)" "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -d 'person=x' "${SITE}api/login")
assert "a form post (not JSON) is refused (415)" "$code" = 415
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
  -d '{"person":"PNOLV-090909-99999"}' "${SITE}api/login")
assert "an unknown person: 404" "$code" = 404

# --- in the browser ------------------------------------------------------------
CHECKS=$((CHECKS + 1))
if ! SITE="$SITE" CLIENT="$CLIENT" DEV="$DEV" PIN1="$T/pin1" PIN2="$T/pin2" PERSON="$PERSON" \
  CHROMEDRIVER="$CHROMEDRIVER" CHROMIUM="$CHROMIUM" WORK="$T" SHOT="${SK_BROWSER_SHOT:-}" \
  python3 "$(dirname "$0")/rp_web_browser.py"; then
  fail "the browser run"
  sed 's/^/  | /' "$T/web.err" >&2
fi
e2e_finish
