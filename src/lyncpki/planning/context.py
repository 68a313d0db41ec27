"""What a rule sees when it plans a certificate: the topology, facts derived from it once, and
the site, pool and server at hand."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from lyncpki.topology.model import Pool, Role, Site, Topology
from lyncpki.topology.names import is_within


@dataclass(frozen=True)
class Facts:
    """Names and choices computed once per topology (planning 10,000 servers stays linear)."""

    topology: Topology

    @cached_property
    def meet(self) -> tuple[str, ...]:
        return tuple(self.topology.simple_urls.meet)

    @cached_property
    def dialin(self) -> tuple[str, ...]:
        urls = self.topology.simple_urls
        return (urls.dialin,) if urls.dialin else ()

    @cached_property
    def admin(self) -> tuple[str, ...]:
        urls = self.topology.simple_urls
        return (urls.admin,) if urls.admin else ()

    @cached_property
    def sip_names(self) -> tuple[str, ...]:
        return tuple(f"sip.{d}" for d in self.topology.sip_domains)

    @cached_property
    def lyncdiscover(self) -> tuple[str, ...]:
        return tuple(f"lyncdiscover.{d}" for d in self.topology.sip_domains)

    @cached_property
    def lyncdiscover_internal(self) -> tuple[str, ...]:
        return tuple(f"lyncdiscoverinternal.{d}" for d in self.topology.sip_domains)

    @cached_property
    def xmpp_domains(self) -> tuple[str, ...]:
        federation = self.topology.federation
        return tuple(federation.xmpp_domains or self.topology.sip_domains)

    @cached_property
    def federation_site(self) -> str | None:
        """The site whose Edge pool federates: named, or the first site with an Edge pool."""
        federation = self.topology.federation
        if not federation.enabled:
            return None
        if federation.site:
            return federation.site
        for site in self.topology.sites:
            if any(p.role is Role.EDGE for p in site.pools):
                return site.name
        return None

    @cached_property
    def oauth_servers(self) -> tuple[str, ...]:
        """OAuthTokenIssuer replicates to every Front End/SE and Director (R-OAUTH-02, D14)."""
        roles = (Role.FRONT_END, Role.STANDARD_EDITION, Role.DIRECTOR)
        return tuple(
            server
            for _, pool in self.topology.pools()
            if pool.role in roles
            for server in pool.members
        )

    @cached_property
    def owa_external(self) -> frozenset[str]:
        return frozenset(
            pool.web_services.external
            for _, pool in self.topology.pools()
            if pool.role is Role.OFFICE_WEB_APPS
            and pool.web_services
            and pool.web_services.external
        )

    @cached_property
    def published_web(self) -> frozenset[str]:
        """External web FQDNs of Front End, SE and Director pools (what a reverse proxy serves)."""
        roles = (Role.FRONT_END, Role.STANDARD_EDITION, Role.DIRECTOR)
        return frozenset(
            pool.web_services.external
            for _, pool in self.topology.pools()
            if pool.role in roles and pool.web_services and pool.web_services.external
        )

    def published_by(self, site: Site) -> tuple[str, ...]:
        """What the reverse proxy of `site` publishes: its `publishes`; when that is empty, the
        external web services FQDNs of the site's own Front End, Standard Edition and Director
        pools, which R-RP-01 has every reverse proxy publish (each pool with remote users, each
        Director; D2: the proxy publishes the pools' External web services). Empty when the
        site has no proxy, or nothing of its own to publish."""
        proxy = site.reverse_proxy
        if proxy is None:
            return ()
        if proxy.publishes:
            return tuple(proxy.publishes)
        return tuple(
            dict.fromkeys(
                pool.web_services.external
                for pool in site.pools
                if pool.web_services
                and pool.web_services.external
                and pool.web_services.external in self.published_web
            )
        )

    def sip_domain_of(self, name: str) -> str | None:
        return next((d for d in self.topology.sip_domains if is_within(name, d)), None)


@dataclass(frozen=True, slots=True)
class Context:
    """One rule application: the topology's facts at a site, a pool and (per server) a server."""

    facts: Facts
    site: Site
    pool: Pool | None = None
    server: str | None = None

    @property
    def topology(self) -> Topology:
        return self.facts.topology
