#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - splitkey from a fresh Debian 12 machine to verified two-party RSA
# signatures, told step by step.
#
#   scripts/demo.sh
#
# It installs the dependencies (scripts/install-deps.sh), configures and
# builds in build/, signs a document in one process (splitkey sign-local),
# and then runs the real system on loopback: a share server with SQLite in a
# temporary directory, a device (splitkey-client) that enrols an
# authentication key (PIN1) and a signing key (PIN2), and a relying party
# (splitkey-rp) that asks for an authentication and a signature, which the
# device approves after checking the verification code both sides show.
# A CA (splitkey-ca) and its OCSP responder (splitkey-ocsp) run beside the
# share server, which is their registration authority: enrolment ends with
# the person's two certificates.  OpenSSL, which knows nothing about
# splitkey, verifies the signatures under the certificate, the chain to the
# CA, and the OCSP status (good, then revoked after the person revokes the
# key).  A wrong PIN shows the server counting attempts; the servers stop
# cleanly at the end, and on any exit the demo stops them and removes their
# directory.
#
# Settings (environment): SK_DEMO_PROFILE (4K, 6K or 8K; default 6K),
# SK_DEMO_SCHEME (pkcs1 or pss; default pss), SK_DEMO_HASH (sha256, sha384 or
# sha512; default sha256), SK_BUILD_DIR (default build).  The demo's files go
# to $SK_BUILD_DIR/demo; the server's to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${SK_DEMO_PROFILE:-6K}
scheme=${SK_DEMO_SCHEME:-pss}
hash=${SK_DEMO_HASH:-sha256}
build=${SK_BUILD_DIR:-build}
bin="$build/bin"
work="$build/demo"

bold='' plain=''
if [ -t 1 ]; then
  bold=$'\033[1m' plain=$'\033[0m'
fi
step_no=0
step() {
  step_no=$((step_no + 1))
  printf '\n%s== Step %d: %s%s\n' "$bold" "$step_no" "$1" "$plain"
}
say() { printf '   %s\n' "$@"; }
# cmdline ARGS...: the command as one would type it (arguments with spaces quoted)
cmdline() {
  local a out=
  for a in "$@"; do
    case $a in
      *[[:space:]\'\"\$\(\)\&\;\<\>\|*?]*) out+=" '${a//\'/\'\\\'\'}'" ;;
      *) out+=" $a" ;;
    esac
  done
  printf '%s' "${out# }"
}
run() {
  printf '   $ %s\n' "$(cmdline "$@")"
  "$@" 2>&1 | sed 's/^/     /'
  return "${PIPESTATUS[0]}"
}
die() {
  printf '\ndemo: %s\n' "$*" >&2
  exit 1
}
# show FILE: a program's output, indented
show() { sed 's/^/     /' "$1"; }

server_dir= server_pid= rp_pid= ca_pid= ocsp_pid=
cleanup() {
  set +e # a process that ends by a signal must not cut the clean-up short
  if [ -n "$rp_pid" ] && kill -0 "$rp_pid" 2>/dev/null; then
    kill "$rp_pid" 2>/dev/null
    wait "$rp_pid" 2>/dev/null
  fi
  local p
  for p in "$server_pid" "$ocsp_pid" "$ca_pid"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
      kill -TERM "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  [ -n "$server_dir" ] && rm -rf "$server_dir"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

openssl_opts=()
if [ "$scheme" = pss ]; then
  openssl_opts=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest)
fi

# ------------------------------------------------------------------ steps

demo_install() {
  step "Install the build dependencies (Debian 12 packages)"
  say "scripts/install-deps.sh installs only what is missing; it asks for sudo if needed."
  scripts/install-deps.sh
  say "GMP, libsodium, mbedTLS, nng, protobuf-c, SQLite, OpenSSL and the compilers are present."
}

demo_build() {
  step "Configure and build in $build/"
  printf '   $ %s\n' "cmake -S . -B $build -DCMAKE_BUILD_TYPE=RelWithDebInfo"
  mkdir -p "$build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
    { tail -n 30 "$build/configure.log" >&2; die "cmake could not configure the build"; }
  printf '   $ %s\n' "cmake --build $build -j$(nproc)   (output in $build/build.log)"
  cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1 ||
    { tail -n 30 "$build/build.log" >&2; die "the build failed (see $build/build.log)"; }
  for p in splitkey splitkey-server splitkey-client splitkey-rp splitkey-ca splitkey-ocsp; do
    [ -x "$bin/$p" ] || die "$bin/$p was not built"
  done
  say "The programs are in $bin/:"
  ls "$bin" | sed 's/^/     /'
}

demo_document() {
  step "Write the document to sign"
  rm -rf "$work"
  mkdir -p "$work"
  cat >"$work/contract.txt" <<'DOC'
Agreement of sale

The seller transfers the bicycle, frame number WTU-442817, to the buyer for
the price of 350 EUR, paid on signature.  Both parties sign electronically.
DOC
  say "$work/contract.txt ($(wc -c <"$work/contract.txt") bytes):"
  sed 's/^/     | /' "$work/contract.txt"
}

demo_sign_local() {
  step "Sign it with a split key ($profile, $scheme, $hash)"
  say "splitkey sign-local plays both parties in one process, with the same library calls"
  say "a phone and the share server make:"
  say "  - the device generates n1 = p1*q1, splits the private exponent d1 into dc (kept,"
  say "    behind the PIN) and ds (sent to the server once), and forgets p1, q1 and d1;"
  say "  - the server generates its own RSA key n2 = p2*q2 and forms n = n1*n2, the public"
  say "    key that goes into the certificate: nobody ever holds a private exponent for n;"
  say "  - to sign, the device computes y = EM^dc mod n1 from the encoded digest, and the"
  say "    server finishes: s1 = y*EM^ds mod n1, s2 = EM^d2 mod n2, s = CRT(s1, s2)."
  run "$bin/splitkey" sign-local --profile "$profile" --scheme "$scheme" --hash "$hash" \
    --in "$work/contract.txt" --pub-out "$work/public.pem" --sig-out "$work/contract.sig" ||
    die "splitkey sign-local failed"
  say "Wrote $work/public.pem (the composite public key) and $work/contract.sig."
}

demo_openssl_verify() {
  step "Verify with OpenSSL, which knows nothing about splitkey"
  say "The composite key is an ordinary RSA key:"
  openssl pkey -pubin -in "$work/public.pem" -text -noout | head -n 1 | sed 's/^/     /'
  run openssl dgst "-$hash" -verify "$work/public.pem" -signature "$work/contract.sig" \
    "${openssl_opts[@]}" "$work/contract.txt" || die "OpenSSL did not accept the signature"
  say "The same check with the splitkey tool:"
  run "$bin/splitkey" verify --pub "$work/public.pem" --scheme "$scheme" --hash "$hash" \
    --in "$work/contract.txt" --sig "$work/contract.sig" || die "splitkey verify failed"
}

demo_tamper() {
  step "Change one character of the document: the signature no longer holds"
  sed 's/350 EUR/850 EUR/' "$work/contract.txt" >"$work/contract-altered.txt"
  say "$work/contract-altered.txt says 850 EUR instead of 350 EUR."
  printf '   $ %s\n' "openssl dgst -$hash -verify $work/public.pem -signature $work/contract.sig ${openssl_opts[*]} $work/contract-altered.txt"
  if openssl dgst "-$hash" -verify "$work/public.pem" -signature "$work/contract.sig" \
    "${openssl_opts[@]}" "$work/contract-altered.txt" >"$work/tamper.log" 2>&1; then
    die "OpenSSL accepted the signature on an altered document"
  fi
  tail -n 1 "$work/tamper.log" | sed 's/^/     /'
  say "OpenSSL rejects it, as it must (its full report: $work/tamper.log)."
}

# start_bg NAME PIDVAR READYFILE CMD...: starts a service in the background
# (stderr to $work/NAME.log) and waits until it writes its ready file.
start_bg() {
  local name=$1 var=$2 ready=$3 i
  shift 3
  printf '   $ %s 2>%s &\n' "$(cmdline "$@")" "$work/$name.log"
  "$@" 2>"$work/$name.log" &
  printf -v "$var" '%s' "$!"
  for i in $(seq 1 600); do
    [ -s "$ready" ] && return 0
    kill -0 "${!var}" 2>/dev/null || { cat "$work/$name.log" >&2; die "$name did not start"; }
    sleep 0.05
  done
  die "$name did not start in time"
}

demo_ca() {
  step "Set up a CA and its OCSP responder (splitkey-ca, splitkey-ocsp)"
  server_dir=$(mktemp -d "${TMPDIR:-/tmp}/splitkey-demo-server.XXXXXX")
  say "splitkey-ca init makes the CA key (RSA-3072, mode 0600), a self-signed CA"
  say "certificate, a delegated OCSP signing certificate and the certificate database."
  say "The URLs go into every certificate it issues (AIA, QcPDS)."
  run "$bin/splitkey-ca" init --dir "$server_dir/ca" \
    --subject "CN=Splitkey Demo Qualified CA,O=Splitkey Demo,C=LV" \
    --ocsp-url http://ocsp.demo.example/ --ca-url http://ca.demo.example/ca.crt \
    --pds-url https://demo.example/pds_en.pdf --policy-oid 1.3.6.1.4.1.99999.1.1 ||
    die "splitkey-ca init failed"
  cp "$server_dir/ca/ca.pem" "$work/ca.pem"
  say "The CA certificate (also in $work/ca.pem):"
  openssl x509 -in "$work/ca.pem" -noout -subject -dates | sed 's/^/     /'
  say "Start the CA on a loopback port the kernel picks; it writes the URL to its"
  say "--ready-file once it listens.  Only registered RAs may ask it for certificates."
  start_bg ca ca_pid "$server_dir/ca.ready" "$bin/splitkey-ca" run --dir "$server_dir/ca" \
    --listen tcp://127.0.0.1:0 --ready-file "$server_dir/ca.ready"
  ca_url=$(head -n 1 "$server_dir/ca.ready")
  say "The OCSP responder answers from the CA's database (RFC 6960 over HTTP):"
  start_bg ocsp ocsp_pid "$server_dir/ocsp.ready" "$bin/splitkey-ocsp" run \
    --ca-dir "$server_dir/ca" --http 127.0.0.1:0 --ready-file "$server_dir/ocsp.ready"
  ocsp_url=$(head -n 1 "$server_dir/ocsp.ready")
  say "The CA listens on $ca_url, the OCSP responder on $ocsp_url."
}

demo_server() {
  step "Start the share server on loopback, with SQLite in a temporary directory"
  say "splitkey-server init makes the server's identity: an X25519 key for the channel"
  say "and an Ed25519 key that signs enrolment replies.  Devices pin both public keys,"
  say "which init writes to server.pub."
  run "$bin/splitkey-server" init --dir "$server_dir/srv" || die "splitkey-server init failed"
  say "The same Ed25519 key signs the server's requests to the CA: the CA operator"
  say "registers server.pub as a registration authority (RA)."
  run "$bin/splitkey-ca" add-ra --dir "$server_dir/ca" --pub "$server_dir/srv/server.pub" ||
    die "splitkey-ca add-ra failed"
  say "Start it: --ca makes it the CA's RA (--ca-cert: issued certificates must chain to"
  say "this CA); --open-enrolment lets a device enrol without a registration token"
  say "(development and demos); port 0 lets the kernel pick a free loopback port, which"
  say "the server writes to its --ready-file once it listens; --pool-profiles keeps"
  say "server keys of the demo's size ready."
  start_bg server server_pid "$server_dir/ready" "$bin/splitkey-server" run \
    --dir "$server_dir/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$server_dir/srv/server.db" \
    --ca "$ca_url" --ca-cert "$server_dir/ca/ca.pem" --open-enrolment \
    --pool-profiles "$profile" --ready-file "$server_dir/ready"
  url=$(head -n 1 "$server_dir/ready")
  say "The server listens on $url (its log, one line per request: $work/server.log)."
}

demo_enrol() {
  step "Enrol a person's phone: an authentication key (PIN1) and a signing key (PIN2)"
  device="$work/device"
  rm -rf "$device"
  printf '1234\n' >"$server_dir/pin1"
  printf '24680\n' >"$server_dir/pin2"
  printf '99999\n' >"$server_dir/pin2-wrong"
  person="PNOLV-010101-12345"
  subject="C=LV,GN=ANNA,SN=BERZINA,serialNumber=$person"
  say "splitkey-client plays the phone app; its state lives in $device."
  say "The PINs come from files here (a person types them; they are never a flag value):"
  say "PIN1 = 1234 for the authentication key, PIN2 = 24680 for the signing key."
  say "Each key: the device makes n1 and splits its exponent, keeps dc behind the PIN,"
  say "sends ds to the server once, and proves possession with a first signature over"
  say "its certificate request (PKCS#10 for n, with the person's subject).  The server,"
  say "as RA, sends the signed request to the CA and hands the certificate back to the"
  say "device in the same reply."
  run "$bin/splitkey-client" enrol --state "$device" --server "$url" \
    --server-pub "$server_dir/srv/server.pub" --purpose auth --pin-file "$server_dir/pin1" \
    --profile "$profile" --subject "$subject" || die "enrolment of the auth key failed"
  run "$bin/splitkey-client" enrol --state "$device" --server "$url" \
    --server-pub "$server_dir/srv/server.pub" --purpose sign --pin-file "$server_dir/pin2" \
    --profile "$profile" --subject "$subject" || die "enrolment of the sign key failed"
  say "The device keeps a storage key (mode 0600) and the sealed state of each key:"
  ls -l "$device" | tail -n +2 | awk '{print "     " $1 "  " $NF}'
  "$bin/splitkey-client" pubkey --state "$device" --purpose auth --out "$work/auth.pem" >/dev/null
  "$bin/splitkey-client" pubkey --state "$device" --purpose sign --out "$work/sign.pem" >/dev/null
  say "Their public keys: $work/auth.pem, $work/sign.pem"
}

demo_certs() {
  step "The person's two certificates, issued at enrolment"
  run "$bin/splitkey-client" cert --state "$device" --purpose auth \
    --out "$work/auth-cert.pem" || die "the device has no authentication certificate"
  run "$bin/splitkey-client" cert --state "$device" --purpose sign \
    --out "$work/sign-cert.pem" || die "the device has no signing certificate"
  say "OpenSSL checks the chain to the CA:"
  run openssl verify -CAfile "$work/ca.pem" "$work/auth-cert.pem" "$work/sign-cert.pem" ||
    die "openssl verify did not accept the certificates"
  say "Each holds the composite key n = n1*n2 - the same key the device computed:"
  local p
  for p in auth sign; do
    openssl x509 -in "$work/$p-cert.pem" -noout -pubkey | openssl pkey -pubin -outform DER \
      >"$work/$p-cert-key.der"
    openssl pkey -pubin -in "$work/$p.pem" -outform DER >"$work/$p-key.der"
    cmp -s "$work/$p-cert-key.der" "$work/$p-key.der" ||
      die "the $p certificate does not hold the enrolled key"
    say "  $p: $(openssl x509 -in "$work/$p-cert.pem" -noout -subject | sed 's/^subject=//')"
  done
  say "The signing certificate is qualified: nonRepudiation (critical), the QCP-n-qscd"
  say "policy and the QC statements; the authentication one is for TLS client auth:"
  openssl x509 -in "$work/sign-cert.pem" -noout -text >"$work/sign-cert.txt"
  grep -E -A1 'Key Usage|Policy: 0\.4\.0' "$work/sign-cert.txt" |
    grep -v -e '^--' -e qcStatements | sed 's/^ */     sign: /'
  grep -q qcStatements "$work/sign-cert.txt" || die "the signing certificate has no QC statements"
  say "  sign: qcStatements (QcCompliance, QcSSCD, QcType esign, QcPDS; OpenSSL prints them"
  say "        as bytes: $work/sign-cert.txt)"
  openssl x509 -in "$work/auth-cert.pem" -noout -text |
    grep -E -A1 'Key Usage' | grep -v -- '^--' | sed 's/^ */     auth: /'
  say "OpenSSL asks the OCSP responder (with a nonce) about the signing certificate:"
  ocsp_status sign-cert good
}

# ocsp_status NAME EXPECTED: openssl ocsp for $work/NAME.pem; the answer must
# contain "NAME.pem: EXPECTED".
ocsp_status() {
  printf '   $ %s\n' "openssl ocsp -url $ocsp_url -issuer $work/ca.pem -cert $work/$1.pem -CAfile $work/ca.pem -nonce"
  openssl ocsp -url "$ocsp_url" -issuer "$work/ca.pem" -cert "$work/$1.pem" \
    -CAfile "$work/ca.pem" -nonce >"$work/ocsp-$1.out" 2>&1 || true
  show "$work/ocsp-$1.out"
  grep -q "$1.pem: $2" "$work/ocsp-$1.out" || die "OCSP did not say $2"
  grep -q "Response verify OK" "$work/ocsp-$1.out" || die "the OCSP response did not verify"
}

# rp_session NAME ARGS...: starts splitkey-rp in the background and waits
# for the verification code it prints at once.
rp_session() {
  local name=$1 i
  shift
  printf '   $ %s &\n' "$(cmdline "$bin/splitkey-rp" "$@")"
  : >"$work/$name.out" # exists before the background job opens it
  "$bin/splitkey-rp" "$@" >"$work/$name.out" 2>&1 &
  rp_pid=$!
  for i in $(seq 1 400); do
    grep -q '^verification code:' "$work/$name.out" && break
    kill -0 "$rp_pid" 2>/dev/null || { show "$work/$name.out"; die "splitkey-rp failed"; }
    sleep 0.05
  done
  show "$work/$name.out"
  rp_code=$(sed -n 's/^verification code: //p' "$work/$name.out")
  rp_session_id=$(sed -n 's/^session \([0-9a-f]*\) for .*/\1/p' "$work/$name.out")
}

# device_approve PURPOSE PINFILE: lists the sessions, checks the code and
# approves the relying party's session.
device_approve() {
  say "On the phone: the waiting sessions, with the code the relying party shows:"
  run "$bin/splitkey-client" sessions --state "$device" || die "sessions failed"
  local code
  code=$("$bin/splitkey-client" sessions --state "$device" |
    awk -v s="$rp_session_id" '$1 == s { print $4 }')
  [ "$code" = "$rp_code" ] || die "the device shows code '$code', the relying party '$rp_code'"
  say "Both sides show $code: the person approves with the PIN."
  run "$bin/splitkey-client" approve "$rp_session_id" --state "$device" --pin-file "$2" ||
    die "approval failed"
  wait "$rp_pid" || { show "$work/$3.out"; die "the relying party did not accept the answer"; }
  rp_pid=
  say "The relying party, once the answer arrived:"
  tail -n 1 "$work/$3.out" | sed 's/^/     /'
}

demo_rp_auth() {
  step "A bank authenticates the person (PIN1)"
  say "splitkey-rp asks the server for an authentication: a fresh random challenge, signed"
  say "by the authentication key.  It prints the verification code at once and waits."
  rp_session auth auth --server "$url" --person "$person" --name "Demo Bank" \
    --text "Log in to Demo Bank" --pub "$work/auth.pem"
  device_approve auth "$server_dir/pin1" auth
}

demo_rp_sign() {
  step "The bank asks for a signature on the contract (PIN2, $scheme, $hash)"
  rp_session rpsign sign --server "$url" --person "$person" --purpose sign \
    --in "$work/contract.txt" --out "$work/contract-rp.sig" --scheme "$scheme" --hash "$hash" \
    --name "Demo Bank" --text "Agreement of sale, 350 EUR" \
    --cert-out "$work/bank-cert.pem"
  device_approve sign "$server_dir/pin2" rpsign
  say "The bank got the person's certificate with the signature:"
  run cmp "$work/bank-cert.pem" "$work/sign-cert.pem" ||
    die "the bank's certificate is not the person's"
  say "OpenSSL checks the signature under the certificate's key:"
  run openssl x509 -in "$work/bank-cert.pem" -noout -pubkey -out "$work/bank-cert-key.pem" ||
    die "cannot read the certificate's key"
  run openssl dgst "-$hash" -verify "$work/bank-cert-key.pem" -signature "$work/contract-rp.sig" \
    "${openssl_opts[@]}" "$work/contract.txt" || die "OpenSSL did not accept the signature"
}

demo_wrong_pin() {
  step "A wrong PIN: only the server can tell, and it counts"
  say "The device cannot check a PIN: any PIN unwraps some dc.  The server sees the wrong"
  say "partial signature, counts the failure and answers with the attempts left"
  say "(3 wrong PINs lock the key for 3 hours; 9 destroy it)."
  say "$server_dir/pin2-wrong holds 99999:"
  local cmd=("$bin/splitkey-client" sign --state "$device" --purpose sign
    --pin-file "$server_dir/pin2-wrong" --in "$work/contract.txt" --out "$work/never.sig")
  printf '   $ %s\n' "$(cmdline "${cmd[@]}")"
  local st=0
  "${cmd[@]}" >"$work/wrong.out" 2>&1 || st=$?
  show "$work/wrong.out"
  [ "$st" -eq 3 ] || die "a wrong PIN gave exit $st, not 3"
  say "Exit status 3 (wrong PIN).  The key's state at the server:"
  run "$bin/splitkey-client" status --state "$device" --purpose sign || die "status failed"
  say "The right PIN signs again and resets the count:"
  run "$bin/splitkey-client" sign --state "$device" --purpose sign --pin-file "$server_dir/pin2" \
    --in "$work/contract.txt" --out "$work/contract-device.sig" --scheme "$scheme" --hash "$hash" ||
    die "signing with the right PIN failed"
}

demo_revoke() {
  step "The person revokes the signing key: its certificate is revoked at once"
  say "splitkey-client revoke destroys the key at the server (authorised by PIN2); the"
  say "server, as RA, asks the CA to revoke the certificate (cessationOfOperation)."
  run "$bin/splitkey-client" revoke --state "$device" --purpose sign \
    --pin-file "$server_dir/pin2" || die "revocation failed"
  say "The OCSP responder's next answer:"
  ocsp_status sign-cert revoked
  grep -q "Reason: cessationOfOperation" "$work/ocsp-sign-cert.out" ||
    die "OCSP gave another revocation reason"
  say "The authentication certificate is still good:"
  ocsp_status auth-cert good
  say "A revoked key never signs again:"
  local st=0
  printf '   $ %s\n' "$(cmdline "$bin/splitkey-client" sign --state "$device" --purpose sign \
    --pin-file "$server_dir/pin2" --in "$work/contract.txt" --out "$work/never.sig")"
  "$bin/splitkey-client" sign --state "$device" --purpose sign --pin-file "$server_dir/pin2" \
    --in "$work/contract.txt" --out "$work/never.sig" >"$work/revoked.out" 2>&1 || st=$?
  show "$work/revoked.out"
  [ "$st" -eq 5 ] || die "signing with a revoked key gave exit $st, not 5"
  say "Exit status 5 (key destroyed)."
}

# stop_bg NAME PIDVAR: SIGTERM, and the service must exit 0.
stop_bg() {
  local name=$1 var=$2 st=0
  printf '   $ kill -TERM %s   (%s)\n' "${!var}" "$name"
  kill -TERM "${!var}"
  wait "${!var}" || st=$?
  printf -v "$var" '%s' ""
  [ "$st" -eq 0 ] || die "$name exited with status $st"
}

demo_stop() {
  step "Stop the servers cleanly"
  stop_bg "the share server" server_pid
  stop_bg "the OCSP responder" ocsp_pid
  stop_bg "the CA" ca_pid
  say "Each finished the requests in flight and exited 0. The share server's last lines:"
  tail -n 3 "$work/server.log" | sed 's/^/     /'
  say "The CA's audit log (every issuance and revocation, hash-chained) verifies:"
  run "$bin/splitkey-ca" audit-verify --dir "$server_dir/ca" || die "the audit log is broken"
}

demo_summary() {
  step "Done"
  say "Documents were signed with RSA keys whose private exponent never existed in one"
  say "place, under ordinary certificates a CA issued at enrolment; a person approved a"
  say "bank's requests on the device after comparing the verification code, a standard"
  say "verifier accepted every signature and the chain, and OCSP followed the revocation."
  say "Files: $work/"
  say "Next: scripts/test.sh runs the whole test suite; $bin/splitkey-client --help and"
  say "$bin/splitkey-rp --help list the device and relying-party commands."
}

demo_install
demo_build
demo_document
demo_sign_local
demo_openssl_verify
demo_tamper
demo_ca
demo_server
demo_enrol
demo_certs
demo_rp_auth
demo_rp_sign
demo_wrong_pin
demo_revoke
demo_stop
demo_summary
