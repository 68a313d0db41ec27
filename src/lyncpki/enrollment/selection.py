"""Which planned certificates a request on a server is for (Request-CsCertificate -Type).

Without types, every certificate planned for the server is requested, each on its own. With
types, one certificate is requested for all of them together, carrying the union of their
planned names, as `Request-CsCertificate -Type Default,WebServicesInternal,...` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lyncpki.keyspec import KeySpec
from lyncpki.planning.model import CertificatePlan, Eku, PlannedCertificate, Usage
from lyncpki.store.layout import StoreError
from lyncpki.topology.model import Issuer


@dataclass(frozen=True, slots=True)
class RequestTarget:
    """What the plan says one request must ask for."""

    server: str
    usages: tuple[Usage, ...]
    planned: tuple[PlannedCertificate, ...]
    subject: str
    sans: tuple[str, ...]
    eku: tuple[Eku, ...]
    key: KeySpec
    exportable: bool
    template: str
    friendly_name: str
    issuer: Issuer

    @property
    def label(self) -> str:
        return ",".join(self.usages)


def parse_usages(texts: Sequence[str]) -> list[Usage]:
    """`Default,WebServicesInternal` (any case, comma or repeated) -> usages, in order."""
    found: list[Usage] = []
    for text in texts:
        for part in text.split(","):
            name = part.strip()
            if not name:
                continue
            usage = Usage.named(name)
            if usage is None:
                raise StoreError(
                    f"unknown certificate type '{name[:60]}'",
                    f"use the -Type names of Request-CsCertificate: {', '.join(Usage)}",
                )
            if usage not in found:
                found.append(usage)
    if texts and not found:  # `--type ""` or `--type ,` named nothing: not "every" nor "none"
        raise StoreError(
            "--type names no certificate type",
            f"give one or more of: {', '.join(Usage)} (comma-separated or repeated)",
        )
    return found


def merge(
    server: str, usages: Sequence[Usage], rows: Sequence[PlannedCertificate]
) -> RequestTarget:
    first = rows[0]
    if len(rows) == 1:
        names = first.sans
        friendly = first.friendly_name
    else:
        names = tuple(dict.fromkeys(n for row in rows for n in row.sans))
        friendly = f"Lync {' + '.join(usages)} {server}"
    eku = tuple(dict.fromkeys(e for row in rows for e in row.eku))
    key = max((row.key for row in rows), key=lambda k: k.strength_bits)
    issuer = Issuer.PUBLIC if any(r.issuer == Issuer.PUBLIC for r in rows) else first.issuer
    return RequestTarget(
        server=server,
        usages=tuple(usages),
        planned=tuple(rows),
        subject=first.subject,
        sans=(first.subject, *(n for n in names if n != first.subject)),
        eku=eku,
        key=key,
        exportable=any(r.exportable for r in rows),
        template=first.template,
        friendly_name=friendly,
        issuer=issuer,
    )


def targets(plan: CertificatePlan, server: str, types: Sequence[Usage]) -> list[RequestTarget]:
    """The requests to make on `server`: one per planned certificate, or one for `types`."""
    rows = plan.for_store(server)
    if not rows:
        raise StoreError(
            f"the plan has no certificate for {server}: {plan.unknown_store(server)}",
            "give a server of the topology (lyncpki plan lists them), or 'global' for the "
            "OAuthTokenIssuer certificate",
        )
    if not types:
        return [merge(server, row.usages, [row]) for row in rows]
    chosen: list[PlannedCertificate] = []
    for usage in types:
        row = next((r for r in rows if usage in r.usages), None)
        if row is None:
            offered = ", ".join(dict.fromkeys(u for r in rows for u in r.usages))
            raise StoreError(
                f"{usage} is not planned for {server}",
                f"the plan gives {server}: {offered}",
            )
        if row not in chosen:
            chosen.append(row)
    return [merge(server, types, chosen)]
