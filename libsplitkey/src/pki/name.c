/* SPDX-License-Identifier: Apache-2.0 */
/* name.c - distinguished names: the text form "K=V,...", DER Names, and the
 * natural-person subject (C, CN "SURNAME,GIVENNAME", SN, GN,
 * serialNumber "PNO" + C + "-" + id, ETSI EN 319 412-1 5.1.3), and the
 * legal-person subject (C, O, organizationIdentifier, CN; EN 319 412-1
 * 5.1.4, EN 319 412-3). */
#include <mbedtls/asn1.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"

typedef struct attr_type {
    const char *name;
    const char *oid;
    bool printable; /* PrintableString; otherwise UTF8String */
} attr_type;

enum { AT_C, AT_CN, AT_SN, AT_GN, AT_SERIAL, AT_O, AT_OU, AT_L, AT_ST, AT_ORGID, AT_COUNT };

static const attr_type TYPES[AT_COUNT] = {
    [AT_C] = {"C", "2.5.4.6", true},
    [AT_CN] = {"CN", "2.5.4.3", false},
    [AT_SN] = {"SN", "2.5.4.4", false},
    [AT_GN] = {"GN", "2.5.4.42", false},
    [AT_SERIAL] = {"serialNumber", "2.5.4.5", true},
    [AT_O] = {"O", "2.5.4.10", false},
    [AT_OU] = {"OU", "2.5.4.11", false},
    [AT_L] = {"L", "2.5.4.7", false},
    [AT_ST] = {"ST", "2.5.4.8", false},
    [AT_ORGID] = {"organizationIdentifier", "2.5.4.97", true},
};

static int set_detail(const char **detail, const char *why)
{
    if (detail != NULL)
        *detail = why;
    return SK_ERR_PKI;
}

static bool printable_char(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr(" '()+,-./:=?", c) != NULL;
}

/* Well-formed UTF-8 without control characters. */
static bool utf8_ok(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            (cp >= 0x80 && cp < 0xa0))
            return false;
        i += n + 1;
    }
    return true;
}

/* Checks a value for its attribute type. */
static int value_check(int type, const uint8_t *v, size_t len, const char **detail)
{
    if (len == 0)
        return set_detail(detail, "an attribute value is empty");
    if (len > SK_NAME_MAX_VALUE)
        return set_detail(detail, "an attribute value is longer than 64 bytes");
    if (v[0] == ' ' || v[len - 1] == ' ')
        return set_detail(detail, "an attribute value starts or ends with a space");
    if (TYPES[type].printable) {
        for (size_t i = 0; i < len; i++)
            if (!printable_char(v[i]))
                return set_detail(detail,
                                  "C, serialNumber and organizationIdentifier allow only "
                                  "PrintableString characters");
    } else if (!utf8_ok(v, len)) {
        return set_detail(detail, "an attribute value is not valid UTF-8 text");
    }
    if (type == AT_C && (len != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z'))
        return set_detail(detail, "C must be two upper-case letters (ISO 3166)");
    return SK_OK;
}

static int name_add(sk_name *n, int type, const uint8_t *v, size_t len, const char **detail)
{
    int rc = value_check(type, v, len, detail);
    if (rc != SK_OK)
        return rc;
    if (n->count == SK_NAME_MAX_ATTRS)
        return set_detail(detail, "a name has more than 16 attributes");
    sk_name_attr *a = &n->attr[n->count++];
    a->type = type;
    a->len = len;
    memcpy(a->value, v, len);
    a->value[len] = '\0';
    return SK_OK;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && **s == ' ') {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && (*s)[*len - 1] == ' ')
        (*len)--;
}

int sk_name_parse(sk_name **out, const char **detail, const char *text)
{
    if (detail != NULL)
        *detail = NULL;
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    if (text == NULL)
        return SK_ERR_ARG;
    sk_name *n = calloc(1, sizeof *n);
    if (n == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_OK;
    const char *s = text;
    if (strlen(text) > 4096) {
        rc = set_detail(detail, "the name is too long");
        goto out;
    }
    while (*s != '\0') {
        const char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = set_detail(detail, "expected K=V (a '=' is missing)");
            goto out;
        }
        const char *key = s;
        size_t key_len = (size_t)(eq - s);
        trim(&key, &key_len);
        int type = -1;
        /* the short name, or the dotted OID ("2.5.4.97" = organizationIdentifier) */
        for (int t = 0; t < AT_COUNT; t++)
            if ((strlen(TYPES[t].name) == key_len && memcmp(TYPES[t].name, key, key_len) == 0) ||
                (strlen(TYPES[t].oid) == key_len && memcmp(TYPES[t].oid, key, key_len) == 0))
                type = t;
        if (type < 0) {
            rc = set_detail(detail, "unknown attribute (allowed: C, CN, SN, GN, serialNumber, "
                                    "O, OU, L, ST, organizationIdentifier or its OID 2.5.4.97)");
            goto out;
        }
        /* Unescape the value up to an unescaped ',' or the end. */
        char buf[SK_NAME_MAX_VALUE * 4 + 2];
        size_t len = 0;
        s = eq + 1;
        while (*s != '\0' && *s != ',') {
            char c = *s++;
            if (c == '\\') {
                if (*s != ',' && *s != '\\' && *s != '=') {
                    rc = set_detail(detail, "only ',', '=' and '\\' may follow a '\\'");
                    goto out;
                }
                c = *s++;
            }
            if (len + 1 >= sizeof buf) {
                rc = set_detail(detail, "an attribute value is longer than 64 bytes");
                goto out;
            }
            buf[len++] = c;
        }
        const char *v = buf;
        trim(&v, &len);
        rc = name_add(n, type, (const uint8_t *)v, len, detail);
        if (rc != SK_OK)
            goto out;
        if (*s == ',') {
            s++;
            if (*s == '\0') {
                rc = set_detail(detail, "the name ends with ','");
                goto out;
            }
        }
    }
    if (n->count == 0)
        rc = set_detail(detail, "the name is empty");
out:
    if (rc != SK_OK) {
        sk_name_free(n);
        return rc;
    }
    *out = n;
    return SK_OK;
}

static const sk_name_attr *find(const sk_name *n, int type)
{
    for (size_t i = 0; i < n->count; i++)
        if (n->attr[i].type == type)
            return &n->attr[i];
    return NULL;
}

static size_t count_type(const sk_name *n, int type)
{
    size_t c = 0;
    for (size_t i = 0; i < n->count; i++)
        c += n->attr[i].type == type;
    return c;
}

/* The person rules on an unordered name; fills cn with "SN,GN". */
static int person_rules(const sk_name *n, char *cn, size_t *cn_len, const char **detail)
{
    for (int t = 0; t < AT_COUNT; t++) {
        size_t c = count_type(n, t);
        bool allowed = t == AT_C || t == AT_CN || t == AT_SN || t == AT_GN || t == AT_SERIAL;
        if (c > 0 && !allowed)
            return set_detail(detail, "a person's subject has only C, CN, SN, GN, serialNumber");
        if (c > 1)
            return set_detail(detail, "an attribute appears twice in the subject");
    }
    const sk_name_attr *c = find(n, AT_C), *sn = find(n, AT_SN), *gn = find(n, AT_GN),
                       *ser = find(n, AT_SERIAL), *given_cn = find(n, AT_CN);
    if (c == NULL || sn == NULL || gn == NULL || ser == NULL)
        return set_detail(detail, "a person's subject needs C, SN, GN and serialNumber");
    /* serialNumber: "PNO" + country + "-" + identifier */
    if (ser->len < 7 || memcmp(ser->value, "PNO", 3) != 0 ||
        memcmp(ser->value + 3, c->value, 2) != 0 || ser->value[5] != '-')
        return set_detail(detail, "serialNumber must be \"PNO\" + C + \"-\" + identifier, "
                                  "e.g. PNOLV-010101-12345");
    for (size_t i = 6; i < ser->len; i++)
        if (ser->value[i] == ' ')
            return set_detail(detail, "the personal identifier contains a space");
    if (sn->len + 1 + gn->len > SK_NAME_MAX_VALUE)
        return set_detail(detail, "CN \"SURNAME,GIVENNAME\" would be longer than 64 bytes");
    memcpy(cn, sn->value, sn->len);
    cn[sn->len] = ',';
    memcpy(cn + sn->len + 1, gn->value, gn->len);
    *cn_len = sn->len + 1 + gn->len;
    cn[*cn_len] = '\0';
    if (given_cn != NULL && (given_cn->len != *cn_len || memcmp(given_cn->value, cn, *cn_len) != 0))
        return set_detail(detail, "CN must be \"SURNAME,GIVENNAME\" (SN, a comma, GN)");
    return SK_OK;
}

/* sk_name_parse, then rules (person_rules, legal_rules), then a new name of
 * the attributes in order, CN as rules gives it. */
static int parse_profile(sk_name **out, const char **detail, const char *text,
                         int (*rules)(const sk_name *, char *, size_t *, const char **),
                         const int *order, size_t count)
{
    if (out == NULL)
        return SK_ERR_ARG;
    *out = NULL;
    sk_name *raw = NULL;
    int rc = sk_name_parse(&raw, detail, text);
    if (rc != SK_OK)
        return rc;
    char cn[SK_NAME_MAX_VALUE + 1];
    size_t cn_len = 0;
    sk_name *n = NULL;
    rc = rules(raw, cn, &cn_len, detail);
    if (rc != SK_OK)
        goto out;
    n = calloc(1, sizeof *n);
    if (n == NULL) {
        rc = SK_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < count && rc == SK_OK; i++) {
        if (order[i] == AT_CN) {
            rc = name_add(n, AT_CN, (const uint8_t *)cn, cn_len, detail);
        } else {
            const sk_name_attr *a = find(raw, order[i]);
            rc = name_add(n, order[i], (const uint8_t *)a->value, a->len, detail);
        }
    }
out:
    sk_name_free(raw);
    if (rc != SK_OK) {
        sk_name_free(n);
        return rc;
    }
    *out = n;
    return SK_OK;
}

int sk_name_parse_person(sk_name **out, const char **detail, const char *text)
{
    static const int order[] = {AT_C, AT_CN, AT_SN, AT_GN, AT_SERIAL};
    return parse_profile(out, detail, text, person_rules, order, sizeof order / sizeof order[0]);
}

int sk_name_check_person(const sk_name *name, const char **detail)
{
    if (detail != NULL)
        *detail = NULL;
    if (name == NULL)
        return SK_ERR_ARG;
    char cn[SK_NAME_MAX_VALUE + 1];
    size_t cn_len;
    int rc = person_rules(name, cn, &cn_len, detail);
    if (rc != SK_OK)
        return rc;
    static const int order[] = {AT_C, AT_CN, AT_SN, AT_GN, AT_SERIAL};
    if (name->count != 5)
        return set_detail(detail, "a person's subject has C, CN, SN, GN and serialNumber");
    for (size_t i = 0; i < 5; i++)
        if (name->attr[i].type != order[i])
            return set_detail(detail, "a person's subject is ordered C, CN, SN, GN, serialNumber");
    return SK_OK;
}

/* ------------------------------------------------------ legal persons */

/* The EN 319 412-1 5.1.4 legal-person semantics: a registration scheme
 * ("VAT", "NTR", "PSD", "LEI", or two upper-case letters and ':' for a
 * national scheme), the two-letter country code, which must be C, '-', then
 * the identifier (no spaces). */
static int legal_orgid_check(const sk_name_attr *id, const sk_name_attr *c, const char **detail)
{
    static const char *const schemes[] = {"VAT", "NTR", "PSD", "LEI"};
    const char *v = id->value;
    if (id->len < 7)
        return set_detail(detail, "organizationIdentifier must be a scheme (VAT, NTR, PSD, LEI) + "
                                  "C + \"-\" + identifier, e.g. VATLV-40003000000");
    bool known = false;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        known |= memcmp(v, schemes[i], 3) == 0;
    bool national = v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z' && v[2] == ':';
    if (!known && !national)
        return set_detail(detail, "organizationIdentifier must start with VAT, NTR, PSD or LEI "
                                  "(upper case), or two upper-case letters and ':' for a "
                                  "national scheme");
    if (v[3] < 'A' || v[3] > 'Z' || v[4] < 'A' || v[4] > 'Z')
        return set_detail(detail, "organizationIdentifier needs the two-letter country code "
                                  "after the scheme, e.g. VATLV-40003000000");
    if (memcmp(v + 3, c->value, 2) != 0)
        return set_detail(detail, "the country code in organizationIdentifier must equal C");
    if (v[5] != '-')
        return set_detail(detail, "organizationIdentifier needs a '-' after the country code, "
                                  "e.g. VATLV-40003000000");
    for (size_t i = 6; i < id->len; i++)
        if (v[i] == ' ')
            return set_detail(detail, "the organisation's identifier contains a space");
    return SK_OK;
}

/* The legal-person rules on an unordered name; fills cn with the given CN
 * or, when absent, the organisation's name. */
static int legal_rules(const sk_name *n, char *cn, size_t *cn_len, const char **detail)
{
    for (int t = 0; t < AT_COUNT; t++) {
        size_t c = count_type(n, t);
        bool allowed = t == AT_C || t == AT_O || t == AT_ORGID || t == AT_CN;
        if (c > 0 && !allowed)
            return set_detail(detail, "a legal person's subject has only C, O, "
                                      "organizationIdentifier and CN");
        if (c > 1)
            return set_detail(detail, "an attribute appears twice in the subject");
    }
    const sk_name_attr *c = find(n, AT_C), *o = find(n, AT_O), *id = find(n, AT_ORGID),
                       *given_cn = find(n, AT_CN);
    if (c == NULL || o == NULL || id == NULL)
        return set_detail(detail, "a legal person's subject needs C, O (the organisation's "
                                  "name) and organizationIdentifier");
    int rc = legal_orgid_check(id, c, detail);
    if (rc != SK_OK)
        return rc;
    const sk_name_attr *src = given_cn != NULL ? given_cn : o;
    if (given_cn != NULL) {
        if (given_cn->len == id->len && memcmp(given_cn->value, id->value, id->len) == 0)
            return set_detail(detail, "CN is the name the organisation uses, not its "
                                      "organizationIdentifier");
        bool letter = false;
        for (size_t i = 0; i < given_cn->len; i++) {
            uint8_t ch = (uint8_t)given_cn->value[i];
            letter |= (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch >= 0x80;
        }
        if (!letter)
            return set_detail(detail, "CN must be the organisation's name (it has no letter)");
    }
    memcpy(cn, src->value, src->len);
    *cn_len = src->len;
    cn[*cn_len] = '\0';
    return SK_OK;
}

static const int LEGAL_ORDER[] = {AT_C, AT_O, AT_ORGID, AT_CN};
#define LEGAL_COUNT (sizeof LEGAL_ORDER / sizeof LEGAL_ORDER[0])

int sk_name_parse_legal(sk_name **out, const char **detail, const char *text)
{
    return parse_profile(out, detail, text, legal_rules, LEGAL_ORDER, LEGAL_COUNT);
}

int sk_name_check_legal(const sk_name *name, const char **detail)
{
    if (detail != NULL)
        *detail = NULL;
    if (name == NULL)
        return SK_ERR_ARG;
    char cn[SK_NAME_MAX_VALUE + 1];
    size_t cn_len;
    int rc = legal_rules(name, cn, &cn_len, detail);
    if (rc != SK_OK)
        return rc;
    if (name->count != LEGAL_COUNT)
        return set_detail(detail, "a legal person's subject has C, O, organizationIdentifier "
                                  "and CN");
    for (size_t i = 0; i < LEGAL_COUNT; i++)
        if (name->attr[i].type != LEGAL_ORDER[i])
            return set_detail(detail, "a legal person's subject is ordered C, O, "
                                      "organizationIdentifier, CN");
    return SK_OK;
}

int sk_name_format(const sk_name *name, char *out, size_t cap, size_t *written)
{
    if (written == NULL)
        return SK_ERR_ARG;
    *written = 0;
    if (name == NULL)
        return SK_ERR_ARG;
    size_t need = 0;
    for (size_t i = 0; i < name->count; i++) {
        const sk_name_attr *a = &name->attr[i];
        need += (i > 0) + strlen(TYPES[a->type].name) + 1;
        for (size_t k = 0; k < a->len; k++)
            need += 1 + (a->value[k] == ',' || a->value[k] == '\\');
    }
    *written = need;
    if (out == NULL || cap < need + 1)
        return SK_ERR_BUFFER_TOO_SMALL;
    size_t o = 0;
    for (size_t i = 0; i < name->count; i++) {
        const sk_name_attr *a = &name->attr[i];
        if (i > 0)
            out[o++] = ',';
        size_t kl = strlen(TYPES[a->type].name);
        memcpy(out + o, TYPES[a->type].name, kl);
        o += kl;
        out[o++] = '=';
        for (size_t k = 0; k < a->len; k++) {
            if (a->value[k] == ',' || a->value[k] == '\\')
                out[o++] = '\\';
            out[o++] = a->value[k];
        }
    }
    out[o] = '\0';
    return SK_OK;
}

int sk_name_get(const sk_name *name, char *out, size_t cap, const char *type)
{
    if (name == NULL || out == NULL || type == NULL || cap == 0)
        return SK_ERR_ARG;
    out[0] = '\0';
    for (size_t i = 0; i < name->count; i++) {
        const sk_name_attr *a = &name->attr[i];
        if (strcmp(TYPES[a->type].name, type) == 0) {
            if (cap < a->len + 1)
                return SK_ERR_BUFFER_TOO_SMALL;
            memcpy(out, a->value, a->len + 1);
            return SK_OK;
        }
    }
    return SK_ERR_NOT_FOUND;
}

void sk_name_free(sk_name *name)
{
    if (name == NULL)
        return;
    sk_wipe(name, sizeof *name);
    free(name);
}

bool pki_name_equal(const sk_name *a, const sk_name *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (a->attr[i].type != b->attr[i].type || a->attr[i].len != b->attr[i].len ||
            memcmp(a->attr[i].value, b->attr[i].value, a->attr[i].len) != 0)
            return false;
    return true;
}

/* ------------------------------------------------------------------ DER */

/* Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value string }, one
 * attribute per RDN. */
void pki_name_write(der *d, const sk_name *name)
{
    size_t seq = pki_der_open(d, 0x30);
    for (size_t i = 0; i < name->count; i++) {
        const sk_name_attr *a = &name->attr[i];
        size_t set = pki_der_open(d, 0x31);
        size_t atv = pki_der_open(d, 0x30);
        pki_der_oid(d, TYPES[a->type].oid);
        pki_der_tlv(d, TYPES[a->type].printable ? MBEDTLS_ASN1_PRINTABLE_STRING
                                            : MBEDTLS_ASN1_UTF8_STRING,
                (const uint8_t *)a->value, a->len);
        pki_der_close(d, atv);
        pki_der_close(d, set);
    }
    pki_der_close(d, seq);
}

int pki_name_from_der(sk_name **out, const uint8_t *data, size_t len)
{
    *out = NULL;
    sk_name *n = calloc(1, sizeof *n);
    if (n == NULL)
        return SK_ERR_NOMEM;
    int rc = SK_ERR_PKI;
    uint8_t *p = (uint8_t *)data;
    const uint8_t *end = data + len;
    size_t l;
    if (pki_asn1_expect(&p, end, &l, 0x30) != SK_OK || p + l != end)
        goto out;
    while (p < end) {
        uint8_t oid_der[16];
        if (pki_asn1_expect(&p, end, &l, 0x31) != SK_OK)
            goto out;
        const uint8_t *set_end = p + l;
        if (pki_asn1_expect(&p, set_end, &l, 0x30) != SK_OK || p + l != set_end)
            goto out; /* exactly one attribute per RDN */
        if (pki_asn1_expect(&p, set_end, &l, MBEDTLS_ASN1_OID) != SK_OK)
            goto out;
        const uint8_t *oid = p;
        size_t oid_len = l;
        p += l;
        int type = -1;
        for (int t = 0; t < AT_COUNT; t++) {
            size_t el = pki_oid_encode(oid_der, sizeof oid_der, TYPES[t].oid);
            if (el == oid_len && memcmp(oid_der, oid, el) == 0)
                type = t;
        }
        if (type < 0 || p + 2 > set_end)
            goto out;
        int tag = *p;
        if (tag != MBEDTLS_ASN1_UTF8_STRING && tag != MBEDTLS_ASN1_PRINTABLE_STRING)
            goto out;
        if (pki_asn1_expect(&p, set_end, &l, tag) != SK_OK || p + l != set_end)
            goto out;
        if (name_add(n, type, p, l, NULL) != SK_OK)
            goto out;
        p += l;
    }
    rc = n->count > 0 ? SK_OK : SK_ERR_PKI;
out:
    if (rc != SK_OK) {
        sk_name_free(n);
        return rc;
    }
    *out = n;
    return SK_OK;
}
