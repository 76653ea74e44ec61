#!/usr/bin/env bash
# demo.sh - splitkey from a fresh Debian 12 machine to a verified two-party
# RSA signature, told step by step.
#
#   scripts/demo.sh
#
# It installs the dependencies (scripts/install-deps.sh), configures and
# builds in build/, and then signs a document with a key split between a
# "device" share and a "server" share and verifies the result with OpenSSL,
# which knows nothing about splitkey.
#
# Settings (environment): SK_DEMO_PROFILE (4K, 6K or 8K; default 6K),
# SK_DEMO_SCHEME (pkcs1 or pss; default pss), SK_DEMO_HASH (sha256, sha384 or
# sha512; default sha256), SK_BUILD_DIR (default build).  The demo's files go
# to $SK_BUILD_DIR/demo.
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
run() {
  printf '   $ %s\n' "$*"
  "$@" 2>&1 | sed 's/^/     /'
  return "${PIPESTATUS[0]}"
}
die() {
  printf '\ndemo: %s\n' "$*" >&2
  exit 1
}

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
  [ -x "$bin/splitkey" ] || die "$bin/splitkey was not built"
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

demo_summary() {
  step "Done"
  say "A document was signed with an RSA key whose private exponent never existed in one"
  say "place, and a standard verifier accepted the signature. Files: $work/"
  say "Next: scripts/test.sh runs the whole test suite; $bin/splitkey --help lists the"
  say "auditor commands (sign-local, verify, vectors)."
}

demo_install
demo_build
demo_document
demo_sign_local
demo_openssl_verify
demo_tamper
demo_summary
