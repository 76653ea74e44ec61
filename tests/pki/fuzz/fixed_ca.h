/* SPDX-License-Identifier: Apache-2.0 */
/* fixed_ca.h - a fixed P-384 CA and OCSP signer made by libsplitkey, so that
 * the OCSP seed requests (made with openssl against FUZZ_CA_CERT) name this
 * CA and the fuzzer reaches the signed-response path.  Test data only. */

static const char FUZZ_CA_CERT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4TCCAWigAwIBAgIRAKAkMtg0i/xhtjWZGc6ooxMwCgYIKoZIzj0EAwMwHzEQ\n"
    "MA4GA1UEAwwHRnV6eiBDQTELMAkGA1UEBhMCTFYwIBcNMjMxMTE0MjIxMzIwWhgP\n"
    "MjEyMzEwMjEyMjEzMjBaMB8xEDAOBgNVBAMMB0Z1enogQ0ExCzAJBgNVBAYTAkxW\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEfjVFeCnQHfM5Czk1L8AHh2+Uo0v9ckv5\n"
    "xOPnH+X6EXJTXo5sOthM3ylvzdhdvLucEAUPPqf3Ygb1NnbXwJXWE37tr9bEpXrQ\n"
    "LEDNj7k5PGL9ye2dJ0il4A46HSQe1+jvo2YwZDASBgNVHRMBAf8ECDAGAQH/AgEA\n"
    "MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUBkFHnAiEk5NfHVjtuJ770u1tTygw\n"
    "HwYDVR0jBBgwFoAUBkFHnAiEk5NfHVjtuJ770u1tTygwCgYIKoZIzj0EAwMDZwAw\n"
    "ZAIxAI/DaBCpOagwwPnTiuZn2gHWVl35AksOOgbkUFPgbeADmh5IISN+E8NxrvkF\n"
    "MdohNQIvE2qGt3hkp7qcv1SxPZ1b90pVEKWvvIpYh91qKwnV2WBm1pih7D3OruNw\n"
    "e8tE99E=\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char FUZZ_OCSP_CERT[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICBTCCAYugAwIBAgIQew4foOWwv6djlu4/4HHd5DAKBggqhkjOPQQDAzAfMRAw\n"
    "DgYDVQQDDAdGdXp6IENBMQswCQYDVQQGEwJMVjAgFw0yMzExMTQyMjEzMjBaGA8y\n"
    "MTIzMTAyMTIyMTMyMFowITESMBAGA1UEAwwJRnV6eiBPQ1NQMQswCQYDVQQGEwJM\n"
    "VjB2MBAGByqGSM49AgEGBSuBBAAiA2IABKzkIbHnRs9GvKwSHHNk11wgqH3XF/uh\n"
    "NR3bzrWzNVyhSX45ZuF3qws7IXb7p+Jl8LqVcUL3YKyBBwRY96i7RpFwUyT2UnFp\n"
    "/6WDaaL8acac6BVVmvP0fajSgQxLvRF0sqOBhzCBhDAMBgNVHRMBAf8EAjAAMA4G\n"
    "A1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDCTAPBgkrBgEFBQcwAQUE\n"
    "AgUAMB0GA1UdDgQWBBRqvo30GyaX5oHBEsl0arrgEfSJzjAfBgNVHSMEGDAWgBQG\n"
    "QUecCISTk18dWO24nvvS7W1PKDAKBggqhkjOPQQDAwNoADBlAjEAlvICzt5ZP4rS\n"
    "twlSYA12PwMF1dpDdlEqZbgdmc+1LSuLfzjkONWmx2BKP90hrliZAjAn1NK2VvPr\n"
    "GVXVTGLvepjB2BXL2gURQj9b3equsqPGn08JYAAN2VlogKWyxIC3BUo=\n"
    "-----END CERTIFICATE-----\n"
    ;

static const char FUZZ_OCSP_KEY[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MIGkAgEBBDCjmI4V/jh8jhV90nCYja0Fl0xAH9r5RedMc7cmXDUVCrW3fWfouF46\n"
    "G1VTJAcwbEegBwYFK4EEACKhZANiAASs5CGx50bPRrysEhxzZNdcIKh91xf7oTUd\n"
    "2861szVcoUl+OWbhd6sLOyF2+6fiZfC6lXFC92CsgQcEWPeou0aRcFMk9lJxaf+l\n"
    "g2mi/GnGnOgVVZrz9H2o0oEMS70RdLI=\n"
    "-----END EC PRIVATE KEY-----\n"
    ;

