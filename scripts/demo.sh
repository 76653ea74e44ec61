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
# authentication key (PIN1) and a signing key (PIN2), and a bank as relying
# party (splitkey-rp) that asks over the share server's relying-party HTTPS
# API (doc/rp-api.md) for an authentication and two signatures, which the
# device approves after checking the verification code both sides show (the
# second time the person picks the bank's code among three).  The operator
# registers the bank (splitkey-server rp add, its TLS client certificate
# made with OpenSSL), the bank pins the server's certificate (rp pin), and
# splitkey-rp validates every answer's certificate: chain, dates, usage and
# policy, person, OCSP with a nonce.  A relying party that is not
# registered is refused (401) and creates nothing.  A portal using
# tests/rp/v2_client.py, a client written from the public v2 description
# alone, makes a certificate choice, a login and a signature, and gets the
# documented errors for bad requests.
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
# SK_DEMO_SCHEME (pkcs1 or pss; default pss: the signatures made by sign-local
# and by the device itself; the relying-party API signs PKCS#1 v1.5),
# SK_DEMO_HASH (sha256, sha384 or sha512; default sha256), SK_BUILD_DIR
# (default build).  The demo's files go
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
  say "The URLs go into every certificate it issues (AIA, QcPDS); the OCSP one is set"
  say "below, once the responder listens."
  run "$bin/splitkey-ca" init --dir "$server_dir/ca" \
    --subject "CN=Splitkey Demo Qualified CA,O=Splitkey Demo,C=LV" \
    --ocsp-url http://ocsp.demo.example/ --ca-url http://ca.demo.example/ca.crt \
    --pds-url https://demo.example/pds_en.pdf --policy-oid 1.3.6.1.4.1.99999.1.1 ||
    die "splitkey-ca init failed"
  cp "$server_dir/ca/ca.pem" "$work/ca.pem"
  say "The CA certificate (also in $work/ca.pem):"
  openssl x509 -in "$work/ca.pem" -noout -subject -dates | sed 's/^/     /'
  say "The OCSP responder answers from the CA's database (RFC 6960 over HTTP), on a"
  say "loopback port the kernel picks; it writes its URL to its --ready-file once it"
  say "listens:"
  start_bg ocsp ocsp_pid "$server_dir/ocsp.ready" "$bin/splitkey-ocsp" run \
    --ca-dir "$server_dir/ca" --http 127.0.0.1:0 --ready-file "$server_dir/ocsp.ready"
  ocsp_url=$(head -n 1 "$server_dir/ocsp.ready")
  say "Relying parties find the responder through the certificates' AIA extension, so"
  say "the CA must name this one: ocsp-url in the CA's configuration file."
  printf '   $ %s\n' "sed -i 's|^ocsp-url = .*|ocsp-url = $ocsp_url|' $server_dir/ca/ca.conf"
  sed -i "s|^ocsp-url = .*|ocsp-url = $ocsp_url|" "$server_dir/ca/ca.conf"
  grep -qx "ocsp-url = $ocsp_url" "$server_dir/ca/ca.conf" || die "ca.conf has no ocsp-url line"
  say "Start the CA, again on a port the kernel picks.  Only registered RAs may ask it"
  say "for certificates."
  start_bg ca ca_pid "$server_dir/ca.ready" "$bin/splitkey-ca" run --dir "$server_dir/ca" \
    --listen tcp://127.0.0.1:0 --ready-file "$server_dir/ca.ready"
  ca_url=$(head -n 1 "$server_dir/ca.ready")
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
  say "(development and demos); --rp-listen opens the relying parties' HTTPS API beside"
  say "the devices' socket (the device socket itself serves no relying-party requests);"
  say "port 0 lets the kernel pick a free"
  say "loopback port, which the server writes to its --ready-file once it listens (the"
  say "device socket, then the API's URL); --pool-profiles keeps server keys of the"
  say "demo's size ready."
  start_bg server server_pid "$server_dir/ready" "$bin/splitkey-server" run \
    --dir "$server_dir/srv" --listen tcp://127.0.0.1:0 --db "sqlite:$server_dir/srv/server.db" \
    --ca "$ca_url" --ca-cert "$server_dir/ca/ca.pem" --open-enrolment \
    --rp-listen https://127.0.0.1:0 \
    --pool-profiles "$profile" --ready-file "$server_dir/ready"
  url=$(sed -n 1p "$server_dir/ready")
  api=$(sed -n 2p "$server_dir/ready")
  case $api in
    https://*/v2/) ;;
    https://*) api="${api%/}/v2/" ;;
    *) die "the server did not report its relying-party API" ;;
  esac
  say "Devices connect to $url; relying parties use the base URL $api"
  say "(the server's log, one line per request: $work/server.log)."
}

demo_rp_register() {
  step "Register the bank as a relying party of the HTTPS API"
  say "A relying party proves who it is with a TLS client certificate; self-signed is"
  say "fine, the server compares its SHA-256.  The bank makes its key and certificate:"
  local req=(openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
    -keyout "$work/bank.key" -out "$work/bank.crt" -days 30 -subj "/CN=Demo Bank")
  printf '   $ %s\n' "$(cmdline "${req[@]}")"
  "${req[@]}" >"$work/bank-req.log" 2>&1 ||
    { show "$work/bank-req.log"; die "openssl could not make the bank's certificate"; }
  openssl x509 -in "$work/bank.crt" -noout -subject -fingerprint -sha256 | sed 's/^/     /'
  bank_uuid=1f1bfa89-4f8b-420a-a98e-fb3a161a30bc
  say "The share server's operator registers it: its UUID (what its requests name), the"
  say "names the device may show for it, its certificate, the certificate levels and the"
  say "requests it may make (authentications and signatures, no certificate choice)."
  say "The running server reads the registry again by itself."
  run "$bin/splitkey-server" rp add --dir "$server_dir/srv" --uuid "$bank_uuid" \
    --names 'Demo Bank|DEMOBANK' --cert "$work/bank.crt" --levels ADVANCED,QUALIFIED \
    --purposes auth,sign || die "splitkey-server rp add failed"
  run "$bin/splitkey-server" rp list --dir "$server_dir/srv" || die "splitkey-server rp list failed"
  say "The bank pins the server's certificate instead of trusting a CA for it: the operator"
  say "gives it the certificate (or its SHA-256, which rp pin prints) out of band."
  printf '   $ %s\n' "$(cmdline "$bin/splitkey-server" rp pin --dir "$server_dir/srv")"
  "$bin/splitkey-server" rp pin --dir "$server_dir/srv" >"$work/rp-pin.out" 2>&1 ||
    { show "$work/rp-pin.out"; die "splitkey-server rp pin failed"; }
  show "$work/rp-pin.out"
  openssl x509 -in "$server_dir/srv/rp-tls.crt" -out "$work/bank-pinned.pem" ||
    die "cannot copy the server's certificate"
  local pin der
  pin=$(awk '$1 == "sha256" { print $2 }' "$work/rp-pin.out")
  der=$(openssl x509 -in "$work/bank-pinned.pem" -outform DER | sha256sum | cut -d' ' -f1)
  say "OpenSSL computes the same value from the certificate the bank keeps"
  say "($work/bank-pinned.pem): $der"
  if [ -z "$pin" ] || [ "$pin" != "$der" ]; then
    die "rp pin says '$pin', the certificate's SHA-256 is $der"
  fi
  bank_opts=(--api "$api" --server-cert "$work/bank-pinned.pem" --rp-cert "$work/bank.crt"
    --rp-key "$work/bank.key" --rp-uuid "$bank_uuid" --name "Demo Bank" --ca-cert "$work/ca.pem")
  say "From now on every splitkey-rp command of the bank carries these options:"
  say "  $(cmdline "${bank_opts[@]}")"
  say "--ca-cert: every answer's certificate is validated against the CA before the bank"
  say "accepts it (chain, dates, key usage and policy, the person, OCSP with a nonce)."
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

# rp_session NAME COMMAND ARGS...: starts "splitkey-rp COMMAND" with the
# bank's options (demo_rp_register) and ARGS in the background and waits for
# the verification code it prints at once.
rp_session() {
  local name=$1 cmd=$2 i
  shift 2
  # shellcheck disable=SC2016 # "${bank[@]}" is shown as typed, not expanded
  printf '   $ %s "${bank[@]}" %s &\n' "$(cmdline "$bin/splitkey-rp" "$cmd")" "$(cmdline "$@")"
  : >"$work/$name.out" # exists before the background job opens it
  "$bin/splitkey-rp" "$cmd" "${bank_opts[@]}" "$@" >"$work/$name.out" 2>&1 &
  rp_pid=$!
  for i in $(seq 1 400); do
    grep -q '^verification code:' "$work/$name.out" && break
    kill -0 "$rp_pid" 2>/dev/null || { show "$work/$name.out"; die "splitkey-rp failed"; }
    sleep 0.05
  done
  show "$work/$name.out"
  rp_code=$(sed -n 's/^verification code: //p' "$work/$name.out")
  # the API's sessionID is the session's 16 bytes written as a UUID
  rp_session_id=$(sed -n 's/^session \([0-9a-f-]*\) for .*/\1/p' "$work/$name.out" | tr -d -)
  if [ ${#rp_session_id} -ne 32 ] || [ ${#rp_code} -ne 4 ]; then
    die "splitkey-rp printed no session"
  fi
}

# device_sessions: the phone lists the waiting sessions; the relying party's
# must be among them.
device_sessions() {
  say "On the phone: the waiting sessions, with who asks and what:"
  printf '   $ %s\n' "$(cmdline "$bin/splitkey-client" sessions --state "$device")"
  "$bin/splitkey-client" sessions --state "$device" >"$work/sessions.out" 2>&1 ||
    { show "$work/sessions.out"; die "sessions failed"; }
  show "$work/sessions.out"
  grep -q "^$rp_session_id " "$work/sessions.out" || die "the device does not list the session"
}

# rp_answer NAME: waits for splitkey-rp (it must exit 0) and shows what it
# reported after the device answered.
rp_answer() {
  wait "$rp_pid" || { show "$work/$1.out"; die "the relying party did not accept the answer"; }
  rp_pid=
  say "The bank, once the answer arrived (and validated):"
  sed '1,/^waiting for the person/d' "$work/$1.out" | sed 's/^/     /'
  grep -q "OCSP .*: good" "$work/$1.out" || die "splitkey-rp did not report OCSP good"
}

# device_check_approve PINFILE: the phone lists the session of
# $rp_session_id with the code $rp_code, and the person approves it.
device_check_approve() {
  device_sessions
  local code
  code=$(awk -v s="$rp_session_id" '$1 == s { print $4 }' "$work/sessions.out")
  [ "$code" = "$rp_code" ] || die "the device shows code '$code', the relying party '$rp_code'"
  say "Both sides show $code: the person approves with the PIN."
  run "$bin/splitkey-client" approve "$rp_session_id" --state "$device" --pin-file "$1" ||
    die "approval failed"
}

# device_approve PINFILE NAME: checks the code and approves the bank's
# session, then shows the bank's answer.
device_approve() {
  device_check_approve "$1"
  rp_answer "$2"
}

demo_rp_auth() {
  step "The bank authenticates the person over the HTTPS API (PIN1)"
  say "bank=($(cmdline "${bank_opts[@]}"))"
  say "splitkey-rp connects to the API (the server's certificate must be the pinned one,"
  say "the bank presents its own) and asks for an authentication: the authentication key"
  say "signs the digest of a fresh random challenge.  It prints the verification code at"
  say "once, computed from that digest, and waits (long polls of GET /v2/session/ID)."
  rp_session auth auth --person "$person" --text "Log in to Demo Bank"
  device_approve "$server_dir/pin1" auth
}

demo_rp_sign() {
  step "The bank asks for a signature on the contract (PIN2, PKCS#1 v1.5, $hash)"
  say "The API signs RSASSA-PKCS1-v1_5 over the digest (sha256WithRSAEncryption and its"
  say "kin); --cert-out keeps the certificate that came with the signature."
  rp_session rpsign sign --person "$person" --purpose sign --in "$work/contract.txt" \
    --out "$work/contract-rp.sig" --hash "$hash" --text "Agreement of sale, 350 EUR" \
    --cert-out "$work/bank-cert.pem"
  device_approve "$server_dir/pin2" rpsign
  say "The bank got the person's certificate with the signature:"
  run cmp "$work/bank-cert.pem" "$work/sign-cert.pem" ||
    die "the bank's certificate is not the person's"
  say "OpenSSL checks the signature under the certificate's key:"
  run openssl x509 -in "$work/bank-cert.pem" -noout -pubkey -out "$work/bank-cert-key.pem" ||
    die "cannot read the certificate's key"
  run openssl dgst "-$hash" -verify "$work/bank-cert-key.pem" -signature "$work/contract-rp.sig" \
    "$work/contract.txt" || die "OpenSSL did not accept the signature"
}

demo_rp_vc_choice() {
  step "A signature with verification-code choice: the person picks the bank's code"
  cat >"$work/payment.txt" <<'DOC'
Payment order: 350 EUR to the seller of bicycle WTU-442817.
DOC
  say "With --interaction verificationCodeChoice the phone shows three codes, the bank's"
  say "among them, and the person must pick the one the bank's screen shows; a wrong"
  say "pick ends the session (WRONG_VC) before any PIN is sent."
  rp_session rpvc sign --person "$person" --purpose sign --in "$work/payment.txt" \
    --out "$work/payment-rp.sig" --hash "$hash" --text "Pay 350 EUR" \
    --interaction verificationCodeChoice
  device_sessions
  local choices
  choices=$(sed -n 's/.*choices \([0-9]\{4\}\) \([0-9]\{4\}\) \([0-9]\{4\}\).*/\1 \2 \3/p' \
    "$work/sessions.out")
  [ -n "$choices" ] || die "the device offers no codes to pick"
  case " $choices " in
    *" $rp_code "*) ;;
    *) die "the bank's code $rp_code is not among the device's choices ($choices)" ;;
  esac
  say "The phone offers $choices; the bank shows $rp_code: the person picks it."
  run "$bin/splitkey-client" approve "$rp_session_id" --state "$device" --vc "$rp_code" \
    --pin-file "$server_dir/pin2" || die "approval with the picked code failed"
  rp_answer rpvc
  grep -q "interaction verificationCodeChoice" "$work/rpvc.out" ||
    die "the server did not report the verification-code choice"
  run openssl dgst "-$hash" -verify "$work/bank-cert-key.pem" -signature "$work/payment-rp.sig" \
    "$work/payment.txt" || die "OpenSSL did not accept the signature"
}

demo_rp_unregistered() {
  step "A relying party that is not registered is refused"
  say "Someone who knows the bank's UUID and name but not its key tries with a"
  say "certificate of its own:"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/mallory.key" -out "$work/mallory.crt" -days 30 -subj "/CN=Demo Bank" \
    2>/dev/null || die "openssl could not make a certificate"
  local db="$server_dir/srv/server.db" before after st=0
  before=$(sqlite3 "$db" "SELECT count(*) FROM sessions")
  local cmd=("$bin/splitkey-rp" auth --api "$api" --server-cert "$work/bank-pinned.pem"
    --rp-cert "$work/mallory.crt" --rp-key "$work/mallory.key" --rp-uuid "$bank_uuid"
    --name "Demo Bank" --ca-cert "$work/ca.pem" --person "$person")
  printf '   $ %s\n' "$(cmdline "${cmd[@]}")"
  "${cmd[@]}" >"$work/mallory.out" 2>&1 || st=$?
  show "$work/mallory.out"
  [ "$st" -eq 1 ] || die "an unregistered relying party gave exit $st, not 1"
  grep -q 'HTTP 401' "$work/mallory.out" || die "the server did not answer 401"
  after=$(sqlite3 "$db" "SELECT count(*) FROM sessions")
  [ "$before" = "$after" ] || die "the refused request created a session"
  say "HTTP 401 and exit 1; the store holds $after sessions, as before: nothing was"
  say "created.  The server logged the refusal (event 36; detail 2: the UUID is"
  say "registered, the certificate is not its credential):"
  local tries=0
  while ! grep -q 'request refused (event 36' "$work/server.log" && [ "$tries" -lt 40 ]; do
    sleep 0.05
    tries=$((tries + 1))
  done
  grep -m 1 'request refused (event 36' "$work/server.log" | sed 's/^/     /' ||
    die "the server did not log the refusal"
}

# v2 ARGS...: the independent v2 client as the portal; V2_STATUS and V2_BODY.
v2() {
  printf '   $ %s\n' "$(cmdline v2_client.py ... "$@")"
  local out
  out=$(python3 "$v2_client" --base "${api%/v2/}" --pin "$portal_pin" --cert "$work/portal.crt" \
    --key "$work/portal.key" --uuid "$portal_uuid" --name Portal "$@" 2>"$work/v2.err") ||
    { show "$work/v2.err"; die "v2_client.py failed"; }
  V2_STATUS=$(sed -n 1p <<<"$out")
  V2_BODY=$(sed -n 2p <<<"$out")
  printf '     HTTP %s %s\n' "$V2_STATUS" "$V2_BODY" | cut -c1-300
}
jfield() { python3 -c 'import json,sys
d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    d=d.get(k, {}) if isinstance(d, dict) else {}
print(d if isinstance(d, str) else "")' "$V2_BODY" "$1"; }

# v2_approve PINFILE HASHFILE: the device approves the portal's session
# (its code is the one the portal computes) and the portal long-polls it.
v2_approve() {
  rp_session_id=$(tr -d - <<<"$v2_sid")
  rp_code=$(python3 "$v2_client" --base x --pin 00 vc --hash-file "$2")
  device_check_approve "$1"
  v2 status "$v2_sid" --timeout-ms 10000
  [ "$(jfield state)" = COMPLETE ] && [ "$(jfield result.endResult)" = OK ] ||
    die "the session did not end OK"
}

demo_rp_v2_client() {
  step "Any client of the public v2 API works: certificate choice, login and signing"
  v2_client=tests/rp/v2_client.py
  say "tests/rp/v2_client.py was written from the public Smart-ID RP API v2 description"
  say "alone (Python's standard library; the server's certificate pinned by SHA-256, a"
  say "TLS client certificate as the credential).  A second relying party, a portal, is"
  say "registered for all three kinds of request:"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$work/portal.key" -out "$work/portal.crt" -days 30 -subj "/CN=Portal" \
    2>/dev/null || die "openssl could not make the portal's certificate"
  portal_uuid=2c5e8f14-7b3a-4d6e-9f10-3a4b5c6d7e8f
  portal_pin=$(openssl x509 -in "$work/bank-pinned.pem" -outform DER | sha256sum | cut -c1-64)
  run "$bin/splitkey-server" rp add --dir "$server_dir/srv" --uuid "$portal_uuid" \
    --names Portal --cert "$work/portal.crt" --levels ADVANCED,QUALIFIED \
    --purposes auth,sign,certchoice || die "splitkey-server rp add failed"
  say "1. Certificate choice: which signing certificate does the person have?"
  v2 create certificatechoice etsi "$person"
  [ "$V2_STATUS" = 200 ] || die "certificate choice: HTTP $V2_STATUS"
  v2_sid=$(jfield sessionID)
  v2 status "$v2_sid"
  local docnr
  docnr=$(jfield result.documentNumber)
  [ -n "$docnr" ] || die "no document number"
  jfield cert.value | base64 -d | openssl x509 -inform DER -noout -subject -serial |
    sed 's/^/     /'
  say "2. Log in by the person's identifier (PIN1):"
  head -c 32 /dev/urandom | openssl dgst -sha256 -binary >"$work/v2-auth.hash"
  v2 create authentication etsi "$person" --hash-file "$work/v2-auth.hash" \
    --text "Log in to Portal"
  [ "$V2_STATUS" = 200 ] || die "authentication: HTTP $V2_STATUS"
  v2_sid=$(jfield sessionID)
  v2_approve "$server_dir/pin1" "$work/v2-auth.hash"
  jfield cert.value | base64 -d | openssl x509 -inform DER -pubkey -noout >"$work/v2-auth.pub"
  jfield signature.value | base64 -d >"$work/v2-auth.sig"
  run openssl pkeyutl -verify -pubin -inkey "$work/v2-auth.pub" -pkeyopt digest:sha256 \
    -in "$work/v2-auth.hash" -sigfile "$work/v2-auth.sig" ||
    die "OpenSSL did not accept the login signature"
  say "3. Sign the contract with exactly the chosen key, by its document number (PIN2):"
  openssl dgst -sha256 -binary "$work/contract.txt" >"$work/v2-sign.hash"
  v2 create signature document "$docnr" --hash-file "$work/v2-sign.hash" \
    --text "Sign the agreement"
  [ "$V2_STATUS" = 200 ] || die "signature: HTTP $V2_STATUS"
  v2_sid=$(jfield sessionID)
  v2_approve "$server_dir/pin2" "$work/v2-sign.hash"
  jfield signature.value | base64 -d >"$work/v2-contract.sig"
  run openssl dgst -sha256 -verify "$work/bank-cert-key.pem" -signature "$work/v2-contract.sig" \
    "$work/contract.txt" || die "OpenSSL did not accept the contract's signature"
  say "4. Bad requests get the documented errors and create nothing:"
  local db="$server_dir/srv/server.db" before after
  before=$(sqlite3 "$db" "SELECT count(*) FROM sessions")
  v2 create signature etsi "$person" --hash-file "$work/v2-sign.hash" --hash-type MD5
  [ "$V2_STATUS" = 400 ] || die "an unknown hashType: HTTP $V2_STATUS, not 400"
  v2 create authentication etsi PNOLV-999999-99999 --hash-file "$work/v2-auth.hash"
  [ "$V2_STATUS" = 404 ] || die "an unknown person: HTTP $V2_STATUS, not 404"
  v2 status 00000000-0000-4000-8000-000000000000
  [ "$V2_STATUS" = 404 ] || die "an unknown session: HTTP $V2_STATUS, not 404"
  after=$(sqlite3 "$db" "SELECT count(*) FROM sessions")
  [ "$before" = "$after" ] || die "a refused request created a session"
  say "The store holds $after sessions, as before."
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
  say "place, under ordinary certificates a CA issued at enrolment; a registered bank"
  say "asked over the HTTPS API, with the server's certificate pinned, and validated each"
  say "answer's certificate (chain, usage, policy, person, OCSP); the person approved on"
  say "the device after comparing or picking the verification code; a standard verifier"
  say "accepted every signature and the chain, and OCSP followed the revocation."
  say "Files: $work/"
  say "The same bank as a small web site (doc/rp.md):"
  say "  $bin/splitkey-rp serve --http 127.0.0.1:8080 --api URL \\" \
    "      --server-cert PINNED.pem --rp-cert BANK.crt --rp-key BANK.key --rp-uuid UUID \\" \
    "      --name 'Demo Bank' --ca-cert CA.pem"
  say "then open http://127.0.0.1:8080/ in a browser, log in and sign a contract with the"
  say "device."
  say "Next: scripts/test.sh runs the whole test suite; $bin/splitkey-client --help and"
  say "$bin/splitkey-rp --help list the device and relying-party commands; doc/rp-api.md"
  say "is the relying-party API, doc/rp.md the relying party splitkey-rp."
}

demo_install
demo_build
demo_document
demo_sign_local
demo_openssl_verify
demo_tamper
demo_ca
demo_server
demo_rp_register
demo_enrol
demo_certs
demo_rp_auth
demo_rp_sign
demo_rp_vc_choice
demo_rp_unregistered
demo_rp_v2_client
demo_wrong_pin
demo_revoke
demo_stop
demo_summary
