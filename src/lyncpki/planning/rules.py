"""The Lync Server 2013 certificate rules as data: one row per certificate a role needs.

Each row restates a rule of `shared/REQUIREMENTS.md` (its id is the row's id): which role it
applies to, one certificate per server or per pool, the usages, where the subject and each SAN
come from (with the requirement that adds it), EKUs, which CA, exportability and template.
A new role or requirement is a new row here, not a new branch in the planner.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from lyncpki.keyspec import KeySpec
from lyncpki.planning.model import Eku, Usage
from lyncpki.planning.sources import Condition, Name
from lyncpki.topology.model import Role


class Scope(StrEnum):
    SERVER = "server"  # one certificate per server of the pool (its FQDN differs)
    POOL = "pool"  # one certificate (and key) shared by every server of the pool
    SITE = "site"  # one per site (the reverse proxy)
    GLOBAL = "global"  # one for the whole deployment (OAuthTokenIssuer)


class Exportable(StrEnum):
    NEVER = "never"
    ALWAYS = "always"
    WHEN_SHARED = "when shared"  # exportable when the pool has more than one server


class CaKind(StrEnum):
    """Keys of `certificate_authorities` in the topology (R-GEN-09)."""

    INTERNAL_SERVERS = "internal_servers"
    EDGE_INTERNAL = "edge_internal"
    EDGE_EXTERNAL = "edge_external"
    REVERSE_PROXY = "reverse_proxy"
    OAUTH = "oauth"


REVERSE_PROXY = "reverse_proxy"  # applies_to of the site-level rule
GLOBAL = "global"  # applies_to of the deployment-level rule


@dataclass(frozen=True, slots=True)
class NameRule:
    source: Name
    rule: str  # the requirement that puts these names on the certificate


@dataclass(frozen=True, slots=True)
class UsageRule:
    usage: Usage
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class KeyRequirement:
    """The key a role's certificate needs whatever `defaults.key` says (that one is meant for
    the Lync servers, R-GEN-05): a key from the defaults that does not meet it is planned as
    `planned` with a note; one set in the certificate's own options is kept, and
    plan.key-requirement says so."""

    rule: str  # the requirement that sets it
    min_bits: int  # RSA modulus bits (both requirements are RSA keys)
    max_bits: int | None = None  # None: any larger size
    reason: str = ""

    def allows(self, key: KeySpec) -> bool:
        return (
            key.algorithm == "rsa"
            and key.size >= self.min_bits
            and (self.max_bits is None or key.size <= self.max_bits)
        )

    @property
    def planned(self) -> KeySpec:
        return KeySpec("rsa", self.min_bits)

    @property
    def text(self) -> str:
        if self.max_bits == self.min_bits:
            return f"RSA {self.min_bits}"
        return f"an RSA key of at least {self.min_bits} bits"

    @property
    def demand(self) -> str:
        """`R-RP-02 requires RSA 2048 (why)`, as the plan's note and its finding say it."""
        return f"{self.rule} requires {self.text}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True, slots=True)
class CertificateRule:
    id: str
    applies_to: Role | str
    label: str  # short name: the plan id suffix and the friendly name
    scope: Scope
    usages: tuple[UsageRule, ...]
    subject: Name
    sans: tuple[NameRule, ...]
    ca: CaKind
    exportable: Exportable
    exportable_reason: str
    sources: tuple[str, ...]
    client_auth_when: Condition | None = None
    client_auth_rule: str = "R-GEN-02"
    template: str = "WebServer"
    wildcard_ok: bool = False  # R-GEN-08: may carry *.<domain> SANs
    merge_group: str | None = None  # `layout: combined` merges a server's rows of one group
    when: Condition | None = None
    key: KeyRequirement | None = None
    notes: tuple[str, ...] = ()


NOT_EXPORTABLE = "not needed: the key never leaves the server that made the request (R-GEN-12)"
SHARED_KEY = "one certificate and key copied to every server of the pool (R-GEN-12)"


def _n(source: Name, rule: str) -> NameRule:
    return NameRule(source, rule)


def _front_rules(
    role: Role, prefix: str, web_subject: Name, docs: tuple[str, ...]
) -> tuple[CertificateRule, ...]:
    """Default + WebServicesInternal + WebServicesExternal of a Front End, SE or Director."""
    default_sans: tuple[NameRule, ...] = (
        _n(Name.POOL, f"{prefix}-01"),
        _n(Name.SERVER, f"{prefix}-01"),
        _n(Name.SIP_AUTO, f"{prefix}-01"),
        _n(Name.ADDITIONAL, "R-GEN-07"),
    )
    row = partial(
        CertificateRule,
        applies_to=role,
        scope=Scope.SERVER,
        ca=CaKind.INTERNAL_SERVERS,
        exportable=Exportable.NEVER,
        exportable_reason=NOT_EXPORTABLE,
        merge_group="front",
        sources=docs,
    )
    return (
        row(
            id=f"{prefix}-01",
            label="default",
            usages=(UsageRule(Usage.DEFAULT),),
            subject=Name.POOL,
            sans=default_sans,
        ),
        row(
            id=f"{prefix}-02",
            label="web-internal",
            usages=(UsageRule(Usage.WEB_INTERNAL),),
            subject=web_subject,
            sans=(
                _n(Name.INTERNAL_WEB, f"{prefix}-02"),
                _n(Name.SERVER, f"{prefix}-02"),
                _n(Name.POOL, f"{prefix}-02"),
                _n(Name.MEET, f"{prefix}-02"),
                _n(Name.DIALIN, f"{prefix}-02"),
                _n(Name.ADMIN, f"{prefix}-02"),
                _n(Name.LYNCDISCOVER_INTERNAL, "R-MOB-01"),
            ),
            wildcard_ok=True,
        ),
        row(
            id=f"{prefix}-03",
            label="web-external",
            usages=(UsageRule(Usage.WEB_EXTERNAL),),
            subject=web_subject,
            sans=(
                _n(Name.EXTERNAL_WEB, f"{prefix}-03"),
                _n(Name.MEET, f"{prefix}-03"),
                _n(Name.DIALIN, f"{prefix}-03"),
                _n(Name.LYNCDISCOVER, "R-MOB-02"),
            ),
            wildcard_ok=True,
            when=Condition.HAS_EXTERNAL_WEB,
        ),
    )


RULES: tuple[CertificateRule, ...] = (
    *_front_rules(Role.FRONT_END, "R-FE", Name.POOL, ("D1", "S2")),
    *_front_rules(Role.STANDARD_EDITION, "R-SE", Name.POOL, ("D1", "S2", "D20")),
    *_front_rules(Role.DIRECTOR, "R-DIR", Name.POOL, ("D1", "D14", "D20")),
    CertificateRule(
        id="R-MED-01",
        applies_to=Role.MEDIATION,
        label="default",
        scope=Scope.SERVER,
        usages=(UsageRule(Usage.DEFAULT),),
        subject=Name.POOL,
        sans=(
            _n(Name.POOL, "R-MED-01"),
            _n(Name.SERVER, "R-MED-01"),
            _n(Name.ADDITIONAL, "R-GEN-07"),
        ),
        ca=CaKind.INTERNAL_SERVERS,
        exportable=Exportable.NEVER,
        exportable_reason=NOT_EXPORTABLE,
        sources=("D1",),
    ),
    CertificateRule(
        id="R-SBA-01",
        applies_to=Role.SBA,
        label="default",
        scope=Scope.SERVER,
        usages=(UsageRule(Usage.DEFAULT),),
        subject=Name.SERVER,
        sans=(
            _n(Name.POOL, "R-GEN-07"),
            _n(Name.SIP_ALL, "R-SBA-01"),
            _n(Name.ADDITIONAL, "R-GEN-07"),
        ),
        ca=CaKind.INTERNAL_SERVERS,
        exportable=Exportable.NEVER,
        exportable_reason=NOT_EXPORTABLE,
        sources=("D1",),
    ),
    CertificateRule(
        id="R-PC-01",
        applies_to=Role.PERSISTENT_CHAT,
        label="default",
        scope=Scope.SERVER,
        usages=(UsageRule(Usage.DEFAULT),),
        subject=Name.SERVER,
        sans=(_n(Name.SERVER, "R-PC-01"), _n(Name.ADDITIONAL, "R-GEN-07")),
        ca=CaKind.INTERNAL_SERVERS,
        exportable=Exportable.NEVER,
        exportable_reason=NOT_EXPORTABLE,
        sources=("D3", "D20"),
        notes=(
            "names inferred: the docs only require the same CA as the other internal servers "
            "(Q13); obtain it before installing Persistent Chat",
        ),
    ),
    CertificateRule(
        id="R-EDGE-01",
        applies_to=Role.EDGE,
        label="edge-external",
        scope=Scope.POOL,
        usages=(
            UsageRule(Usage.ACCESS_EDGE_EXTERNAL),
            UsageRule(Usage.DATA_EDGE_EXTERNAL),
            UsageRule(Usage.AV_AUTH, Condition.AV_COUPLED),
            UsageRule(Usage.XMPP, Condition.XMPP_HERE),
        ),
        subject=Name.EDGE_ACCESS,
        sans=(
            _n(Name.EDGE_ACCESS, "R-EDGE-01"),
            _n(Name.EDGE_WEBCONF, "R-EDGE-01"),
            _n(Name.SIP_EDGE, "R-EDGE-01"),
            _n(Name.XMPP, "R-XMPP-01"),
            _n(Name.ADDITIONAL, "R-GEN-07"),
        ),
        ca=CaKind.EDGE_EXTERNAL,
        exportable=Exportable.ALWAYS,
        exportable_reason=(
            "the same certificate and key on every Edge server of the pool; the A/V "
            "authentication service needs it exportable even on a single Edge (R-GEN-12)"
        ),
        client_auth_when=Condition.PUBLIC_IM,
        sources=("D2", "D7", "D12", "D15", "D21"),
        notes=("the A/V Edge FQDN is not needed: A/V Edge reads neither subject nor SAN (Q1)",),
    ),
    CertificateRule(
        id="R-EDGE-02",
        applies_to=Role.EDGE,
        label="av-authentication",
        scope=Scope.POOL,
        usages=(UsageRule(Usage.AV_AUTH),),
        subject=Name.EDGE_AV,
        sans=(_n(Name.EDGE_AV, "R-GEN-07"),),
        ca=CaKind.EDGE_EXTERNAL,
        exportable=Exportable.ALWAYS,
        exportable_reason="the same key on every Edge server of the pool (R-EDGE-02, R-GEN-12)",
        when=Condition.AV_DECOUPLED,
        sources=("D2", "D7", "D8"),
        notes=(
            "decoupled A/V authentication: names unused; stage replacements with "
            "Set-CsCertificate -Roll at least 8 hours before expiry (R-CMD-SET)",
        ),
    ),
    CertificateRule(
        id="R-EDGE-03",
        applies_to=Role.EDGE,
        label="edge-internal",
        scope=Scope.POOL,
        usages=(UsageRule(Usage.INTERNAL),),
        subject=Name.POOL,
        sans=(_n(Name.POOL, "R-EDGE-03"),),
        ca=CaKind.EDGE_INTERNAL,
        exportable=Exportable.WHEN_SHARED,
        exportable_reason=SHARED_KEY,
        wildcard_ok=True,
        sources=("D2", "D7", "D12", "D16", "D21"),
    ),
    CertificateRule(
        id="R-OWA-01",
        applies_to=Role.OFFICE_WEB_APPS,
        label="office-web-apps",
        scope=Scope.POOL,
        usages=(UsageRule(Usage.OFFICE_WEB_APPS),),
        subject=Name.POOL,
        sans=(
            _n(Name.POOL, "R-GEN-07"),
            _n(Name.EXTERNAL_WEB, "R-RP-01"),
            _n(Name.ADDITIONAL, "R-GEN-07"),
        ),
        ca=CaKind.INTERNAL_SERVERS,
        exportable=Exportable.WHEN_SHARED,
        exportable_reason=SHARED_KEY,
        when=Condition.OWA_PLANNED,
        sources=("Q14",),
        notes=("inferred: Office Web Apps Server's own certificate is not in the Lync docs (Q14)",),
    ),
    CertificateRule(
        id="R-RP-01",
        applies_to=REVERSE_PROXY,
        label="reverse-proxy",
        scope=Scope.SITE,
        usages=(UsageRule(Usage.REVERSE_PROXY),),
        subject=Name.RP_SUBJECT,
        sans=(
            _n(Name.RP_SUBJECT, "R-RP-01"),
            _n(Name.RP_PUBLISHED, "R-RP-01"),
            _n(Name.MEET, "R-RP-01"),
            _n(Name.DIALIN, "R-RP-01"),
            _n(Name.OWA_EXTERNAL, "R-RP-01"),
            _n(Name.LYNCDISCOVER_RP, "R-MOB-03"),
        ),
        ca=CaKind.REVERSE_PROXY,
        exportable=Exportable.WHEN_SHARED,
        exportable_reason="shared by the reverse proxy farm (R-GEN-12, R-RP-02)",
        client_auth_when=Condition.RP_CLIENT_AUTH,
        client_auth_rule="R-RP-02",
        wildcard_ok=True,
        when=Condition.HAS_REVERSE_PROXY,
        key=KeyRequirement(
            "R-RP-02",
            2048,
            2048,
            "the documented request for the reverse proxy listener (TMG, IIS ARR) is RSA 2048, "
            "key type Exchange",
        ),
        sources=("D10", "D11", "D2", "D6"),
        notes=("the reverse proxy must also trust the internal root CA (R-RP-02)",),
    ),
    CertificateRule(
        id="R-OAUTH-01",
        applies_to=GLOBAL,
        label="oauth",
        scope=Scope.GLOBAL,
        usages=(UsageRule(Usage.OAUTH),),
        subject=Name.OAUTH_SUBJECT,
        sans=(_n(Name.OAUTH_SUBJECT, "R-GEN-07"),),
        ca=CaKind.OAUTH,
        exportable=Exportable.ALWAYS,
        exportable_reason=(
            "assigned once with -Identity global and replicated to every Front End "
            "(moved as a PFX, R-OAUTH-02)"
        ),
        template="WebServer",  # what the Certificate Wizard asks AD CS for (seeds 002)
        key=KeyRequirement(
            "R-OAUTH-01",
            2048,
            reason="D9's 2048-bit RSA: the Exchange and SharePoint partner applications "
            "validate the tokens it signs (R-OAUTH-03), and no source has them take an EC key",
        ),
        sources=("D9", "D14", "D17"),
        notes=(
            "one for the whole deployment; stage its replacement at least 24 hours before "
            "expiry with -Roll (R-OAUTH-03)",
        ),
    ),
)

CLIENT_AUTH_TEMPLATE = "LyncServer"  # server + client authentication (R-GEN-02, R-GEN-14)


def template_key(template: str) -> str:
    """A template name as AD CS compares it: case and spaces aside (`webserver` and the
    display name `Web Server` are the WebServer template)."""
    return "".join(template.split()).lower()


def is_webserver(template: str) -> bool:
    """Whether `template` names the default WebServer template, however it is written."""
    return template_key(template) == "webserver"


def request_template(template: str, client_auth: bool) -> str:
    """The template a request for a planned certificate names: the plan's, or
    CLIENT_AUTH_TEMPLATE where it needs Client Authentication and the plan's is the default
    WebServer, which cannot carry it (R-GEN-02)."""
    return CLIENT_AUTH_TEMPLATE if client_auth and is_webserver(template) else template


def rules_for(applies_to: Role | str) -> tuple[CertificateRule, ...]:
    return _BY_TARGET.get(applies_to, ())


_BY_TARGET: dict[Role | str, tuple[CertificateRule, ...]] = {}
for _rule in RULES:
    _BY_TARGET[_rule.applies_to] = (*_BY_TARGET.get(_rule.applies_to, ()), _rule)

DEFAULT_EKU = (Eku.SERVER_AUTH,)  # R-GEN-01
