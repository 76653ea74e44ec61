#!/usr/bin/env bash
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
# OpenSSL, which knows nothing about splitkey, verifies the signatures.  A
# wrong PIN shows the server counting attempts; the server stops cleanly at
# the end, and on any exit the demo stops it and removes its directory.
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

server_dir= server_pid= rp_pid=
cleanup() {
  set +e # a process that ends by a signal must not cut the clean-up short
  if [ -n "$rp_pid" ] && kill -0 "$rp_pid" 2>/dev/null; then
    kill "$rp_pid" 2>/dev/null
    wait "$rp_pid" 2>/dev/null
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
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
  for p in splitkey splitkey-server splitkey-client splitkey-rp; do
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

demo_server() {
  step "Start the share server on loopback, with SQLite in a temporary directory"
  server_dir=$(mktemp -d "${TMPDIR:-/tmp}/splitkey-demo-server.XXXXXX")
  say "splitkey-server init makes the server's identity: an X25519 key for the channel"
  say "and an Ed25519 key that signs enrolment replies.  Devices pin both public keys,"
  say "which init writes to server.pub."
  run "$bin/splitkey-server" init --dir "$server_dir/srv" || die "splitkey-server init failed"
  say "Start it: --open-enrolment lets a device enrol without a registration token"
  say "(development and demos); port 0 lets the kernel pick a free loopback port, which"
  say "the server writes to its --ready-file once it listens; --pool-profiles keeps"
  say "server keys of the demo's size ready."
  local cmd=("$bin/splitkey-server" run --dir "$server_dir/srv" --listen tcp://127.0.0.1:0
    --db "sqlite:$server_dir/srv/server.db" --open-enrolment --pool-profiles "$profile"
    --ready-file "$server_dir/ready")
  printf '   $ %s 2>%s &\n' "$(cmdline "${cmd[@]}")" "$work/server.log"
  "${cmd[@]}" 2>"$work/server.log" &
  server_pid=$!
  local i
  for i in $(seq 1 600); do
    [ -s "$server_dir/ready" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; die "the server did not start"; }
    sleep 0.05
  done
  [ -s "$server_dir/ready" ] || die "the server did not start in time"
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
  say "its certificate request."
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
  say "Their public keys, as a bank would register them: $work/auth.pem, $work/sign.pem"
}

# rp_session NAME ARGS...: starts splitkey-rp in the background and waits
# for the verification code it prints at once.
rp_session() {
  local name=$1 i
  shift
  printf '   $ %s &\n' "$(cmdline "$bin/splitkey-rp" "$@")"
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
    --name "Demo Bank" --text "Agreement of sale, 350 EUR" --pub "$work/sign.pem" \
    --cert-out "$work/sign-cert.pem"
  device_approve sign "$server_dir/pin2" rpsign
  say "OpenSSL checks the signature the bank received:"
  run openssl dgst "-$hash" -verify "$work/sign.pem" -signature "$work/contract-rp.sig" \
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

demo_stop() {
  step "Stop the server cleanly"
  printf '   $ kill -TERM %s\n' "$server_pid"
  kill -TERM "$server_pid"
  local st=0
  wait "$server_pid" || st=$?
  server_pid=
  [ "$st" -eq 0 ] || die "the server exited with status $st"
  say "It finished the requests in flight, closed the database and exited 0. Its last lines:"
  tail -n 3 "$work/server.log" | sed 's/^/     /'
}

demo_summary() {
  step "Done"
  say "Documents were signed with RSA keys whose private exponent never existed in one"
  say "place, a person approved a bank's requests on the device after comparing the"
  say "verification code, and a standard verifier accepted every signature."
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
demo_server
demo_enrol
demo_rp_auth
demo_rp_sign
demo_wrong_pin
demo_stop
demo_summary
