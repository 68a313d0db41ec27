"""The rules one certificate must meet for one usage on one server, as a table: each rule is a
small function of a CertificateContext that returns the problems it sees.

A rule that needs the plan (SAN coverage, EKUs the plan asks for, exportability) says nothing
when the certificate is checked without a topology.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from lyncpki.checks.chain import (
    SHA1_FIX,
    ChainResult,
    not_judged,
    validate_apart_from_its_dates,
)
from lyncpki.checks.revocation import (
    CrlFetch,
    OcspAnswer,
    RevocationSource,
    cdp_urls,
    delta_urls,
    http_urls,
    ocsp_urls,
    revoking_entry,
    signed_by,
)
from lyncpki.once import once
from lyncpki.planning.model import WILDCARD_USAGES, Eku, PlannedCertificate, Severity, Usage
from lyncpki.topology.model import Issuer
from lyncpki.x509.forms import UNREADABLE
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.issuers import signed_by as signed_by_ca
from lyncpki.x509.keys import describe

# Usages whose certificates may carry wildcard SANs (R-GEN-08): web services and the listener
# of the reverse proxy; never Default, Mediation, Edge external, OAuth.
SUPPORTED_RSA = (1024, 2048, 4096)
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_E = TypeVar("_E", bound=x509.ExtensionType)


@dataclass(eq=False)  # not frozen: a frozen __init__ sets each of its 12 fields through
class CertificateContext:  # object.__setattr__, 2.5 us of every judgement (1.7 saved)
    """One certificate, where it is (or would be) used, and what it is judged against. The
    rules read it, never change it."""

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
    revocation: RevocationSource | None = None  # None: offline (no CRL or OCSP fetched)
    internal_roots: frozenset[str] = frozenset()  # thumbprints of the home CA's roots

    @once
    def path(self) -> ChainResult:
        """The validated path (computed once for every rule that needs it)."""
        return validate_apart_from_its_dates(
            self.certificate, self.intermediates, self.roots, self.now
        )

    @once
    def crl_fetches(self) -> list[_Fetched]:
        """The CRLs of the certificate and of every CA of its path, as fetched (listed once
        for the five revocation rules that read them; the fetches are cached by the source)."""
        return _crl_fetches(self)

    @once
    def issuer(self) -> x509.Certificate | None:
        """The issuing CA's certificate: from the validated path, else any known CA
        certificate that verifiably issued this one."""
        if len(self.path.chain) > 1:
            return self.path.chain[1]
        known = (*self.intermediates, *self.roots)
        return next((c for c in known if signed_by_ca(self.certificate, c)), None)

    @once
    def _extensions(self) -> dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]:
        """The extensions by OID, read once for every rule (pyca's lookup by class scans them
        with an isinstance each); an unreadable set raises for each rule that looks."""
        return {extension.oid: extension for extension in self.certificate.extensions}

    def extension(self, kind: type[_E]) -> _E | None:
        """The value of the certificate's extension of type `kind`, or None when it has none.
        Raises what pyca raises for unreadable extensions (UNREADABLE)."""
        found = self._extensions.get(kind.oid)
        return None if found is None else cast(_E, found.value)

    @once
    def public_key(self) -> CertificatePublicKeyTypes:
        """The certificate's public key (raises UnsupportedAlgorithm or ValueError)."""
        return self.certificate.public_key()

    @once
    def common_names(self) -> list[str]:
        """Every CN of the subject, in order (one, in a certificate made as Lync needs)."""
        found = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return [a.value for a in found if isinstance(a.value, str)]

    @once
    def common_name(self) -> str | None:
        names = self.common_names
        return names[0] if names else None

    @once
    def dns_names(self) -> list[str]:
        try:
            san = self.extension(x509.SubjectAlternativeName)
        except UNREADABLE:
            return []
        if san is None:
            return []
        return [n.lower() for n in san.get_values_for_type(x509.DNSName)]

    @once
    def cdp_names(self) -> list[x509.GeneralName] | None:
        """The full names of every CRL distribution point; None without a readable CDP
        extension (cdp.missing says so)."""
        try:
            points = self.extension(x509.CRLDistributionPoints)
        except UNREADABLE:
            return None
        if points is None:
            return None
        return [name for point in points for name in (point.full_name or ())]

    @once
    def ekus(self) -> list[x509.ObjectIdentifier] | None:
        """The EKUs, or None when the certificate has no EKU extension (any purpose)."""
        try:
            eku = self.extension(x509.ExtendedKeyUsage)
        except UNREADABLE:
            return []
        return None if eku is None else list(eku)


# What pyca/cryptography computes for the rules, in its own (Rust) code: the validated path,
# the extensions, the public key, the subject. `compute_views` computes each for a whole batch
# of certificates in turn, which keeps that code in the processor's caches (see
# checks.deployment.BATCH); a context computes them on first use all the same.
PYCA_VIEWS = ("path", "_extensions", "public_key", "common_names")


# How an OCSP responder that could not be asked is said (`home_check` tells it from one that
# answered "unknown" or unusably by these words)
OCSP_UNREACHABLE = "cannot be reached"


def compute_views(contexts: Sequence[CertificateContext]) -> None:
    """Compute every PYCA_VIEWS of every context, one view at a time across the batch. A view
    that raises is left uncomputed: the rule that needs it computes it again and reports it
    (its own finding, or check.crashed), as without a batch."""
    for view in PYCA_VIEWS:
        for ctx in contexts:
            try:  # noqa: SIM105 - a try costs nothing here, contextlib.suppress 0.3 us a call
                getattr(ctx, view)
            except Exception:  # reported by the rule that reads it
                pass


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
    cn = ctx.common_name
    if not cn or "*" not in cn:
        return []
    return [
        Problem(
            f"the subject is a wildcard ({cn}); Lync needs an explicit FQDN as subject",
            "request it again with the pool or server FQDN as subject",
        )
    ]


def _several_cns(ctx: CertificateContext) -> list[Problem]:
    """A subject of two CNs (`CN=pool.contoso.net/CN=www.fabrikam.com`, or one multi-valued
    RDN) names two things at once: the programs that read a certificate's subject name differ
    in which CN they take, and the second never went through the plan (lyncpki's CA refuses
    such a request: policy.subject-cn)."""
    names = ctx.common_names
    if len(names) < 2:
        return []
    return [
        Problem(
            f"the subject has {len(names)} common names ({', '.join(names[:4])}); Lync reads "
            "one subject name, and which of them a program takes is not defined",
            "request it again with one CN, the pool or server FQDN, and the other names as SANs",
        )
    ]


def _no_cn(ctx: CertificateContext) -> list[Problem]:
    """An empty subject (or one without a CN): Lync takes a certificate's subject name for the
    server's or pool's FQDN (R-GEN-06); the SANs alone do not do."""
    if ctx.common_names:
        return []
    first = f" CN={ctx.dns_names[0]}" if ctx.dns_names else " the pool or server FQDN"
    return [
        Problem(
            "the subject has no common name: Lync reads the server's or pool's FQDN there",
            f"request it again with subject{first}",
        )
    ]


def _subject_not_planned(ctx: CertificateContext) -> list[Problem]:
    """A Default certificate's subject is the pool FQDN (R-FE-01, R-SE-01, R-DIR-01, R-MED-01:
    Lync reads it there), an error otherwise; the others' may be any planned name or server
    (Q2: the examples show the server on web certificates), a warning otherwise."""
    if ctx.planned is None:
        return []
    cn = (ctx.common_name or "").lower()
    if cn == ctx.planned.subject:
        return []
    if Usage.DEFAULT in ctx.planned.usages:
        return [
            Problem(
                f"the subject CN '{cn or '(none)'}' is not the planned {ctx.planned.subject}: "
                "a Default certificate's subject is the pool's FQDN (Lync reads it there)",
                f"request it again with subject {ctx.planned.subject}",
                Severity.ERROR,
            )
        ]
    if (cn and cn in ctx.planned.sans) or cn in ctx.planned.servers:
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


KEY_USAGE_FIX = (
    "request it again with the WebServer or LyncServer template (Digital Signature, and Key "
    "Encipherment for an RSA key)"
)


def _key_usage(ctx: CertificateContext) -> list[Problem]:
    """R-GEN-16: what TLS needs the key to be allowed to do. No key usage extension at all
    allows everything."""
    try:
        usage = ctx.extension(x509.KeyUsage)
    except UNREADABLE as error:
        return [Problem(f"the key usage extension cannot be read ({error})", KEY_USAGE_FIX)]
    if usage is None:
        return []
    try:
        public = ctx.public_key
    except (UnsupportedAlgorithm, ValueError):
        return []  # key.unsupported says so
    problems = []
    if not usage.digital_signature:
        problems.append(
            Problem(
                "key usage without Digital Signature: the server's key signs the handshake in "
                "TLS 1.3 and in TLS 1.2's ECDHE suites, and peers that enforce key usage "
                "(Windows Schannel; OpenSSL over TLS 1.2) refuse this certificate",
                KEY_USAGE_FIX,
            )
        )
    if isinstance(public, rsa.RSAPublicKey) and not usage.key_encipherment:
        problems.append(
            Problem(
                "an RSA key whose key usage lacks Key Encipherment: the RSA key-exchange suites "
                "that older Lync clients and servers negotiate cannot use it",
                KEY_USAGE_FIX,
                Severity.WARNING,
            )
        )
    return problems


# ---------------------------------------------------------------------------- keys
def _key(ctx: CertificateContext) -> list[Problem]:
    try:
        public = ctx.public_key
    except (UnsupportedAlgorithm, ValueError) as error:
        return [
            Problem(
                f"the public key cannot be read ({error})",
                "request a new certificate with an RSA (2048) or EC P-256/P-384/P-521 key",
                Severity.ERROR,
            )
        ]
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
        if oauth:  # R-OAUTH-01: what the plan asks since the plan sweep (an EC key passed)
            return [
                Problem(
                    f"a {describe(public)} key: the OAuthTokenIssuer certificate is RSA of 2048 "
                    "bits or more (R-OAUTH-01: Exchange and SharePoint take its signatures)",
                    "request it again with --key rsa2048",
                    Severity.ERROR,
                )
            ]
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
    if algorithm is not None and algorithm.name == "sha1":
        return [
            Problem(
                "signed with SHA-1, which is deprecated: Lync Server 2013 still accepts it, but "
                "this check's path validation (pyca/cryptography) refuses SHA-1 signatures, so "
                "its chain's trust is not judged (chain.untrusted, a warning)",
                "have the CA sign with SHA-256 and issue it again",
                Severity.WARNING,
            )
        ]
    return []


def _serial(ctx: CertificateContext) -> list[Problem]:
    serial = ctx.certificate.serial_number
    if serial > 0:
        return []
    return [
        Problem(
            f"the serial number is {serial}: RFC 5280 (4.1.2.2) requires a positive integer, "
            "and path validation that enforces it refuses the certificate",
            "have the CA issue it again (a CA that writes such serials is misconfigured)",
        )
    ]


# ---------------------------------------------------------------------------- revocation
def _cdp(ctx: CertificateContext) -> list[Problem]:
    if ctx.cdp_names:
        return []
    return [
        Problem(
            "no CRL distribution point: Lync servers and clients cannot check revocation and "
            "refuse the certificate",
            "have the CA write a CDP (an http:// URL) into every certificate it issues",
        )
    ]


# The Edge's usages: an Edge Server is outside the domain, so it reaches a CRL over HTTP only
# (R-GEN-03: outbound TCP 80), never over LDAP.
EDGE_USAGES = frozenset(
    {
        Usage.ACCESS_EDGE_EXTERNAL,
        Usage.DATA_EDGE_EXTERNAL,
        Usage.AV_AUTH,
        Usage.EXTERNAL,
        Usage.XMPP,
        Usage.INTERNAL,
    }
)


def _cdp_not_http(ctx: CertificateContext) -> list[Problem]:
    """CRL distribution points that only domain members can read (AD CS writes ldap:// first,
    and a CA configured without its http:// CDP writes nothing else)."""
    names = ctx.cdp_names
    if not names or http_urls(names):  # none: cdp.missing
        return []
    shown = ", ".join(
        str(n.value)[:80] if isinstance(n, x509.UniformResourceIdentifier) else type(n).__name__
        for n in names[:3]
    )
    edge = ctx.usage in EDGE_USAGES
    return [
        Problem(
            f"no http:// CRL distribution point ({shown}): "
            + (
                "an Edge Server, outside the domain, cannot fetch the CRL"
                if edge
                else "servers outside the domain (Edge) and external clients cannot fetch the CRL"
            ),
            "publish the CRL over HTTP and add that URL to the CA's CDP extension (AD CS: the "
            "CA's properties, Extensions, CRL Distribution Point), then issue the certificate "
            "again",
            Severity.ERROR if edge else Severity.WARNING,
        )
    ]


# ---------------------------------------------------------------------------- trust, key
def _issuer_known(ctx: CertificateContext) -> bool:
    """Whether the server has a CA certificate named as the certificate's issuer."""
    wanted = ctx.certificate.issuer
    return any(c.subject == wanted for c in (*ctx.intermediates, *ctx.roots))


def _self_signed(cert: x509.Certificate) -> bool:
    return signed_by_ca(cert, cert)


def _chain_incomplete(ctx: CertificateContext) -> list[Problem]:
    if ctx.path.problem is None or not ctx.roots or _issuer_known(ctx):
        return []
    if _self_signed(ctx.certificate):  # no issuing CA to miss: said by _chain_untrusted
        return []
    issuer = ctx.certificate.issuer.rfc4514_string()
    return [
        Problem(
            f"the chain is incomplete: the issuing CA {issuer} is not among the certificates "
            "the server has",
            "import the CA's chain (.p7b) or its certificate (lyncpki import --server ...)",
        )
    ]


def _chain_untrusted(ctx: CertificateContext) -> list[Problem]:
    problem = ctx.path.problem
    if problem is None:
        return []
    if not_judged(problem):  # SHA-1: allowed (R-GEN-04), refused by pyca's verifier
        return [Problem(problem, SHA1_FIX, Severity.WARNING)]
    if _self_signed(ctx.certificate):
        return [
            Problem(
                "the certificate is self-signed: no CA issued it, so no server or client trusts it",
                "request one from the CA (lyncpki request --server ..., or the CA's web "
                "enrollment) and assign it in place of this one",
            )
        ]
    issuer_known = _issuer_known(ctx)
    if ctx.roots and not issuer_known:  # incomplete: said by _chain_incomplete
        return []
    self_signed = ctx.certificate.issuer == ctx.certificate.subject
    if ctx.server is None:  # a file checked alone: trusted roots come from --trust
        fix = (
            "the trusted roots (the home CA's, and --trust) do not validate it: see why "
            "above, or give the root its chain ends at with --trust ROOT.crt (a root inside "
            "the checked file is not trusted on the file's word)"
            if ctx.roots
            else "give the CA's root certificate (self-signed) with --trust ROOT.crt (lyncpki "
            "ca chain --out chain.pem for lyncpki's CA); a CA certificate that is not "
            "self-signed counts as an intermediate, and a root inside the checked file is not "
            "trusted on the file's word"
        )
        return [Problem(f"the chain does not reach a trusted root: {problem}", fix)]
    if not ctx.roots and not issuer_known and not self_signed:
        # neither the root nor the issuing CA: both said at once, not one per attempt
        issuer = ctx.certificate.issuer.rfc4514_string()
        return [
            Problem(
                f"the chain does not reach a trusted root: {problem}, nor the issuing CA {issuer}",
                "import the CA's whole chain, issuing CA and root: the .p7b the CA gives "
                "(lyncpki ca chain --format p7b --out chain.p7b for lyncpki's CA), then "
                "lyncpki import --server ... chain.p7b",
            )
        ]
    return [
        Problem(
            f"the chain does not reach a trusted root: {problem}",
            "import the issuing CA's root into the server's trusted certificates "
            "(lyncpki import --server ... root.crt)",
        )
    ]


_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "Server Authentication",
    ExtendedKeyUsageOID.CLIENT_AUTH: "Client Authentication",
    ExtendedKeyUsageOID.CODE_SIGNING: "Code Signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "Secure Email",
    ExtendedKeyUsageOID.TIME_STAMPING: "Time Stamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP Signing",
}


def _chain_eku(ctx: CertificateContext) -> list[Problem]:
    """R-GEN-01 along the path: a CA certificate with an EKU extension limits the certificates
    under it to those purposes (Windows takes the intersection of the path's EKUs; OpenSSL
    refuses the chain, "unsuitable certificate purpose"). One without Server Authentication (or
    anyExtendedKeyUsage) makes every TLS listener's certificate it issued useless."""
    problems = []
    for ca in ctx.path.chain[1:]:
        try:
            eku = ca.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        except UNREADABLE as error:
            problems.append(
                Problem(
                    f"the EKU extension of the CA certificate {ca.subject.rfc4514_string()} "
                    f"cannot be read ({error}): peers refuse the chain",
                    "have the certificate issued by a CA whose certificate is well formed",
                )
            )
            continue
        allowed = list(eku)
        if {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(
            allowed
        ):
            continue
        purposes = ", ".join(_EKU_NAMES.get(o, o.dotted_string) for o in allowed) or "nothing"
        problems.append(
            Problem(
                f"the CA certificate {ca.subject.rfc4514_string()} of its path limits the "
                f"certificates it issues to {purposes}: peers refuse this one for Server "
                "Authentication (TLS), whatever its own EKU",
                "have it issued again by a CA whose certificate has no EKU extension or one "
                "that includes Server Authentication",
            )
        )
    return problems


def _internal_public(ctx: CertificateContext) -> list[Problem]:
    planned = ctx.planned
    if planned is None or planned.issuer != Issuer.PUBLIC or not ctx.internal_roots:
        return []
    if not ctx.path.chain or thumbprint(ctx.path.chain[-1]) not in ctx.internal_roots:
        return []
    return [
        Problem(
            "a public-facing certificate issued by the internal CA: external clients and "
            "federated partners do not trust it",
            "have it issued by a public CA (lyncpki request --offline, then import the answer); "
            "keep the internal one for a lab",
        )
    ]


# ---------------------------------------------------------------------------- revocation
@dataclass(frozen=True)
class _Fetched:
    """A CRL fetched for one certificate of the path: the leaf, or one of its CAs."""

    certificate: x509.Certificate
    issuer: x509.Certificate | None  # whose CRL it must be
    ca: bool  # a CA of the path, not the certificate judged
    url: str
    fetch: CrlFetch

    @property
    def whose(self) -> str:
        """How the certificate is named in a message: nothing for the leaf."""
        if not self.ca:
            return ""
        return f"the CA certificate {self.certificate.subject.rfc4514_string()}: "


def _checked_certificates(
    ctx: CertificateContext,
) -> list[tuple[x509.Certificate, x509.Certificate | None, bool]]:
    """Each certificate whose revocation is checked, with its issuer: the leaf, then every CA
    of the validated path below its root, against its own issuer's CRL (as Windows CryptoAPI
    and `openssl verify -crl_check_all` do: a revoked issuing CA revokes what it issued)."""
    chain = ctx.path.chain
    checked: list[tuple[x509.Certificate, x509.Certificate | None, bool]] = [
        (ctx.certificate, ctx.issuer, False)
    ]
    checked += [(chain[i], chain[i + 1], True) for i in range(1, len(chain) - 1)]
    return checked


def _crl_fetches(ctx: CertificateContext) -> list[_Fetched]:
    if ctx.revocation is None:
        return []
    return [
        _Fetched(cert, issuer, ca, url, ctx.revocation.crl(url))
        for cert, issuer, ca in _checked_certificates(ctx)
        for url in cdp_urls(cert)
    ]


def _cdp_unreachable(ctx: CertificateContext) -> list[Problem]:
    fetches = ctx.crl_fetches
    problems = []
    for f in fetches:
        if f.fetch.crl is not None:
            continue
        # one CDP of several failing is a warning: the certificate's other CDPs still answer
        some = any(o.fetch.crl is not None for o in fetches if o.certificate is f.certificate)
        problems.append(
            Problem(
                f"{f.whose}CRL distribution point {f.url} cannot be fetched ({f.fetch.problem})",
                f"publish the CRL there and open {_http_port(f.url)} from every Lync server, "
                "Edge included, to it",
                Severity.WARNING if some else None,
            )
        )
    return problems


def _http_port(url: str) -> str:
    """The port a URL is fetched on, as a firewall rule names it: "HTTP (TCP 80)"."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a port out of range
        return "HTTP"
    return f"{parts.scheme.upper()} (TCP {port})" if port else "HTTP"


def _crl_signature(ctx: CertificateContext) -> list[Problem]:
    return [
        Problem(
            f"{f.whose}the CRL at {f.url} is not signed by the issuing CA "
            f"({f.issuer.subject.rfc4514_string()})",
            "publish the issuing CA's own CRL at its CDP URL",
        )
        for f in ctx.crl_fetches
        if f.issuer is not None and f.fetch.crl is not None and not signed_by(f.fetch.crl, f.issuer)
    ]


def _crl_expiry(ctx: CertificateContext) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()  # a CRL said once, whichever certificates of the path it lists
    for f in ctx.crl_fetches:
        nxt = f.fetch.crl.next_update_utc if f.fetch.crl is not None else None
        if nxt is None or f.url in seen:
            continue
        seen.add(f.url)
        if nxt < ctx.now:
            problems.append(
                Problem(
                    f"{f.whose}the CRL at {f.url} expired on {nxt:%Y-%m-%d %H:%M} UTC: every "
                    "server that checks revocation refuses the certificate",
                    "publish a new CRL now (lyncpki ca crl), and schedule it well before "
                    "nextUpdate",
                )
            )
        elif nxt - ctx.now < dt.timedelta(hours=24):
            problems.append(
                Problem(
                    f"{f.whose}the CRL at {f.url} expires on {nxt:%Y-%m-%d %H:%M} UTC, within "
                    "24 hours",
                    "publish a new CRL (lyncpki ca crl) before then",
                    Severity.WARNING,
                )
            )
    return problems + _delta_expiry(ctx, seen)


def _delta_expiry(ctx: CertificateContext, seen: set[str]) -> list[Problem]:
    """The delta CRLs the full ones point to (Freshest CRL): one that ran out leaves a relying
    server that uses deltas (Windows does) without a current answer. A delta lasts a day, so
    it is said only once it expired or has less than DELTA_NOTICE left."""
    if ctx.revocation is None:
        return []
    problems: list[Problem] = []
    for f in ctx.crl_fetches:
        if f.fetch.crl is None:
            continue
        for url in delta_urls(f.fetch.crl, f.certificate):
            delta = ctx.revocation.crl(url)
            nxt = delta.crl.next_update_utc if delta.crl is not None else None
            if nxt is None or url in seen:
                continue
            seen.add(url)
            if nxt < ctx.now:
                problems.append(
                    Problem(
                        f"{f.whose}the delta CRL at {url} expired on {nxt:%Y-%m-%d %H:%M} UTC: "
                        "a server that checks revocation with deltas (Windows) has no current "
                        "answer",
                        "publish the CRLs now (lyncpki ca crl; ca serve does it by itself), "
                        "and schedule it well before nextUpdate",
                    )
                )
            elif nxt - ctx.now < DELTA_NOTICE:
                problems.append(
                    Problem(
                        f"{f.whose}the delta CRL at {url} expires on {nxt:%Y-%m-%d %H:%M} UTC",
                        "publish the CRLs (lyncpki ca crl) before then",
                        Severity.WARNING,
                    )
                )
    return problems


DELTA_NOTICE = dt.timedelta(hours=2)


def _revocation_entry(
    ctx: CertificateContext, cert: x509.Certificate, fetches: Sequence[_Fetched]
) -> tuple[x509.RevokedCertificate, str] | None:
    """The entry that revokes `cert` on its CRLs (each full CRL with its deltas, a released hold
    not revoked) and the URL of the CRL that says so, or None."""
    seen: set[str] = set()
    for f in fetches:
        if f.certificate is not cert or f.fetch.crl is None or f.fetch.url in seen:
            continue
        seen.add(f.fetch.url)
        deltas = (
            [ctx.revocation.crl(u) for u in delta_urls(f.fetch.crl, cert)]
            if ctx.revocation is not None
            else []
        )
        found = revoking_entry(f.fetch, deltas, cert.serial_number)
        if found is not None:
            return found
    return None


def _revoked_crl(ctx: CertificateContext) -> list[Problem]:
    found = _revocation_entry(ctx, ctx.certificate, ctx.crl_fetches)
    if found is None:
        return []
    entry, url = found
    return [
        Problem(
            f"revoked on {entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC (listed by {url})",
            "request, import and assign a new certificate",
        )
    ]


def _ca_revoked(ctx: CertificateContext) -> list[Problem]:
    """A CA of the path listed on its issuer's CRL: every certificate under it is refused by
    a peer that checks the whole chain (Windows does by default), this one included."""
    problems = []
    for cert in ctx.path.chain[1:-1]:  # the CAs below the root
        found = _revocation_entry(ctx, cert, ctx.crl_fetches)
        if found is None:
            continue
        entry, url = found
        problems.append(
            Problem(
                f"the CA certificate {cert.subject.rfc4514_string()} of its path was revoked on "
                f"{entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC (listed by {url}): peers "
                "refuse every certificate it issued",
                "have the certificate issued again by a CA that is not revoked (a new issuing "
                "CA certificate first, if this one is yours), then import and assign it",
            )
        )
    return problems


def _ocsp_answers(ctx: CertificateContext) -> list[OcspAnswer]:
    issuer = ctx.issuer
    if ctx.revocation is None or issuer is None:
        return []
    return [ctx.revocation.ocsp(url, ctx.certificate, issuer) for url in ocsp_urls(ctx.certificate)]


def _ocsp_revoked(ctx: CertificateContext) -> list[Problem]:
    return [
        Problem(
            f"the OCSP responder {a.url} says revoked"
            + (f" on {a.revoked_at:%Y-%m-%d %H:%M} UTC" if a.revoked_at else "")
            + (f" ({a.reason})" if a.reason else ""),
            "request, import and assign a new certificate",
        )
        for a in _ocsp_answers(ctx)
        if a.status == "revoked"
    ]


def _ocsp_problem(ctx: CertificateContext) -> list[Problem]:
    problems = []
    for a in _ocsp_answers(ctx):
        if a.problem and a.unusable:
            problems.append(
                Problem(
                    f"the OCSP responder {a.url} gave an unusable answer: {a.problem}",
                    "check the responder's signing certificate and configuration",
                )
            )
        elif a.problem:
            problems.append(
                Problem(
                    f"the OCSP responder {a.url} {OCSP_UNREACHABLE} ({a.problem})",
                    "start the responder, or remove the OCSP URL from the CA's AIA",
                    Severity.WARNING,
                )
            )
        elif stale := _ocsp_stale(a, ctx.now):
            problems.append(
                Problem(
                    f"the OCSP responder {a.url} gave an answer {stale} (RFC 6960 3.2): a "
                    "relying party discards it, as it would a replayed one",
                    "check the responder's clock and its signing certificate (lyncpki ca "
                    "serve renews its own)",
                )
            )
        elif a.status == "unknown":
            problems.append(
                Problem(
                    f"the OCSP responder {a.url} does not know the certificate",
                    "check that it answers for this CA",
                    Severity.WARNING,
                )
            )
    return problems


OCSP_SKEW = dt.timedelta(minutes=5)  # the clocks of the responder and the checker may differ


def _ocsp_stale(a: OcspAnswer, now: dt.datetime) -> str | None:
    """Why an answer does not hold at `now`, or None."""
    if a.this_update is not None and a.this_update > now + OCSP_SKEW:
        return f"dated in the future ({a.this_update:%Y-%m-%d %H:%M} UTC)"
    if a.next_update is not None and a.next_update < now - OCSP_SKEW:
        return f"past its nextUpdate ({a.next_update:%Y-%m-%d %H:%M} UTC)"
    if a.signer_valid is not None and not a.signer_valid[0] - OCSP_SKEW <= now <= a.signer_valid[1]:
        return (
            f"signed by a responder certificate not valid now (valid "
            f"{a.signer_valid[0]:%Y-%m-%d} to {a.signer_valid[1]:%Y-%m-%d})"
        )
    return None


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
    Rule("subject.no-cn", Severity.ERROR, "R-GEN-06", "a subject without a CN", _no_cn),
    Rule(
        "subject.several-cn",
        Severity.WARNING,
        "R-GEN-06",
        "a subject with more than one common name",
        _several_cns,
    ),
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
    Rule(
        "keyusage.tls",
        Severity.ERROR,
        "R-GEN-16",
        "key usage without Digital Signature (or, for RSA, Key Encipherment)",
        _key_usage,
    ),
    Rule("key.unsupported", Severity.WARNING, "R-GEN-05", "key type or size", _key),
    Rule(
        "signature.unsupported",
        Severity.ERROR,
        "R-GEN-04",
        "PSS, MD5 or unknown (SHA-1: a warning)",
        _signature,
    ),
    Rule(
        "serial.not-positive",
        Severity.WARNING,
        "R-GEN-13",
        "a serial number that is zero or negative",
        _serial,
    ),
    Rule("cdp.missing", Severity.ERROR, "R-GEN-03", "no CRL distribution point", _cdp),
    Rule(
        "cdp.not-http",
        Severity.WARNING,
        "R-GEN-03",
        "CRL distribution points without an http:// URL (an error on Edge usages)",
        _cdp_not_http,
    ),
    Rule(
        "chain.incomplete",
        Severity.ERROR,
        "R-GEN-13",
        "the issuing CA's certificate is missing",
        _chain_incomplete,
    ),
    Rule(
        "chain.untrusted", Severity.ERROR, "R-GEN-13", "no path to a trusted root", _chain_untrusted
    ),
    Rule(
        "chain.eku",
        Severity.ERROR,
        "R-GEN-01",
        "a CA of the path whose EKU excludes Server Authentication",
        _chain_eku,
    ),
    Rule("key.missing", Severity.ERROR, "R-GEN-13", "no private key", _key_missing),
    Rule(
        "key.not-exportable",
        Severity.ERROR,
        "R-GEN-12",
        "the key must be exportable",
        _not_exportable,
    ),
    Rule(
        "issuer.internal-public-name",
        Severity.WARNING,
        "R-GEN-09",
        "a public-facing certificate from the internal CA",
        _internal_public,
    ),
    Rule(
        "cdp.unreachable", Severity.ERROR, "R-GEN-03", "a CDP cannot be fetched", _cdp_unreachable
    ),
    Rule("crl.expired", Severity.ERROR, "R-GEN-03", "the CRL expired (or soon will)", _crl_expiry),
    Rule(
        "crl.bad-signature", Severity.ERROR, "R-GEN-03", "CRL not signed by the CA", _crl_signature
    ),
    Rule("cert.revoked", Severity.ERROR, "R-GEN-03", "listed on its CRL", _revoked_crl),
    Rule(
        "ca.revoked",
        Severity.ERROR,
        "R-GEN-03",
        "a CA certificate of its path is listed on its issuer's CRL",
        _ca_revoked,
    ),
    Rule("ocsp.revoked", Severity.ERROR, "R-GEN-03", "OCSP says revoked", _ocsp_revoked),
    Rule(
        "ocsp.problem",
        Severity.ERROR,
        "R-GEN-03",
        "an unusable OCSP answer (error); a responder unreachable or not knowing the "
        "certificate (warning: the CRL still decides)",
        _ocsp_problem,
    ),
)
# Rules that fetch over the network (skipped by `check --offline`).
NETWORK_RULES = frozenset(
    {
        "cdp.unreachable",
        "crl.expired",
        "crl.bad-signature",
        "cert.revoked",
        "ca.revoked",
        "ocsp.revoked",
        "ocsp.problem",
    }
)


def offline_rules() -> tuple[Rule, ...]:
    """The rules that need no network (RULES without NETWORK_RULES), in RULES' order."""
    return tuple(rule for rule in RULES if rule.id not in NETWORK_RULES)
