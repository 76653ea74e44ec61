# SPDX-License-Identifier: Apache-2.0
# ca_lib.sh - a CA, its OCSP responder and the share server as the CA's
# registration authority, for the end-to-end tests (sourced after
# e2e_lib.sh, which gives T, BIN, SERVER, SRV and e2e_run_server).
#
#   ca_lib_init DIR NAME             splitkey-ca init (a test CA called NAME)
#   ca_lib_start_ocsp DIR            splitkey-ocsp on a port the kernel picks,
#                                    and DIR/ca.conf's ocsp-url pointed at it
#                                    (before ca_lib_start_ca: the CA writes
#                                    the URL into each certificate)
#                                    -> OCSP_URL, OCSP_PID
#   ca_lib_start_ca DIR              splitkey-ca run -> CA_URL, CA_PID
#   ca_lib_server [ARGS...]          splitkey-server init + run with --ca,
#                                    ARGS added to run -> URL, and the
#                                    relying-party API: RPURL, RP_API_ARGS
#                                    (e2e_run_server, rp_test_lib.sh)
#   ca_lib_server_init [ARGS...]     the init part alone (SERVER_ARGS set for
#                                    a later e2e_run_server; the test relying
#                                    party registered)
#   ca_lib_cleanup                   stops what was started, then e2e_cleanup
# Waits poll ready files; no fixed sleep, no time limit.
CA="$BIN/splitkey-ca"
OCSP="$BIN/splitkey-ocsp"
CA_PID=
OCSP_PID=

ca_lib_cleanup() {
  local p
  for p in $OCSP_PID $CA_PID; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  e2e_cleanup
}
trap ca_lib_cleanup EXIT

ca_lib_init() { # ca_lib_init DIR NAME
  "$CA" init --dir "$1" --subject "CN=$2,O=Splitkey Test,C=LV" \
    --policy-oid 1.3.6.1.4.1.99999.1.1 --ocsp-url http://127.0.0.1:9/ocsp \
    --ca-url http://127.0.0.1:9/ca.crt --pds-url https://example.org/pds_en.pdf >/dev/null ||
    { echo "splitkey-ca init $1 failed" >&2; exit 1; }
}

# ca_lib_wait_ready FILE PID LOG WHAT: until FILE is written, or PID ended
ca_lib_wait_ready() {
  while [ ! -s "$1" ]; do
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; echo "$4 did not start" >&2; exit 1; }
    sleep 0.05
  done
}

ca_lib_start_ocsp() { # ca_lib_start_ocsp DIR
  rm -f "$T/ocsp.ready"
  "$OCSP" run --ca-dir "$1" --http 127.0.0.1:0 --ready-file "$T/ocsp.ready" \
    >>"$T/ocsp.log" 2>&1 &
  OCSP_PID=$!
  ca_lib_wait_ready "$T/ocsp.ready" "$OCSP_PID" "$T/ocsp.log" "the OCSP responder"
  OCSP_URL=$(head -n 1 "$T/ocsp.ready")
  sed -i "s|^ocsp-url = .*|ocsp-url = $OCSP_URL|" "$1/ca.conf"
}

ca_lib_start_ca() { # ca_lib_start_ca DIR
  rm -f "$T/ca.ready"
  "$CA" run --dir "$1" --listen tcp://127.0.0.1:0 --ready-file "$T/ca.ready" 2>>"$T/ca.log" &
  CA_PID=$!
  ca_lib_wait_ready "$T/ca.ready" "$CA_PID" "$T/ca.log" "the CA"
  CA_URL=$(head -n 1 "$T/ca.ready")
}

ca_lib_server_init() { # ca_lib_server_init [RUN-ARGS...] (the CA of $T/ca)
  SRV="$T/server"
  "$SERVER" init --dir "$SRV" >/dev/null || { echo "splitkey-server init failed" >&2; exit 1; }
  "$CA" add-ra --dir "$T/ca" --pub "$SRV/server.pub" >/dev/null ||
    { echo "splitkey-ca add-ra failed" >&2; exit 1; }
  rp_test_register "$SRV" || exit 1
  SERVER_ARGS=(--ca "$CA_URL" --ca-cert "$T/ca/ca.pem" --ca-retry-every 1 "$@")
}
ca_lib_server() { # ca_lib_server [RUN-ARGS...]: init, then run
  ca_lib_server_init "$@"
  e2e_run_server
}
