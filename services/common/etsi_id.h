/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etsi_id.h - what an ETSI semantics identifier (EN 319 412-1, clause 5.1.3
 * for natural persons, 5.1.4 for legal persons) names: the share server and
 * splitkey-rp both tell a person's identifier (PNOLV-...) from an
 * organisation's (VATLV-...), whose key is a seal.
 */
#ifndef SK_ETSI_ID_H
#define SK_ETSI_ID_H

#include <stdbool.h>

/* An organisation's identifier: its type is VAT, NTR, PSD or LEI.  NULL:
 * false. */
bool sk_etsi_legal_person(const char *id);

#endif
