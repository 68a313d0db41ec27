"""Warnings the Planning Tool leaves out, each a small function listed in a table with its id.

Certificate advice looks at one planned certificate; topology advice at the whole plan. None of
them raises: each returns the warnings it finds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lyncpki.planning.context import Context, Facts
from lyncpki.planning.model import Eku, PlannedCertificate, PlanWarning, Severity, Usage
from lyncpki.planning.public_validity import SOURCE, public_max_days
from lyncpki.planning.rules import (
    CLIENT_AUTH_TEMPLATE,
    GLOBAL,
    REVERSE_PROXY,
    CaKind,
    CertificateRule,
    is_webserver,
)
from lyncpki.planning.sources import Name
from lyncpki.topology.issues import format_path
from lyncpki.topology.model import Issuer, Pool, Role, Topology
from lyncpki.topology.names import CN_MAX, is_within

# Names of Microsoft's documentation and common placeholders (seed 000: "default text that is
# left unedited may represent a potential challenge").
EXAMPLE_DOMAINS = (
    "contoso.com", "contoso.net", "contoso.local", "fabrikam.com", "fabrikam.net",
    "litwareinc.com", "adatum.com", "northwindtraders.com", "wingtiptoys.com",
    "tailspintoys.com", "woodgrovebank.com", "example.com", "example.net", "example.org",
    "example", "invalid", "domain.com", "yourdomain.com", "mydomain.com", "company.com",
)  # fmt: skip
_EXAMPLE_SET = frozenset(EXAMPLE_DOMAINS)
EXAMPLE_WORDS = ("contoso", "fabrikam", "litware", "adventure works", "northwind")
# an example word as a word of its own ("Contoso Ltd", "IT-Fabrikam"), not inside another
# ("Contosol GmbH", "Fabrikamation"), as DNS names are matched by whole labels
_EXAMPLE_WORD = re.compile(
    r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in EXAMPLE_WORDS) + r")(?![^\W_])"
)

PUBLIC_FACING = (CaKind.EDGE_EXTERNAL, CaKind.REVERSE_PROXY)


@dataclass(frozen=True, slots=True)
class Advice:
    id: str
    rule: str
    severity: Severity
    summary: str  # what it looks for (listed in the README)


def _warn(
    advice: Advice,
    subject: str,
    message: str,
    fix: str,
    cert: str | None = None,
    severity: Severity | None = None,  # None: the advice's own
) -> PlanWarning:
    return PlanWarning(
        advice.id, advice.rule, severity or advice.severity, subject, message, fix, cert
    )


WILDCARD = Advice(
    "plan.wildcard-not-accepted", "R-GEN-08", Severity.WARNING,
    "a wildcard SAN on a certificate where Lync does not accept one",
)  # fmt: skip
WEAK_KEY = Advice("plan.weak-key", "R-GEN-05", Severity.WARNING, "a key under 2048 bits")
PUBLIC_NAME_INTERNAL = Advice(
    "plan.public-name-internal-ca", "R-GEN-09", Severity.WARNING,
    "a public-facing certificate (Edge external, reverse proxy) from the internal CA",
)  # fmt: skip
TOO_MANY_SANS = Advice(
    "plan.too-many-sans", "R-GEN-09", Severity.WARNING,
    "more SANs than a public CA's UC certificate usually allows (defaults.public_ca_san_limit)",
)  # fmt: skip
EDGE_SIP = Advice(
    "plan.edge-sip-missing", "R-EDGE-01", Severity.WARNING,
    "a SIP domain with no sip.<domain> name on the Edge external certificate",
)  # fmt: skip

PUBLIC_INTERNAL_NAME = Advice(
    "plan.public-internal-name", "R-GEN-09", Severity.WARNING,
    "a certificate planned from a public CA naming an internal domain (.local, .lan, .corp...) "
    "or a single-label host, which no public CA issues",
)  # fmt: skip
# Domains no public CA may certify (CA/Browser Forum: internal names are not issued since 2015):
# the special-use names of RFC 2606/6761/6762, ICANN's .internal, and the private suffixes
# Active Directory forests were commonly given.
INTERNAL_SUFFIXES = frozenset({
    "local", "localhost", "localdomain", "test", "example", "invalid", "internal", "intranet",
    "lan", "corp", "home", "private", "priv",
})  # fmt: skip

SUBJECT_TOO_LONG = Advice(
    "plan.subject-too-long", "R-GEN-06", Severity.ERROR,
    "a subject (pool or server FQDN) longer than the 64 characters a certificate's CN takes",
)  # fmt: skip


def _subject_fix(rule: CertificateRule, cert: PlannedCertificate, ctx: Context) -> str:
    """Where the topology gives `rule` its subject, and how to shorten it there."""
    most = f"at most {CN_MAX} characters"
    pool = ctx.pool.fqdn if ctx.pool else ""
    if rule.subject is Name.OAUTH_SUBJECT:
        where = (
            "oauth.subject names it"
            if ctx.topology.oauth.subject
            else "it is the default SIP domain, the first of sip_domains"
        )
        return f"set oauth.subject to a name of {most} ({where}); the SIP domains need not change"
    if rule.subject is Name.RP_SUBJECT:
        return (
            f"publish a name of {most} first in reverse_proxy.publishes of site "
            f"{ctx.site.name} (the Front End pool's web_services.external when it is published "
            f"is the subject), or shorten {cert.subject}"
        )
    if rule.subject is Name.EDGE_ACCESS:
        return f"shorten external.access of Edge pool {pool} to {most}"
    if rule.subject is Name.EDGE_AV:
        return f"shorten external.av of Edge pool {pool} to {most}"
    if rule.subject is Name.SERVER:
        return f"shorten the server's FQDN {cert.subject} (in servers of pool {pool}) to {most}"
    return (
        f"shorten the FQDN of pool {pool} to {most} (a pool's FQDN is the subject of its "
        "servers' certificates)"
    )


def _subject_too_long(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if len(cert.subject) > CN_MAX:
        yield _warn(
            SUBJECT_TOO_LONG, cert.subject,
            f"the subject of {cert.id} is {len(cert.subject)} characters: a certificate's CN "
            f"takes at most {CN_MAX} (RFC 5280), so no CA can issue it and no request can be "
            "made for it",
            _subject_fix(rule, cert, ctx), cert.id,
        )  # fmt: skip


def _wildcards(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if rule.wildcard_ok:
        return
    xmpp = {f"*.{d}" for d in ctx.facts.xmpp_domains} if Usage.XMPP in cert.usages else set()
    for name in cert.sans:
        if name.startswith("*.") and name not in xmpp:
            yield _warn(
                WILDCARD, name,
                f"wildcard '{name}' on the {', '.join(cert.usages)} certificate of {cert.target}: "
                "Lync accepts wildcards only for simple URLs and lyncdiscover on web services "
                "and reverse proxy certificates",
                "list each name explicitly (remove the wildcard from additional_sans)", cert.id,
            )  # fmt: skip


def _weak_key(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if cert.key.strength_bits < 2048:
        yield _warn(
            WEAK_KEY, cert.key.name,
            f"{cert.id} uses a {cert.key.name} key; 2048 bits or more are recommended",
            "set key: rsa2048 (or stronger) in defaults or the pool's certificates", cert.id,
        )  # fmt: skip


KEY_REQUIREMENT = Advice(
    "plan.key-requirement", "R-RP-02", Severity.WARNING,
    "a key set in a certificate's options that its role does not take: the reverse proxy's is "
    "RSA 2048 (R-RP-02), the OAuthTokenIssuer's RSA of 2048 bits or more (R-OAUTH-01)",
)  # fmt: skip


def _key_field(rule: CertificateRule, ctx: Context) -> str:
    """Where the topology sets the key of a certificate of `rule`."""
    if rule.applies_to == GLOBAL:
        return "oauth.certificates.key"
    if rule.applies_to == REVERSE_PROXY:
        return f"certificates.key of the reverse_proxy of site {ctx.site.name}"
    return f"certificates.key of pool {ctx.pool.fqdn if ctx.pool else ''}"


def _key_requirement(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    """A key from `defaults` is planned as the rule requires (planner.key, with a note); one
    the certificate's own options ask for is kept, and said here. An RSA key larger than the
    rule's size is only a note (it works, e.g. RSA 4096 on the reverse proxy); another type or
    a smaller key a warning."""
    need = rule.key
    if need is None or need.allows(cert.key):
        return
    larger = cert.key.algorithm == "rsa" and cert.key.size > need.min_bits
    warning = _warn(
        KEY_REQUIREMENT, cert.key.name,
        f"{cert.id} is planned with the {cert.key.name} key its certificates options ask for; "
        + need.demand,
        f"remove {_key_field(rule, ctx)} (the certificate is then planned "
        f"{need.planned.name}), or set it to {need.planned.name}", cert.id,
        Severity.INFO if larger else Severity.WARNING,
    )  # fmt: skip
    yield replace(warning, rule=need.rule)


def _public_from_internal(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if rule.ca in PUBLIC_FACING and cert.issuer is Issuer.INTERNAL:
        yield _warn(
            PUBLIC_NAME_INTERNAL, cert.subject,
            f"{cert.id} is presented to the Internet ({', '.join(cert.sans)}) but is planned "
            "from the internal CA: external clients and federated partners will not trust it",
            f"use certificate_authorities.{rule.ca}: public (a UC certificate partner CA)",
            cert.id,
        )  # fmt: skip


def _public_internal_names(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if cert.issuer is not Issuer.PUBLIC:
        return
    internal = [
        name
        for name in cert.sans
        if "." not in name.strip(".") or name.rstrip(".").rsplit(".", 1)[-1] in INTERNAL_SUFFIXES
    ]
    if internal:
        yield _warn(
            PUBLIC_INTERNAL_NAME, internal[0],
            f"{cert.id} is planned from a public CA but names {', '.join(internal[:4])}"
            + (f" and {len(internal) - 4} more" if len(internal) > 4 else "")
            + ": public CAs issue no certificate for an internal domain or a single-label name",
            "give the public-facing names under a registered domain (e.g. sip.contoso.com), or "
            f"plan it from the internal CA (certificate_authorities.{rule.ca}: internal) for a "
            "lab", cert.id,
        )  # fmt: skip


def _too_many_sans(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    limit = ctx.topology.defaults.public_ca_san_limit
    if cert.issuer is Issuer.PUBLIC and len(cert.sans) > limit:
        yield _warn(
            TOO_MANY_SANS, cert.subject,
            f"{cert.id} has {len(cert.sans)} SANs; public CAs usually allow at most {limit}",
            "split it (one certificate per published web farm, R-RP-01) or use wildcards "
            "where R-GEN-08 allows them", cert.id,
        )  # fmt: skip


def _edge_sip(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if Usage.ACCESS_EDGE_EXTERNAL not in cert.usages:
        return
    for domain in ctx.topology.sip_domains:
        if f"sip.{domain}" not in cert.sans:
            yield _warn(
                EDGE_SIP, domain,
                f"SIP domain {domain} has no sip.{domain} on the Edge external certificate: "
                "external clients of this domain cannot configure themselves automatically",
                "set automatic_sign_in: true (or enable federation), or add "
                f"sip.{domain} to the Edge pool's additional_sans", cert.id,
            )  # fmt: skip


ADMIN_EXTERNAL = Advice(
    "plan.admin-external", "R-RP-01", Severity.WARNING,
    "the admin simple URL on a certificate presented to the Internet",
)  # fmt: skip
CLIENT_AUTH_WEBSERVER = Advice(
    "plan.client-auth-template", "R-GEN-02", Severity.WARNING,
    "Client Authentication asked of the WebServer template, which cannot carry it",
)  # fmt: skip


def _admin_external(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    urls = ctx.topology.simple_urls
    admin = urls.admin
    if not (rule.ca in PUBLIC_FACING and admin and admin in cert.sans):
        return
    if admin in urls.meet or admin == urls.dialin:
        # one host for the simple URLs (https://lync.contoso.com/meet, /dialin, /admin): the
        # name must stay for meet and dial-in; what keeps admin inside is the proxy's rule
        yield _warn(
            ADMIN_EXTERNAL, admin,
            f"{cert.id} carries {admin}, the host of the meet or dial-in URL and of the admin "
            "URL: the name must stay, and the Control Panel is for internal users only",
            f"publish only the meet and dial-in paths of {admin} at the reverse proxy (not "
            "/admin), or give the admin URL a host of its own", cert.id, Severity.INFO,
        )  # fmt: skip
        return
    yield _warn(
        ADMIN_EXTERNAL, admin,
        f"{cert.id} carries the admin URL {admin}: the Control Panel is for internal users "
        "only, and the name on an Internet-facing certificate publishes it",
        f"remove {admin} from the reverse proxy's publishes and the additional_sans of "
        "external certificates", cert.id,
    )  # fmt: skip


def _client_auth_webserver(
    rule: CertificateRule, cert: PlannedCertificate, ctx: Context
) -> Iterator[PlanWarning]:
    if Eku.CLIENT_AUTH in cert.eku and is_webserver(cert.template):
        yield _warn(
            CLIENT_AUTH_WEBSERVER, cert.template,
            f"{cert.id} needs Client Authentication (public IM, R-GEN-02), and the WebServer "
            f"template ({cert.template}) issues Server Authentication only: the CA drops it or "
            "refuses",
            f"use a template with both EKUs (e.g. {CLIENT_AUTH_TEMPLATE}) in the certificate's "
            "template, or remove the WebServer override", cert.id,
        )  # fmt: skip


CERTIFICATE_ADVICE: tuple[
    tuple[Advice, Callable[[CertificateRule, PlannedCertificate, Context], Iterator[PlanWarning]]],
    ...,
] = (
    (SUBJECT_TOO_LONG, _subject_too_long),
    (WILDCARD, _wildcards),
    (WEAK_KEY, _weak_key),
    (KEY_REQUIREMENT, _key_requirement),
    (PUBLIC_NAME_INTERNAL, _public_from_internal),
    (PUBLIC_INTERNAL_NAME, _public_internal_names),
    (TOO_MANY_SANS, _too_many_sans),
    (EDGE_SIP, _edge_sip),
    (ADMIN_EXTERNAL, _admin_external),
    (CLIENT_AUTH_WEBSERVER, _client_auth_webserver),
)


def certificate_warnings(
    parts: Sequence[tuple[CertificateRule, PlannedCertificate]],
    cert: PlannedCertificate,
    ctx: Context,
) -> list[PlanWarning]:
    """The advice about `cert` as the report lists it, each said once: `parts` are the rules
    it was planned by with what each planned, several when `layout: combined` merged a
    server's Default and web services certificates into `cert` (R-GEN-17). Every check
    judges the whole certificate (its SAN count, key, issuer, template), but where a wildcard
    may be depends on the rule that put the name there (R-GEN-08): a web services part's
    simple URL wildcards are accepted, a wildcard only the Default part carries is not."""
    first = parts[0][0]
    accepted = {name for rule, part in parts if rule.wildcard_ok for name in part.sans}
    found: list[PlanWarning] = []
    for rule, part in parts:
        if not rule.wildcard_ok:
            own = tuple(name for name in part.sans if name not in accepted)
            found += _wildcards(rule, replace(cert, sans=own), ctx)
    found += [
        w
        for advice, check in CERTIFICATE_ADVICE
        if advice is not WILDCARD
        for w in check(first, cert, ctx)
    ]
    return list(dict.fromkeys(found))


DEFAULT_NAME = Advice(
    "plan.default-name", "S0", Severity.WARNING,
    "a name left as the documentation's example (contoso, fabrikam) or a placeholder",
)  # fmt: skip
MEET_PER_DOMAIN = Advice(
    "plan.meet-url-missing", "Q12", Severity.WARNING, "a SIP domain without its own meet URL"
)
LYNCDISCOVER_HTTP = Advice(
    "plan.lyncdiscover-over-http", "R-MOB-03", Severity.WARNING,
    "the first Autodiscover request published over HTTP instead of lyncdiscover on the RP",
)  # fmt: skip
NOT_PUBLISHED = Advice(
    "plan.web-not-published", "R-RP-01", Severity.WARNING,
    "an external web services FQDN that no reverse proxy publishes",
)  # fmt: skip
NO_FRONT_END = Advice(
    "plan.no-front-end", "R-OAUTH-02", Severity.WARNING,
    "no Front End or Standard Edition pool to hold the OAuthTokenIssuer certificate",
)  # fmt: skip
WILDCARD_DEVICES = Advice(
    "plan.wildcards-in-use", "R-GEN-08", Severity.INFO,
    "wildcards are planned: UC devices must be tested with them",
)  # fmt: skip
CHAT_SAME_CA = Advice(
    "plan.persistent-chat-ca", "R-GEN-09", Severity.WARNING,
    "Persistent Chat planned from another CA than the other internal servers",
)  # fmt: skip


def _strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield format_path(path), value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _default_names(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    for field, text in _strings(topology.model_dump(mode="json", exclude_defaults=True)):
        lowered = text.lower()
        labels = lowered.split(".")
        example = any(".".join(labels[i:]) in _EXAMPLE_SET for i in range(len(labels)))
        if example or (field.startswith("organization") and _EXAMPLE_WORD.search(lowered)):
            yield _warn(
                DEFAULT_NAME, field,
                f"'{text}' is the documentation's example text, left unedited",
                "replace it with your organization's own value",
            )  # fmt: skip


def _meet_domain(host: str, path: str, domains: list[str]) -> str | None:
    """The SIP domain a meet URL serves: the one its path names (/meet/fabrikam.com,
    /fabrikam.com/Meet), else the most specific SIP domain its host is in (meet.eu.contoso.com
    is eu.contoso.com's, not contoso.com's)."""
    segments = {segment.lower() for segment in path.split("/") if segment}
    named = [d for d in domains if d in segments]
    within = named or [d for d in domains if is_within(host, d)]
    return max(within, key=len) if within else None


def _meet_per_domain(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    urls = topology.simple_urls
    served = {
        _meet_domain(host, path, topology.sip_domains)
        for host, path in zip(urls.meet, urls.meet_paths, strict=True)
    }
    for domain in topology.sip_domains:
        if domain not in served:
            yield _warn(
                MEET_PER_DOMAIN, domain,
                f"SIP domain {domain} has no meet URL of its own; each SIP domain needs an "
                "active meet URL (D11)",
                f"add meet.{domain} to simple_urls.meet",
            )  # fmt: skip


def _lyncdiscover_http(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    for site in topology.sites:
        proxy = site.reverse_proxy
        if topology.mobility and proxy and proxy.lyncdiscover_over_http:
            yield _warn(
                LYNCDISCOVER_HTTP, f"site {site.name}",
                "the reverse proxy publishes the first Autodiscover request over HTTP: "
                "supported, not recommended",
                "set lyncdiscover_over_http: false to put lyncdiscover.<domain> on the reverse "
                "proxy certificate",
            )  # fmt: skip


def _not_published(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    published = {n for s in topology.sites for n in facts.published_by(s)}
    for site, pool in topology.pools():
        external = pool.web_services.external if pool.web_services else None
        if external and external in facts.published_web and external not in published:
            yield _warn(
                NOT_PUBLISHED, external,
                f"the external web services of {pool.fqdn} ({external}) are published by no "
                "reverse proxy: remote users cannot reach them",
                f"add {external} to reverse_proxy.publishes of site {site.name}",
            )  # fmt: skip


RP_IMPLIED = Advice(
    "plan.rp-publishes-implied", "R-RP-01", Severity.INFO,
    "a reverse proxy without publishes: planned for its site's Front End, Standard Edition and "
    "Director external web services FQDNs",
)  # fmt: skip


def _rp_publishes_implied(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """A proxy that lists nothing publishes its site's pools (Facts.published_by): said, since
    the names on its public certificate came from no list the topology wrote. A site with
    nothing of its own to publish gets no certificate, and plan.no-subject (an error) says so."""
    for site in topology.sites:
        proxy = site.reverse_proxy
        implied = facts.published_by(site)
        if proxy is None or proxy.publishes or not implied:
            continue
        yield _warn(
            RP_IMPLIED, f"site {site.name}",
            f"the reverse proxy of site {site.name} lists no publishes: its certificate is "
            f"planned for the site's external web services ({', '.join(implied)}) with the "
            "simple URLs, Office Web Apps and lyncdiscover names (R-RP-01)",
            f"list the external web services FQDNs it publishes in reverse_proxy.publishes of "
            f"site {site.name} (the Front End pool's first)",
        )  # fmt: skip


RP_INTERNAL_NAME = Advice(
    "plan.rp-publishes-internal", "R-RP-01", Severity.WARNING,
    "a reverse proxy publishing an internal pool, server or web services FQDN",
)  # fmt: skip
RP_UNKNOWN_NAME = Advice(
    "plan.rp-publishes-unknown", "R-RP-01", Severity.WARNING,
    "a reverse proxy publishing a name that is no external web services FQDN of the topology",
)  # fmt: skip


def _internal_names(topology: Topology) -> dict[str, str]:
    """Every internal FQDN of the topology, with what it names."""
    names: dict[str, str] = {}
    for _, pool in topology.pools():
        for server in pool.members:
            names.setdefault(server, f"a server of pool {pool.fqdn}")
        names[pool.fqdn] = f"the FQDN of {pool.role} pool {pool.fqdn}"
        internal = pool.web_services.internal if pool.web_services else None
        if internal:
            names.setdefault(internal, f"the internal web services FQDN of pool {pool.fqdn}")
    return names


def _rp_published_names(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """D2: the reverse proxy publishes the External web services FQDNs defined on the Front
    End, Standard Edition and Director pools (and Office Web Apps', the simple URLs,
    lyncdiscover). An internal name there ends on an Internet-facing certificate; any other
    name is most likely a typo of one."""
    internal = _internal_names(topology)
    urls = topology.simple_urls
    external = {  # every pool's external web FQDN (facts.published_web among them)
        *facts.lyncdiscover, *urls.meet, *(n for n in (urls.dialin, urls.admin) if n),
        *(p.web_services.external for _, p in topology.pools()
          if p.web_services and p.web_services.external),
    }  # fmt: skip
    for site in topology.sites:
        proxy = site.reverse_proxy
        for name in proxy.publishes if proxy else ():
            if name in external:
                continue
            if name in internal:
                yield _warn(
                    RP_INTERNAL_NAME, name,
                    f"the reverse proxy of site {site.name} publishes {name}, {internal[name]}: "
                    "the Internet-facing certificate would carry an internal name (public CAs "
                    "refuse names they cannot validate, and the name tells the Internet about "
                    "the inside)",
                    "publish the pool's external web services FQDN (web_services.external) "
                    f"instead of {name}",
                )  # fmt: skip
            else:
                yield _warn(
                    RP_UNKNOWN_NAME, name,
                    f"the reverse proxy of site {site.name} publishes {name}, which is no "
                    "external web services FQDN, simple URL or lyncdiscover name of the "
                    "topology (a misspelling?)",
                    (
                        f"publish one of: {', '.join(sorted(facts.published_web))}; or give the "
                        f"pool that serves {name} that name as its web_services.external"
                        if facts.published_web
                        else f"give the pool that serves {name} that name as its "
                        "web_services.external, or remove it from publishes"
                    ),
                )  # fmt: skip


def _no_front_end(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    if not facts.oauth_servers:
        yield _warn(
            NO_FRONT_END, "sites",
            "the topology has no Front End, Standard Edition or Director pool: the global "
            "OAuthTokenIssuer certificate has no server to be assigned on",
            "add the Front End pool (role: front_end) or Standard Edition server",
        )  # fmt: skip


def _wildcards_in_use(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    if topology.wildcards:
        yield _warn(
            WILDCARD_DEVICES, "wildcards",
            "wildcard SANs replace simple URL and lyncdiscover names on web services and "
            "reverse proxy certificates",
            "test every UC device model (phones) against them before rollout",
        )  # fmt: skip


# the internal servers Persistent Chat must share a CA with (R-GEN-09), as plan roles
_INTERNAL_SERVER_ROLES = frozenset(
    str(role)
    for role in (
        Role.FRONT_END, Role.STANDARD_EDITION, Role.DIRECTOR, Role.MEDIATION, Role.SBA
    )
)  # fmt: skip


def _chat_ca(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """R-GEN-09: Persistent Chat must use the same CA as the other internal servers. Judged on
    the issuers the certificates are planned from (certificate_authorities.internal_servers,
    or a pool's certificates.issuer), the Persistent Chat pool's and the others' alike."""
    owner = {member: pool for _, pool in topology.pools() for member in pool.members}
    others: dict[str, dict[str, None]] = {}  # issuer: the internal pools planned from it
    chat: dict[str, tuple[Pool, dict[str, None]]] = {}  # pool FQDN: (pool, its issuers)
    for cert in certs:
        pool = owner.get(cert.servers[0]) if cert.servers else None
        if pool is None or cert.role != str(pool.role):
            continue
        if pool.role is Role.PERSISTENT_CHAT:
            chat.setdefault(pool.fqdn, (pool, {}))[1][str(cert.issuer)] = None
        elif cert.role in _INTERNAL_SERVER_ROLES:
            others.setdefault(str(cert.issuer), {})[pool.fqdn] = None
    internal = str(topology.certificate_authorities.internal_servers)
    for fqdn, (pool, issuers) in chat.items():
        differ = {issuer: list(p) for issuer, p in others.items() if issuer not in issuers}
        if not differ:
            continue
        chosen = ", ".join(issuers)
        elsewhere = "; ".join(
            f"{', '.join(pools[:3])}{f' and {len(pools) - 3} more' if len(pools) > 3 else ''} "
            f"{'uses' if len(pools) == 1 else 'use'} the {issuer} CA"
            for issuer, pools in sorted(differ.items())
        )
        if len(differ) == 1 and not any(i in others for i in issuers):
            (issuer,) = differ
            fix = f"set certificates.issuer: {issuer} on Persistent Chat pool {fqdn}"
            if pool.certificates.issuer and issuer == internal:
                fix += " (or remove it: certificate_authorities.internal_servers is " + issuer + ")"
        else:
            fix = (
                "plan every internal server from one CA: give the Front End, Standard Edition, "
                f"Director, Mediation and SBA pools and Persistent Chat pool {fqdn} the same "
                "certificates.issuer, or none (certificate_authorities.internal_servers)"
            )
        yield _warn(
            CHAT_SAME_CA, fqdn,
            f"Persistent Chat pool {fqdn} is planned from the {chosen} CA, while {elsewhere}: "
            "Persistent Chat must use the same CA as the other internal servers (R-GEN-09)",
            fix,
        )  # fmt: skip


NO_SUBJECT = Advice(
    "plan.no-subject", "R-GEN-06", Severity.ERROR,
    "a certificate that cannot be planned because its subject name is not defined",
)  # fmt: skip


def no_subject(rule: CertificateRule, site: str, target: str) -> PlanWarning:
    """A certificate left out for want of a subject: an error, since what it would carry is on
    no certificate. Only the reverse proxy's subject can be missing (the other subjects are
    required fields): its proxy lists no publishes, and its site has no Front End, Standard
    Edition or Director pool with an external web services FQDN to publish instead."""
    if rule.subject is Name.RP_SUBJECT:
        return _warn(
            NO_SUBJECT, f"{site}/{target}",
            f"the reverse proxy {target} of site {site} lists no publishes, and the site has no "
            "Front End, Standard Edition or Director pool with web_services.external to publish "
            "instead: its certificate is not planned, and the external web services, simple "
            "URLs (meet, dialin), Office Web Apps and lyncdiscover names it would publish are "
            "on no public certificate (R-RP-01, R-MOB-03)",
            f"list the external web services FQDNs it publishes in reverse_proxy.publishes of "
            f"site {site} (the Front End pool's first: it is the subject), or remove the "
            "site's reverse_proxy",
        )  # fmt: skip
    return _warn(
        NO_SUBJECT, f"{site}/{target}",
        f"no {rule.subject} is defined, so the {rule.label} certificate of {target} "
        "cannot be planned",
        f"define the {rule.subject} in the topology",
    )  # fmt: skip


# Servers a pool may hold (Lync Server 2013 topology limits).
POOL_LIMITS = {Role.FRONT_END: 12, Role.DIRECTOR: 10, Role.EDGE: 12}
POOL_TOO_LARGE = Advice(
    "plan.pool-too-large", "S0", Severity.WARNING,
    "more servers in a pool than Lync Server 2013 supports (Front End 12, Director 10, Edge 12)",
)  # fmt: skip


def _pool_too_large(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    for _, pool in topology.pools():
        limit = POOL_LIMITS.get(pool.role)
        if limit is not None and len(pool.servers) > limit:
            yield _warn(
                POOL_TOO_LARGE, pool.fqdn,
                f"pool {pool.fqdn} lists {len(pool.servers)} servers; a Lync Server 2013 "
                f"{pool.role} pool holds at most {limit}",
                "split it into several pools (each with its own FQDN and certificates)",
            )  # fmt: skip


NO_EXTERNAL_WEB = Advice(
    "plan.no-external-web", "R-FE-03", Severity.WARNING,
    "a Front End, Standard Edition or Director pool without web_services.external: its "
    "WebServicesExternal certificate is not planned",
)  # fmt: skip
# the requirement that lists WebServicesExternal for each role (REQUIREMENTS.md)
_EXTERNAL_WEB_RULE = {
    Role.FRONT_END: "R-FE-03", Role.STANDARD_EDITION: "R-SE-03", Role.DIRECTOR: "R-DIR-03"
}  # fmt: skip


def _no_external_web(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """R-FE-03, R-SE-03, R-DIR-03 list WebServicesExternal for every such pool: without an
    external web services FQDN the rule has no subject, and the certificate is left out."""
    for site, pool in topology.pools():
        rule = _EXTERNAL_WEB_RULE.get(pool.role)
        if rule is None or (pool.web_services and pool.web_services.external):
            continue
        warning = _warn(
            NO_EXTERNAL_WEB, pool.fqdn,
            f"{pool.role} pool {pool.fqdn} (site {site.name}) has no external web services "
            f"FQDN, so its WebServicesExternal certificate ({rule}) is not planned: remote "
            "users, mobile clients and federated partners reach its web services through "
            "that name",
            f"set web_services.external: <name> on pool {pool.fqdn} (e.g. "
            f"web_services: {{external: webext.{topology.default_sip_domain}}}) and publish it "
            "on the site's reverse proxy",
        )  # fmt: skip
        yield replace(warning, rule=rule)


SHARED_PROXY_STORE = Advice(
    "plan.shared-proxy-store", "R-RP-01", Severity.ERROR,
    "two sites' reverse proxies without an fqdn named after the same published name: one store "
    "and one request file for two certificates",
)  # fmt: skip


def _shared_proxy_store(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """A reverse proxy without `fqdn` has its certificate requested for, and kept in the store
    of, its subject (R-RP-01): two sites' proxies with the same subject would share one store
    and one .req file, each certificate taking the other's place."""
    sites: dict[str, list[str]] = {}
    for cert in certs:  # a proxy without fqdn and servers: kept in the store of its target
        if cert.role == REVERSE_PROXY and not cert.servers:
            found = sites.setdefault(cert.target, [])
            if cert.site not in found:
                found.append(cert.site)
    for target, found in sites.items():
        if len(found) < 2:
            continue
        yield _warn(
            SHARED_PROXY_STORE, target,
            f"the reverse proxies of sites {', '.join(found)} have no fqdn and publish "
            f"{target} as their subject: both certificates would be requested for, and kept "
            f"in, one store named {target}, each replacing the other",
            "give each site's reverse_proxy its own fqdn (reverse_proxy: {fqdn: "
            "rp.<site>.<domain>}), or its servers",
        )  # fmt: skip


TEMPLATE_DISPLAY_NAME = Advice(
    "plan.template-display-name", "R-GEN-14", Severity.WARNING,
    "a certificates.template with a space: a template's display name, where a request names "
    "the template name",
)  # fmt: skip


def _template_options(topology: Topology) -> Iterator[tuple[str, str]]:
    """(field, template) for every certificates.template the topology sets."""
    for s, site in enumerate(topology.sites):
        for p, pool in enumerate(site.pools):
            if pool.certificates.template:
                yield f"sites[{s}].pools[{p}].certificates.template", pool.certificates.template
        proxy = site.reverse_proxy
        if proxy and proxy.certificates.template:
            yield f"sites[{s}].reverse_proxy.certificates.template", proxy.certificates.template
    if topology.oauth.certificates.template:
        yield "oauth.certificates.template", topology.oauth.certificates.template


def _template_display_name(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> Iterator[PlanWarning]:
    """R-GEN-14: a request names the template's name (WebServer), not its display name
    (Web Server), which the CA does not know."""
    for field, template in _template_options(topology):
        if " " in template:
            name = "WebServer" if is_webserver(template) else "".join(template.split())
            yield _warn(
                TEMPLATE_DISPLAY_NAME, field,
                f"template '{template}' looks like a display name (it has a space): a request "
                "names the template name, and the CA refuses one it does not know",
                f"use the template name, e.g. WebServer: write {name} if that is its name (the "
                "CA's Certificate Templates console shows the template name beside the display "
                "name)",
            )  # fmt: skip


TOPOLOGY_ADVICE: tuple[
    tuple[Advice, Callable[[Topology, Facts, list[PlannedCertificate]], Iterator[PlanWarning]]],
    ...,
] = (
    (DEFAULT_NAME, _default_names),
    (MEET_PER_DOMAIN, _meet_per_domain),
    (LYNCDISCOVER_HTTP, _lyncdiscover_http),
    (NOT_PUBLISHED, _not_published),
    (RP_INTERNAL_NAME, _rp_published_names),
    (RP_IMPLIED, _rp_publishes_implied),
    (NO_FRONT_END, _no_front_end),
    (WILDCARD_DEVICES, _wildcards_in_use),
    (CHAT_SAME_CA, _chat_ca),
    (POOL_TOO_LARGE, _pool_too_large),
    (NO_EXTERNAL_WEB, _no_external_web),
    (TEMPLATE_DISPLAY_NAME, _template_display_name),
    (SHARED_PROXY_STORE, _shared_proxy_store),
)


def plan_warnings(
    topology: Topology, facts: Facts, certs: list[PlannedCertificate]
) -> list[PlanWarning]:
    return [w for _, check in TOPOLOGY_ADVICE for w in check(topology, facts, certs)]


PUBLIC_VALIDITY = Advice(
    "plan.public-validity", "R-GEN-09", Severity.WARNING,
    "a public CA's certificate planned longer than public CAs issue (CA/B Forum SC-081v3)",
)  # fmt: skip


def public_validity(
    cert: PlannedCertificate, on: dt.date, field: str = "validity_days in its certificates options"
) -> list[PlanWarning]:
    """A certificate of a public CA planned longer than a public CA may issue on `on`: the CA
    gives the shorter one, and renewals come sooner than the plan says. `field` is where the
    topology sets the validity it was planned with."""
    most = public_max_days(on)
    if cert.issuer is not Issuer.PUBLIC or cert.validity_days <= most:
        return []
    return [
        _warn(
            PUBLIC_VALIDITY, cert.id,
            f"{cert.id} is planned for {cert.validity_days} days, and a public CA issues TLS "
            f"certificates for at most {most} days from {on:%Y-%m-%d} ({SOURCE}): it will "
            "expire, and need renewing, sooner than planned",
            f"plan it for {most} days or less ({field}), and renew public certificates "
            "accordingly (deploy renews within --renew-within)",
            cert.id,
        )
    ]  # fmt: skip


ALL_ADVICE: tuple[Advice, ...] = (
    *(a for a, _ in CERTIFICATE_ADVICE),
    *(a for a, _ in TOPOLOGY_ADVICE),
    RP_UNKNOWN_NAME,  # said by the check of RP_INTERNAL_NAME
    NO_SUBJECT,
    PUBLIC_VALIDITY,
)
