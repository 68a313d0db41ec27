"""Rules that relate several fields of a topology (a server in two pools, an Edge pool without
external names, a simple URL outside every SIP domain, ...).

They read the parsed data defensively rather than the validated model, so that they run even
when other fields are invalid: a user sees every problem of a file in one run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lyncpki.keyspec import KeySpec
from lyncpki.topology.issues import Path, TopologyIssue, format_path
from lyncpki.topology.model import Role
from lyncpki.topology.names import CN_MAX, fqdn_problem, host_of, is_within, normalize

Report = Callable[[Path, str, str], None]

ROLES = {str(role) for role in Role}
SINGLE_SERVER = {
    "standard_edition": "a Standard Edition server is its own pool: its servers can only be "
    "itself (use role: front_end for an Enterprise pool)",
    "sba": "a Survivable Branch Appliance is its own pool: its FQDN is the appliance's",
}
WEB_ROLES = {"front_end", "standard_edition", "director", "office_web_apps"}


def _name(value: Any) -> str | None:
    return normalize(value) if isinstance(value, str) and value.strip() else None


def _sip_domain(value: Any) -> str | None:
    """A SIP domain as the model reads it: `sip:` (any case) removed."""
    name = _name(value)
    return name[4:] if name and name.startswith("sip:") else name


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class RawPool:
    path: Path
    data: dict[str, Any]
    site: str | None

    @property
    def role(self) -> str | None:
        """The pool's role when it is a valid one (an invalid role is reported elsewhere)."""
        role = self.data.get("role")
        return role if isinstance(role, str) and role in ROLES else None

    @property
    def fqdn(self) -> str | None:
        return _name(self.data.get("fqdn"))

    def web(self, which: str) -> str | None:
        return _name(_map(self.data.get("web_services")).get(which))


def _pools(data: dict[str, Any]) -> Iterator[RawPool]:
    for i, site in enumerate(_items(data.get("sites"))):
        site_map = _map(site)
        site_name = site_map.get("name") if isinstance(site_map.get("name"), str) else None
        for j, pool in enumerate(_items(site_map.get("pools"))):
            if isinstance(pool, dict):
                yield RawPool(("sites", i, "pools", j), pool, site_name)


def _first_seen(report: Report, what: str, fix: str) -> Callable[[str | None, Path], None]:
    """A recorder that reports the second and later paths where the same name appears."""
    seen: dict[str, Path] = {}

    def record(name: str | None, path: Path) -> None:
        if name is None:
            return
        if name in seen:
            report(path, what.format(name=name, first=format_path(seen[name])), fix)
        else:
            seen[name] = path

    return record


def check_unique_names(data: dict[str, Any], report: Report) -> None:
    domains = _first_seen(
        report, "SIP domain '{name}' is listed twice (first at {first})", "remove the duplicate"
    )
    for k, domain in enumerate(_items(data.get("sip_domains"))):
        domains(_sip_domain(domain), ("sip_domains", k))
    sites = _first_seen(
        report,
        "site '{name}' is defined twice, letter case aside (first at {first})",
        "merge the two sites",
    )
    for i, site in enumerate(_items(data.get("sites"))):
        name = _map(site).get("name")  # HQ and hq: one site to a reader, and to Lync's tools
        sites(name.casefold() if isinstance(name, str) else None, ("sites", i, "name"))
    pools = _first_seen(
        report,
        "duplicate pool: '{name}' is already defined at {first}",
        "remove one of the two pools, or give each its own FQDN",
    )
    servers = _first_seen(
        report,
        "server '{name}' is in two pools (first at {first}); a server belongs to one pool",
        "remove it from one of the pools (collocated roles share the Front End's certificates)",
    )
    for pool in _pools(data):
        pools(pool.fqdn, (*pool.path, "fqdn"))
        listed = _items(pool.data.get("servers"))
        if listed:
            here: dict[str, int] = {}  # a server listed twice in its own pool: said so
            for k, server in enumerate(listed):
                name = _name(server)
                if name is not None and name in here:
                    report(
                        (*pool.path, "servers", k),
                        f"server '{name}' is listed twice in this pool (first at "
                        f"{format_path((*pool.path, 'servers', here[name]))})",
                        "remove the duplicate",
                    )
                    continue
                if name is not None:
                    here[name] = k
                servers(name, (*pool.path, "servers", k))
        elif pool.role not in (None, "front_end"):
            servers(pool.fqdn, (*pool.path, "fqdn"))


def check_role_fields(data: dict[str, Any], report: Report) -> None:
    """Fields that only some roles may carry, and those a role must carry."""
    for pool in _pools(data):
        role, fqdn = pool.role, pool.fqdn or "?"
        if role == "edge" and not isinstance(pool.data.get("external"), dict):
            report(
                pool.path,
                f"Edge pool '{fqdn}' has no external names",
                "add external: {access: sip.<domain>, webconf: webconf.<domain>, "
                "av: av.<domain>} with your public FQDNs",
            )
        if role not in (None, "edge"):
            for key in ("external", "decoupled_av"):
                if pool.data.get(key) not in (None, False):
                    report(
                        (*pool.path, key),
                        f"'{key}' is only for Edge pools, not {role}",
                        f"remove '{key}' from this pool",
                    )
        if role is not None and role not in WEB_ROLES and pool.data.get("web_services"):
            report(
                (*pool.path, "web_services"),
                f"a {role} pool runs no web services",
                "remove 'web_services' from this pool",
            )
        if role not in (None, "office_web_apps") and pool.data.get("plan_certificate"):
            report(
                (*pool.path, "plan_certificate"),
                "'plan_certificate' is only for Office Web Apps pools",
                "remove it; every other role's certificates are always planned",
            )
        if role == "front_end" and pool.data.get("servers") in (None, []):
            report(
                (*pool.path, "servers"),
                f"Front End pool '{fqdn}' lists no servers",
                "list the pool's servers: servers: [fe01.contoso.net, fe02.contoso.net]",
            )
        servers = [_name(s) for s in _items(pool.data.get("servers"))]
        if role in SINGLE_SERVER and servers and servers != [pool.fqdn]:
            report(
                (*pool.path, "servers"),
                SINGLE_SERVER[role],
                "remove 'servers' (the pool FQDN is the server's own FQDN)",
            )
        if role == "standard_edition":
            internal = pool.web("internal")
            if internal is not None and internal != pool.fqdn:
                report(
                    (*pool.path, "web_services", "internal"),
                    f"the internal web services FQDN of a Standard Edition server is its own "
                    f"FQDN and cannot be overridden (R-SE-02), not '{internal}'",
                    "remove web_services.internal",
                )
        internal, external = pool.web("internal") or pool.fqdn, pool.web("external")
        if role in WEB_ROLES and external is not None and external == internal:
            report(
                (*pool.path, "web_services", "external"),
                f"internal and external web services FQDNs are both '{external}' (R-MOB-04)",
                "give the external web services their own public name, e.g. webext.<domain>",
            )


def check_director_web_names(data: dict[str, Any], report: Report) -> None:
    """R-DIR-03: a Director's external web FQDN must differ from every Front End pool's."""
    front = {
        p.web("external"): p.fqdn
        for p in _pools(data)
        if p.role in ("front_end", "standard_edition") and p.web("external")
    }
    for pool in _pools(data):
        external = pool.web("external")
        if pool.role == "director" and external in front:
            report(
                (*pool.path, "web_services", "external"),
                f"Director external web FQDN '{external}' is also the external web FQDN of "
                f"pool '{front[external]}' (R-DIR-03)",
                "give the Director its own external web services name, e.g. webdir.<domain>",
            )


def _owned_names(data: dict[str, Any]) -> Iterator[tuple[str, str, str, Path, str]]:
    """Every FQDN the topology gives a meaning: (name, kind, what it is, where, owner). The
    owner is what may hold the same name twice: a pool (its FQDN, its servers, its web
    services), an Edge pool's external side (access, webconf and A/V may share one name)."""
    for pool in _pools(data):
        owner = format_path(pool.path)
        servers = [(k, _name(s)) for k, s in enumerate(_items(pool.data.get("servers")))]
        if pool.fqdn:
            # a pool of one server named by its FQDN (Director, Edge... without `servers`)
            kind = "server" if not servers and pool.role not in (None, "front_end") else "pool"
            yield pool.fqdn, kind, f"the FQDN of pool {pool.fqdn}", (*pool.path, "fqdn"), owner
        for k, server in servers:
            if server and not (len(servers) == 1 and server == pool.fqdn):  # single-computer
                what = f"a server of pool {pool.fqdn}"
                yield server, "server", what, (*pool.path, "servers", k), owner
        for which in ("internal", "external"):
            web = pool.web(which)
            if web and web != pool.fqdn:
                what = f"the {which} web services FQDN of pool {pool.fqdn}"
                kind = f"{pool.role}-web" if which == "external" else "web"
                yield web, kind, what, (*pool.path, "web_services", which), owner
        external = _map(pool.data.get("external"))
        for key in ("access", "webconf", "av"):
            name = _name(external.get(key))
            if name:
                what = f"the external {key} FQDN of Edge pool {pool.fqdn}"
                yield name, "edge", what, (*pool.path, "external", key), f"{owner}.external"
    urls = _map(data.get("simple_urls"))
    for key in ("meet", "dialin", "admin"):
        values = urls.get(key)
        for k, value in enumerate(values if isinstance(values, list) else [values]):
            if isinstance(value, str) and value.strip():
                path = ("simple_urls", key, k) if isinstance(values, list) else ("simple_urls", key)
                yield host_of(value), "url", f"the {key} simple URL", path, "simple_urls"


# Pairs said by other checks: a pool defined twice, a server in two pools (check_unique_names),
# a Director's external web FQDN that is a Front End's (check_director_web_names, R-DIR-03).
_SAID = {("pool", "pool"), ("server", "server")} | {
    pair
    for front in ("front_end-web", "standard_edition-web")
    for pair in ((front, "director-web"), ("director-web", front))
}


def check_fqdn_owners(data: dict[str, Any], report: Report) -> None:
    """One name, one thing: a pool named like another pool's server, two pools sharing an
    external web FQDN, an Edge's access FQDN that is also the meet URL... Topology Builder
    refuses these; the certificates of both would carry a name only one can answer. A pool's
    own names may repeat (internal web = pool FQDN, a single-computer pool), simple URLs may
    share a host (https://lync.contoso.com/meet and /dialin), and an Edge's access, webconf and
    A/V names may be one."""
    seen: dict[str, tuple[str, str, Path, str]] = {}
    for name, kind, what, path, owner in _owned_names(data):
        first = seen.get(name)
        if first is None:
            seen[name] = (kind, what, path, owner)
        elif (
            first[3] != owner
            and (first[0], kind) not in _SAID
            and not (first[2][-1] == path[-1] == "fqdn")  # a pool defined twice: said already
        ):
            report(
                path,
                f"'{name}' is {what}, and already {first[1]} (at {format_path(first[2])})",
                "give each its own FQDN: Lync resolves a name to one pool, one Edge or one "
                "published URL",
            )
    for pool in _pools(data):
        servers = [_name(s) for s in _items(pool.data.get("servers"))]
        if pool.fqdn and len(servers) > 1 and pool.fqdn in servers:
            report(
                (*pool.path, "servers", servers.index(pool.fqdn)),
                f"pool {pool.fqdn} has {len(servers)} servers and one of them has the pool's "
                "FQDN: only a single-computer pool is named like its server",
                "give the pool its own FQDN (clients reach it through DNS load balancing)",
            )


def check_simple_urls(data: dict[str, Any], report: Report) -> None:
    # a domain or a host that is no DNS name is reported by field validation, not here again
    domains = [
        d
        for d in (_sip_domain(x) for x in _items(data.get("sip_domains")))
        if d and fqdn_problem(d) is None
    ]
    if not domains:
        return
    urls = _map(data.get("simple_urls"))
    meet = urls.get("meet")
    entries: list[tuple[Path, Any]] = (
        [(("simple_urls", "meet"), meet)]
        if isinstance(meet, str)
        else [(("simple_urls", "meet", k), v) for k, v in enumerate(_items(meet))]
    )
    # admin is internal only (never on an external certificate): any internal FQDN will do
    entries += [(("simple_urls", "dialin"), urls.get("dialin"))]
    for path, value in entries:
        if not isinstance(value, str) or not value.strip():
            continue
        host = host_of(value)
        if fqdn_problem(host) is None and not any(is_within(host, d) for d in domains):
            report(
                path,
                f"simple URL '{host}' is outside every SIP domain ({', '.join(domains)})",
                f"use a name under a SIP domain, e.g. {path[1]}.{domains[0]}, "
                "or add its domain to sip_domains",
            )


def check_federation(data: dict[str, Any], report: Report) -> None:
    federation = _map(data.get("federation"))
    edges = [p for p in _pools(data) if p.role == "edge"]
    for flag in ("public_im", "xmpp"):
        if federation.get(flag) is True and federation.get("enabled") is not True:
            report(
                ("federation", flag),
                f"{flag} needs federation (federation.enabled is not true)",
                "set federation.enabled: true, or remove this flag",
            )
    if federation.get("enabled") is True and not edges:
        report(
            ("federation", "enabled"),
            "federation is enabled but the topology has no Edge pool",
            "add an Edge pool (role: edge) to the site that federates",
        )
    site = federation.get("site")
    if isinstance(site, str):
        names = {_map(s).get("name") for s in _items(data.get("sites"))}
        with_edge = sorted({str(p.site) for p in edges if p.site})
        if site not in names:
            report(
                ("federation", "site"),
                f"federation site '{site}' is not a site of this topology",
                f"use one of: {', '.join(sorted(str(n) for n in names if n))}",
            )
        elif edges and site not in with_edge:
            # its Access Edge carries the federation (and XMPP) names: with no Edge there,
            # they would be planned on no certificate at all
            report(
                ("federation", "site"),
                f"federation site '{site}' has no Edge pool: federation goes through the Access "
                "Edge of the site named here",
                f"name a site with an Edge pool ({', '.join(with_edge)}), or add an Edge pool "
                f"to {site}",
            )


# Roles whose pool FQDN is the subject of a certificate, and those whose servers' FQDNs are
POOL_SUBJECT = {"front_end", "standard_edition", "director", "mediation", "edge", "office_web_apps"}
SERVER_SUBJECT = {"persistent_chat", "sba"}


def _subjects(data: dict[str, Any]) -> Iterator[tuple[str, Path, str]]:
    """The FQDNs the plan makes the subject (CN) of a certificate: (name, where, of what)."""
    for pool in _pools(data):
        if pool.role in POOL_SUBJECT and pool.fqdn:
            yield pool.fqdn, (*pool.path, "fqdn"), f"the {pool.role} pool's certificates"
        if pool.role in SERVER_SUBJECT:
            servers = _items(pool.data.get("servers"))
            if servers:
                for k, server in enumerate(servers):
                    name = _name(server)
                    if name:
                        yield name, (*pool.path, "servers", k), "its server's certificate"
            elif pool.fqdn:
                yield pool.fqdn, (*pool.path, "fqdn"), f"the {pool.role} server's certificate"
        external = _map(pool.data.get("external"))
        if pool.role == "edge":
            access = _name(external.get("access"))
            if access:
                yield access, (*pool.path, "external", "access"), "the Edge external certificate"
            av = _name(external.get("av"))
            if av and pool.data.get("decoupled_av") is True:
                yield av, (*pool.path, "external", "av"), "the A/V authentication certificate"


def check_subject_lengths(data: dict[str, Any], report: Report) -> None:
    """A name the plan makes a certificate's subject fits in a CN (64 characters, RFC 5280),
    although an FQDN may have 253: longer, no CA can issue that certificate."""
    for name, path, what in _subjects(data):
        if len(name) > CN_MAX:
            report(
                path,
                f"'{name}' is {len(name)} characters: it is the subject (CN) of {what}, and a "
                f"CN takes at most {CN_MAX} (RFC 5280), so no CA could issue it",
                f"use an FQDN of at most {CN_MAX} characters (a shorter host or domain label)",
            )


def check_oauth_key(data: dict[str, Any], report: Report) -> None:
    key = _map(_map(_map(data.get("oauth")).get("certificates"))).get("key")
    if key is None:
        return
    try:
        spec = KeySpec.parse(str(key))
    except ValueError:
        return  # reported by field validation
    if spec.algorithm != "rsa" or spec.size < 2048:
        # R-OAUTH-01/D9: RSA of 2048 bits or more; Exchange and SharePoint partner
        # applications validate the tokens it signs, and no source has them take an EC key
        report(
            ("oauth", "certificates", "key"),
            "the OAuthTokenIssuer key must be an RSA key of at least 2048 bits, not "
            f"{spec.name} (R-OAUTH-01: Exchange and SharePoint validate the tokens it signs)",
            "use rsa2048 or rsa4096",
        )


CHECKS: tuple[Callable[[dict[str, Any], Report], None], ...] = (
    check_unique_names,
    check_role_fields,
    check_director_web_names,
    check_fqdn_owners,
    check_simple_urls,
    check_federation,
    check_subject_lengths,
    check_oauth_key,
)


def consistency_issues(
    data: dict[str, Any], locate: Callable[[Path, str, str], TopologyIssue]
) -> list[TopologyIssue]:
    """Every cross-field problem of the parsed document `data`."""
    found: list[TopologyIssue] = []
    for check in CHECKS:
        check(data, lambda path, message, fix: found.append(locate(path, message, fix)))
    return found
