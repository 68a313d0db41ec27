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
from lyncpki.topology.names import host_of, is_within, normalize

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
        domains(_name(domain), ("sip_domains", k))
    sites = _first_seen(
        report, "site '{name}' is defined twice (first at {first})", "merge the two sites"
    )
    for i, site in enumerate(_items(data.get("sites"))):
        name = _map(site).get("name")
        sites(name if isinstance(name, str) else None, ("sites", i, "name"))
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
            for k, server in enumerate(listed):
                servers(_name(server), (*pool.path, "servers", k))
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


def check_simple_urls(data: dict[str, Any], report: Report) -> None:
    domains = [d for d in (_name(x) for x in _items(data.get("sip_domains"))) if d]
    if not domains:
        return
    urls = _map(data.get("simple_urls"))
    meet = urls.get("meet")
    entries: list[tuple[Path, Any]] = (
        [(("simple_urls", "meet"), meet)]
        if isinstance(meet, str)
        else [(("simple_urls", "meet", k), v) for k, v in enumerate(_items(meet))]
    )
    entries += [(("simple_urls", key), urls.get(key)) for key in ("dialin", "admin")]
    for path, value in entries:
        if not isinstance(value, str) or not value.strip():
            continue
        host = host_of(value)
        if not any(is_within(host, d) for d in domains):
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
        if site not in names:
            report(
                ("federation", "site"),
                f"federation site '{site}' is not a site of this topology",
                f"use one of: {', '.join(sorted(str(n) for n in names if n))}",
            )


def check_oauth_key(data: dict[str, Any], report: Report) -> None:
    key = _map(_map(_map(data.get("oauth")).get("certificates"))).get("key")
    if key is None:
        return
    try:
        spec = KeySpec.parse(str(key))
    except ValueError:
        return  # reported by field validation
    if spec.strength_bits < 2048:
        report(
            ("oauth", "certificates", "key"),
            f"the OAuthTokenIssuer key must be at least 2048 bits, not {spec.name} (R-OAUTH-01)",
            "use rsa2048 or stronger",
        )


CHECKS: tuple[Callable[[dict[str, Any], Report], None], ...] = (
    check_unique_names,
    check_role_fields,
    check_director_web_names,
    check_simple_urls,
    check_federation,
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
