#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""etsi_lint.py - an independent profile linter for X.509 certificates, CRLs,
OCSP responses and time-stamp responses against RFC 5280, RFC 6960,
RFC 3161 / RFC 5816, RFC 5652 and the ETSI EN 319 411-2 / 412-1 / 412-2 /
412-3 / 412-5 / 422 profiles.

  etsi_lint.py [--ca CA.pem] [--request REQ.der] [--query Q.tsq]
               [--cert CERT]... [--qualified] [--now TIME] FILE...

Each FILE is a certificate (PEM or DER), a CRL (PEM or DER), an OCSP
response (DER) or a time-stamp response (DER, .tsr).  One line is printed
per finding:

  LEVEL FILE: RULE-ID: message        LEVEL is error, warning or notice

The rule id names the document and clause it comes from.  The exit status is
1 if any error was found, 2 on a usage error, 0 otherwise.

It is written from the standards alone: it parses the DER with pyasn1 and
verifies signatures with python3-cryptography; nothing of the code under test
is used.
"""

import argparse
import base64
import datetime
import hashlib
import re
import sys
import urllib.parse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, namedtype, univ, useful
from pyasn1_modules import rfc2560, rfc3161, rfc5035, rfc5280, rfc5652

# --- object identifiers -------------------------------------------------------
OID_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"
OID_PKIX_QC_SYNTAX_V2 = "1.3.6.1.5.5.7.11.2"
OID_QC_COMPLIANCE = "0.4.0.1862.1.1"
OID_QC_LIMIT_VALUE = "0.4.0.1862.1.2"
OID_QC_RETENTION = "0.4.0.1862.1.3"
OID_QC_SSCD = "0.4.0.1862.1.4"
OID_QC_PDS = "0.4.0.1862.1.5"
OID_QC_TYPE = "0.4.0.1862.1.6"
OID_QC_TYPE_ESIGN = "0.4.0.1862.1.6.1"
OID_QC_TYPE_ESEAL = "0.4.0.1862.1.6.2"
OID_QC_TYPE_WEB = "0.4.0.1862.1.6.3"
OID_QC_CC_LEGISLATION = "0.4.0.1862.1.7"
OID_SEMANTICS_NATURAL = "0.4.0.194121.1.1"
OID_SEMANTICS_LEGAL = "0.4.0.194121.1.2"
OID_SEMANTICS_EIDAS_NATURAL = "0.4.0.194121.1.3"
OID_SEMANTICS_EIDAS_LEGAL = "0.4.0.194121.1.4"

QCP_N = "0.4.0.194112.1.0"
QCP_L = "0.4.0.194112.1.1"
QCP_N_QSCD = "0.4.0.194112.1.2"
QCP_L_QSCD = "0.4.0.194112.1.3"
QCP_W = "0.4.0.194112.1.4"
NCP = "0.4.0.2042.1.1"
NCP_PLUS = "0.4.0.2042.1.2"
QCP_ALL = {QCP_N, QCP_L, QCP_N_QSCD, QCP_L_QSCD, QCP_W}
QCP_QSCD = {QCP_N_QSCD, QCP_L_QSCD}
QCP_NATURAL = {QCP_N, QCP_N_QSCD}
QCP_LEGAL = {QCP_L, QCP_L_QSCD}

OID_OCSP_NOCHECK = "1.3.6.1.5.5.7.48.1.5"
OID_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2"
OID_OCSP_ARCHIVE_CUTOFF = "1.3.6.1.5.5.7.48.1.6"
OID_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1"
OID_ORGANIZATION_IDENTIFIER = "2.5.4.97"
OID_CERT_HASH = "1.3.36.8.3.13"          # Common PKI (ISIS-MTT) OCSP certHash

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_ATTR_SIGNING_CERT = "1.2.840.113549.1.9.16.2.12"
OID_ATTR_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
OID_QTST_STATEMENT = "0.4.0.19422.1.1"   # esi4-qtstStatement-1 (EN 319 422 annex B)
HASH_NAMES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256",
              "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
CRYPTO_HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
                 "sha512": hashes.SHA512}

CERTID_HASHES = {"sha1", "sha256", "sha384", "sha512"}

# ISO 3166-1 alpha-2 shape; EL (Greece) and XG/XI are allowed by
# EN 319 412-1 for the identifiers.
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
NATURAL_ID_RE = re.compile(r"^(PAS|IDC|PNO|TAX|TIN)([A-Z]{2})-(.+)$")
LEGAL_ID_RE = re.compile(r"^(VAT|NTR|PSD|LEI)([A-Z]{2})-(.+)$")
NATIONAL_SCHEME_RE = re.compile(r"^([A-Z]{2}):([A-Z]{2})-(.+)$")


# --- ASN.1 types the pyasn1 modules do not carry (RFC 3739, EN 319 412-5) -----
class QCStatement(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("statementId", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("statementInfo", univ.Any()),
    )


class QCStatements(univ.SequenceOf):
    componentType = QCStatement()


class SemanticsInformation(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("semanticsIdentifier", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("nameRegistrationAuthorities", rfc5280.GeneralNames()),
    )


class QcType(univ.SequenceOf):
    componentType = univ.ObjectIdentifier()


class PdsLocation(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("url", char.IA5String()),
        namedtype.NamedType("language", char.PrintableString()),
    )


class PdsLocations(univ.SequenceOf):
    componentType = PdsLocation()


class Time(univ.Choice):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("utcTime", useful.UTCTime()),
        namedtype.NamedType("generalTime", useful.GeneralizedTime()),
    )


# --- findings -----------------------------------------------------------------
class Report:
    def __init__(self):
        self.lines = []
        self.errors = 0

    def add(self, level, name, rule, msg):
        self.lines.append(f"{level} {name}: {rule}: {msg}")
        if level == "error":
            self.errors += 1
        print(self.lines[-1])


class Ctx:
    """The findings for one file."""

    def __init__(self, report, name):
        self.report = report
        self.name = name

    def error(self, rule, msg):
        self.report.add("error", self.name, rule, msg)

    def warning(self, rule, msg):
        self.report.add("warning", self.name, rule, msg)

    def notice(self, rule, msg):
        self.report.add("notice", self.name, rule, msg)

    def check(self, cond, rule, msg, level="error"):
        if not cond:
            self.report.add(level, self.name, rule, msg)
        return cond


# --- helpers ------------------------------------------------------------------
def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def pem_blocks(data):
    """[(label, der)] for every PEM block in data."""
    out = []
    text = data.decode("ascii", "replace")
    for m in re.finditer(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", text, re.S):
        out.append((m.group(1), base64.b64decode("".join(m.group(2).split()))))
    return out


def time_value(t):
    """A pyasn1 Time CHOICE -> (kind, naive datetime)."""
    kind = t.getName()
    return kind, t.getComponent().asDateTime.replace(tzinfo=None)


def check_time_encoding(ctx, t, what, rule):
    """RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050."""
    kind, when = time_value(t)
    raw = str(t.getComponent())
    if kind == "utcTime":
        ctx.check(re.fullmatch(r"\d{12}Z", raw) is not None, rule,
                  f"{what} UTCTime '{raw}' is not YYMMDDHHMMSSZ")
        ctx.check(when.year < 2050, rule, f"{what} {when} after 2049 must be GeneralizedTime")
    else:
        ctx.check(re.fullmatch(r"\d{14}Z", raw) is not None, rule,
                  f"{what} GeneralizedTime '{raw}' is not YYYYMMDDHHMMSSZ (no fractions)")
        ctx.check(when.year >= 2050, rule, f"{what} {when} before 2050 must be UTCTime")
    return when


def check_generalized_time(ctx, raw, what, rule):
    ctx.check(re.fullmatch(r"\d{14}Z", raw) is not None, rule,
              f"{what} GeneralizedTime '{raw}' is not YYYYMMDDHHMMSSZ")


def name_attrs(name):
    """{oid dotted string: [values]} of a cryptography Name."""
    out = {}
    for attr in name:
        out.setdefault(attr.oid.dotted_string, []).append(attr.value)
    return out


def first(attrs, oid):
    v = attrs.get(oid.dotted_string if hasattr(oid, "dotted_string") else oid)
    return v[0] if v else None


def ext_or_none(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def verify_signature(pub, signature, data, hash_alg, sig_oid):
    """True when signature over data verifies with pub; raises on odd keys."""
    try:
        if isinstance(pub, rsa.RSAPublicKey):
            if sig_oid == "1.2.840.113549.1.1.10":
                pub.verify(signature, data,
                           padding.PSS(mgf=padding.MGF1(hash_alg),
                                       salt_length=padding.PSS.AUTO), hash_alg)
            else:
                pub.verify(signature, data, padding.PKCS1v15(), hash_alg)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(signature, data, ec.ECDSA(hash_alg))
        else:
            pub.verify(signature, data)
        return True
    except InvalidSignature:
        return False


def spki_key_sha1(cert):
    """SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2 (1))."""
    spki, _ = der_decoder.decode(
        cert.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo),
        asn1Spec=rfc5280.SubjectPublicKeyInfo())
    return hashlib.sha1(spki["subjectPublicKey"].asOctets()).digest()


def check_uri(ctx, uri, rule, what, schemes=("http", "https", "ldap")):
    p = urllib.parse.urlsplit(uri)
    ok = p.scheme in schemes and p.netloc != "" and " " not in uri
    ctx.check(ok, rule, f"{what} '{uri}' is not a valid {'/'.join(schemes)} URI")
    return ok


# --- certificates -------------------------------------------------------------
class CertFacts:
    """What a certificate is, read from its content."""

    def __init__(self, cert):
        self.cert = cert
        bc = ext_or_none(cert, ExtensionOID.BASIC_CONSTRAINTS)
        self.is_ca = bool(bc and bc.value.ca)
        eku = ext_or_none(cert, ExtensionOID.EXTENDED_KEY_USAGE)
        self.eku = [o.dotted_string for o in eku.value] if eku else []
        self.eku_critical = bool(eku and eku.critical)
        ku = ext_or_none(cert, ExtensionOID.KEY_USAGE)
        self.ku = ku.value if ku else None
        cp = ext_or_none(cert, ExtensionOID.CERTIFICATE_POLICIES)
        self.policies = [p.policy_identifier.dotted_string for p in cp.value] if cp else []
        self.qc = {}            # statement OID -> raw statementInfo (bytes or None)
        self.qc_types = []
        self.semantics = None
        self.qc_error = None
        self.qc_present = False
        for e in cert.extensions:
            if e.oid.dotted_string == OID_QC_STATEMENTS:
                self.qc_present = True
                self._read_qc(e.value.value)
        self.is_ocsp = ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string in self.eku
        self.is_tsa = ExtendedKeyUsageOID.TIME_STAMPING.dotted_string in self.eku
        self.is_auth = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string in self.eku
        self.non_rep = bool(self.ku and self.ku.content_commitment)
        self.qualified = OID_QC_COMPLIANCE in self.qc or bool(QCP_ALL & set(self.policies))
        subj = name_attrs(cert.subject)
        natural_names = any(o in subj for o in (NameOID.GIVEN_NAME.dotted_string,
                                                NameOID.SURNAME.dotted_string,
                                                NameOID.PSEUDONYM.dotted_string))
        if self.semantics in (OID_SEMANTICS_NATURAL, OID_SEMANTICS_EIDAS_NATURAL):
            self.person = "natural"
        elif self.semantics in (OID_SEMANTICS_LEGAL, OID_SEMANTICS_EIDAS_LEGAL):
            self.person = "legal"
        elif OID_QC_TYPE_ESEAL in self.qc_types or set(self.policies) & QCP_LEGAL:
            self.person = "legal"
        elif natural_names:
            self.person = "natural"
        elif OID_ORGANIZATION_IDENTIFIER in subj and not self.is_ca:
            self.person = "legal"
        else:
            self.person = None
        self.is_seal = (OID_QC_TYPE_ESEAL in self.qc_types or
                        self.semantics == OID_SEMANTICS_LEGAL) and not self.is_ca
        self.basic = bool({NCP, NCP_PLUS} & set(self.policies)) and not self.qualified

    def _read_qc(self, der):
        try:
            stmts, rest = der_decoder.decode(der, asn1Spec=QCStatements())
            if rest:
                raise PyAsn1Error("trailing bytes")
        except PyAsn1Error as exc:
            self.qc_error = str(exc)
            return
        for s in stmts:
            oid = str(s["statementId"])
            info = bytes(s["statementInfo"]) if s["statementInfo"].isValue else None
            self.qc[oid] = info
            try:
                if oid == OID_QC_TYPE and info is not None:
                    t, _ = der_decoder.decode(info, asn1Spec=QcType())
                    self.qc_types = [str(o) for o in t]
                elif oid == OID_PKIX_QC_SYNTAX_V2 and info is not None:
                    si, _ = der_decoder.decode(info, asn1Spec=SemanticsInformation())
                    if si["semanticsIdentifier"].isValue:
                        self.semantics = str(si["semanticsIdentifier"])
            except PyAsn1Error as exc:
                self.qc_error = f"{oid}: {exc}"

    def profile(self):
        if self.is_ca:
            return "CA"
        if self.is_ocsp:
            return "OCSP signer"
        if self.is_tsa:
            return "TSA"
        pol = set(self.policies)
        names = [n for o, n in ((QCP_N, "QCP-n"), (QCP_L, "QCP-l"), (QCP_N_QSCD, "QCP-n-qscd"),
                                (QCP_L_QSCD, "QCP-l-qscd"), (QCP_W, "QCP-w"), (NCP, "NCP"),
                                (NCP_PLUS, "NCP+")) if o in pol]
        tag = " (" + ", ".join(names) + ")" if names else ""
        if self.is_seal:
            return "legal-person seal" + tag
        if self.is_auth:
            return "authentication" + tag
        if self.non_rep:
            return ("natural-person signing" if self.person == "natural" else "signing") + tag
        return "end entity" + tag


def lint_certificate(ctx, der, issuer, now):
    try:
        cert = x509.load_der_x509_certificate(der)
        asn, rest = der_decoder.decode(der, asn1Spec=rfc5280.Certificate())
    except (ValueError, PyAsn1Error) as exc:
        ctx.error("RFC5280:4.1-1", f"certificate does not parse: {exc}")
        return None
    if rest:
        ctx.error("RFC5280:4.1-2", "trailing bytes after the certificate")
    if der_encoder.encode(asn) != der:
        ctx.error("RFC5280:4.1-3", "the certificate is not DER (re-encoding differs)")
    facts = CertFacts(cert)
    ctx.notice("profile", f"detected profile: {facts.profile()}")
    tbs = asn["tbsCertificate"]
    self_signed = cert.issuer == cert.subject
    if issuer is None and self_signed:
        issuer = cert

    lint_rfc5280_cert(ctx, cert, tbs, asn, facts, issuer, self_signed, now)
    lint_etsi_common(ctx, cert, facts, issuer)
    if facts.is_ca:
        lint_ca(ctx, cert, facts)
    elif facts.is_ocsp:
        lint_ocsp_signer(ctx, cert, facts, issuer)
    elif facts.is_tsa:
        lint_tsa(ctx, cert, facts)
    else:
        lint_end_entity(ctx, cert, facts, issuer)
    return cert


def lint_rfc5280_cert(ctx, cert, tbs, asn, facts, issuer, self_signed, now):
    # version
    ctx.check(int(tbs["version"]) == 2, "RFC5280:4.1.2.1-1",
              f"version is v{int(tbs['version']) + 1}, not v3")
    # serial
    serial = int(tbs["serialNumber"])
    ctx.check(serial > 0, "RFC5280:4.1.2.2-1", "serial number is not positive")
    slen = len(der_encoder.encode(tbs["serialNumber"])) - 2
    ctx.check(slen <= 20, "RFC5280:4.1.2.2-2", f"serial number is {slen} octets (> 20)")
    if serial > 0 and serial.bit_length() < 64:
        ctx.warning("RFC5280:4.1.2.2-3", "serial number has fewer than 64 bits of entropy room")
    # signature algorithm inside and outside
    ctx.check(der_encoder.encode(tbs["signature"]) == der_encoder.encode(asn["signatureAlgorithm"]),
              "RFC5280:4.1.1.2-1", "signatureAlgorithm differs from tbsCertificate.signature")
    # validity
    nb = check_time_encoding(ctx, tbs["validity"]["notBefore"], "notBefore", "RFC5280:4.1.2.5-1")
    na = check_time_encoding(ctx, tbs["validity"]["notAfter"], "notAfter", "RFC5280:4.1.2.5-1")
    ctx.check(nb < na, "RFC5280:4.1.2.5-2", "notBefore is not before notAfter")
    if now is not None:
        ctx.check(nb <= now + datetime.timedelta(days=1), "RFC5280:4.1.2.5-3",
                  f"not yet valid (notBefore {nb})", "warning")
        ctx.check(na >= now, "RFC5280:4.1.2.5-3", f"expired (notAfter {na})")
    # names
    ctx.check(len(cert.issuer) > 0, "RFC5280:4.1.2.4-1", "issuer name is empty")
    if facts.is_ca or not ext_or_none(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME):
        ctx.check(len(cert.subject) > 0, "RFC5280:4.1.2.6-1", "subject name is empty")
    for rdn in cert.subject.rdns:
        for a in rdn:
            ctx.check(str(a.value).strip() != "", "RFC5280:4.1.2.6-2",
                      f"empty subject attribute {a.oid.dotted_string}")
    if issuer is not None and not self_signed:
        ctx.check(cert.issuer == issuer.subject, "RFC5280:4.1.2.4-2",
                  "issuer name differs from the CA's subject")
    # unique IDs are not used by the profiles
    ctx.check(not tbs["issuerUniqueID"].isValue and not tbs["subjectUniqueID"].isValue,
              "RFC5280:4.1.2.8-1", "issuer/subject unique identifiers present", "warning")
    # extensions: present, no duplicates, none empty
    exts = tbs["extensions"]
    ctx.check(exts.isValue and len(exts) > 0, "RFC5280:4.1.2.9-1", "no extensions in a v3 certificate")
    seen = set()
    if exts.isValue:
        for e in exts:
            oid = str(e["extnID"])
            ctx.check(oid not in seen, "RFC5280:4.2-1", f"extension {oid} appears twice")
            seen.add(oid)
            ctx.check(len(e["extnValue"]) > 0, "RFC5280:4.2-2", f"extension {oid} has an empty value")
    # signature
    if issuer is not None:
        try:
            good = verify_signature(issuer.public_key(), cert.signature,
                                    cert.tbs_certificate_bytes, cert.signature_hash_algorithm,
                                    cert.signature_algorithm_oid.dotted_string)
        except Exception as exc:  # unsupported algorithm
            good = False
            ctx.error("RFC5280:4.1.1.3-1", f"cannot verify the signature: {exc}")
        ctx.check(good, "RFC5280:4.1.1.3-1", "signature does not verify with the issuer's key")
    # key identifiers
    ski = ext_or_none(cert, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    aki = ext_or_none(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if facts.is_ca:
        ctx.check(ski is not None, "RFC5280:4.2.1.2-1", "a CA certificate has no subjectKeyIdentifier")
    else:
        ctx.check(ski is not None, "RFC5280:4.2.1.2-2", "no subjectKeyIdentifier", "warning")
    if ski is not None:
        ctx.check(not ski.critical, "RFC5280:4.2.1.2-3", "subjectKeyIdentifier is critical")
        ctx.check(len(ski.value.digest) > 0, "RFC5280:4.2.1.2-4", "empty subjectKeyIdentifier")
    if not self_signed:
        if ctx.check(aki is not None, "RFC5280:4.2.1.1-1", "no authorityKeyIdentifier"):
            ctx.check(not aki.critical, "RFC5280:4.2.1.1-2", "authorityKeyIdentifier is critical")
            ctx.check(aki.value.key_identifier is not None, "RFC5280:4.2.1.1-3",
                      "authorityKeyIdentifier has no keyIdentifier")
            if issuer is not None and aki.value.key_identifier is not None:
                iski = ext_or_none(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
                if iski is not None:
                    ctx.check(aki.value.key_identifier == iski.value.digest, "RFC5280:4.2.1.1-4",
                              "authorityKeyIdentifier differs from the CA's subjectKeyIdentifier")
    elif aki is not None and aki.value.key_identifier is not None and ski is not None:
        ctx.check(aki.value.key_identifier == ski.value.digest, "RFC5280:4.2.1.1-4",
                  "self-signed: authorityKeyIdentifier differs from subjectKeyIdentifier")
    # key usage
    ku = ext_or_none(cert, ExtensionOID.KEY_USAGE)
    if ctx.check(ku is not None, "RFC5280:4.2.1.3-1", "no keyUsage"):
        ctx.check(ku.critical, "RFC5280:4.2.1.3-2", "keyUsage is not critical")
        k = ku.value
        bits = [k.digital_signature, k.content_commitment, k.key_encipherment, k.data_encipherment,
                k.key_agreement, k.key_cert_sign, k.crl_sign]
        ctx.check(any(bits), "RFC5280:4.2.1.3-3", "keyUsage has no bit set")
        if k.key_cert_sign:
            ctx.check(facts.is_ca, "RFC5280:4.2.1.3-4", "keyCertSign without basicConstraints cA")
    # basic constraints
    bc = ext_or_none(cert, ExtensionOID.BASIC_CONSTRAINTS)
    if facts.is_ca:
        ctx.check(bc.critical, "RFC5280:4.2.1.9-1", "basicConstraints of a CA is not critical")
        ctx.check(ku is not None and ku.value.key_cert_sign, "RFC5280:4.2.1.9-2",
                  "a CA certificate without keyCertSign")
    elif bc is not None:
        ctx.check(bc.value.path_length is None, "RFC5280:4.2.1.9-3",
                  "pathLenConstraint in an end-entity certificate")
    # policies
    cp = ext_or_none(cert, ExtensionOID.CERTIFICATE_POLICIES)
    if cp is not None:
        ctx.check(len(cp.value) > 0, "RFC5280:4.2.1.4-1", "empty certificatePolicies")
        oids = [p.policy_identifier.dotted_string for p in cp.value]
        ctx.check(len(oids) == len(set(oids)), "RFC5280:4.2.1.4-2", "a policy OID appears twice")
    # extended key usage
    eku = ext_or_none(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is not None:
        ctx.check(len(eku.value) > 0, "RFC5280:4.2.1.12-1", "empty extKeyUsage")
        if facts.is_ca:
            ctx.warning("RFC5280:4.2.1.12-2", "extKeyUsage in a CA certificate")
    # subject alternative name
    san = ext_or_none(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is not None:
        ctx.check(len(san.value) > 0, "RFC5280:4.2.1.6-1", "empty subjectAltName")
        if len(cert.subject) == 0:
            ctx.check(san.critical, "RFC5280:4.2.1.6-2", "empty subject and a non-critical subjectAltName")
    # CRL distribution points
    cdp = ext_or_none(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if cdp is not None:
        ctx.check(len(cdp.value) > 0, "RFC5280:4.2.1.13-1", "empty cRLDistributionPoints")
        for dp in cdp.value:
            ctx.check(dp.full_name is not None or dp.crl_issuer is not None, "RFC5280:4.2.1.13-2",
                      "a distribution point with neither a name nor a cRLIssuer")
            for gn in dp.full_name or []:
                if isinstance(gn, x509.UniformResourceIdentifier):
                    check_uri(ctx, gn.value, "RFC5280:4.2.1.13-3", "CRL distribution point")
    # authority information access
    aia = ext_or_none(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if aia is not None:
        ctx.check(not aia.critical, "RFC5280:4.2.2.1-1", "authorityInfoAccess is critical")
        ctx.check(len(aia.value) > 0, "RFC5280:4.2.2.1-2", "empty authorityInfoAccess")
        for ad in aia.value:
            if isinstance(ad.access_location, x509.UniformResourceIdentifier):
                check_uri(ctx, ad.access_location.value, "RFC5280:4.2.2.1-3", "AIA location")
    # unknown critical extensions
    known = {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE, ExtensionOID.EXTENDED_KEY_USAGE,
             ExtensionOID.CERTIFICATE_POLICIES, ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
             ExtensionOID.NAME_CONSTRAINTS, ExtensionOID.POLICY_CONSTRAINTS,
             ExtensionOID.INHIBIT_ANY_POLICY, ExtensionOID.POLICY_MAPPINGS}
    for e in cert.extensions:
        if e.critical and e.oid not in known:
            ctx.warning("RFC5280:4.2-3", f"critical extension {e.oid.dotted_string} that relying "
                        "parties may not know")


def lint_etsi_common(ctx, cert, facts, issuer):
    subj = name_attrs(cert.subject)
    c = first(subj, NameOID.COUNTRY_NAME)
    if c is not None:
        ctx.check(COUNTRY_RE.match(c) is not None, "EN319412-1:5.1.2-1",
                  f"countryName '{c}' is not two upper-case letters")
    # natural-person identifier in serialNumber (EN 319 412-1 5.1.3)
    sn = first(subj, NameOID.SERIAL_NUMBER)
    if sn is not None and facts.person == "natural" and not facts.is_ca:
        m = NATURAL_ID_RE.match(sn)
        m2 = NATIONAL_SCHEME_RE.match(sn)
        if ctx.check(m is not None or m2 is not None, "EN319412-1:5.1.3-1",
                     f"serialNumber '{sn}' is not a natural-person semantics identifier "
                     "(PAS/IDC/PNO/TAX/TIN + country + '-' + id)"):
            cc = (m or m2).group(2)
            if c is not None and cc not in ("XX",):
                if m is None or m.group(1) in ("PNO", "TAX", "TIN", "IDC"):
                    ctx.check(cc == c, "EN319412-1:5.1.3-2",
                              f"serialNumber country {cc} differs from the subject's C={c}", "warning")
        if facts.semantics == OID_SEMANTICS_NATURAL:
            ctx.check(m is not None, "EN319412-1:5.1.3-3",
                      "semantics identifier natural person but serialNumber has no type reference")
    # legal-person identifier in organizationIdentifier (EN 319 412-1 5.1.4)
    oi = first(subj, OID_ORGANIZATION_IDENTIFIER)
    if oi is not None:
        m = LEGAL_ID_RE.match(oi)
        m2 = NATIONAL_SCHEME_RE.match(oi)
        if ctx.check(m is not None or m2 is not None, "EN319412-1:5.1.4-1",
                     f"organizationIdentifier '{oi}' is not VAT/NTR/PSD/LEI + country + '-' + id"):
            if m is not None and m.group(1) == "LEI":
                ctx.check(m.group(2) == "XG", "EN319412-1:5.1.4-2",
                          f"an LEI identifier must use XG as country, not {m.group(2)}")
                ctx.check(re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", m.group(3)) is not None,
                          "EN319412-1:5.1.4-3", "the LEI is not 20 characters")
            elif m is not None and c is not None:
                cc = m.group(2)
                ok = cc == c or (cc == "EL" and c == "GR")
                ctx.check(ok, "EN319412-1:5.1.4-2",
                          f"organizationIdentifier country {cc} differs from the subject's C={c}")
    elif facts.semantics == OID_SEMANTICS_LEGAL:
        ctx.error("EN319412-1:5.1.4-4", "semantics identifier legal person without organizationIdentifier")
    if facts.semantics == OID_SEMANTICS_NATURAL:
        ctx.check(sn is not None, "EN319412-1:5.1.3-4",
                  "semantics identifier natural person without subject serialNumber")
    # qcStatements
    if facts.qc_present:
        lint_qc_statements(ctx, cert, facts)
    elif facts.qualified and not facts.is_ca:
        ctx.error("EN319412-5:4.2.1-1", "a QCP policy without qcStatements (no QcCompliance)")
    # policies of EN 319 411-1/-2
    pol = set(facts.policies)
    if len(pol & QCP_ALL) > 1:
        ctx.error("EN319411-2:5.3-1", f"more than one QCP policy: {sorted(pol & QCP_ALL)}")
    if pol & QCP_ALL and pol & {NCP, NCP_PLUS}:
        ctx.warning("EN319411-2:5.3-2", "both QCP and NCP policies")
    if NCP in pol and NCP_PLUS in pol:
        ctx.warning("EN319411-1:5.3-1", "both NCP and NCP+")


def lint_qc_statements(ctx, cert, facts):
    e = ext_or_none(cert, x509.ObjectIdentifier(OID_QC_STATEMENTS))
    ctx.check(not e.critical, "EN319412-5:4.1-1", "qcStatements is critical")
    if facts.qc_error:
        ctx.error("EN319412-5:4.1-2", f"qcStatements does not parse: {facts.qc_error}")
        return
    ctx.check(len(facts.qc) > 0, "RFC3739:3.2.6-1", "empty qcStatements")
    pol = set(facts.policies)
    if facts.qualified:
        ctx.check(OID_QC_COMPLIANCE in facts.qc, "EN319412-5:4.2.1-1",
                  "qualified certificate (QCP policy) without QcCompliance")
        if pol & QCP_QSCD:
            ctx.check(OID_QC_SSCD in facts.qc, "EN319412-5:4.2.2-1",
                      "QCP-n-qscd/QCP-l-qscd policy without QcSSCD")
        if OID_QC_SSCD in facts.qc and pol & QCP_ALL:
            ctx.check(bool(pol & QCP_QSCD), "EN319412-5:4.2.2-2",
                      "QcSSCD with a QCP policy that is not -qscd", "warning")
        if ctx.check(OID_QC_TYPE in facts.qc, "EN319412-5:4.2.3-1", "no QcType in a qualified certificate"):
            ctx.check(len(facts.qc_types) == 1, "EN319412-5:4.2.3-2",
                      f"QcType has {len(facts.qc_types)} types (one is expected)", "warning")
        if ctx.check(OID_QC_PDS in facts.qc, "EN319412-5:4.3.4-1", "no QcPDS in a qualified certificate"):
            pass
        if pol & QCP_ALL == set() and OID_QC_COMPLIANCE in facts.qc:
            ctx.warning("EN319411-2:5.3-3", "QcCompliance without a QCP policy")
    else:
        ctx.warning("EN319412-5:4.2.1-2", "qcStatements in a non-qualified certificate")
    # QcType coherence
    for t in facts.qc_types:
        ctx.check(t in (OID_QC_TYPE_ESIGN, OID_QC_TYPE_ESEAL, OID_QC_TYPE_WEB), "EN319412-5:4.2.3-3",
                  f"unknown QcType {t}")
    if OID_QC_TYPE_ESIGN in facts.qc_types:
        ctx.check(facts.semantics not in (OID_SEMANTICS_LEGAL, OID_SEMANTICS_EIDAS_LEGAL),
                  "EN319412-5:4.2.3-4", "QcType esign with the legal-person semantics identifier")
        ctx.check(not (pol & QCP_LEGAL), "EN319412-5:4.2.3-4", "QcType esign with a QCP-l policy")
    if OID_QC_TYPE_ESEAL in facts.qc_types:
        ctx.check(facts.semantics not in (OID_SEMANTICS_NATURAL, OID_SEMANTICS_EIDAS_NATURAL),
                  "EN319412-5:4.2.3-5", "QcType eseal with the natural-person semantics identifier")
        ctx.check(not (pol & QCP_NATURAL), "EN319412-5:4.2.3-5", "QcType eseal with a QCP-n policy")
    # QcPDS
    info = facts.qc.get(OID_QC_PDS)
    if OID_QC_PDS in facts.qc:
        try:
            locs, rest = der_decoder.decode(info or b"", asn1Spec=PdsLocations())
            if rest:
                raise PyAsn1Error("trailing bytes")
            ctx.check(len(locs) > 0, "EN319412-5:4.3.4-2", "QcPDS without locations")
            langs = []
            for loc in locs:
                url = str(loc["url"])
                lang = str(loc["language"])
                langs.append(lang.lower())
                ctx.check(urllib.parse.urlsplit(url).scheme == "https" and
                          urllib.parse.urlsplit(url).netloc != "", "EN319412-5:4.3.4-3",
                          f"PDS URL '{url}' is not https")
                ctx.check(re.fullmatch(r"[a-z]{2}", lang) is not None, "EN319412-5:4.3.4-4",
                          f"PDS language '{lang}' is not a lower-case ISO 639-1 code",
                          "error" if re.fullmatch(r"[A-Za-z]{2}", lang) is None else "warning")
            ctx.check("en" in langs, "EN319412-5:4.3.4-5", "no English PDS", "warning")
        except PyAsn1Error as exc:
            ctx.error("EN319412-5:4.3.4-2", f"QcPDS does not parse: {exc}")
    # semantics identifier (EN 319 412-1 5.1, pkixQCSyntax-v2)
    if OID_PKIX_QC_SYNTAX_V2 in facts.qc:
        ctx.check(facts.semantics in (OID_SEMANTICS_NATURAL, OID_SEMANTICS_LEGAL,
                                      OID_SEMANTICS_EIDAS_NATURAL, OID_SEMANTICS_EIDAS_LEGAL),
                  "EN319412-1:5.1.1-1", f"unknown semantics identifier {facts.semantics}")
    if "0.4.0.194121.1.1" in facts.qc or "0.4.0.194121.1.2" in facts.qc:
        ctx.error("EN319412-1:5.1.1-2", "the semantics identifier is used as a statement id "
                  "(it belongs inside pkixQCSyntax-v2)")
    for oid in (OID_QC_COMPLIANCE, OID_QC_SSCD):
        if oid in facts.qc:
            ctx.check(facts.qc[oid] is None, "EN319412-5:4.2-1", f"statement {oid} carries statementInfo")


def lint_issuer_of_qualified(ctx, issuer):
    """EN 319 412-2 4.2.3.1: the issuer of a certificate for natural persons
    names the country, the organization and a common name."""
    if issuer is None:
        return
    ia = name_attrs(issuer.subject)
    for oid, label in ((NameOID.COUNTRY_NAME, "countryName"),
                       (NameOID.ORGANIZATION_NAME, "organizationName"),
                       (NameOID.COMMON_NAME, "commonName")):
        ctx.check(oid.dotted_string in ia, "EN319412-2:4.2.3.1-1",
                  f"the issuer has no {label}")


def lint_ca(ctx, cert, facts):
    bc = ext_or_none(cert, ExtensionOID.BASIC_CONSTRAINTS)
    ku = facts.ku
    if ku is not None:
        ctx.check(ku.crl_sign, "RFC5280:4.2.1.3-5", "CA without cRLSign", "warning")
        ctx.check(not ku.content_commitment, "EN319412-2:4.3.2-4",
                  "CA with nonRepudiation", "warning")
    if bc.value.path_length is None:
        ctx.notice("RFC5280:4.2.1.9-4", "no pathLenConstraint on the CA")
    subj = name_attrs(cert.subject)
    for oid, label in ((NameOID.COUNTRY_NAME, "countryName"),
                       (NameOID.ORGANIZATION_NAME, "organizationName"),
                       (NameOID.COMMON_NAME, "commonName")):
        ctx.check(oid.dotted_string in subj, "EN319412-2:4.2.3.1-1",
                  f"the CA name has no {label} (needed to issue qualified certificates)")
    if OID_ORGANIZATION_IDENTIFIER not in subj:
        ctx.notice("EN319412-2:4.2.3.1-2", "the CA name has no organizationIdentifier")


def lint_ocsp_signer(ctx, cert, facts, issuer):
    eku = ext_or_none(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    ctx.check(facts.eku == [ExtendedKeyUsageOID.OCSP_SIGNING.dotted_string], "RFC6960:4.2.2.2-1",
              "the OCSP signer has other extended key usages than id-kp-OCSPSigning", "warning")
    if eku is not None and eku.critical:
        ctx.notice("RFC6960:4.2.2.2-1", "extKeyUsage is critical")
    ctx.check(ext_or_none(cert, x509.ObjectIdentifier(OID_OCSP_NOCHECK)) is not None,
              "RFC6960:4.2.2.2.1-1", "no id-pkix-ocsp-nocheck: relying parties cannot check its status")
    ku = facts.ku
    if ku is not None:
        ctx.check(ku.digital_signature or ku.content_commitment, "RFC6960:4.2.2.2-2",
                  "keyUsage allows no signature")
        ctx.check(not ku.key_cert_sign and not ku.crl_sign, "RFC6960:4.2.2.2-2",
                  "keyUsage of an OCSP signer includes keyCertSign/cRLSign")
    if issuer is not None and issuer is not cert:
        ctx.check(cert.issuer == issuer.subject, "RFC6960:4.2.2.2-3",
                  "the OCSP signer is not issued by the CA")
    days = (cert.not_valid_after - cert.not_valid_before).days
    if days > 90:
        ctx.warning("RFC6960:4.2.2.2.1-2",
                    f"the OCSP signer with id-pkix-ocsp-nocheck is valid {days} days (short life expected)")


def lint_tsa(ctx, cert, facts):
    eku = ext_or_none(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    ctx.check(facts.eku == [ExtendedKeyUsageOID.TIME_STAMPING.dotted_string], "RFC3161:2.3-1",
              "extKeyUsage of a TSA certificate must be id-kp-timeStamping alone")
    ctx.check(eku.critical, "RFC3161:2.3-2", "extKeyUsage timeStamping is not critical")
    ku = facts.ku
    if ku is not None:
        ctx.check(ku.digital_signature or ku.content_commitment, "EN319422:5-1",
                  "TSA keyUsage has neither digitalSignature nor nonRepudiation")
        ctx.check(not (ku.key_encipherment or ku.data_encipherment or ku.key_agreement or
                       ku.key_cert_sign or ku.crl_sign), "EN319422:5-2",
                  "TSA keyUsage has bits other than digitalSignature/nonRepudiation")
    subj = name_attrs(cert.subject)
    for oid, label in ((NameOID.COUNTRY_NAME, "countryName"),
                       (NameOID.ORGANIZATION_NAME, "organizationName"),
                       (NameOID.COMMON_NAME, "commonName")):
        ctx.check(oid.dotted_string in subj, "EN319422:5-3", f"the TSA name has no {label}", "warning")


def lint_end_entity(ctx, cert, facts, issuer):
    subj = name_attrs(cert.subject)
    pol = set(facts.policies)
    # EN 319 412-2 4.3.3: certificatePolicies present
    ctx.check(len(pol) > 0, "EN319412-2:4.3.3-1", "no certificatePolicies")
    if not (pol & (QCP_ALL | {NCP, NCP_PLUS})):
        ctx.warning("EN319411-1:5.3-2", "no ETSI policy OID (QCP-*, NCP, NCP+)")
    # EN 319 412-2 4.4.1: AIA with OCSP and caIssuers
    aia = ext_or_none(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if ctx.check(aia is not None, "EN319412-2:4.4.1-1", "no authorityInfoAccess"):
        ocsp_urls = [ad.access_location.value for ad in aia.value
                     if ad.access_method == x509.oid.AuthorityInformationAccessOID.OCSP
                     and isinstance(ad.access_location, x509.UniformResourceIdentifier)]
        ca_urls = [ad.access_location.value for ad in aia.value
                   if ad.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS
                   and isinstance(ad.access_location, x509.UniformResourceIdentifier)]
        if ctx.check(len(ocsp_urls) > 0, "EN319412-2:4.4.1-2", "no id-ad-ocsp access method"):
            for u in ocsp_urls:
                ctx.check(urllib.parse.urlsplit(u).scheme == "http", "EN319412-2:4.4.1-3",
                          f"the OCSP URL '{u}' is not http", "warning")
        ctx.check(len(ca_urls) > 0, "EN319412-2:4.4.1-4", "no id-ad-caIssuers access method", "warning")
    if ext_or_none(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS) is None:
        ctx.notice("EN319412-2:4.3.11-1", "no cRLDistributionPoints (OCSP only)")
    # validity
    days = (cert.not_valid_after - cert.not_valid_before).days
    ctx.check(days <= 5 * 366, "EN319412-2:4.2.5-1", f"validity of {days} days is over 5 years", "warning")
    if issuer is not None and issuer is not cert:
        ctx.check(cert.not_valid_after <= issuer.not_valid_after, "EN319412-2:4.2.5-2",
                  "the certificate outlives its CA", "warning")

    if facts.person == "natural":
        lint_natural(ctx, cert, facts, subj, issuer)
    elif facts.person == "legal":
        lint_legal(ctx, cert, facts, subj, issuer)
    else:
        ctx.warning("EN319412-2:4.2.4-0", "neither a natural nor a legal person subject")
    # key usage per purpose (EN 319 412-2 4.3.2)
    ku = facts.ku
    if ku is not None:
        other = ku.key_encipherment or ku.data_encipherment or ku.key_agreement or ku.key_cert_sign or ku.crl_sign
        if facts.non_rep and not facts.is_auth:
            ctx.check(not other, "EN319412-2:4.3.2-2",
                      "a signing certificate with nonRepudiation has other bits than digitalSignature")
        if facts.is_auth:
            ctx.check(ku.digital_signature, "EN319412-2:4.3.2-3",
                      "an authentication certificate without digitalSignature")
            ctx.check(not ku.content_commitment, "EN319412-2:4.3.2-3",
                      "an authentication certificate with nonRepudiation", "warning")
    if facts.qualified:
        lint_issuer_of_qualified(ctx, issuer)
        if facts.person == "natural" and not facts.is_auth:
            ctx.check(ku is not None and ku.content_commitment, "EN319412-2:4.3.2-1",
                      "a qualified signing certificate without nonRepudiation")
    if facts.basic:
        ctx.check(not facts.qc_present, "EN319412-5:4.2.1-3",
                  "qcStatements in a certificate under NCP/NCP+ only", "warning")


def lint_natural(ctx, cert, facts, subj, issuer):
    rule = "EN319412-2:4.2.4-1"
    ctx.check(NameOID.COUNTRY_NAME.dotted_string in subj, rule, "no subject countryName")
    has_gn_sn = (NameOID.GIVEN_NAME.dotted_string in subj or NameOID.SURNAME.dotted_string in subj)
    has_pseudo = NameOID.PSEUDONYM.dotted_string in subj
    ctx.check(has_gn_sn or has_pseudo, rule, "neither givenName/surname nor pseudonym")
    ctx.check(not (has_gn_sn and has_pseudo), "EN319412-2:4.2.4-2", "both a pseudonym and givenName/surname")
    ctx.check(NameOID.SERIAL_NUMBER.dotted_string in subj, rule,
              "no subject serialNumber", "error" if facts.qualified and not has_pseudo else "warning")
    ctx.check(NameOID.COMMON_NAME.dotted_string in subj, rule, "no subject commonName")
    for oid, label in ((NameOID.COMMON_NAME, "commonName"), (NameOID.COUNTRY_NAME, "countryName")):
        ctx.check(len(subj.get(oid.dotted_string, [])) <= 1, "EN319412-2:4.2.4-3", f"more than one {label}")
    if facts.qualified:
        if facts.non_rep and not facts.is_auth:
            ctx.check(OID_QC_TYPE_ESIGN in facts.qc_types, "EN319412-5:4.2.3-6",
                      "a qualified natural-person signing certificate without QcType esign")
        ctx.check(facts.semantics in (OID_SEMANTICS_NATURAL, OID_SEMANTICS_EIDAS_NATURAL, None),
                  "EN319412-1:5.1.1-3", "a natural person with a legal-person semantics identifier")
        if facts.semantics is None and facts.qc_present:
            ctx.notice("EN319412-1:5.1.1-4", "no semantics identifier (pkixQCSyntax-v2) in qcStatements")


def lint_legal(ctx, cert, facts, subj, issuer):
    rule = "EN319412-3:4.2.1-1"
    for oid, label in ((NameOID.COUNTRY_NAME.dotted_string, "countryName"),
                       (NameOID.ORGANIZATION_NAME.dotted_string, "organizationName"),
                       (OID_ORGANIZATION_IDENTIFIER, "organizationIdentifier"),
                       (NameOID.COMMON_NAME.dotted_string, "commonName")):
        ctx.check(oid in subj, rule, f"no subject {label}")
    ctx.check(NameOID.GIVEN_NAME.dotted_string not in subj and NameOID.SURNAME.dotted_string not in subj,
              "EN319412-3:4.2.1-2", "givenName/surname in a legal-person certificate", "warning")
    if facts.qualified:
        ctx.check(OID_QC_TYPE_ESEAL in facts.qc_types or OID_QC_TYPE_WEB in facts.qc_types,
                  "EN319412-5:4.2.3-7", "a qualified legal-person certificate without QcType eseal")
        ctx.check(facts.semantics in (OID_SEMANTICS_LEGAL, OID_SEMANTICS_EIDAS_LEGAL, None),
                  "EN319412-1:5.1.1-3", "a legal person with a natural-person semantics identifier")


# --- CRLs ---------------------------------------------------------------------
def lint_crl(ctx, der, ca, now):
    try:
        crl = x509.load_der_x509_crl(der)
        asn, rest = der_decoder.decode(der, asn1Spec=rfc5280.CertificateList())
    except (ValueError, PyAsn1Error) as exc:
        ctx.error("RFC5280:5.1-1", f"CRL does not parse: {exc}")
        return
    ctx.notice("profile", "detected: CRL")
    tbs = asn["tbsCertList"]
    ctx.check(tbs["version"].isValue and int(tbs["version"]) == 1, "RFC5280:5.1.2.1-1", "CRL is not v2")
    ctx.check(der_encoder.encode(tbs["signature"]) == der_encoder.encode(asn["signatureAlgorithm"]),
              "RFC5280:5.1.1.2-1", "signatureAlgorithm differs from tbsCertList.signature")
    ctx.check(len(crl.issuer) > 0, "RFC5280:5.1.2.3-1", "empty issuer")
    this_u = check_time_encoding(ctx, tbs["thisUpdate"], "thisUpdate", "RFC5280:5.1.2.4-1")
    if ctx.check(tbs["nextUpdate"].isValue, "RFC5280:5.1.2.5-1", "no nextUpdate"):
        next_u = check_time_encoding(ctx, tbs["nextUpdate"], "nextUpdate", "RFC5280:5.1.2.5-2")
        ctx.check(next_u > this_u, "RFC5280:5.1.2.5-3", "nextUpdate is not after thisUpdate")
        if now is not None:
            ctx.check(next_u >= now, "RFC5280:5.1.2.5-4", f"stale CRL (nextUpdate {next_u})")
    if now is not None:
        ctx.check(this_u <= now + datetime.timedelta(minutes=5), "RFC5280:5.1.2.4-2",
                  f"thisUpdate {this_u} is in the future")
    # revoked entries
    if tbs["revokedCertificates"].isValue:
        ctx.check(len(tbs["revokedCertificates"]) > 0, "RFC5280:5.1.2.6-1",
                  "revokedCertificates present but empty (omit it)")
        for rc in tbs["revokedCertificates"]:
            s = int(rc["userCertificate"])
            ctx.check(s > 0, "RFC5280:5.1.2.6-2", f"revoked serial {s} is not positive")
            check_time_encoding(ctx, rc["revocationDate"], "revocationDate", "RFC5280:5.1.2.6-3")
    for rc in crl:
        for e in rc.extensions:
            if e.oid == x509.oid.CRLEntryExtensionOID.CRL_REASON:
                ctx.check(e.value.reason != x509.ReasonFlags.unspecified, "RFC5280:5.3.1-1",
                          f"serial {rc.serial_number:x}: reasonCode unspecified (omit the extension)",
                          "warning")
                ctx.check(not e.critical, "RFC5280:5.3.1-2", "reasonCode is critical")
    # extensions
    aki = None
    num = None
    for e in crl.extensions:
        if e.oid == ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
            aki = e
        if e.oid == ExtensionOID.CRL_NUMBER:
            num = e
    if ctx.check(aki is not None, "RFC5280:5.2.1-1", "no authorityKeyIdentifier"):
        if ca is not None:
            iski = ext_or_none(ca, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
            if iski is not None:
                ctx.check(aki.value.key_identifier == iski.value.digest, "RFC5280:5.2.1-2",
                          "authorityKeyIdentifier differs from the CA's subjectKeyIdentifier")
    if ctx.check(num is not None, "RFC5280:5.2.3-1", "no cRLNumber"):
        ctx.check(not num.critical, "RFC5280:5.2.3-2", "cRLNumber is critical")
        ctx.check(0 <= num.value.crl_number < (1 << 159), "RFC5280:5.2.3-3",
                  "cRLNumber is negative or longer than 20 octets")
    if ca is not None:
        ctx.check(crl.issuer == ca.subject, "RFC5280:5.1.2.3-2", "the CRL issuer is not the CA")
        try:
            good = crl.is_signature_valid(ca.public_key())
        except Exception as exc:
            ctx.error("RFC5280:5.1.1.3-1", f"cannot verify: {exc}")
            good = True
        ctx.check(good, "RFC5280:5.1.1.3-1", "the CRL signature does not verify with the CA key")
        ku = ext_or_none(ca, ExtensionOID.KEY_USAGE)
        if ku is not None:
            ctx.check(ku.value.crl_sign, "RFC5280:4.2.1.3-6", "the CA key usage lacks cRLSign")
    else:
        ctx.notice("lint", "no --ca: the CRL signature was not checked")


# --- OCSP responses -----------------------------------------------------------
STATUS_NAMES = {0: "successful", 1: "malformedRequest", 2: "internalError", 3: "tryLater",
                5: "sigRequired", 6: "unauthorized"}


class CertHash(univ.Sequence):
    """Common PKI (ISIS-MTT) Part 4: the certHash OCSP single extension."""
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("hashAlgorithm", rfc5280.AlgorithmIdentifier()),
        namedtype.NamedType("certificateHash", univ.OctetString()),
    )


def lint_cert_hash(ctx, value, status, serial, ca, certs):
    """certHash: a known hash of the certificate the CertID names; only in
    good and revoked answers (the responder knows that certificate)."""
    try:
        ch, rest = der_decoder.decode(value, asn1Spec=CertHash())
        if rest:
            raise PyAsn1Error("trailing bytes")
    except PyAsn1Error as exc:
        ctx.error("CommonPKI-4:certHash-1", f"serial {serial:x}: certHash does not parse: {exc}")
        return
    alg = HASH_NAMES.get(str(ch["hashAlgorithm"]["algorithm"]))
    if not ctx.check(alg in ("sha256", "sha384", "sha512"), "CommonPKI-4:certHash-2",
                     f"serial {serial:x}: certHash algorithm {ch['hashAlgorithm']['algorithm']} "
                     "is not SHA-256/384/512"):
        return
    digest = bytes(ch["certificateHash"])
    ctx.check(len(digest) == hashlib.new(alg).digest_size, "CommonPKI-4:certHash-1",
              f"serial {serial:x}: certHash of {len(digest)} octets for {alg}")
    ctx.check(status != "unknown", "CommonPKI-4:certHash-3",
              f"serial {serial:x}: certHash in an unknown answer")
    for c in certs:
        if c.serial_number == serial and (ca is None or c.issuer == ca.subject):
            der = c.public_bytes(serialization.Encoding.DER)
            ctx.check(hashlib.new(alg, der).digest() == digest, "CommonPKI-4:certHash-4",
                      f"serial {serial:x}: certHash is not the {alg} of the certificate given")
            return
    ctx.notice("lint", f"serial {serial:x}: certHash present, no --cert to compare it with")


def lint_ocsp_response(ctx, der, ca, request, now, given=()):
    try:
        outer, rest = der_decoder.decode(der, asn1Spec=rfc2560.OCSPResponse())
    except PyAsn1Error as exc:
        ctx.error("RFC6960:4.2.1-1", f"OCSP response does not parse: {exc}")
        return
    ctx.notice("profile", "detected: OCSP response")
    if rest:
        ctx.error("RFC6960:4.2.1-1", "trailing bytes after the OCSP response")
    status = int(outer["responseStatus"])
    if status != 0:
        ctx.error("RFC6960:4.2.1-2", f"responseStatus is {STATUS_NAMES.get(status, status)}, not successful")
        ctx.check(not outer["responseBytes"].isValue, "RFC6960:4.2.1-3",
                  "an unsuccessful response carries responseBytes")
        return
    rb = outer["responseBytes"]
    if not ctx.check(rb.isValue, "RFC6960:4.2.1-3", "a successful response without responseBytes"):
        return
    ctx.check(str(rb["responseType"]) == OID_OCSP_BASIC, "RFC6960:4.2.1-4",
              f"responseType {rb['responseType']} is not id-pkix-ocsp-basic")
    try:
        basic, _ = der_decoder.decode(bytes(rb["response"]), asn1Spec=rfc2560.BasicOCSPResponse())
        resp = ocsp.load_der_ocsp_response(der)
    except (PyAsn1Error, ValueError) as exc:
        ctx.error("RFC6960:4.2.1-5", f"BasicOCSPResponse does not parse: {exc}")
        return
    rd = basic["tbsResponseData"]
    ctx.check(int(rd["version"]) == 0, "RFC6960:4.2.1-6", "ResponseData version is not v1")
    produced_raw = str(rd["producedAt"])
    check_generalized_time(ctx, produced_raw, "producedAt", "RFC6960:4.2.1-7")
    produced = rd["producedAt"].asDateTime.replace(tzinfo=None)
    # signer
    signer = None
    certs = list(resp.certificates)
    rid = rd["responderID"]
    if rid.getName() == "byKey":
        key_hash = bytes(rid.getComponent())
        ctx.check(len(key_hash) == 20, "RFC6960:4.2.1-8", "responderID byKey is not a SHA-1 hash")
        for c in certs + ([ca] if ca is not None else []):
            if spki_key_sha1(c) == key_hash:
                signer = c
                break
    else:
        name_der = der_encoder.encode(rid.getComponent())
        for c in certs + ([ca] if ca is not None else []):
            if c.subject.public_bytes() == name_der:
                signer = c
                break
    if not ctx.check(signer is not None, "RFC6960:4.2.2.2-4",
                     "no certificate in the response (or --ca) matches the responderID"):
        return
    try:
        good = verify_signature(signer.public_key(), resp.signature, resp.tbs_response_bytes,
                                resp.signature_hash_algorithm,
                                resp.signature_algorithm_oid.dotted_string)
    except Exception as exc:
        good = False
        ctx.error("RFC6960:4.2.1-9", f"cannot verify the signature: {exc}")
    ctx.check(good, "RFC6960:4.2.1-9", "the response signature does not verify with the signer's key")
    if ca is not None and signer is not ca:
        sf = CertFacts(signer)
        ctx.check(signer.issuer == ca.subject, "RFC6960:4.2.2.2-3", "the delegated signer is not issued by the CA")
        try:
            sig_ok = verify_signature(ca.public_key(), signer.signature, signer.tbs_certificate_bytes,
                                      signer.signature_hash_algorithm,
                                      signer.signature_algorithm_oid.dotted_string)
        except Exception:
            sig_ok = False
        ctx.check(sig_ok, "RFC6960:4.2.2.2-3", "the delegated signer's certificate is not signed by the CA")
        ctx.check(sf.is_ocsp, "RFC6960:4.2.2.2-1", "the delegated signer has no id-kp-OCSPSigning")
        ctx.check(signer.not_valid_before <= produced <= signer.not_valid_after, "RFC6960:4.2.2.2-5",
                  "producedAt is outside the signer's validity")
    elif ca is None:
        ctx.notice("lint", "no --ca: the signer's authority was not checked")
    # single responses
    nresp = 0
    for sr in rd["responses"]:
        nresp += 1
        cid = sr["certID"]
        halg = str(cid["hashAlgorithm"]["algorithm"])
        names = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256",
                 "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
        ctx.check(names.get(halg) in CERTID_HASHES, "RFC6960:4.1.1-1",
                  f"CertID hash algorithm {halg} is not SHA-1/SHA-2")
        serial = int(cid["serialNumber"])
        if ca is not None and names.get(halg):
            h = hashlib.new(names[halg])
            h.update(ca.subject.public_bytes())
            ctx.check(bytes(cid["issuerNameHash"]) == h.digest(), "RFC6960:4.1.1-2",
                      f"serial {serial:x}: issuerNameHash is not the CA's")
            kh = hashlib.new(names[halg])
            spki, _ = der_decoder.decode(
                ca.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo),
                asn1Spec=rfc5280.SubjectPublicKeyInfo())
            kh.update(spki["subjectPublicKey"].asOctets())
            ctx.check(bytes(cid["issuerKeyHash"]) == kh.digest(), "RFC6960:4.1.1-2",
                      f"serial {serial:x}: issuerKeyHash is not the CA's")
        tu_raw = str(sr["thisUpdate"])
        check_generalized_time(ctx, tu_raw, "thisUpdate", "RFC6960:4.2.1-7")
        tu = sr["thisUpdate"].asDateTime.replace(tzinfo=None)
        ctx.check(tu <= produced, "RFC6960:4.2.2.1-1", f"thisUpdate {tu} is after producedAt {produced}")
        if now is not None:
            ctx.check(tu <= now + datetime.timedelta(minutes=5), "RFC6960:4.2.2.1-2",
                      f"thisUpdate {tu} is in the future")
        if ctx.check(sr["nextUpdate"].isValue, "RFC6960:4.2.2.1-3",
                     "no nextUpdate (RFC 5019 responders set it)", "warning"):
            nu_raw = str(sr["nextUpdate"])
            check_generalized_time(ctx, nu_raw, "nextUpdate", "RFC6960:4.2.1-7")
            nu = sr["nextUpdate"].asDateTime.replace(tzinfo=None)
            ctx.check(nu > tu, "RFC6960:4.2.2.1-4", f"nextUpdate {nu} is not after thisUpdate {tu}")
            if now is not None:
                ctx.check(nu >= now, "RFC6960:4.2.2.1-5", f"the response expired (nextUpdate {nu})")
        st = sr["certStatus"]
        kind = st.getName()
        if kind == "revoked":
            ri = st.getComponent()
            check_generalized_time(ctx, str(ri["revocationTime"]), "revocationTime", "RFC6960:4.2.1-7")
            rt = ri["revocationTime"].asDateTime.replace(tzinfo=None)
            ctx.check(rt <= produced, "RFC6960:4.2.1-10", "revocationTime is after producedAt")
            if ri["revocationReason"].isValue:
                ctx.check(int(ri["revocationReason"]) != 0, "RFC5280:5.3.1-1",
                          "revocationReason unspecified (omit it)", "warning")
        if sr["singleExtensions"].isValue:
            for e in sr["singleExtensions"]:
                if str(e["extnID"]) == OID_OCSP_ARCHIVE_CUTOFF:
                    try:
                        t, _ = der_decoder.decode(bytes(e["extnValue"]), asn1Spec=useful.GeneralizedTime())
                        check_generalized_time(ctx, str(t), "archiveCutoff", "RFC6960:4.4.4-1")
                        ctx.check(t.asDateTime.replace(tzinfo=None) <= produced, "RFC6960:4.4.4-2",
                                  "archiveCutoff is after producedAt")
                    except PyAsn1Error:
                        ctx.error("RFC6960:4.4.4-1", "archiveCutoff is not a GeneralizedTime")
                elif str(e["extnID"]) == OID_CERT_HASH:
                    lint_cert_hash(ctx, bytes(e["extnValue"]), kind, serial, ca, given)
    ctx.check(nresp > 0, "RFC6960:4.2.1-11", "no SingleResponse")
    # response extensions: nonce
    resp_nonce = None
    if rd["responseExtensions"].isValue:
        for e in rd["responseExtensions"]:
            if str(e["extnID"]) == OID_OCSP_NONCE:
                resp_nonce = bytes(e["extnValue"])
                ctx.check(not bool(e["critical"]), "RFC6960:4.4.1-1", "nonce extension is critical",
                          "warning")
                try:
                    inner, _ = der_decoder.decode(resp_nonce, asn1Spec=univ.OctetString())
                    ctx.check(1 <= len(inner) <= 32, "RFC8954:2.1-1",
                              f"nonce of {len(inner)} octets (1..32 expected)", "warning")
                except PyAsn1Error:
                    ctx.warning("RFC8954:2.1-2", "nonce is not an OCTET STRING")
    if request is not None:
        try:
            req, _ = der_decoder.decode(request, asn1Spec=rfc2560.OCSPRequest())
        except PyAsn1Error as exc:
            ctx.error("lint", f"--request does not parse: {exc}")
            return
        req_nonce = None
        tr = req["tbsRequest"]
        if tr["requestExtensions"].isValue:
            for e in tr["requestExtensions"]:
                if str(e["extnID"]) == OID_OCSP_NONCE:
                    req_nonce = bytes(e["extnValue"])
        if req_nonce is not None:
            ctx.check(resp_nonce == req_nonce, "RFC6960:4.4.1-2",
                      "the request nonce is not echoed in the response")
        asked = [der_encoder.encode(r["reqCert"]) for r in tr["requestList"]]
        got = [der_encoder.encode(sr["certID"]) for sr in rd["responses"]]
        for a in asked:
            ctx.check(a in got, "RFC6960:4.2.2.3-1", "a requested CertID is not answered")


# --- time-stamp responses (RFC 3161, RFC 5816, RFC 5652, EN 319 422) ----------
TS_STATUS = {0: "granted", 1: "grantedWithMods", 2: "rejection", 3: "waiting",
             4: "revocationWarning", 5: "revocationNotification"}


def cms_signed_attrs_der(si, whole):
    """The DER of the signed attributes as signed (RFC 5652 5.4: the SET OF
    tag, not the [0] IMPLICIT one); None when the token does not carry them
    in DER."""
    enc = der_encoder.encode(si["signedAttrs"])
    if enc not in whole:
        return None
    return b"\x31" + enc[1:]


def opt(seq, field):
    """An optional component of a decoded SEQUENCE, or None when absent
    (reading it with [] would make an empty one)."""
    v = seq.getComponentByName(field, instantiate=False)
    return None if v is univ.noValue or not v.isValue else v


def lint_timestamp_response(ctx, der, ca, query, certs, qualified, now):
    try:
        resp, rest = der_decoder.decode(der, asn1Spec=rfc3161.TimeStampResp())
    except PyAsn1Error as exc:
        ctx.error("RFC3161:2.4.2-1", f"TimeStampResp does not parse: {exc}")
        return
    ctx.notice("profile", "detected: time-stamp response")
    if rest:
        ctx.error("RFC3161:2.4.2-1", "trailing bytes after the TimeStampResp")
    status = int(resp["status"]["status"])
    if not ctx.check(status == 0, "RFC3161:2.4.2-2",
                     f"status is {TS_STATUS.get(status, status)}, not granted"):
        ctx.check(not resp["timeStampToken"].isValue or status == 1, "RFC3161:2.4.2-3",
                  "a refused response carries a token")
        return
    ctx.check(not resp["status"]["failInfo"].isValue, "RFC3161:2.4.2-3",
              "a granted response carries failInfo")
    tok = resp["timeStampToken"]
    if not ctx.check(tok.isValue, "RFC3161:2.4.2-3", "a granted response without timeStampToken"):
        return
    if not ctx.check(str(tok["contentType"]) == OID_SIGNED_DATA, "RFC3161:2.4.2-4",
                     f"the token's contentType {tok['contentType']} is not id-signedData"):
        return
    try:
        sd, rest = der_decoder.decode(bytes(tok["content"]), asn1Spec=rfc5652.SignedData())
        if rest:
            raise PyAsn1Error("trailing bytes")
    except PyAsn1Error as exc:
        ctx.error("RFC5652:5.1-1", f"SignedData does not parse: {exc}")
        return
    ctx.check(int(sd["version"]) == 3, "RFC5652:5.1-2",
              f"SignedData version {int(sd['version'])}, 3 expected (eContentType is not id-data)")
    encap = sd["encapContentInfo"]
    if not ctx.check(str(encap["eContentType"]) == OID_TST_INFO, "RFC3161:2.4.2-5",
                     f"eContentType {encap['eContentType']} is not id-ct-TSTInfo"):
        return
    if not ctx.check(encap["eContent"].isValue, "RFC3161:2.4.2-5", "no eContent (TSTInfo)"):
        return
    econtent = bytes(encap["eContent"])
    try:
        tst, rest = der_decoder.decode(econtent, asn1Spec=rfc3161.TSTInfo())
        if rest:
            raise PyAsn1Error("trailing bytes")
    except PyAsn1Error as exc:
        ctx.error("RFC3161:2.4.2-6", f"TSTInfo does not parse: {exc}")
        return
    # the optional fields, read before anything (the encoder) fills them in
    acc, gn, tst_exts = opt(tst, "accuracy"), opt(tst, "tsa"), opt(tst, "extensions")
    ctx.check(der_encoder.encode(tst) == econtent, "RFC3161:2.4.2-6",
              "TSTInfo is not DER (re-encoding differs)")
    # TSTInfo fields
    ctx.check(int(tst["version"]) == 1, "RFC3161:2.4.2-7", f"TSTInfo version {int(tst['version'])}, not v1")
    ctx.check(len(str(tst["policy"])) > 0, "RFC3161:2.4.2-8", "no policy")
    serial = int(tst["serialNumber"])
    ctx.check(serial > 0, "RFC3161:2.4.2-9", "serialNumber is not positive")
    ctx.check(serial.bit_length() <= 160, "RFC3161:2.4.2-9", "serialNumber is longer than 160 bits")
    raw = str(tst["genTime"])
    if ctx.check(re.fullmatch(r"\d{14}(\.\d*[1-9])?Z", raw) is not None, "RFC3161:2.4.2-10",
                 f"genTime '{raw}' is not YYYYMMDDhhmmss[.s...]Z without trailing zeros"):
        gen = tst["genTime"].asDateTime.replace(tzinfo=None)
        if now is not None:
            ctx.check(gen <= now + datetime.timedelta(minutes=5), "RFC3161:2.4.2-10",
                      f"genTime {gen} is in the future")
    else:
        gen = None
    if ctx.check(acc is not None, "EN319421:7.7.1-1", "no accuracy (the TSA states its accuracy)"):
        secs = int(acc["seconds"]) if acc["seconds"].isValue else 0
        ms = int(acc["millis"]) if acc["millis"].isValue else 0
        us = int(acc["micros"]) if acc["micros"].isValue else 0
        ctx.check(secs >= 0 and (acc["seconds"].isValue or acc["millis"].isValue or
                                 acc["micros"].isValue), "RFC3161:2.4.2-11",
                  "accuracy is empty or negative")
        total = secs + ms / 1e3 + us / 1e6
        ctx.check(total <= 1, "EN319421:7.7.1-2", f"accuracy of {total} s (1 s or better expected)",
                  "warning")
    if gn is not None:
        # directoryName is [4] EXPLICIT Name: encode the RDNSequence inside
        tsa_name = (der_encoder.encode(gn.getComponent().getComponent())
                    if gn.getName() == "directoryName" else b"")
    else:
        tsa_name = None
    # the query
    if query is not None:
        try:
            q, _ = der_decoder.decode(query, asn1Spec=rfc3161.TimeStampReq())
        except PyAsn1Error as exc:
            ctx.error("lint", f"--query does not parse: {exc}")
            q = None
        if q is not None:
            if q["nonce"].isValue:
                ctx.check(tst["nonce"].isValue and int(tst["nonce"]) == int(q["nonce"]),
                          "RFC3161:2.4.2-12", "the query's nonce is not echoed")
            ctx.check(der_encoder.encode(tst["messageImprint"]) == der_encoder.encode(q["messageImprint"]),
                      "RFC3161:2.4.2-13", "messageImprint differs from the query's")
            if q["reqPolicy"].isValue:
                ctx.check(str(q["reqPolicy"]) == str(tst["policy"]), "RFC3161:2.4.2-8",
                          "policy differs from the query's reqPolicy")
            want_certs = bool(q["certReq"])
            ctx.check(sd["certificates"].isValue == want_certs, "RFC3161:2.4.1-1",
                      "certReq was set but the token has no certificates" if want_certs else
                      "certReq was not set but the token carries certificates")
    # qcStatements: esi4-qtstStatement-1 (EN 319 422 9.1, annex B)
    qc_found = False
    if tst_exts is not None:
        for e in tst_exts:
            if str(e["extnID"]) != OID_QC_STATEMENTS:
                ctx.check(not bool(e["critical"]), "RFC3161:2.4.2-14",
                          f"critical TSTInfo extension {e['extnID']}")
                continue
            ctx.check(not bool(e["critical"]), "EN319422:9.1-2", "qcStatements is critical")
            try:
                stmts, _ = der_decoder.decode(bytes(e["extnValue"]), asn1Spec=QCStatements())
                ids = [str(st["statementId"]) for st in stmts]
            except PyAsn1Error as exc:
                ctx.error("EN319422:9.1-1", f"qcStatements does not parse: {exc}")
                ids = []
            qc_found = OID_QTST_STATEMENT in ids
            ctx.check(qc_found, "EN319422:9.1-1",
                      "qcStatements without esi4-qtstStatement-1 (0.4.0.19422.1.1)")
    if qualified:
        ctx.check(qc_found, "EN319422:9.1-1",
                  "a qualified time stamp without the esi4-qtstStatement-1 qcStatement")
    # one signer, the TSA
    sis = list(sd["signerInfos"])
    if not ctx.check(len(sis) == 1, "RFC3161:2.4.2-15",
                     f"{len(sis)} SignerInfos (only the TSA's signature is allowed)"):
        if not sis:
            return
    si = sis[0]
    sid = si["sid"]
    pool = []
    if sd["certificates"].isValue:
        for cc in sd["certificates"]:
            if cc.getName() == "certificate":
                try:
                    pool.append(x509.load_der_x509_certificate(der_encoder.encode(cc.getComponent())))
                except ValueError:
                    ctx.error("RFC5652:10.2.2-1", "a certificate in the token does not parse")
    pool += list(certs)
    tsa = None
    for c in pool:
        if sid.getName() == "issuerAndSerialNumber":
            ias = sid.getComponent()
            if (int(ias["serialNumber"]) == c.serial_number and
                    der_encoder.encode(ias["issuer"]) == c.issuer.public_bytes()):
                tsa = c
                break
        else:
            s = ext_or_none(c, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
            if s is not None and s.value.digest == bytes(sid.getComponent()):
                tsa = c
                break
    if not ctx.check(tsa is not None, "RFC3161:2.4.2-16",
                     "the TSA certificate is neither in the token nor given with --cert"):
        return
    tf = CertFacts(tsa)
    ctx.check(tf.eku == [ExtendedKeyUsageOID.TIME_STAMPING.dotted_string], "RFC3161:2.3-1",
              "the signer's extKeyUsage is not id-kp-timeStamping alone")
    ctx.check(tf.eku_critical, "RFC3161:2.3-2", "the signer's extKeyUsage is not critical")
    if gen is not None:
        ctx.check(tsa.not_valid_before <= gen <= tsa.not_valid_after, "RFC3161:4-1",
                  "genTime is outside the TSA certificate's validity")
    if tsa_name is not None:
        ctx.check(tsa_name == tsa.subject.public_bytes(), "RFC3161:2.4.2-17",
                  "the tsa field is not the TSA certificate's subject")
    if ca is not None:
        ctx.check(tsa.issuer == ca.subject, "RFC5280:4.1.2.4-2", "the TSA certificate is not issued by the CA")
        try:
            ok = verify_signature(ca.public_key(), tsa.signature, tsa.tbs_certificate_bytes,
                                  tsa.signature_hash_algorithm, tsa.signature_algorithm_oid.dotted_string)
        except Exception:
            ok = False
        ctx.check(ok, "RFC5280:4.1.1.3-1", "the TSA certificate is not signed by the CA")
    # signed attributes
    if not ctx.check(si["signedAttrs"].isValue, "RFC5652:5.3-1", "no signed attributes"):
        return
    attrs = {}
    for a in si["signedAttrs"]:
        oid = str(a["attrType"])
        ctx.check(oid not in attrs, "RFC5652:5.3-2", f"signed attribute {oid} appears twice")
        vals = list(a["attrValues"])
        ctx.check(len(vals) == 1, "RFC5652:11-1", f"signed attribute {oid} has {len(vals)} values")
        attrs[oid] = bytes(vals[0]) if vals else b""
    dalg = HASH_NAMES.get(str(si["digestAlgorithm"]["algorithm"]))
    if not ctx.check(dalg in ("sha256", "sha384", "sha512"), "RFC5652:5.3-3",
                     f"digestAlgorithm {si['digestAlgorithm']['algorithm']} is not SHA-2"):
        return
    ct = attrs.get(OID_ATTR_CONTENT_TYPE)
    if ctx.check(ct is not None, "RFC5652:11.1-1", "no content-type attribute"):
        try:
            v, _ = der_decoder.decode(ct, asn1Spec=univ.ObjectIdentifier())
            ctx.check(str(v) == OID_TST_INFO, "RFC5652:11.1-1", "content-type is not id-ct-TSTInfo")
        except PyAsn1Error:
            ctx.error("RFC5652:11.1-1", "content-type is not an OID")
    md = attrs.get(OID_ATTR_MESSAGE_DIGEST)
    if ctx.check(md is not None, "RFC5652:11.2-1", "no message-digest attribute"):
        try:
            v, _ = der_decoder.decode(md, asn1Spec=univ.OctetString())
            ctx.check(bytes(v) == hashlib.new(dalg, econtent).digest(), "RFC5652:11.2-1",
                      "message-digest is not the digest of the TSTInfo")
        except PyAsn1Error:
            ctx.error("RFC5652:11.2-1", "message-digest is not an OCTET STRING")
    scv2 = attrs.get(OID_ATTR_SIGNING_CERT_V2)
    if ctx.check(scv2 is not None, "RFC5816:2.2.1-1",
                 "no signing-certificate-v2 attribute (ESSCertIDv2)"):
        try:
            v, _ = der_decoder.decode(scv2, asn1Spec=rfc5035.SigningCertificateV2())
            first_id = v["certs"][0]
            halg = HASH_NAMES.get(str(first_id["hashAlgorithm"]["algorithm"]))
            tder = tsa.public_bytes(serialization.Encoding.DER)
            ctx.check(halg is not None and halg != "sha1", "RFC5816:2.2.1-2",
                      f"ESSCertIDv2 hash algorithm {first_id['hashAlgorithm']['algorithm']}")
            if halg:
                ctx.check(bytes(first_id["certHash"]) == hashlib.new(halg, tder).digest(),
                          "RFC5816:2.2.1-3", f"ESSCertIDv2 certHash is not the {halg} of the TSA certificate")
            if first_id["issuerSerial"].isValue:
                ctx.check(int(first_id["issuerSerial"]["serialNumber"]) == tsa.serial_number,
                          "RFC5035:4-1", "ESSCertIDv2 issuerSerial names another serial")
        except (PyAsn1Error, IndexError) as exc:
            ctx.error("RFC5816:2.2.1-1", f"signing-certificate-v2 does not parse: {exc}")
    if OID_ATTR_SIGNING_CERT in attrs:
        ctx.notice("RFC5816:2.2.1-4", "signing-certificate (v1, SHA-1) beside or instead of v2")
    # the signature
    signed = cms_signed_attrs_der(si, bytes(tok["content"]))
    if not ctx.check(signed is not None, "RFC5652:5.4-1", "the signed attributes are not DER encoded"):
        return
    sig_oid = str(si["signatureAlgorithm"]["algorithm"])
    try:
        good = verify_signature(tsa.public_key(), bytes(si["signature"]), signed,
                                CRYPTO_HASHES[dalg](), sig_oid)
    except Exception as exc:
        good = False
        ctx.error("RFC5652:5.6-1", f"cannot verify the signature: {exc}")
    ctx.check(good, "RFC5652:5.6-1", "the token signature does not verify with the TSA certificate's key")


# --- driver -------------------------------------------------------------------
def load_cert_file(path):
    data = open(path, "rb").read()
    blocks = pem_blocks(data)
    for label, der in blocks:
        if label == "CERTIFICATE":
            return x509.load_der_x509_certificate(der)
    return x509.load_der_x509_certificate(data)


def classify(data):
    """[(kind, der)] for the objects in a file."""
    blocks = pem_blocks(data)
    if blocks:
        out = []
        for label, der in blocks:
            if label in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                out.append(("cert", der))
            elif label == "X509 CRL":
                out.append(("crl", der))
            elif label == "OCSP RESPONSE":
                out.append(("ocsp", der))
            else:
                out.append(("unknown:" + label, der))
        return out
    for kind, spec in (("cert", rfc5280.Certificate()), ("crl", rfc5280.CertificateList()),
                       ("ocsp", rfc2560.OCSPResponse()), ("tsr", rfc3161.TimeStampResp())):
        try:
            _, rest = der_decoder.decode(data, asn1Spec=spec)
            if not rest:
                return [(kind, data)]
        except PyAsn1Error:
            continue
    return [("unknown:DER", data)]


def main(argv):
    ap = argparse.ArgumentParser(description="Lint certificates, CRLs, OCSP and time-stamp "
                                 "responses against RFC 5280/6960/3161/5816 and ETSI EN 319 "
                                 "411/412/422 profiles.")
    ap.add_argument("--ca", help="the issuing CA certificate (PEM or DER)")
    ap.add_argument("--request", help="the OCSP request (DER) the response answers (nonce, CertIDs)")
    ap.add_argument("--query", help="the time-stamp query (DER .tsq) a .tsr answers (nonce, "
                    "imprint, policy, certReq)")
    ap.add_argument("--cert", action="append", default=[],
                    help="a certificate the objects refer to: the TSA certificate of a token "
                    "without one, the certificate an OCSP certHash is of (repeatable)")
    ap.add_argument("--qualified", action="store_true",
                    help="time-stamp tokens must be qualified (esi4-qtstStatement-1)")
    ap.add_argument("--now", help="check times against this UTC time (YYYY-MM-DDTHH:MM:SS); "
                    "'none' skips the checks against the current time")
    ap.add_argument("-q", "--quiet", action="store_true", help="do not print notices")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    ca = load_cert_file(args.ca) if args.ca else None
    request = open(args.request, "rb").read() if args.request else None
    query = open(args.query, "rb").read() if args.query else None
    certs = [load_cert_file(c) for c in args.cert]
    if args.now == "none":
        now = None
    elif args.now:
        now = datetime.datetime.fromisoformat(args.now)
    else:
        now = utcnow()
    report = Report()
    if args.quiet:
        orig = report.add

        def add(level, name, rule, msg):
            if level != "notice":
                orig(level, name, rule, msg)
        report.add = add
    for path in args.files:
        ctx = Ctx(report, path)
        try:
            data = open(path, "rb").read()
        except OSError as exc:
            ctx.error("lint", f"cannot read: {exc}")
            continue
        for kind, der in classify(data):
            if kind == "cert":
                issuer = ca
                lint_certificate(ctx, der, issuer, now)
            elif kind == "crl":
                lint_crl(ctx, der, ca, now)
            elif kind == "ocsp":
                lint_ocsp_response(ctx, der, ca, request, now, certs)
            elif kind == "tsr":
                lint_timestamp_response(ctx, der, ca, query, certs, args.qualified, now)
            else:
                ctx.error("lint", f"not a certificate, CRL, OCSP or time-stamp response ({kind})")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
