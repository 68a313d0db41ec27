"""The plan: every certificate a deployment needs (the Certificates Report's rows), as values."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lyncpki.keyspec import KeySpec
from lyncpki.topology.model import Issuer

SCHEMA = "lyncpki.plan/1"


class Usage(StrEnum):
    """Certificate usages: the `-Type` names of Request-/Set-CsCertificate (R-CMD-*).

    `ReverseProxy` and `OfficeWebApps` are lyncpki's names for certificates that no Lync
    cmdlet assigns (the reverse proxy's listener; Office Web Apps Server's own, Q14).
    """

    DEFAULT = "Default"
    WEB_INTERNAL = "WebServicesInternal"
    WEB_EXTERNAL = "WebServicesExternal"
    OAUTH = "OAuthTokenIssuer"
    INTERNAL = "Internal"
    EXTERNAL = "External"
    ACCESS_EDGE_EXTERNAL = "AccessEdgeExternal"
    DATA_EDGE_EXTERNAL = "DataEdgeExternal"
    AV_AUTH = "AudioVideoAuthentication"
    XMPP = "XMPPServer"
    REVERSE_PROXY = "ReverseProxy"
    OFFICE_WEB_APPS = "OfficeWebApps"

    @classmethod
    def named(cls, text: str) -> Usage | None:
        """The usage a -Type name gives, in any case (the cmdlets read it so), else None."""
        return _USAGES_BY_NAME.get(text.strip().lower())


_USAGES_BY_NAME = {usage.value.lower(): usage for usage in Usage}


# The usages whose certificates Lync accepts a wildcard SAN on (R-GEN-08): web services, the
# reverse proxy, Office Web Apps; never Default, Edge or OAuth.
WILDCARD_USAGES = frozenset(
    {Usage.WEB_INTERNAL, Usage.WEB_EXTERNAL, Usage.REVERSE_PROXY, Usage.OFFICE_WEB_APPS}
)


class Eku(StrEnum):
    """Extended key usages named as OpenSSL names them."""

    SERVER_AUTH = "serverAuth"
    CLIENT_AUTH = "clientAuth"

    @property
    def oid(self) -> str:
        return {"serverAuth": "1.3.6.1.5.5.7.3.1", "clientAuth": "1.3.6.1.5.5.7.3.2"}[self.value]

    @property
    def label(self) -> str:
        return {"serverAuth": "Server Authentication", "clientAuth": "Client Authentication"}[
            self.value
        ]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """Something the Planning Tool would not tell you: id (dotted), requirement rule, advice."""

    id: str
    rule: str
    severity: Severity
    subject: str  # the topology field or the name the warning is about
    message: str
    fix: str
    certificate: str | None = None  # the plan entry's id, when it is about one

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": str(self.severity),
            "subject": self.subject,
            "certificate": self.certificate,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class PlannedCertificate:
    """One certificate to obtain: a row of the Certificates Report."""

    id: str
    site: str
    role: str
    target: str  # the server or pool FQDN it is requested for ("global" for OAuth)
    servers: tuple[str, ...]  # every server it is installed on
    usages: tuple[Usage, ...]
    subject: str  # the CN
    sans: tuple[str, ...]  # ordered, lowercase, deduplicated; the subject first
    eku: tuple[Eku, ...]
    issuer: Issuer
    key: KeySpec
    exportable: bool
    exportable_reason: str
    template: str
    friendly_name: str
    validity_days: int
    rules: tuple[str, ...]
    notes: tuple[str, ...] = ()
    warnings: tuple[PlanWarning, ...] = field(default=())

    @property
    def assign_to(self) -> str:
        """The Planning Tool's "Assign To" column: where and for what."""
        where = (
            "global (replicated)"
            if self.target == "global"
            else ", ".join(self.servers) or f"{self.target} (its servers are not in the topology)"
        )
        return f"{', '.join(self.usages)} on {where}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site": self.site,
            "role": self.role,
            "target": self.target,
            "servers": list(self.servers),
            "usages": [str(u) for u in self.usages],
            "subject": self.subject,
            "sans": list(self.sans),
            "eku": [{"name": str(e), "oid": e.oid} for e in self.eku],
            "issuer": str(self.issuer),
            "key": {
                "name": self.key.name,
                "algorithm": self.key.algorithm,
                "size": self.key.size,
            },
            "exportable": self.exportable,
            "exportable_reason": self.exportable_reason,
            "template": self.template,
            "friendly_name": self.friendly_name,
            "validity_days": self.validity_days,
            "rules": list(self.rules),
            "notes": list(self.notes),
            "warnings": [w.as_dict() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class CertificatePlan:
    """Every certificate of a deployment, and every warning about the topology or the plan."""

    certificates: tuple[PlannedCertificate, ...]
    warnings: tuple[PlanWarning, ...]
    layout: str
    source: str | None = None
    # servers of the topology that hold no planned certificate, with their role (an Office Web
    # Apps server without plan_certificate): named as such, not as unknown
    unplanned: tuple[tuple[str, str], ...] = ()

    def by_id(self, cert_id: str) -> PlannedCertificate:
        for cert in self.certificates:
            if cert.id == cert_id:
                return cert
        raise KeyError(cert_id)

    def for_server(self, fqdn: str) -> list[PlannedCertificate]:
        return [c for c in self.certificates if fqdn in c.servers]

    def for_store(self, name: str) -> list[PlannedCertificate]:
        """The certificates a server's store holds: the server's; for `global` the replicated
        OAuth one; for a reverse proxy whose servers are not listed, its FQDN's."""
        if name == "global":
            return [c for c in self.certificates if c.target == "global"]
        return [
            c
            for c in self.certificates
            if c.target != "global" and (name in c.servers or (not c.servers and c.target == name))
        ]

    def for_usage(self, name: str, usage: str) -> PlannedCertificate | None:
        """The planned certificate of one usage in one server's store."""
        return next((c for c in self.for_store(name) if usage in c.usages), None)

    def store_names(self) -> list[str]:
        """Every store the plan fills: servers, reverse proxies listed by FQDN, `global`."""
        names: dict[str, None] = {}
        for cert in self.certificates:
            held = ("global",) if cert.target == "global" else cert.servers or (cert.target,)
            names.update(dict.fromkeys(held))
        return list(names)

    def unknown_store(self, name: str) -> str:
        """Why `name` has no certificate in the plan, for a message: a pool's FQDN names its
        servers; a near miss the likely name."""
        pool = sorted(
            {s for c in self.certificates if name in (c.target, c.subject) for s in c.servers}
        )
        if pool:
            return f"{name} is a pool's name; its servers are {', '.join(pool)}"
        role = dict(self.unplanned).get(name)
        if role is not None:
            why = (
                " (set plan_certificate: true on its pool to plan one, Q14)"
                if role == "office_web_apps"
                else ""
            )
            return (
                f"{name} is in the topology (role {role}), and the plan gives it no "
                f"certificate{why}"
            )
        close = difflib.get_close_matches(name, self.store_names(), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"the topology has no server {name}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "source": self.source,
            "layout": self.layout,
            "certificates": [c.as_dict() for c in self.certificates],
            "warnings": [w.as_dict() for w in self.warnings],
        }
