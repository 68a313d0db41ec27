"""Certificate requests (PKCS#10): loading every form administrators hand over (PEM, DER, the
base64 `.req` that Windows `certreq` and the Lync wizard write, with or without armor, UTF-16
or UTF-8) and reading the AD CS certificate-template name a request carries.

The template name is read from, in order: the `szOID_ENROLL_CERTTYPE_EXTENSION` extension
(1.3.6.1.4.1.311.20.2, a BMPString name), the `szOID_ENROLLMENT_NAME_VALUE_PAIR` attribute
(1.3.6.1.4.1.311.13.2.1, `CertificateTemplate:<name>`) and the `szOID_CERTIFICATE_TEMPLATE`
extension (1.3.6.1.4.1.311.21.7, a template OID). ASN.1 is decoded with pyasn1, never by hand.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID, NameOID, ObjectIdentifier
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, namedtype, univ

from lyncpki.errors import LyncPkiError
from lyncpki.x509.forms import (
    PEM_BLOCK,
    UNREADABLE,
    kind_of_der,
    kind_of_pem,
    plain_reason,
    text_of,
)
from lyncpki.x509.keys import PrivateKey

OID_ENROLL_CERTTYPE = ObjectIdentifier("1.3.6.1.4.1.311.20.2")
OID_CERTIFICATE_TEMPLATE = ObjectIdentifier("1.3.6.1.4.1.311.21.7")
OID_ENROLLMENT_NAME_VALUE_PAIR = ObjectIdentifier("1.3.6.1.4.1.311.13.2.1")
_TEMPLATE_OIDS = frozenset({OID_ENROLL_CERTTYPE, OID_CERTIFICATE_TEMPLATE})

_ARMOR = re.compile(
    r"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(?P<body>.*?)-----END (?:NEW )?CERTIFICATE "
    r"REQUEST-----",
    re.DOTALL,
)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
MAX_REQUEST_BYTES = 64 * 1024  # a CSR with 1,000 SANs is about 30 KB


class _NameValuePair(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("name", char.BMPString()),
        namedtype.NamedType("value", char.BMPString()),
    )


class _TemplateOid(univ.Sequence):
    componentType = namedtype.NamedTypes(
        namedtype.NamedType("templateID", univ.ObjectIdentifier()),
        namedtype.NamedType("templateMajorVersion", univ.Integer()),
        namedtype.OptionalNamedType("templateMinorVersion", univ.Integer()),
    )


class RequestError(LyncPkiError):
    """A request that cannot be read."""


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """A request as read: the parsed PKCS#10, its subject (pyca builds a new Name at every
    access of `csr.subject`) and the subject as RFC 4514 text, each computed once."""

    csr: x509.CertificateSigningRequest
    subject: x509.Name
    subject_text: str


_PEM_ARMORS = (b"-----BEGIN CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----")


def read_request(data: bytes, source: str = "the request") -> ReadRequest:
    """Parse a PKCS#10 request given as PEM (either armor), DER, or bare base64, and read its
    subject (names are decoded lazily: a broken one is refused here, not when signing)."""
    if len(data) > MAX_REQUEST_BYTES:
        raise RequestError(
            f"{source} is {len(data)} bytes, larger than any certificate request "
            f"({MAX_REQUEST_BYTES} at most)",
            "check that this is the .req file and not a certificate bundle or an archive",
        )
    several = data.count(b"-----BEGIN CERTIFICATE REQUEST-----") + data.count(
        b"-----BEGIN NEW CERTIFICATE REQUEST-----"
    )
    if several > 1:  # the first was issued and the others went unnoticed
        raise RequestError(
            f"{source} holds {several} certificate requests",
            "give one request per file (each is issued on its own)",
        )
    csr: x509.CertificateSigningRequest | None = None
    if data.startswith(_PEM_ARMORS):  # the usual form: pyca reads the PEM itself
        try:
            csr = x509.load_pem_x509_csr(data)
        except UNREADABLE:
            csr = None  # the general path below says what is wrong
    if csr is None:
        csr = _parse(data, source)
    try:
        subject = csr.subject
        text = subject.rfc4514_string()
    except UNREADABLE as error:
        raise _invalid(source, error) from None
    return ReadRequest(csr, subject, text)


_TOOLS = "lyncpki request, certreq -new or openssl req -new"
_MAKE_AGAIN = f"make the request again ({_TOOLS})"
_REQUEST_BEGIN = re.compile(r"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----")


def _invalid(source: str, error: Exception) -> RequestError:
    return RequestError(
        f"{source} is not a valid PKCS#10 certificate request ({plain_reason(error)})",
        _MAKE_AGAIN,
    )


def _not_a_request(source: str, kind: str) -> RequestError:
    return RequestError(
        f"{source} is {kind}, not a certificate request",
        f"give the request (.req, .csr) made with the server's key ({_TOOLS}); certificates, "
        "chains and .pfx files are imported with lyncpki import",
    )


def _parse(data: bytes, source: str) -> x509.CertificateSigningRequest:
    text = text_of(data)
    if not data.strip() or (text is not None and not text.strip()):
        raise RequestError(f"{source} is empty", "give the .req/.csr file the wizard wrote")
    der = data if text is None else _der_of_text(text, source)
    try:
        return x509.load_der_x509_csr(der)
    except UNREADABLE as error:
        kind = kind_of_der(der)
        raise (_not_a_request(source, kind) if kind else _invalid(source, error)) from None


def _der_of_text(text: str, source: str) -> bytes:
    """The DER of a request given as text: PEM (either armor) or bare base64."""
    if "-----BEGIN" in text:
        match = _ARMOR.search(text)
        if match is None:
            raise _other_pem(text, source)
        body = match.group("body")
    elif _BASE64.match(text):
        body = text
    else:
        raise _no_request_text(source)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as error:
        if body is text and not text.lstrip().startswith("MI"):  # a request's DER does
            raise _no_request_text(source) from None  # text that only looks like it ("hello")
        raise RequestError(
            f"{source}: the base64 text is damaged ({error})",
            "copy the request again, whole, from BEGIN to END",
        ) from None
    if body is text and not der.startswith(b"\x30"):  # decodes, but to no DER at all
        raise _no_request_text(source)
    return der


def _no_request_text(source: str) -> RequestError:
    return RequestError(
        f"{source} is text but no certificate request: neither PEM (-----BEGIN NEW "
        "CERTIFICATE REQUEST-----) nor a request's base64",
        f"give the .req file the wizard, certreq or openssl req wrote, unchanged ({_TOOLS})",
    )


def _other_pem(text: str, source: str) -> RequestError:
    """The refusal of PEM text holding no whole request: a request cut short (its BEGIN has no
    END), or what the file holds instead."""
    blocks = PEM_BLOCK.findall(text)
    if _REQUEST_BEGIN.search(text) or not blocks:
        return RequestError(
            f"{source}: the PEM armor is damaged (BEGIN without a matching END)",
            "copy the request again, whole, from BEGIN to END",
        )
    return _not_a_request(source, kind_of_pem(*blocks[0]))


def _bmp(value: bytes) -> str | None:
    try:
        decoded, rest = decoder.decode(value, asn1Spec=char.BMPString())
    except PyAsn1Error:
        return None
    return str(decoded) if not rest else None


def requested_template(csr: x509.CertificateSigningRequest) -> str | None:
    """The AD CS template name or OID the request names, or None."""
    try:
        extensions = list(csr.extensions)
    except UNREADABLE:
        extensions = []
    if not csr.attributes and not any(e.oid in _TEMPLATE_OIDS for e in extensions):
        return None  # the usual request: nothing to decode
    for extension in extensions:
        if extension.oid == OID_ENROLL_CERTTYPE and isinstance(
            extension.value, x509.UnrecognizedExtension
        ):
            name = _bmp(extension.value.value)
            if name:
                return name.strip()
    try:
        attribute = csr.attributes.get_attribute_for_oid(OID_ENROLLMENT_NAME_VALUE_PAIR)
    except (x509.AttributeNotFound, ValueError):
        attribute = None
    if attribute is not None:
        try:
            pair, _ = decoder.decode(attribute.value, asn1Spec=_NameValuePair())
        except PyAsn1Error:
            pair = None
        if pair is not None and str(pair["name"]).strip().lower() == "certificatetemplate":
            return str(pair["value"]).strip()
    for extension in extensions:
        if extension.oid == OID_CERTIFICATE_TEMPLATE and isinstance(
            extension.value, x509.UnrecognizedExtension
        ):
            try:
                template, _ = decoder.decode(extension.value.value, asn1Spec=_TemplateOid())
            except PyAsn1Error:
                continue
            return str(template["templateID"])
    return None


def certificate_dns_names(cert: x509.Certificate) -> set[str]:
    """The DNS names of a certificate's subjectAltName, lowercase (empty when it has none or
    the extension cannot be read)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, *UNREADABLE):
        return set()
    return {n.lower() for n in san.value.get_values_for_type(x509.DNSName)}


def requested_dns_names(csr: x509.CertificateSigningRequest) -> list[str]:
    """The DNS names of the request's subjectAltName extension (empty when it has none)."""
    try:
        san = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except (x509.ExtensionNotFound, *UNREADABLE):
        return []
    return list(san.value.get_values_for_type(x509.DNSName))  # type: ignore[attr-defined]


def common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = values[0].value if values else None
    return value if isinstance(value, str) else None


# X.520 upper bounds (RFC 5280 appendix A: ub-common-name 64, ub-organization-name 64, ...),
# which pyca enforces for CN, and AD CS for all: a longer value can be neither requested nor issued
SUBJECT_LIMITS = {
    NameOID.COMMON_NAME: 64,
    NameOID.ORGANIZATION_NAME: 64,
    NameOID.ORGANIZATIONAL_UNIT_NAME: 64,
    NameOID.LOCALITY_NAME: 128,
    NameOID.STATE_OR_PROVINCE_NAME: 128,
    NameOID.COUNTRY_NAME: 2,
}


@dataclass(frozen=True, slots=True)
class RequestSubject:
    """What a request asks to be called: the CN, the SANs and the optional O/OU/L/ST/C."""

    common_name: str
    dns_names: tuple[str, ...]
    organization: str | None = None
    unit: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None

    def name(self) -> x509.Name:
        parts = [
            (NameOID.COUNTRY_NAME, self.country),
            (NameOID.STATE_OR_PROVINCE_NAME, self.state),
            (NameOID.LOCALITY_NAME, self.city),
            (NameOID.ORGANIZATION_NAME, self.organization),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, self.unit),
            (NameOID.COMMON_NAME, self.common_name),
        ]
        return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts if value])


def template_extension(template: str) -> x509.UnrecognizedExtension:
    """The szOID_ENROLL_CERTTYPE_EXTENSION naming an AD CS template (as certreq writes it)."""
    return x509.UnrecognizedExtension(OID_ENROLL_CERTTYPE, encoder.encode(char.BMPString(template)))


def build_request(
    key: PrivateKey,
    subject: RequestSubject,
    *,
    template: str | None = None,
    client_auth: bool = False,
    hash_algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None,
) -> x509.CertificateSigningRequest:
    """A signed PKCS#10 request with the SANs, the EKUs asked for and the template name."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    builder = x509.CertificateSigningRequestBuilder().subject_name(subject.name())
    if subject.dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in subject.dns_names]),
            critical=False,
        )
    usages = [ExtendedKeyUsageOID.SERVER_AUTH]
    if client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if template:
        builder = builder.add_extension(template_extension(template), critical=False)
    return builder.sign(key, hash_algorithm or hashes.SHA256())


def request_pem(csr: x509.CertificateSigningRequest, *, certreq_armor: bool = False) -> bytes:
    """PEM text; `certreq_armor` writes the `NEW CERTIFICATE REQUEST` armor of certreq."""
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = csr.public_bytes(Encoding.PEM)
    if certreq_armor:
        pem = pem.replace(b"BEGIN CERTIFICATE REQUEST", b"BEGIN NEW CERTIFICATE REQUEST")
        pem = pem.replace(b"END CERTIFICATE REQUEST", b"END NEW CERTIFICATE REQUEST")
    return pem
