"""The deployment model: what a Lync Server 2013 topology holds that decides its certificates.

Every field is documented here and in the README ("The topology file"). The models are frozen
pydantic models with unknown fields refused; field validators raise `FieldProblem`, a ValueError
that carries a fix, which the loader turns into a message with the file, line and column.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    PrivateAttr,
    model_validator,
)

from lyncpki.keyspec import KeySpec
from lyncpki.topology.names import fqdn_problem, host_of, normalize, path_of


class FieldProblem(ValueError):
    """A field value that is wrong, with what to do about it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


class Role(StrEnum):
    """Server roles that hold certificates (Topology Builder's pool kinds)."""

    FRONT_END = "front_end"
    STANDARD_EDITION = "standard_edition"
    DIRECTOR = "director"
    MEDIATION = "mediation"
    PERSISTENT_CHAT = "persistent_chat"
    EDGE = "edge"
    SBA = "sba"
    OFFICE_WEB_APPS = "office_web_apps"


class Issuer(StrEnum):
    """Which kind of CA issues a certificate (R-GEN-09)."""

    INTERNAL = "internal"
    PUBLIC = "public"


class Layout(StrEnum):
    """R-GEN-17: separate Default/WebServicesInternal/WebServicesExternal, or one combined."""

    SEPARATE = "separate"
    COMBINED = "combined"


def _fqdn(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem(
            f"expected a DNS name, got {type(value).__name__} {value!r}",
            "write a fully qualified domain name such as pool01.contoso.com",
        )
    name = normalize(value)
    if problem := fqdn_problem(name):
        raise FieldProblem(
            f"'{value}' {problem}",
            "write a fully qualified domain name: letters, digits and hyphens in dot-separated "
            "labels, e.g. pool01.contoso.com",
        )
    return name


def _san(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem(
            f"expected a DNS name, got {type(value).__name__} {value!r}",
            "write a DNS name such as sip.fabrikam.com or *.contoso.com",
        )
    name = normalize(value)
    if problem := fqdn_problem(name, allow_wildcard=True):
        raise FieldProblem(
            f"'{value}' {problem}", "write a DNS name such as sip.fabrikam.com or *.contoso.com"
        )
    return name


def _url_host(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem(
            f"expected a simple URL, got {type(value).__name__} {value!r}",
            "write the URL's host name, e.g. meet.contoso.com or https://meet.contoso.com",
        )
    host = host_of(value)
    if "/" in host and "://" not in value:
        raise FieldProblem(
            f"'{value}' has a path but no scheme, so it is read as a host name",
            f"write it as a URL, https://{value.strip()}, or as a bare host name",
        )
    return _fqdn(host)


def _sip_domain(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldProblem(
            f"expected a SIP domain, got {type(value).__name__} {value!r}",
            "write a DNS domain such as contoso.com",
        )
    name = normalize(value)
    name = name[4:] if name.startswith("sip:") else name  # SIP:Contoso.com as well
    if "@" in name:
        raise FieldProblem(
            f"'{value}' is a SIP address, not a SIP domain",
            f"write only the domain part: {name.rsplit('@', 1)[1]}",
        )
    if problem := fqdn_problem(name):
        raise FieldProblem(
            f"SIP domain '{value}' is not a domain: it {problem}",
            "write the DNS domain of your SIP addresses, e.g. contoso.com for user@contoso.com",
        )
    return name


def _key(value: Any) -> KeySpec:
    if isinstance(value, KeySpec):
        return value
    try:
        return KeySpec.parse(str(value))
    except ValueError as error:
        raise FieldProblem(
            str(error), "use one of rsa2048 (default), rsa4096, rsa1024, ec-p256, ec-p384, ec-p521"
        ) from None


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Fqdn = Annotated[str, BeforeValidator(_fqdn)]
SanName = Annotated[str, BeforeValidator(_san)]
UrlHost = Annotated[str, BeforeValidator(_url_host)]
SipDomain = Annotated[str, BeforeValidator(_sip_domain)]
Key = Annotated[KeySpec, BeforeValidator(_key), PlainSerializer(str, return_type=str)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def _subject_text(value: str) -> str:
    if not value.isprintable():
        raise FieldProblem(
            f"{value!r} holds control or other non-printable characters (an escape sequence, a "
            "line break, a direction override)",
            "write plain text: every request carries it in its subject, and the CA refuses "
            "such a subject",
        )
    return value


SubjectText = Annotated[str, AfterValidator(_subject_text)]


class Organization(Model):
    """Subject O/OU/L/ST/C of every request (wizard pages 9-10); all optional."""

    name: SubjectText | None = Field(None, max_length=64, description="Organization (O)")
    unit: SubjectText | None = Field(None, max_length=64, description="Organizational unit (OU)")
    city: SubjectText | None = Field(None, max_length=128, description="City/locality (L)")
    state: SubjectText | None = Field(None, max_length=128, description="State/province (ST)")
    country: str | None = Field(
        None, pattern=r"^[A-Za-z]{2}$", description="Two-letter ISO 3166 country code (C)"
    )


class SimpleUrls(Model):
    """Meet (one per SIP domain, Q12), Dial-in and Admin simple URLs: host names or https URLs.

    A certificate needs only each URL's host; the path of each meet URL is kept aside as
    written (`meet_paths`), since Lync's other simple URL forms name the SIP domain there:
    https://lync.contoso.com/meet/fabrikam.com, https://lync.contoso.com/fabrikam.com/Meet."""

    meet: Annotated[list[UrlHost], BeforeValidator(_one_or_many)] = Field(min_length=1)
    dialin: UrlHost | None = None
    admin: UrlHost | None = None
    _meet_paths: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _keep_meet_paths(
        cls, data: Any, handler: ModelWrapValidatorHandler[SimpleUrls]
    ) -> SimpleUrls:
        model = handler(data)
        raw = data.get("meet") if isinstance(data, dict) else None
        values = _one_or_many(raw) if raw is not None else []
        if isinstance(values, list) and len(values) == len(model.meet):
            model._meet_paths = tuple(path_of(v) if isinstance(v, str) else "" for v in values)
        return model

    @property
    def meet_paths(self) -> tuple[str, ...]:
        """The path of each meet URL ("" for a bare host name), in the order of `meet`."""
        return self._meet_paths or ("",) * len(self.meet)


class Federation(Model):
    """SIP federation, public IM connectivity (AOL needs Client Auth, R-GEN-02) and XMPP."""

    enabled: bool = False
    public_im: bool = False
    xmpp: bool = False
    xmpp_domains: list[Fqdn] = Field(
        default_factory=list, description="XMPP domains (default: every SIP domain), R-XMPP-01"
    )
    site: str | None = Field(None, description="site whose Edge pool federates (default: first)")


class WebServices(Model):
    """Internal and external web services FQDNs of a pool (Topology Builder's override names)."""

    internal: Fqdn | None = None
    external: Fqdn | None = None


class EdgeExternal(Model):
    """External FQDNs of an Edge pool: Access Edge, Web Conferencing Edge, A/V Edge."""

    access: Fqdn
    webconf: Fqdn
    av: Fqdn


class CertificateOptions(Model):
    """Per-pool (or global) certificate choices; unset fields inherit from `defaults`."""

    key: Key | None = None
    validity_days: int | None = Field(None, ge=1, le=7300)
    issuer: Issuer | None = None
    layout: Layout | None = None
    template: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


class Pool(Model):
    """A pool of one role. Single-server pools may omit `servers` (the pool FQDN is the server)."""

    role: Role
    fqdn: Fqdn
    servers: list[Fqdn] = Field(default_factory=list)
    web_services: WebServices | None = None
    external: EdgeExternal | None = None
    decoupled_av: bool = Field(False, description="separate A/V authentication cert (R-EDGE-02)")
    additional_sans: list[SanName] = Field(default_factory=list)
    plan_certificate: bool = Field(False, description="Office Web Apps: plan its own (Q14)")
    certificates: CertificateOptions = CertificateOptions()

    @property
    def members(self) -> list[str]:
        """The servers of the pool; a pool without `servers` is its own single server."""
        return list(self.servers) or [self.fqdn]


class ReverseProxy(Model):
    """The site's reverse proxy publishing external web services (R-RP-01..03)."""

    fqdn: Fqdn | None = None
    servers: list[Fqdn] = Field(default_factory=list)
    publishes: list[Fqdn] = Field(default_factory=list)
    lyncdiscover_over_http: bool = Field(False, description="R-MOB-03: first request over HTTP")
    client_auth: bool = Field(False, description="add Client Auth EKU (D11 procedure, Q7)")
    certificates: CertificateOptions = CertificateOptions()


def _site_name(value: str) -> str:
    if not value.isprintable():  # every report shows it, each its own way (CSV raw, .xlsx not)
        raise FieldProblem(
            f"site name {value!r} holds control or other non-printable characters",
            "write the site's name in plain text, as Topology Builder shows it, e.g. Redmond",
        )
    if value != value.strip():
        raise FieldProblem(
            f"site name {value!r} starts or ends with a space",
            f"write it without: {value.strip()!r}",
        )
    if value.strip().lower() == "global":
        raise FieldProblem(
            "'global' is the plan's name for the deployment-wide certificates (the "
            "OAuthTokenIssuer certificate's site): a site of that name could not be told apart",
            "name the site after its place or data center, e.g. Redmond",
        )
    return value


class Site(Model):
    name: Annotated[str, AfterValidator(_site_name)] = Field(min_length=1, max_length=64)
    pools: list[Pool] = Field(min_length=1)
    reverse_proxy: ReverseProxy | None = None


class OAuth(Model):
    """The single global OAuthTokenIssuer certificate (R-OAUTH-01..03)."""

    subject: Fqdn | None = Field(None, description="default: the default SIP domain (Q6)")
    certificates: CertificateOptions = CertificateOptions()


class CertificateAuthorities(Model):
    """Which CA kind issues each certificate kind (R-GEN-09)."""

    internal_servers: Issuer = Issuer.INTERNAL
    edge_internal: Issuer = Issuer.INTERNAL
    edge_external: Issuer = Issuer.PUBLIC
    reverse_proxy: Issuer = Issuer.PUBLIC
    oauth: Issuer = Issuer.INTERNAL


class Defaults(Model):
    key: Key = KeySpec("rsa", 2048)
    validity_days: int = Field(730, ge=1, le=7300)
    layout: Layout = Layout.SEPARATE
    public_ca_san_limit: int = Field(100, ge=1, description="SANs a public UC certificate allows")


class Topology(Model):
    """A whole deployment: the input of `lyncpki plan`."""

    organization: Organization = Organization()
    sip_domains: list[SipDomain] = Field(min_length=1)
    simple_urls: SimpleUrls
    mobility: bool = False
    automatic_sign_in: bool = True
    wildcards: bool = Field(False, description="*.<domain> for simple URLs/lyncdiscover, R-GEN-08")
    federation: Federation = Federation()
    defaults: Defaults = Defaults()
    certificate_authorities: CertificateAuthorities = CertificateAuthorities()
    oauth: OAuth = OAuth()
    sites: list[Site] = Field(min_length=1)

    @property
    def default_sip_domain(self) -> str:
        return self.sip_domains[0]

    def pools(self) -> list[tuple[Site, Pool]]:
        return [(site, pool) for site in self.sites for pool in site.pools]
