"""Whether a certificate of a server's store fits a usage (what `assign` checks before
Set-CsCertificate): the certificate rules, judged with the store's own trusted roots and
intermediates, its private key and the plan's certificate for that usage."""

from __future__ import annotations

import datetime as dt

from lyncpki.checks.certificate_rules import CertificateContext
from lyncpki.checks.engine import check_certificate
from lyncpki.checks.finding import Finding
from lyncpki.planning.model import PlannedCertificate
from lyncpki.store import PersonalCertificate, ServerStore, StoreError, StoreIndex, thumbprint_name


def installed(store: ServerStore, index: StoreIndex, thumbprint: str) -> PersonalCertificate:
    """The store's entry of the certificate, or a StoreError that says it is not there."""
    entry = index.certificate(thumbprint_name(thumbprint))
    if entry is None:
        raise StoreError(
            f"certificate {thumbprint_name(thumbprint)} is not in the store of {store.server}",
            f"see what is there: lyncpki certs --server {store.server}",
        )
    return entry


def store_context(
    store: ServerStore,
    thumbprint: str,
    usage: str | None,
    planned: PlannedCertificate | None,
    now: dt.datetime,
    *,
    days: int = 30,
) -> CertificateContext:
    index = store.load()
    entry = installed(store, index, thumbprint)
    trusted = store.trusted_certificates(index)
    return CertificateContext(
        certificate=store.certificate(entry.thumbprint),
        now=now,
        server=store.server,
        usage=usage,
        planned=planned,
        intermediates=tuple(c for c in trusted if c.issuer != c.subject),
        roots=tuple(c for c in trusted if c.issuer == c.subject),
        has_key=store.has_key(entry),
        exportable=entry.exportable,
        days=days,
    )


def fitness(
    store: ServerStore,
    thumbprint: str,
    usage: str,
    planned: PlannedCertificate | None,
    now: dt.datetime,
) -> list[Finding]:
    """The findings that speak against assigning the certificate to the usage (expiring soon is
    left to `check`: a certificate valid today may be assigned)."""
    ctx = store_context(store, thumbprint, usage, planned, now)
    return check_certificate(ctx, skip=("cert.expiring",))
