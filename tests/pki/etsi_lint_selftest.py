#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""etsi_lint_selftest.py - shows that etsi_lint.py can fail: it builds good and
deliberately broken certificates, CRLs, OCSP responses and time-stamp
responses with python3-cryptography and pyasn1, runs the linter on each and checks that the good ones
have no error and every broken one gets the rule it breaks.

  etsi_lint_selftest.py [LINTER]     (default: etsi_lint.py next to this file)
"""

import datetime
import hashlib
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import char, namedtype, univ, useful
from pyasn1_modules import rfc2560, rfc3161, rfc5035, rfc5280, rfc5652

HERE = os.path.dirname(os.path.abspath(__file__))
LINTER = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "etsi_lint.py")
NOW = datetime.datetime.utcnow().replace(microsecond=0)
DAY = datetime.timedelta(days=1)

ORG_ID = x509.ObjectIdentifier("2.5.4.97")
QC_OID = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
NOCHECK = x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.5")
QCP_N_QSCD = "0.4.0.194112.1.2"
QCP_L_QSCD = "0.4.0.194112.1.3"
NCP_PLUS = "0.4.0.2042.1.2"
ESIGN, ESEAL = "0.4.0.1862.1.6.1", "0.4.0.1862.1.6.2"
NATURAL, LEGAL = "0.4.0.194121.1.1", "0.4.0.194121.1.2"


# --- qcStatements, encoded here with pyasn1 ------------------------------------
class _Stmt(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("id", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("info", univ.Any()))


class _Stmts(univ.SequenceOf):
    componentType = _Stmt()


class _Sem(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("id", univ.ObjectIdentifier()))


class _Oids(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class _Pds(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("url", char.IA5String()),
        namedtype.NamedType("lang", char.PrintableString()))


class _PdsList(univ.SequenceOf):
    componentType = _Pds()


def qc_statements(compliance=True, sscd=True, qctype=ESIGN, semantics=NATURAL,
                  pds=("https://example.org/pds_en.pdf", "en")):
    stmts = _Stmts()

    def add(oid, info=None):
        s = _Stmt()
        s["id"] = univ.ObjectIdentifier(oid)
        if info is not None:
            s["info"] = univ.Any(encoder.encode(info))
        stmts.append(s)

    if semantics:
        sem = _Sem()
        sem["id"] = univ.ObjectIdentifier(semantics)
        add("1.3.6.1.5.5.7.11.2", sem)
    if compliance:
        add("0.4.0.1862.1.1")
    if sscd:
        add("0.4.0.1862.1.4")
    if qctype:
        t = _Oids()
        t.append(univ.ObjectIdentifier(qctype))
        add("0.4.0.1862.1.6", t)
    if pds:
        lst = _PdsList()
        p = _Pds()
        p["url"] = pds[0]
        p["lang"] = pds[1]
        lst.append(p)
        add("0.4.0.1862.1.5", lst)
    return x509.UnrecognizedExtension(QC_OID, encoder.encode(stmts))


# --- builders -----------------------------------------------------------------
def key():
    return ec.generate_private_key(ec.SECP256R1())


def name(**kw):
    oids = {"C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME, "CN": NameOID.COMMON_NAME,
            "GN": NameOID.GIVEN_NAME, "SN": NameOID.SURNAME, "serialNumber": NameOID.SERIAL_NUMBER,
            "orgId": ORG_ID}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in kw.items()])


def ski(k):
    return x509.SubjectKeyIdentifier.from_public_key(k.public_key())


def make_ca(subject=None, bc_critical=True):
    k = key()
    subject = subject or name(C="LV", O="Example Trust Services", orgId="NTRLV-40000000000",
                              CN="Example Qualified CA")
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + 3650 * DAY)
         .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=bc_critical)
         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
         .add_extension(ski(k), False))
    return b.sign(k, hashes.SHA256()), k


def ku(ds=False, nr=False, ke=False):
    return x509.KeyUsage(ds, nr, ke, False, False, False, False, False, False)


def aia():
    return x509.AuthorityInformationAccess([
        x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                               x509.UniformResourceIdentifier("http://ocsp.example.org/")),
        x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                               x509.UniformResourceIdentifier("http://example.org/ca.der"))])


def policies(*oids):
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None)
                                     for o in oids])


PERSON = dict(C="LV", CN="BERZINS,ANDRIS", SN="BERZINS", GN="ANDRIS", serialNumber="PNOLV-010101-12345")
SEAL = dict(C="LV", O="Example Company", orgId="VATLV-40000000001", CN="Example Company seal")


def leaf(ca, cakey, subject, exts, days=1095, k=None):
    """exts: [(extension, critical)]"""
    k = k or key()
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject)
         .public_key(k.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - DAY).not_valid_after(NOW + days * DAY)
         .add_extension(ski(k), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(cakey.public_key()), False))
    for e, c in exts:
        if e is not None:
            b = b.add_extension(e, c)
    return b.sign(cakey, hashes.SHA256()), k


def sign_exts(**over):
    d = {"bc": (x509.BasicConstraints(ca=False, path_length=None), True),
         "ku": (ku(nr=True), True),
         "cp": (policies(QCP_N_QSCD, "1.3.6.1.4.1.99999.1.1"), False),
         "qc": (qc_statements(), False),
         "aia": (aia(), False)}
    d.update(over)
    return [v for v in d.values() if v is not None]


def seal_exts(**over):
    d = {"bc": (x509.BasicConstraints(ca=False, path_length=None), True),
         "ku": (ku(ds=True, nr=True), True),
         "cp": (policies(QCP_L_QSCD), False),
         "qc": (qc_statements(qctype=ESEAL, semantics=LEGAL), False),
         "aia": (aia(), False)}
    d.update(over)
    return [v for v in d.values() if v is not None]


def auth_exts(**over):
    d = {"bc": (x509.BasicConstraints(ca=False, path_length=None), True),
         "ku": (ku(ds=True), True),
         "eku": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
         "cp": (policies(NCP_PLUS), False),
         "aia": (aia(), False)}
    d.update(over)
    return [v for v in d.values() if v is not None]


def ocsp_exts(**over):
    d = {"ku": (ku(ds=True), True),
         "eku": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), False),
         "nocheck": (x509.OCSPNoCheck(), False)}
    d.update(over)
    return [v for v in d.values() if v is not None]


def tsa_exts(**over):
    d = {"ku": (ku(ds=True), True),
         "eku": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True),
         "cp": (policies("0.4.0.2023.1.1"), False)}
    d.update(over)
    return [v for v in d.values() if v is not None]


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def ocsp_response(ca, cakey, subject_cert, signer, signer_key, this_update=None, next_update=None,
                  nonce=None, certs=True):
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=subject_cert, issuer=ca, algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=this_update or NOW - datetime.timedelta(minutes=1),
        next_update=next_update or NOW + DAY, revocation_time=None, revocation_reason=None)
    b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, signer)
    if certs:
        b = b.certificates([signer])
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), False)
    return b.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_request(ca, subject_cert, nonce):
    return (ocsp.OCSPRequestBuilder().add_certificate(subject_cert, ca, hashes.SHA1())
            .add_extension(x509.OCSPNonce(nonce), False).build()
            .public_bytes(serialization.Encoding.DER))


def crl(ca, sign_key, number=True, revoked=()):
    b = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
         .last_update(NOW - datetime.timedelta(minutes=1)).next_update(NOW + 7 * DAY)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca.public_key()), False))
    if number:
        b = b.add_extension(x509.CRLNumber(1), False)
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - DAY)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), False).build())
    return b.sign(sign_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


# --- time-stamp responses (RFC 3161 / RFC 5816), built here with pyasn1 --------
SHA256_OID = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
QTST = "0.4.0.19422.1.1"
TS_DATA = b"the data to time-stamp"


def _alg(oid):
    a = rfc5280.AlgorithmIdentifier()
    a["algorithm"] = univ.ObjectIdentifier(oid)
    return a


def _imprint(spec):
    spec["hashAlgorithm"] = _alg(SHA256_OID)
    spec["hashedMessage"] = hashlib.sha256(TS_DATA).digest()


def ts_query(nonce=0x1234567890ABCDEF, cert_req=True):
    q = rfc3161.TimeStampReq()
    q["version"] = 1
    _imprint(q["messageImprint"])
    if nonce is not None:
        q["nonce"] = nonce
    q["certReq"] = cert_req
    return encoder.encode(q)


def _attr(oid, value_der):
    a = rfc5652.Attribute()
    a["attrType"] = univ.ObjectIdentifier(oid)
    a["attrValues"].append(univ.Any(value_der))
    return a


def ts_reply(tsa, tsa_key, version=1, gen_time=None, accuracy=True, nonce=0x1234567890ABCDEF,
             qualified=True, qc_critical=False, ess_cert=None, ess=True, certs=True,
             status=0, tamper=False, edit_tst_info=None):
    """A TimeStampResp signed by tsa_key (ECDSA P-256, SHA-256); the knobs
    break one thing at a time."""
    t = rfc3161.TSTInfo()
    t["version"] = version
    t["policy"] = univ.ObjectIdentifier("0.4.0.2023.1.1")
    _imprint(t["messageImprint"])
    t["serialNumber"] = x509.random_serial_number()
    t["genTime"] = useful.GeneralizedTime(gen_time or NOW.strftime("%Y%m%d%H%M%SZ"))
    if accuracy:
        t["accuracy"]["seconds"] = 1
    if nonce is not None:
        t["nonce"] = nonce
    if qualified:
        stmts = _Stmts()
        s = _Stmt()
        s["id"] = univ.ObjectIdentifier(QTST)
        stmts.append(s)
        e = rfc5280.Extension()
        e["extnID"] = univ.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
        e["critical"] = qc_critical
        e["extnValue"] = encoder.encode(stmts)
        t["extensions"].append(e)
    econtent = encoder.encode(t)
    if edit_tst_info is not None:   # what the DER encoder would not write
        econtent = edit_tst_info(econtent)
    tsa_der = tsa.public_bytes(serialization.Encoding.DER)
    sd = rfc5652.SignedData()
    sd["version"] = 3
    sd["digestAlgorithms"].append(_alg(SHA256_OID))
    sd["encapContentInfo"]["eContentType"] = rfc3161.id_ct_TSTInfo
    sd["encapContentInfo"]["eContent"] = econtent
    if certs:
        cc = rfc5652.CertificateChoices()
        cc["certificate"] = decoder.decode(tsa_der, asn1Spec=rfc5280.Certificate())[0]
        sd["certificates"].append(cc)
    si = rfc5652.SignerInfo()
    si["version"] = 1
    ias = si["sid"]["issuerAndSerialNumber"]
    ias["issuer"] = decoder.decode(tsa.issuer.public_bytes(), asn1Spec=rfc5280.Name())[0]
    ias["serialNumber"] = tsa.serial_number
    si["digestAlgorithm"] = _alg(SHA256_OID)
    si["signedAttrs"].append(_attr("1.2.840.113549.1.9.3", encoder.encode(rfc3161.id_ct_TSTInfo)))
    si["signedAttrs"].append(_attr("1.2.840.113549.1.9.4", encoder.encode(
        univ.OctetString(hashlib.sha256(econtent).digest()))))
    if ess:
        sc = rfc5035.SigningCertificateV2()
        cid = rfc5035.ESSCertIDv2()
        cid["certHash"] = hashlib.sha256(ess_cert or tsa_der).digest()
        sc["certs"].append(cid)
        si["signedAttrs"].append(_attr("1.2.840.113549.1.9.16.2.47", encoder.encode(sc)))
    to_sign = b"\x31" + encoder.encode(si["signedAttrs"])[1:]
    sig = tsa_key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
    if tamper:
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    si["signatureAlgorithm"] = _alg(ECDSA_SHA256)
    si["signature"] = sig
    sd["signerInfos"].append(si)
    resp = rfc3161.TimeStampResp()
    resp["status"]["status"] = status
    if status == 0:
        tok = resp["timeStampToken"]
        tok["contentType"] = univ.ObjectIdentifier("1.2.840.113549.1.7.2")
        tok["content"] = encoder.encode(sd)
    return encoder.encode(resp)


# --- OCSP single extensions (archiveCutoff, certHash), added with pyasn1 -------
def ocsp_with_single_exts(der, exts, signer_key):
    """der with [(oid, value DER)] as singleExtensions of its first
    SingleResponse, signed again by signer_key (ECDSA, SHA-256)."""
    outer, _ = decoder.decode(der, asn1Spec=rfc2560.OCSPResponse())
    basic, _ = decoder.decode(bytes(outer["responseBytes"]["response"]),
                              asn1Spec=rfc2560.BasicOCSPResponse())
    sr = basic["tbsResponseData"]["responses"][0]
    for oid, value in exts:
        e = rfc5280.Extension()
        e["extnID"] = univ.ObjectIdentifier(oid)
        e["extnValue"] = value
        sr["singleExtensions"].append(e)
    tbs = encoder.encode(basic["tbsResponseData"])
    basic["signature"] = univ.BitString.fromOctetString(
        signer_key.sign(tbs, ec.ECDSA(hashes.SHA256())))
    outer["responseBytes"]["response"] = encoder.encode(basic)
    return encoder.encode(outer)


class _CertHash(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("alg", rfc5280.AlgorithmIdentifier()),
        namedtype.NamedType("hash", univ.OctetString()))


def cert_hash_ext(cert_der):
    ch = _CertHash()
    ch["alg"] = _alg(SHA256_OID)
    ch["hash"] = hashlib.sha256(cert_der).digest()
    return ("1.3.36.8.3.13", encoder.encode(ch))


def archive_cutoff_ext(when):
    return ("1.3.6.1.5.5.7.48.1.6", encoder.encode(useful.GeneralizedTime(when.strftime("%Y%m%d%H%M%SZ"))))


# --- the cases ----------------------------------------------------------------
def cases(d):
    """[(name, file bytes, ca cert or None, request bytes or None, expected [(level, rule)]
    [, extra linter arguments [(flag, file bytes or None)]])]
    expected None: the file must have no error."""
    out = []
    ca, cakey = make_ca()
    good_sign, _ = leaf(ca, cakey, name(**PERSON), sign_exts())
    good_auth, _ = leaf(ca, cakey, name(**PERSON), auth_exts())
    good_seal, _ = leaf(ca, cakey, name(**SEAL), seal_exts())
    good_ocsp, ocsp_key = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example OCSP"),
                               ocsp_exts(), days=30)
    good_tsa, _ = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example TSA"),
                       tsa_exts(), days=1000)
    out += [("good_ca", pem(ca), ca, None, None),
            ("good_sign", pem(good_sign), ca, None, None),
            ("good_auth", pem(good_auth), ca, None, None),
            ("good_seal", pem(good_seal), ca, None, None),
            ("good_ocsp_signer", pem(good_ocsp), ca, None, None),
            ("good_tsa", pem(good_tsa), ca, None, None),
            ("good_sign_der", good_sign.public_bytes(serialization.Encoding.DER), ca, None, None)]

    # issuer of a qualified certificate without C and O
    weak_ca, weak_key = make_ca(subject=name(CN="Nameless CA"))
    c, _ = leaf(weak_ca, weak_key, name(**PERSON), sign_exts())
    out.append(("issuer_without_c_o", pem(c), weak_ca, None,
                [("error", "EN319412-2:4.2.3.1-1")]))
    c, _ = make_ca(bc_critical=False)
    out.append(("ca_bc_not_critical", pem(c), None, None, [("error", "RFC5280:4.2.1.9-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(ku=(ku(nr=True), False)))
    out.append(("ku_not_critical", pem(c), ca, None, [("error", "RFC5280:4.2.1.3-2")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(ku=(ku(nr=True, ke=True), True)))
    out.append(("sign_ku_extra_bits", pem(c), ca, None, [("error", "EN319412-2:4.3.2-2")]))
    c, _ = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example TSA"),
                tsa_exts(eku=(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), False)))
    out.append(("tsa_eku_not_critical", pem(c), ca, None, [("error", "RFC3161:2.3-2")]))
    c, _ = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example TSA"),
                tsa_exts(eku=(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING,
                                                     ExtendedKeyUsageOID.CLIENT_AUTH]), True)))
    out.append(("tsa_eku_extra", pem(c), ca, None, [("error", "RFC3161:2.3-1")]))
    c, _ = leaf(ca, cakey, name(**SEAL), seal_exts(qc=(qc_statements(qctype=ESIGN, semantics=LEGAL), False)))
    out.append(("esign_with_legal_semantics", pem(c), ca, None, [("error", "EN319412-5:4.2.3-4")]))
    c, _ = leaf(ca, cakey, name(**PERSON),
                sign_exts(qc=(qc_statements(qctype=ESEAL), False)))
    out.append(("eseal_with_natural_semantics", pem(c), ca, None, [("error", "EN319412-5:4.2.3-5")]))
    c, _ = leaf(ca, cakey, name(**PERSON),
                sign_exts(qc=(qc_statements(pds=("http://example.org/pds_en.pdf", "en")), False)))
    out.append(("pds_http", pem(c), ca, None, [("error", "EN319412-5:4.3.4-3")]))
    c, _ = leaf(ca, cakey, name(**PERSON),
                sign_exts(qc=(qc_statements(pds=("https://example.org/pds.pdf", "EN")), False)))
    out.append(("pds_language_upper_case", pem(c), ca, None, [("warning", "EN319412-5:4.3.4-4")]))
    c, _ = leaf(ca, cakey, name(**PERSON),
                sign_exts(qc=(qc_statements(pds=("https://example.org/pds.pdf", "e1")), False)))
    out.append(("pds_language_bad", pem(c), ca, None, [("error", "EN319412-5:4.3.4-4")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(qc=(qc_statements(sscd=False), False)))
    out.append(("qscd_policy_without_qcsscd", pem(c), ca, None, [("error", "EN319412-5:4.2.2-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(qc=(qc_statements(compliance=False), False)))
    out.append(("qcp_without_qccompliance", pem(c), ca, None, [("error", "EN319412-5:4.2.1-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(qc=(qc_statements(pds=None), False)))
    out.append(("qualified_without_pds", pem(c), ca, None, [("error", "EN319412-5:4.3.4-1")]))
    p = dict(PERSON)
    p["serialNumber"] = "010101-12345"
    c, _ = leaf(ca, cakey, name(**p), sign_exts())
    out.append(("person_serial_without_pno", pem(c), ca, None, [("error", "EN319412-1:5.1.3-1")]))
    p = dict(PERSON)
    del p["C"]
    c, _ = leaf(ca, cakey, name(**p), sign_exts())
    out.append(("person_without_c", pem(c), ca, None, [("error", "EN319412-2:4.2.4-1")]))
    s = dict(SEAL)
    s["orgId"] = "VATEE-40000000001"
    c, _ = leaf(ca, cakey, name(**s), seal_exts())
    out.append(("org_id_country_mismatch", pem(c), ca, None, [("error", "EN319412-1:5.1.4-2")]))
    s = dict(SEAL)
    del s["orgId"]
    c, _ = leaf(ca, cakey, name(**s), seal_exts())
    out.append(("seal_without_org_id", pem(c), ca, None, [("error", "EN319412-3:4.2.1-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(aia=None))
    out.append(("sign_without_aia", pem(c), ca, None, [("error", "EN319412-2:4.4.1-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), sign_exts(cp=None, qc=None))
    out.append(("sign_without_policies", pem(c), ca, None, [("error", "EN319412-2:4.3.3-1")]))
    c, _ = leaf(ca, cakey, name(**PERSON), auth_exts(ku=(ku(nr=True), True)))
    out.append(("auth_without_digital_signature", pem(c), ca, None, [("error", "EN319412-2:4.3.2-3")]))
    c, _ = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example OCSP"),
                ocsp_exts(nocheck=None), days=30)
    out.append(("ocsp_signer_without_nocheck", pem(c), ca, None, [("error", "RFC6960:4.2.2.2.1-1")]))
    c, _ = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example OCSP"),
                ocsp_exts(), days=365)
    out.append(("ocsp_signer_long_lived", pem(c), ca, None, [("warning", "RFC6960:4.2.2.2.1-2")]))
    other_ca, other_key = make_ca()
    out.append(("signed_by_another_ca", pem(good_sign), other_ca, None,
                [("error", "RFC5280:4.1.1.3-1")]))

    # OCSP responses
    out.append(("good_ocsp_response", ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key),
                ca, None, None))
    out.append(("ocsp_expired_window",
                ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key,
                              this_update=NOW - 3 * DAY, next_update=NOW - DAY),
                ca, None, [("error", "RFC6960:4.2.2.1-5")]))
    out.append(("ocsp_this_update_after_produced",
                ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key,
                              this_update=NOW + 2 * DAY, next_update=NOW + 3 * DAY),
                ca, None, [("error", "RFC6960:4.2.2.1-1")]))
    tampered = ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key, nonce=b"A" * 16)
    out.append(("ocsp_bad_signature", tampered.replace(b"A" * 16, b"B" * 16),
                ca, None, [("error", "RFC6960:4.2.1-9")]))
    rogue, rogue_key = leaf(other_ca, other_key, name(C="LV", O="X", CN="Rogue OCSP"),
                            ocsp_exts(), days=30)
    out.append(("ocsp_signer_from_another_ca",
                ocsp_response(ca, cakey, good_sign, rogue, rogue_key),
                ca, None, [("error", "RFC6960:4.2.2.2-3")]))
    req = ocsp_request(ca, good_sign, b"0123456789abcdef")
    out.append(("ocsp_nonce_echoed",
                ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key, nonce=b"0123456789abcdef"),
                ca, req, None))
    out.append(("ocsp_nonce_missing", ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key),
                ca, req, [("error", "RFC6960:4.4.1-2")]))
    out.append(("ocsp_unsuccessful", bytes.fromhex("30030a0101"), ca, None,
                [("error", "RFC6960:4.2.1-2")]))

    # CRLs
    out.append(("good_crl", crl(ca, cakey, revoked=[12345]), ca, None, None))
    out.append(("crl_without_number", crl(ca, cakey, number=False), ca, None,
                [("error", "RFC5280:5.2.3-1")]))
    out.append(("crl_bad_signature", crl(ca, other_key), ca, None, [("error", "RFC5280:5.1.1.3-1")]))

    # OCSP single extensions: archiveCutoff, certHash (Common PKI)
    sign_der = good_sign.public_bytes(serialization.Encoding.DER)
    base = ocsp_response(ca, cakey, good_sign, good_ocsp, ocsp_key)
    out.append(("ocsp_archive_cutoff_and_cert_hash",
                ocsp_with_single_exts(base, [archive_cutoff_ext(NOW - 365 * DAY),
                                             cert_hash_ext(sign_der)], ocsp_key),
                ca, None, None, [("--cert", pem(good_sign))]))
    out.append(("ocsp_archive_cutoff_after_produced",
                ocsp_with_single_exts(base, [archive_cutoff_ext(NOW + 2 * DAY)], ocsp_key),
                ca, None, [("error", "RFC6960:4.4.4-2")]))
    out.append(("ocsp_cert_hash_of_another_certificate",
                ocsp_with_single_exts(base, [cert_hash_ext(sign_der + b"x")], ocsp_key),
                ca, None, [("error", "CommonPKI-4:certHash-4")], [("--cert", pem(good_sign))]))

    # time-stamp responses: the TSA key signs, the query gives nonce and imprint
    tsa, tsa_key = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Example TSU"),
                        tsa_exts(), days=1000)
    q = [("--query", ts_query()), ("--qualified", None)]
    out.append(("good_tsr", ts_reply(tsa, tsa_key), ca, None, None, q))
    out.append(("good_tsr_without_certs", ts_reply(tsa, tsa_key, certs=False), ca, None, None,
                [("--query", ts_query(cert_req=False)), ("--cert", pem(tsa))]))
    out.append(("tsr_bad_signature", ts_reply(tsa, tsa_key, tamper=True), ca, None,
                [("error", "RFC5652:5.6-1")], q))
    good_tsr = ts_reply(tsa, tsa_key)
    i = good_tsr.index(hashlib.sha256(TS_DATA).digest())
    mutated = good_tsr[:i] + bytes([good_tsr[i] ^ 1]) + good_tsr[i + 1:]
    out.append(("tsr_imprint_byte_changed", mutated, ca, None,
                [("error", "RFC3161:2.4.2-13"), ("error", "RFC5652:11.2-1")], q))
    out.append(("tsr_rejected", ts_reply(tsa, tsa_key, status=2), ca, None,
                [("error", "RFC3161:2.4.2-2")], q))
    out.append(("tsr_version_2", ts_reply(tsa, tsa_key, version=2), ca, None,
                [("error", "RFC3161:2.4.2-7")], q))
    out.append(("tsr_gen_time_trailing_zero",
                ts_reply(tsa, tsa_key, gen_time=NOW.strftime("%Y%m%d%H%M%S") + ".5Z",
                         edit_tst_info=lambda b: b.replace(b".5Z", b".0Z")), ca, None,
                [("error", "RFC3161:2.4.2-10")], q))
    out.append(("tsr_without_accuracy", ts_reply(tsa, tsa_key, accuracy=False), ca, None,
                [("error", "EN319421:7.7.1-1")], q))
    out.append(("tsr_nonce_not_echoed", ts_reply(tsa, tsa_key, nonce=42), ca, None,
                [("error", "RFC3161:2.4.2-12")], q))
    out.append(("tsr_not_qualified", ts_reply(tsa, tsa_key, qualified=False), ca, None,
                [("error", "EN319422:9.1-1")], q))
    out.append(("tsr_qc_statements_critical", ts_reply(tsa, tsa_key, qc_critical=True), ca, None,
                [("error", "EN319422:9.1-2")], q))
    out.append(("tsr_without_signing_certificate_v2", ts_reply(tsa, tsa_key, ess=False), ca, None,
                [("error", "RFC5816:2.2.1-1")], q))
    out.append(("tsr_ess_cert_id_of_another_certificate",
                ts_reply(tsa, tsa_key, ess_cert=pem(good_sign)), ca, None,
                [("error", "RFC5816:2.2.1-3")], q))
    out.append(("tsr_certificates_without_cert_req", ts_reply(tsa, tsa_key), ca, None,
                [("error", "RFC3161:2.4.1-1")], [("--query", ts_query(cert_req=False))]))
    loose, loose_key = leaf(ca, cakey, name(C="LV", O="Example Trust Services", CN="Loose TSU"),
                            tsa_exts(eku=(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                          False)), days=1000)
    out.append(("tsr_signer_eku_not_critical", ts_reply(loose, loose_key), ca, None,
                [("error", "RFC3161:2.3-2")], q))
    return out


def main():
    fails = 0
    checks = 0
    with tempfile.TemporaryDirectory() as d:
        for case in cases(d):
            label, data, ca, req, expected = case[:5]
            extra = case[5] if len(case) > 5 else []
            path = os.path.join(d, label + (".pem" if data.startswith(b"-----") else ".der"))
            with open(path, "wb") as f:
                f.write(data)
            args = [sys.executable, LINTER, "--quiet"]
            if ca is not None:
                ca_path = os.path.join(d, label + "_ca.pem")
                with open(ca_path, "wb") as f:
                    f.write(pem(ca))
                args += ["--ca", ca_path]
            if req is not None:
                req_path = os.path.join(d, label + "_req.der")
                with open(req_path, "wb") as f:
                    f.write(req)
                args += ["--request", req_path]
            for n, (flag, value) in enumerate(extra):
                args.append(flag)
                if value is not None:
                    p = os.path.join(d, f"{label}_{n}.bin")
                    with open(p, "wb") as f:
                        f.write(value)
                    args.append(p)
            r = subprocess.run(args + [path], capture_output=True, text=True)
            lines = r.stdout.splitlines()
            errors = [ln for ln in lines if ln.startswith("error ")]
            checks += 1
            if expected is None:
                ok = not errors and r.returncode == 0
                why = "; ".join(errors) + r.stderr
            else:
                missing = [f"{lvl} {rule}" for lvl, rule in expected
                           if not any(ln.startswith(lvl + " ") and f": {rule}: " in ln for ln in lines)]
                want_rc = 1 if any(lvl == "error" for lvl, _ in expected) else 0
                ok = not missing and r.returncode == want_rc
                why = f"missing {missing}, exit {r.returncode}; output: {lines} {r.stderr}"
            if ok:
                print(f"ok: {label}")
            else:
                fails += 1
                print(f"FAILED: {label}: {why}")
    print(f"etsi_lint_selftest: {checks} checks, {fails} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
