"""The rules one certificate must meet for one usage on one server, as a table: each rule is a
small function of a CertificateContext that returns the problems it sees.

A rule that needs the plan (SAN coverage, EKUs the plan asks for, exportability) says nothing
when the certificate is checked without a topology.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from lyncpki.checks.chain import validate_chain, validity_instant
from lyncpki.planning.model import Eku, PlannedCertificate, Severity, Usage
from lyncpki.x509.keys import describe
from lyncpki.x509.requests import common_name

# Usages whose certificates may carry wildcard SANs (R-GEN-08): web services and the listener
# of the reverse proxy; never Default, Mediation, Edge external, OAuth.
WILDCARD_USAGES = frozenset(
    {Usage.WEB_INTERNAL, Usage.WEB_EXTERNAL, Usage.REVERSE_PROXY, Usage.OFFICE_WEB_APPS}
)
SUPPORTED_RSA = (1024, 2048, 4096)
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


@dataclass(frozen=True)
class CertificateContext:
    """One certificate, where it is (or would be) used, and what it is judged against."""

    certificate: x509.Certificate
    now: dt.datetime
    server: str | None = None
    usage: str | None = None
    planned: PlannedCertificate | None = None
    intermediates: tuple[x509.Certificate, ...] = ()
    roots: tuple[x509.Certificate, ...] = ()
    has_key: bool | None = None  # None: not known (a certificate file checked alone)
    exportable: bool | None = None
    days: int = 30  # "expiring soon" horizon

    @property
    def dns_names(self) -> list[str]:
        try:
            san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except (x509.ExtensionNotFound, ValueError):
            return []
        return [n.lower() for n in san.value.get_values_for_type(x509.DNSName)]

    @property
    def ekus(self) -> list[x509.ObjectIdentifier] | None:
        """The EKUs, or None when the certificate has no EKU extension (any purpose)."""
        try:
            return list(
                self.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            )
        except x509.ExtensionNotFound:
            return None
        except ValueError:
            return []


@dataclass(frozen=True)
class Problem:
    message: str
    fix: str
    severity: Severity | None = None  # None: the rule's own


Check = Callable[[CertificateContext], list[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    requirement: str
    title: str
    check: Check


def _covered(name: str, names: list[str], wildcards_allowed: bool) -> bool:
    if name in names:
        return True
    if not wildcards_allowed or "." not in name:
        return False
    return f"*.{name.split('.', 1)[1]}" in names


# ---------------------------------------------------------------------------- validity
def _expired(ctx: CertificateContext) -> list[Problem]:
    end = ctx.certificate.not_valid_after_utc
    if end >= ctx.now:
        return []
    return [
        Problem(
            f"expired on {end:%Y-%m-%d %H:%M} UTC",
            "request a new certificate (lyncpki request) and assign it",
        )
    ]


def _not_yet_valid(ctx: CertificateContext) -> list[Problem]:
    start = ctx.certificate.not_valid_before_utc
    if start <= ctx.now:
        return []
    return [
        Problem(
            f"not valid before {start:%Y-%m-%d %H:%M} UTC",
            "check the server's clock and the CA's; assign it once it is valid",
        )
    ]


def _expiring(ctx: CertificateContext) -> list[Problem]:
    end = ctx.certificate.not_valid_after_utc
    if end < ctx.now or end > ctx.now + dt.timedelta(days=ctx.days):
        return []
    left = (end - ctx.now).days
    return [
        Problem(
            f"expires on {end:%Y-%m-%d} ({left} days left, within {ctx.days})",
            "renew it now: request, import and assign its replacement",
        )
    ]


# ---------------------------------------------------------------------------- names
def _missing_sans(ctx: CertificateContext) -> list[Problem]:
    if ctx.planned is None:
        return []
    names = ctx.dns_names
    wild = ctx.usage in WILDCARD_USAGES
    return [
        Problem(
            f"SAN {name} is missing (the plan needs it: {', '.join(ctx.planned.rules)})",
            f"request the certificate again with {name} as a SAN (lyncpki request adds every "
            "planned name)",
        )
        for name in ctx.planned.sans
        if not _covered(name, names, wild)
    ]


def _wildcard_subject(ctx: CertificateContext) -> list[Problem]:
    cn = common_name(ctx.certificate.subject)
    if not cn or "*" not in cn:
        return []
    return [
        Problem(
            f"the subject is a wildcard ({cn}); Lync needs an explicit FQDN as subject",
            "request it again with the pool or server FQDN as subject",
        )
    ]


def _subject_not_planned(ctx: CertificateContext) -> list[Problem]:
    if ctx.planned is None:
        return []
    cn = (common_name(ctx.certificate.subject) or "").lower()
    if cn == ctx.planned.subject or (cn and cn in ctx.planned.sans) or cn in ctx.planned.servers:
        return []
    return [
        Problem(
            f"the subject CN '{cn or '(none)'}' is not the planned {ctx.planned.subject}",
            f"request it again with subject {ctx.planned.subject}",
        )
    ]


def _wildcard_not_allowed(ctx: CertificateContext) -> list[Problem]:
    if ctx.usage is None or ctx.usage in WILDCARD_USAGES:
        return []
    planned = set(ctx.planned.sans) if ctx.planned else set()
    return [
        Problem(
            f"wildcard SAN {name} on a {ctx.usage} certificate: Lync allows wildcards only on "
            "web services and reverse proxy certificates (and XMPP's domain entry)",
            "replace the wildcard with the explicit names",
        )
        for name in ctx.dns_names
        if name.startswith("*.") and name not in planned
    ]


# ---------------------------------------------------------------------------- purposes
def _server_auth(ctx: CertificateContext) -> list[Problem]:
    ekus = ctx.ekus
    if ekus is None or ExtendedKeyUsageOID.SERVER_AUTH in ekus:
        return []
    return [
        Problem(
            "no Server Authentication EKU (1.3.6.1.5.5.7.3.1): MTLS and every TLS listener need it",
            "request it with the WebServer template (or one that includes Server Authentication)",
        )
    ]


def _client_auth(ctx: CertificateContext) -> list[Problem]:
    if ctx.planned is None or Eku.CLIENT_AUTH not in ctx.planned.eku:
        return []
    ekus = ctx.ekus
    if ekus is None or ExtendedKeyUsageOID.CLIENT_AUTH in ekus:
        return []
    return [
        Problem(
            "no Client Authentication EKU, which public IM connectivity (AOL) needs on the "
            "Edge external certificate",
            "request it with a template that adds Client Authentication (lyncpki request "
            "--template LyncServer)",
        )
    ]


# ---------------------------------------------------------------------------- keys
def _key(ctx: CertificateContext) -> list[Problem]:
    public = ctx.certificate.public_key()
    oauth = ctx.usage == Usage.OAUTH
    if isinstance(public, rsa.RSAPublicKey):
        size = public.key_size
        if size < 2048 and oauth:
            return [
                Problem(
                    f"an RSA {size} key: the OAuthTokenIssuer certificate needs 2048 bits or more",
                    "request it again with --key rsa2048",
                    Severity.ERROR,
                )
            ]
        if size not in SUPPORTED_RSA:
            return [
                Problem(
                    f"an RSA {size} key: Lync Server supports 1024, 2048 or 4096 bits",
                    "request it again with --key rsa2048",
                    Severity.ERROR,
                )
            ]
        if size < 2048:
            return [
                Problem(
                    f"an RSA {size} key: 2048 bits or more are recommended",
                    "request it again with --key rsa2048",
                )
            ]
        return []
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in SUPPORTED_CURVES:
        return []
    return [
        Problem(
            f"a {describe(public)} key, which Lync Server does not support",
            "use RSA (2048) or EC P-256/P-384/P-521",
            Severity.ERROR,
        )
    ]


def _signature(ctx: CertificateContext) -> list[Problem]:
    cert = ctx.certificate
    if cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        return [
            Problem(
                "signed with RSASSA-PSS, which Lync Server does not support (sign-in and call "
                "forwarding fail)",
                "have the CA sign with PKCS#1 v1.5 (AD CS: AlternateSignatureAlgorithm=0)",
            )
        ]
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an algorithm pyca/cryptography does not know
        algorithm = None
    if algorithm is None and cert.signature_algorithm_oid not in (
        SignatureAlgorithmOID.ED25519,
        SignatureAlgorithmOID.ED448,
    ):
        return [
            Problem(
                f"signed with an unknown algorithm ({cert.signature_algorithm_oid.dotted_string})",
                "have the CA sign with SHA-256",
            )
        ]
    if algorithm is not None and algorithm.name == "md5":
        return [Problem("signed with MD5", "have the CA sign with SHA-256")]
    return []


# ---------------------------------------------------------------------------- revocation
def _cdp(ctx: CertificateContext) -> list[Problem]:
    try:
        points = ctx.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except (x509.ExtensionNotFound, ValueError):
        points = None
    if points and any(p.full_name for p in points.value):
        return []
    return [
        Problem(
            "no CRL distribution point: Lync servers and clients cannot check revocation and "
            "refuse the certificate",
            "have the CA write a CDP (an http:// URL) into every certificate it issues",
        )
    ]


# ---------------------------------------------------------------------------- trust, key
def _chain(ctx: CertificateContext) -> list[Problem]:
    at = validity_instant(ctx.certificate, ctx.now)
    result = validate_chain(ctx.certificate, ctx.intermediates, ctx.roots, at)
    if result.problem is None:
        return []
    return [
        Problem(
            f"the chain does not reach a trusted root: {result.problem}",
            "import the issuing CA's chain (.p7b) or its root into the server's store "
            "(lyncpki import --server ... chain.p7b)",
        )
    ]


def _key_missing(ctx: CertificateContext) -> list[Problem]:
    if ctx.has_key is not False:
        return []
    return [
        Problem(
            "the store has no private key for this certificate (issued but not valid)",
            "import the answer on the server that made the request, or a .pfx with its key",
        )
    ]


def _not_exportable(ctx: CertificateContext) -> list[Problem]:
    if ctx.planned is None or not ctx.planned.exportable or ctx.exportable is not False:
        return []
    return [
        Problem(
            f"the private key is not exportable, and it must be: {ctx.planned.exportable_reason}",
            "request it again with --exportable (or import a .pfx with --exportable)",
        )
    ]


RULES: tuple[Rule, ...] = (
    Rule("cert.expired", Severity.ERROR, "R-GEN-13", "the certificate has expired", _expired),
    Rule("cert.not-yet-valid", Severity.ERROR, "R-GEN-13", "not valid yet", _not_yet_valid),
    Rule("cert.expiring", Severity.WARNING, "R-GEN-13", "expires within --days", _expiring),
    Rule("san.missing", Severity.ERROR, "R-GEN-07", "a planned SAN is missing", _missing_sans),
    Rule("subject.wildcard", Severity.ERROR, "R-GEN-06", "wildcard subject", _wildcard_subject),
    Rule(
        "subject.not-planned",
        Severity.WARNING,
        "R-GEN-07",
        "the subject is not the planned one",
        _subject_not_planned,
    ),
    Rule(
        "wildcard.not-allowed",
        Severity.ERROR,
        "R-GEN-08",
        "a wildcard SAN where Lync refuses it",
        _wildcard_not_allowed,
    ),
    Rule("eku.server-auth", Severity.ERROR, "R-GEN-01", "no Server Authentication", _server_auth),
    Rule("eku.client-auth", Severity.ERROR, "R-GEN-02", "no Client Authentication", _client_auth),
    Rule("key.unsupported", Severity.WARNING, "R-GEN-05", "key type or size", _key),
    Rule("signature.unsupported", Severity.ERROR, "R-GEN-04", "PSS, MD5 or unknown", _signature),
    Rule("cdp.missing", Severity.ERROR, "R-GEN-03", "no CRL distribution point", _cdp),
    Rule("chain.untrusted", Severity.ERROR, "R-GEN-13", "no path to a trusted root", _chain),
    Rule("key.missing", Severity.ERROR, "R-GEN-13", "no private key", _key_missing),
    Rule(
        "key.not-exportable",
        Severity.ERROR,
        "R-GEN-12",
        "the key must be exportable",
        _not_exportable,
    ),
)
