"""Certificates grouped by site, then by role, in the order the plan first names them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lyncpki.planning.model import PlannedCertificate


@dataclass(frozen=True, slots=True)
class RoleGroup:
    site: str
    role: str
    certificates: tuple[PlannedCertificate, ...]

    @property
    def title(self) -> str:
        return f"{self.site} — {self.role}"


@dataclass(frozen=True, slots=True)
class SiteGroup:
    site: str
    roles: tuple[RoleGroup, ...]


def by_site_and_role(certificates: Iterable[PlannedCertificate]) -> list[SiteGroup]:
    """Sites in order of first appearance; within each, roles in order of first appearance."""
    sites: dict[str, dict[str, list[PlannedCertificate]]] = {}
    for cert in certificates:
        sites.setdefault(cert.site, {}).setdefault(cert.role, []).append(cert)
    return [
        SiteGroup(site, tuple(RoleGroup(site, role, tuple(certs)) for role, certs in roles.items()))
        for site, roles in sites.items()
    ]
