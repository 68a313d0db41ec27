"""Where the names and conditions of the rule table come from.

Each `Name` is a source of DNS names (a pool's FQDN, every meet URL, `sip.<d>` for each SIP
domain, ...) and each `Condition` a question about the topology; both resolve through a lookup
table, so a rule row names them instead of carrying code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from lyncpki.planning.context import Context
from lyncpki.topology.model import Role


class Name(StrEnum):
    POOL = "pool FQDN"
    SERVER = "server FQDN"
    INTERNAL_WEB = "internal web services FQDN"
    EXTERNAL_WEB = "external web services FQDN"
    MEET = "meet simple URLs"
    DIALIN = "dial-in simple URL"
    ADMIN = "admin simple URL"
    SIP_AUTO = "sip.<domain> (automatic sign-in)"
    SIP_ALL = "sip.<domain> for every SIP domain"
    SIP_EDGE = "sip.<domain> (auto-configuration or federation)"
    LYNCDISCOVER_INTERNAL = "lyncdiscoverinternal.<domain>"
    LYNCDISCOVER = "lyncdiscover.<domain>"
    LYNCDISCOVER_RP = "lyncdiscover.<domain> on the reverse proxy"
    EDGE_ACCESS = "Access Edge external FQDN"
    EDGE_WEBCONF = "Web Conferencing Edge external FQDN"
    EDGE_AV = "A/V Edge external FQDN"
    XMPP = "xmpp.<domain> and *.<domain> (XMPP federation)"
    RP_SUBJECT = "reverse proxy subject"
    RP_PUBLISHED = "names the reverse proxy publishes"
    OWA_EXTERNAL = "Office Web Apps external FQDN"
    OAUTH_SUBJECT = "OAuth subject"
    ADDITIONAL = "additional SANs of the pool"


# Sources that `wildcards: true` replaces by *.<domain> where a rule accepts wildcards (R-GEN-08).
WILDCARDABLE = frozenset(
    {
        Name.MEET,
        Name.DIALIN,
        Name.ADMIN,
        Name.LYNCDISCOVER,
        Name.LYNCDISCOVER_INTERNAL,
        Name.LYNCDISCOVER_RP,
    }
)


def _pool_fqdn(ctx: Context) -> Sequence[str]:
    return (ctx.pool.fqdn,) if ctx.pool else ()


def _server(ctx: Context) -> Sequence[str]:
    return (ctx.server,) if ctx.server else ()


def _internal_web(ctx: Context) -> Sequence[str]:
    if ctx.pool is None:
        return ()
    web = ctx.pool.web_services
    return ((web.internal if web and web.internal else ctx.pool.fqdn),)


def _external_web(ctx: Context) -> Sequence[str]:
    web = ctx.pool.web_services if ctx.pool else None
    return (web.external,) if web and web.external else ()


def _sip_edge(ctx: Context) -> Sequence[str]:
    topo = ctx.topology
    return ctx.facts.sip_names if topo.automatic_sign_in or topo.federation.enabled else ()


def _edge(attribute: str) -> Callable[[Context], Sequence[str]]:
    def names(ctx: Context) -> Sequence[str]:
        external = ctx.pool.external if ctx.pool else None
        return (getattr(external, attribute),) if external else ()

    return names


def _xmpp(ctx: Context) -> Sequence[str]:
    if not _xmpp_here(ctx):
        return ()
    # D12 and D18 list the XMPP domain itself ("the entry required for federation with the
    # XMPP partner at the root domain level"; *.<d> does not match <d>); xmpp.<d> and *.<d>
    # as the XMPP example configurations publish them
    return tuple(n for d in ctx.facts.xmpp_domains for n in (d, f"xmpp.{d}", f"*.{d}"))


def _rp_published(ctx: Context) -> Sequence[str]:
    """Its `publishes`, else the site's own pools' external web names (Facts.published_by)."""
    return ctx.facts.published_by(ctx.site)


def _rp_subject(ctx: Context) -> Sequence[str]:
    """R-RP-01: the external web FQDN of a Front End (or SE) pool the proxy publishes, else the
    first name published. The pools of the proxy's own site come first, then every other
    site's: a proxy that publishes another site's Front End pool beside its own site's Director
    has the Front End pool's name as its subject, not the Director's."""
    published = _rp_published(ctx)
    pools = sorted(ctx.topology.pools(), key=lambda found: found[0].name != ctx.site.name)
    front = [
        p.web_services.external
        for _, p in pools
        if p.role in (Role.FRONT_END, Role.STANDARD_EDITION)
        and p.web_services
        and p.web_services.external
        and p.web_services.external in published
    ]
    return (front[0],) if front else tuple(published[:1])


def _owa_external(ctx: Context) -> Sequence[str]:
    return tuple(
        p.web_services.external
        for p in ctx.site.pools
        if p.role is Role.OFFICE_WEB_APPS and p.web_services and p.web_services.external
    )


def _lyncdiscover_rp(ctx: Context) -> Sequence[str]:
    proxy = ctx.site.reverse_proxy
    if not ctx.topology.mobility or (proxy and proxy.lyncdiscover_over_http):
        return ()
    return ctx.facts.lyncdiscover


def _oauth_subject(ctx: Context) -> Sequence[str]:
    return (ctx.topology.oauth.subject or ctx.topology.default_sip_domain,)


NAME_SOURCES: dict[Name, Callable[[Context], Sequence[str]]] = {
    Name.POOL: _pool_fqdn,
    Name.SERVER: _server,
    Name.INTERNAL_WEB: _internal_web,
    Name.EXTERNAL_WEB: _external_web,
    Name.MEET: lambda ctx: ctx.facts.meet,
    Name.DIALIN: lambda ctx: ctx.facts.dialin,
    Name.ADMIN: lambda ctx: ctx.facts.admin,
    Name.SIP_AUTO: lambda ctx: ctx.facts.sip_names if ctx.topology.automatic_sign_in else (),
    Name.SIP_ALL: lambda ctx: ctx.facts.sip_names,
    Name.SIP_EDGE: _sip_edge,
    Name.LYNCDISCOVER_INTERNAL: lambda c: (
        c.facts.lyncdiscover_internal if c.topology.mobility else ()
    ),
    Name.LYNCDISCOVER: lambda c: c.facts.lyncdiscover if c.topology.mobility else (),
    Name.LYNCDISCOVER_RP: _lyncdiscover_rp,
    Name.EDGE_ACCESS: _edge("access"),
    Name.EDGE_WEBCONF: _edge("webconf"),
    Name.EDGE_AV: _edge("av"),
    Name.XMPP: _xmpp,
    Name.RP_SUBJECT: _rp_subject,
    Name.RP_PUBLISHED: _rp_published,
    Name.OWA_EXTERNAL: _owa_external,
    Name.OAUTH_SUBJECT: _oauth_subject,
    Name.ADDITIONAL: lambda ctx: tuple(ctx.pool.additional_sans) if ctx.pool else (),
}


class Condition(StrEnum):
    HAS_EXTERNAL_WEB = "the pool has an external web services FQDN"
    AV_COUPLED = "A/V authentication shares the Edge external certificate"
    AV_DECOUPLED = "A/V authentication has its own certificate (decoupled_av)"
    XMPP_HERE = "XMPP federation runs on this site's Edge"
    PUBLIC_IM = "public IM connectivity (AOL) runs on this site's Edge"
    OWA_PLANNED = "the Office Web Apps pool asks for its certificate (plan_certificate)"
    HAS_REVERSE_PROXY = "the site has a reverse proxy"
    RP_CLIENT_AUTH = "the reverse proxy asks for Client Authentication (client_auth)"


def _xmpp_here(ctx: Context) -> bool:
    return ctx.topology.federation.xmpp and ctx.site.name == ctx.facts.federation_site


def _public_im_here(ctx: Context) -> bool:
    """Public IM providers federate with the federation route's Edge, as XMPP partners do:
    the other sites' Edge pools need no Client Authentication (R-GEN-02)."""
    return ctx.topology.federation.public_im and ctx.site.name == ctx.facts.federation_site


CONDITIONS: dict[Condition, Callable[[Context], bool]] = {
    Condition.HAS_EXTERNAL_WEB: lambda ctx: bool(_external_web(ctx)),
    Condition.AV_COUPLED: lambda ctx: bool(ctx.pool and not ctx.pool.decoupled_av),
    Condition.AV_DECOUPLED: lambda ctx: bool(ctx.pool and ctx.pool.decoupled_av),
    Condition.XMPP_HERE: _xmpp_here,
    Condition.PUBLIC_IM: _public_im_here,
    Condition.OWA_PLANNED: lambda ctx: bool(ctx.pool and ctx.pool.plan_certificate),
    Condition.HAS_REVERSE_PROXY: lambda ctx: ctx.site.reverse_proxy is not None,
    Condition.RP_CLIENT_AUTH: lambda ctx: bool(
        ctx.site.reverse_proxy and ctx.site.reverse_proxy.client_auth
    ),
}
