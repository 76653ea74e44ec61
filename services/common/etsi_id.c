/* SPDX-License-Identifier: Apache-2.0 */
/* etsi_id.c - the type of an ETSI semantics identifier (etsi_id.h). */
#include "etsi_id.h"

#include <string.h>

bool sk_etsi_legal_person(const char *id)
{
    static const char *const types[] = {"VAT", "NTR", "PSD", "LEI"};
    for (size_t i = 0; id != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strncmp(id, types[i], 3) == 0)
            return true;
    return false;
}
