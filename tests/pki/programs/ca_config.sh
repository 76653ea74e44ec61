# SPDX-License-Identifier: Apache-2.0
# ca_config.sh BINDIR TOOL - usage and configuration errors of splitkey-ca
# and splitkey-ocsp: exit 2 with a message that says what is wrong, and
# nothing stored changes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
pki_setup "$@"

run "splitkey-ca --help" "$CA" --help
expect "the help lists the commands" "audit-verify --dir DIR" out.txt
run "splitkey-ca run --help" "$CA" run --help
expect "run --help lists its flags" "--listen" out.txt
run "splitkey-ocsp run --help" "$OCSP" run --help
expect "ocsp --help lists its flags" "--ca-dir" out.txt
run_status "no command" 2 "$CA"
run_status "an unknown command" 2 "$CA" frobnicate
URLS=(--ocsp-url http://127.0.0.1:9/ocsp --ca-url http://127.0.0.1:9/ca.crt
      --pds-url https://example.org/pds_en.pdf)
run_status "an unknown flag" 2 "$CA" init --dir x --subject CN=x --colour blue
run_status "init without --subject" 2 "$CA" init --dir x "${URLS[@]}"
expect "says which" "subject" out.txt
run_status "init without the URLs" 2 "$CA" init --dir x --subject "CN=X,O=Y,C=LV"
expect "says which" "missing --ocsp-url" out.txt
run_status "init with a bad key type" 2 "$CA" init --dir x --subject "CN=X,O=Y,C=LV" --key rsa1024 "${URLS[@]}"
expect "says which types" "rsa3072 or ec-p384" out.txt
run_status "init with a bad subject" 2 "$CA" init --dir x --subject "no equals sign" "${URLS[@]}"
expect "names the flag" "--subject" out.txt
run_status "init with a bad policy OID" 2 "$CA" init --dir x --subject "CN=X,O=Y,C=LV" --key ec-p384 --policy-oid "not an oid" "${URLS[@]}"
[ ! -e x ] && ok "a refused init leaves no directory" || bad "x was left behind"

run "init a CA" "$CA" init --dir ca --subject "CN=Config Test CA,O=Config Test,C=LV" --key ec-p384 "${URLS[@]}"
run_status "run without --listen" 2 "$CA" run --dir ca
expect "says what is missing" "missing --listen" out.txt
run_status "run with a bad URL" 2 "$CA" run --dir ca --listen "foo://bar"
run_status "run on a missing directory" 2 "$CA" run --dir /nonexistent/ca --listen tcp://127.0.0.1:0
mkdir empty
run_status "run on a directory that is not a CA" 2 "$CA" run --dir empty --listen tcp://127.0.0.1:0
expect "says so" "ca.conf: missing" out.txt
chmod 644 ca/ca.key
run_status "run with a CA key readable by others" 2 "$CA" run --dir ca --listen tcp://127.0.0.1:0
expect "says to chmod it" "chmod 600" out.txt
chmod 600 ca/ca.key
cp ca/ca.conf conf.good
echo "colour = blue" >>ca/ca.conf
run_status "run with an unknown config key" 2 "$CA" run --dir ca --listen tcp://127.0.0.1:0
expect "names the key" "colour" out.txt
cp conf.good ca/ca.conf
run_status "revoke with a bad serial" 2 "$CA" revoke --dir ca --serial zz --reason superseded
run_status "revoke with a bad reason" 2 "$CA" revoke --dir ca --serial 0a --reason bored
expect "lists the reasons" "keyCompromise" out.txt
printf 'not a server.pub\n' >bad.pub
run_status "add-ra with a bad file" 2 "$CA" add-ra --dir ca --pub bad.pub
run_status "add-ra with a missing file" 2 "$CA" add-ra --dir ca --pub missing.pub
mkdir ra
"$TOOL" identity ra
run "add-ra" "$CA" add-ra --dir ca --pub ra/server.pub
run "add-ra twice is harmless" "$CA" add-ra --dir ca --pub ra/server.pub
expect "and says so" "already registered" out.txt
run "audit-verify on a fresh CA" "$CA" audit-verify --dir ca
expect "nothing was logged by the refusals (the OCSP signer's issuance only)" " 1 entries" out.txt
run_status "crl without --out" 2 "$CA" crl --dir ca

run_status "ocsp without a source" 2 "$OCSP" run --http 127.0.0.1:0
expect "says what to give" "exactly one of --ca-dir" out.txt
run_status "ocsp with two sources" 2 "$OCSP" run --ca-dir ca --ca tcp://127.0.0.1:1 --http 127.0.0.1:0
run_status "ocsp with a bad --http" 2 "$OCSP" run --ca-dir ca --http nonsense
expect "says the form" "HOST:PORT" out.txt
run_status "ocsp --ca without the signer files" 2 "$OCSP" run --ca tcp://127.0.0.1:1 --http 127.0.0.1:0
chmod 644 ca/ocsp.key
run_status "ocsp with a signer key readable by others" 2 "$OCSP" run --ca-dir ca --http 127.0.0.1:0
expect "says to chmod it" "chmod 600" out.txt
chmod 600 ca/ocsp.key
run_status "ocsp with a signer certificate from elsewhere" 2 "$OCSP" run --ca-dir ca --ocsp-cert ca/ca.pem --http 127.0.0.1:0
run_status "ocsp on a directory without a database" 2 "$OCSP" run --ca-dir empty --ocsp-cert ca/ocsp.pem --ocsp-key ca/ocsp.key --http 127.0.0.1:0

finish
