"""What Get-CsCertificate shows, and more: every certificate of a store with its state —
assigned (current), staged (rolled, effective later), previous, unassigned, or a pending
request — as rows for the `certs` command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from lyncpki.ca_url import without_credentials
from lyncpki.store.model import Assignment, PendingRequest
from lyncpki.store.server_store import ServerStore
from lyncpki.x509.forms import UNREADABLE
from lyncpki.x509.identifiers import serial_hex

STATES = ("assigned", "staged", "previous", "unassigned", "pending request")


@dataclass(frozen=True, slots=True)
class CertificateRow:
    server: str
    state: str
    usage: str | None
    thumbprint: str | None
    friendly_name: str
    subject: str
    sans: tuple[str, ...]
    issuer: str | None
    not_after: dt.datetime | None
    effective: dt.datetime | None
    has_key: bool | None
    exportable: bool | None
    request_id: int | None = None
    ca_request_id: int | None = None
    serial: str | None = None  # hex, as `lyncpki ca revoke` and `ca show` take it

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "state": self.state,
            "type": self.usage,
            "thumbprint": self.thumbprint,
            "friendly_name": self.friendly_name,
            "subject": self.subject,
            "sans": list(self.sans),
            "issuer": self.issuer,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "effective_date": self.effective.isoformat() if self.effective else None,
            "has_private_key": self.has_key,
            "exportable": self.exportable,
            "request_id": self.request_id,
            "ca_request_id": self.ca_request_id,
            "serial": self.serial,
        }


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (x509.ExtensionNotFound, *UNREADABLE):
        return ()
    return tuple(ext.value.get_values_for_type(x509.DNSName))


def _pending_row(server: str, request: PendingRequest) -> CertificateRow:
    return CertificateRow(
        server=server,
        state="pending request",
        usage=",".join(request.usages) or None,
        thumbprint=None,
        friendly_name=request.friendly_name,
        subject=f"CN={request.subject}",
        sans=request.sans,
        issuer=without_credentials(request.ca_url),  # one kept by an earlier version
        not_after=None,
        effective=None,
        has_key=True,
        exportable=request.exportable,
        request_id=request.id,
        ca_request_id=request.ca_request_id,
    )


def certificate_rows(store: ServerStore, now: dt.datetime) -> list[CertificateRow]:
    """Every row of one store: assignments by usage, then unassigned certificates, then
    pending requests."""
    index = store.load()
    entries = {c.thumbprint: c for c in index.personal}
    loaded: dict[str, x509.Certificate] = {}

    def row(
        state: str, usage: str | None, thumbprint: str, assignment: Assignment | None
    ) -> CertificateRow:
        entry = entries.get(thumbprint)
        cert = loaded.get(thumbprint)
        if cert is None:
            cert = loaded[thumbprint] = store.certificate(thumbprint)
        return CertificateRow(
            server=store.server,
            state=state,
            usage=usage,
            thumbprint=thumbprint,
            friendly_name=entry.friendly_name if entry else "",
            subject=cert.subject.rfc4514_string(),
            sans=_sans(cert),
            issuer=cert.issuer.rfc4514_string(),
            not_after=cert.not_valid_after_utc,
            effective=assignment.effective if assignment else None,
            has_key=store.has_key(entry) if entry else False,
            exportable=entry.exportable if entry else None,
            serial=serial_hex(cert.serial_number),
        )

    rows: list[CertificateRow] = []
    used: set[str] = set()
    for usage in sorted(index.assignments):
        slots = index.slots(usage, now)
        for state, assignment in (
            ("assigned", slots.current),
            ("staged", slots.staged),
            ("previous", slots.previous),
        ):
            if assignment is not None:
                rows.append(row(state, usage, assignment.thumbprint, assignment))
                used.add(assignment.thumbprint)
    rows += [row("unassigned", None, t, None) for t in entries if t not in used]
    rows += [_pending_row(store.server, r) for r in index.pending]
    return rows
