/* csr_internal.h - shared by csr.c and csr_parse.c. */
#ifndef SPLITKEY_CSR_INTERNAL_H
#define SPLITKEY_CSR_INTERNAL_H

#include "pki/pki_internal.h"

/* Dotted OID of sha{256,384,512}WithRSAEncryption, NULL for other hashes. */
const char *pki_csr_sig_oid(sk_hash hash);

#endif /* SPLITKEY_CSR_INTERNAL_H */
