"""Building the CA's certificates: the root, the issuing CA and every issued certificate.

Every certificate carries AKI/SKI, basic constraints, key usage, CRL distribution point and
AIA (caIssuers + OCSP) URLs — the issuing CA's own certificate too (the root's CRL and
certificate), without which Windows SChannel cannot check revocation of any leaf.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from lyncpki.ca.policy import HASH_NAMES, SigningHash
from lyncpki.ca.templates import KEY_USAGES, Template
from lyncpki.errors import LyncPkiError
from lyncpki.x509.keys import PrivateKey, ca_hash_name

BACKDATE = dt.timedelta(minutes=5)  # tolerate clock skew between the CA and relying servers


def random_serial() -> int:
    """A unique random positive serial of 159 bits (RFC 5280: at most 20 octets)."""
    while True:
        serial = secrets.randbits(159)
        if serial >> 63:  # at least 64 bits of entropy shown, never zero
            return serial


def ca_name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


@dataclass(frozen=True, slots=True)
class Urls:
    """Where relying parties fetch the issuer's CRL, certificate and OCSP answers."""

    crl: str
    ca_issuers: str
    ocsp: str | None = None


def key_usage(names: tuple[str, ...], public_key: CertificatePublicKeyTypes) -> x509.KeyUsage:
    return _key_usage_for(names, isinstance(public_key, ec.EllipticCurvePublicKey))


@functools.cache
def _key_usage_for(names: tuple[str, ...], elliptic: bool) -> x509.KeyUsage:
    """Made once per template and key kind (the extension objects are immutable)."""
    wanted = set(names)
    if elliptic:
        wanted.discard("key_encipherment")  # not meaningful for EC keys (RFC 5480)
        wanted.discard("data_encipherment")
    flags = {name: name in wanted for name in KEY_USAGES}
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


@functools.cache
def _basic_constraints(ca: bool, path_length: int | None) -> x509.BasicConstraints:
    return x509.BasicConstraints(ca=ca, path_length=path_length)


@functools.cache
def _extended_key_usage(oids: tuple[x509.ObjectIdentifier, ...]) -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage(oids)


def _distribution(urls: Urls) -> list[x509.Extension[x509.ExtensionType]]:
    access = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(urls.ca_issuers),
        )
    ]
    if urls.ocsp:
        access.insert(
            0,
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(urls.ocsp)
            ),
        )
    cdp = x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(urls.crl)], None, None, None)]
    )
    return [
        x509.Extension(cdp.oid, False, cdp),
        x509.Extension(
            x509.AuthorityInformationAccess.oid, False, x509.AuthorityInformationAccess(access)
        ),
    ]


def self_signed_root(
    key: PrivateKey, name: x509.Name, now: dt.datetime, days: int
) -> x509.Certificate:
    public = key.public_key()
    ski = x509.SubjectKeyIdentifier.from_public_key(public)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(random_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            key_usage(("digital_signature", "key_cert_sign", "crl_sign"), public), critical=True
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
    )
    return builder.sign(key, _hash_for(key, ca_hash_name(key)))


def _hash_for(key: PrivateKey, name: str) -> SigningHash:
    return HASH_NAMES[name]()


def subordinate_ca(
    key: PrivateKey,
    name: x509.Name,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    urls: Urls,
    now: dt.datetime,
    days: int,
) -> x509.Certificate:
    public = key.public_key()
    not_after = min(now + dt.timedelta(days=days), issuer.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject)
        .public_key(public)
        .serial_number(random_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            key_usage(("digital_signature", "key_cert_sign", "crl_sign"), public), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(_aki(issuer), critical=False)
    )
    for extension in _distribution(urls):
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(issuer_key, _hash_for(issuer_key, ca_hash_name(issuer_key)))


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


@dataclass(frozen=True, slots=True)
class Repeated:
    """What every certificate an issuer signs repeats: its name and validity end, the AKI, the
    CRL distribution point and AIA extensions."""

    name: x509.Name
    not_after: dt.datetime
    aki: x509.AuthorityKeyIdentifier
    aki_extension: x509.Extension[x509.ExtensionType]  # these two encoded (see _encoded)
    distribution: tuple[x509.Extension[x509.ExtensionType], ...]


@dataclass(frozen=True, slots=True)
class Issuer:
    """An issuing CA ready to sign: its certificate, key, precomputed AKI and URLs."""

    certificate: x509.Certificate
    key: PrivateKey | None  # None: opened without the passphrase (read-only commands)
    urls: Urls
    _repeated: Repeated | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def repeated(self) -> Repeated:
        """Computed for the first certificate signed, then kept (not per certificate)."""
        repeated = self._repeated
        if repeated is None:
            aki = _aki(self.certificate)
            repeated = Repeated(
                self.certificate.subject,
                self.certificate.not_valid_after_utc,
                aki,
                _encoded(aki, critical=False),
                tuple(_encoded(e.value, e.critical) for e in _distribution(self.urls)),
            )
            object.__setattr__(self, "_repeated", repeated)  # frozen: a cache, set once
        return repeated

    @property
    def aki(self) -> x509.AuthorityKeyIdentifier:
        return self.repeated.aki

    @property
    def signing_key(self) -> PrivateKey:
        if self.key is None:
            raise LyncPkiError(
                "this needs the CA's private key, and the CA was opened without its passphrase",
                "give the passphrase (LYNCPKI_CA_PASSPHRASE, --passphrase-file or the prompt)",
            )
        return self.key


def _extension(value: x509.ExtensionType, critical: bool) -> x509.Extension[x509.ExtensionType]:
    return x509.Extension(value.oid, critical, value)


def _encoded(value: x509.ExtensionType, critical: bool) -> x509.Extension[x509.ExtensionType]:
    """An extension that many certificates repeat, as pyca encodes it (`public_bytes`), kept
    as its DER: the builder then copies those bytes into each certificate instead of
    converting the Python object again (about 15 us a certificate). The certificate's bytes
    are the same either way."""
    return x509.Extension(
        value.oid, critical, x509.UnrecognizedExtension(value.oid, value.public_bytes())
    )


@functools.cache
def _template_extensions(
    is_ca: bool,
    path_length: int | None,
    usages: tuple[str, ...],
    elliptic: bool,
    eku: tuple[x509.ObjectIdentifier, ...],
) -> tuple[
    tuple[x509.Extension[x509.ExtensionType], ...], x509.Extension[x509.ExtensionType] | None
]:
    """A template's basic constraints and key usage (for an EC or another key), and its EKU
    (None without one), encoded once."""
    return (
        (
            _encoded(_basic_constraints(is_ca, path_length), critical=True),
            _encoded(_key_usage_for(usages, elliptic), critical=True),
        ),
        _encoded(_extended_key_usage(eku), critical=False) if eku else None,
    )


def end_entity(
    issuer: Issuer,
    *,
    subject: x509.Name,
    dns_names: tuple[str, ...],
    public_key: CertificatePublicKeyTypes,
    template: Template,
    serial: int,
    now: dt.datetime,
    validity_days: int | None = None,
    hash_name: str = "sha256",
) -> x509.Certificate:
    """Sign a certificate under `template` (policy already evaluated)."""
    repeated = issuer.repeated
    days = min(validity_days or template.validity_days, template.validity_days)
    not_after = min(now + dt.timedelta(days=days), repeated.not_after)
    # The builder is given everything at once (its constructor) rather than through eleven
    # chained setters, each copying the builder: the setters' checks are made here instead.
    not_before = (now - BACKDATE).astimezone(dt.UTC).replace(tzinfo=None)
    not_after_naive = not_after.astimezone(dt.UTC).replace(tzinfo=None)
    if not 0 < serial < 2**159 or not_before > not_after_naive:
        raise ValueError("serial or validity out of range")
    constraints, eku = _template_extensions(
        template.is_ca,
        template.path_length,
        template.key_usage,
        isinstance(public_key, ec.EllipticCurvePublicKey),
        tuple(template.eku_oids) if template.eku else (),
    )
    extensions: list[x509.Extension[x509.ExtensionType]] = [
        *constraints,
        _extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        repeated.aki_extension,
    ]
    if eku is not None:
        extensions.append(eku)
    if dns_names:
        san = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        extensions.append(_extension(san, not subject.rdns))  # critical if no subject (RFC 5280)
    extensions.extend(repeated.distribution)
    builder = x509.CertificateBuilder(
        issuer_name=repeated.name,
        subject_name=subject,
        public_key=public_key,
        serial_number=serial,
        not_valid_before=not_before,
        not_valid_after=not_after_naive,
        extensions=extensions,
    )
    return builder.sign(issuer.signing_key, HASH_NAMES[hash_name]())
