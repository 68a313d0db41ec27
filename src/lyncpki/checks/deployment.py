"""Checking a whole deployment: every certificate the plan asks for, on each of its servers,
for each usage, judged by the certificate rules with that server's own store (its trusted
roots and intermediates, its keys); then the rules that compare servers: a pool's shared
certificates identical on every member, the OAuthTokenIssuer the same everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from lyncpki.checks.ca_templates import ca_template_findings
from lyncpki.checks.certificate_rules import (
    RULES,
    CertificateContext,
    Rule,
    compute_views,
    offline_rules,
)
from lyncpki.checks.engine import check_certificate
from lyncpki.checks.finding import Finding, ordered
from lyncpki.checks.revocation import RevocationSource
from lyncpki.gc_pause import gc_paused
from lyncpki.planning.model import CertificatePlan, PlannedCertificate, Severity, Usage
from lyncpki.store import GLOBAL, ServerStore, StoreError, StoreIndex
from lyncpki.x509.keys import PrivateKey


@dataclass(frozen=True)
class DeploymentCheck:
    """What to check and against what."""

    plan: CertificatePlan
    home: Path
    now: dt.datetime
    days: int = 30
    servers: frozenset[str] | None = None  # None: every server of the plan
    revocation: RevocationSource | None = None  # None: offline
    internal_roots: frozenset[str] = frozenset()
    open_key: Callable[[ServerStore, str], PrivateKey] | None = None  # to compare keys
    # told how many (certificate, store) placements were judged, batch by batch (a bar)
    progress: Callable[[int], None] | None = None


@dataclass
class _Server:
    """One store, read once: its index and trusted CA certificates. Its certificates are read
    when judged and not kept (kept, their parsed extensions slowed every garbage collection)."""

    store: ServerStore
    index: StoreIndex
    intermediates: tuple[x509.Certificate, ...]
    roots: tuple[x509.Certificate, ...]


def _finding(
    fid: str,
    severity: Severity,
    server: str,
    usage: str | None,
    subject: str,
    message: str,
    fix: str,
    rule: str,
) -> Finding:
    return Finding(fid, severity, server, usage, subject, message, fix, rule)


def placements(plan: CertificatePlan) -> Iterable[tuple[PlannedCertificate, str]]:
    """Every (planned certificate, store) pair: each server it is installed on; the global
    store for OAuth; a reverse proxy without listed servers under its own FQDN."""
    for planned in plan.certificates:
        if planned.target == GLOBAL:
            yield planned, GLOBAL
        elif planned.servers:
            for server in planned.servers:
                yield planned, server
        else:
            yield planned, planned.target


def stores(plan: CertificatePlan) -> list[str]:
    """Every store the plan puts a certificate in, once each, in the plan's order."""
    return list(dict.fromkeys(name for _, name in placements(plan)))


def store_sites(plan: CertificatePlan) -> dict[str, str]:
    """The site of each store (of the first planned certificate it holds; `global` for the
    global store): what a long list of servers is grouped by."""
    sites: dict[str, str] = {}
    for planned, name in placements(plan):
        sites.setdefault(name, planned.site)
    return sites


class _Stores:
    """The stores of a deployment, each read once. Trusted CA certificates, the same on most
    servers, are parsed once per thumbprint and shared, as are their (intermediates, roots)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.loaded: dict[str, _Server | StoreError | None] = {}
        self._trusted: dict[str, tuple[bytes, x509.Certificate]] = {}  # (file bytes, parsed)
        self._sets: dict[tuple[str, ...], tuple[tuple[x509.Certificate, ...], ...]] = {}

    def get(self, name: str) -> _Server | StoreError | None:
        if name not in self.loaded:
            self.loaded[name] = self._open(name)
        return self.loaded[name]

    def _open(self, name: str) -> _Server | StoreError | None:
        try:
            store = ServerStore(self.home, name)
            index = store.read()
            if index is None:
                return None
            intermediates, roots = self._trust_set(store, index)
        except StoreError as error:
            return error
        return _Server(store, index, intermediates, roots)

    def _trust_set(
        self, store: ServerStore, index: StoreIndex
    ) -> tuple[tuple[x509.Certificate, ...], ...]:
        # each store's own files are read (a store whose trusted files were removed or
        # replaced passed when another store's copies had been parsed first); a file whose
        # bytes are those already parsed is not parsed again
        certs = []
        for entry in index.trusted:
            data = store.trusted_bytes(entry.thumbprint)
            known = self._trusted.get(entry.thumbprint)
            if known is None or known[0] != data:
                known = (data, store.trusted_certificate(entry.thumbprint))
                self._trusted.setdefault(entry.thumbprint, known)
            certs.append(known[1])
        key = tuple(t.thumbprint for t in index.trusted)
        if key not in self._sets:
            self._sets[key] = (
                tuple(c for c in certs if c.issuer != c.subject),
                tuple(c for c in certs if c.issuer == c.subject),
            )
        return self._sets[key]


def check_deployment(job: DeploymentCheck) -> list[Finding]:
    """Every finding of the deployment's stores against the plan (and of the pools' and the
    OAuth certificate's sameness), in the report's order."""
    with gc_paused():
        return _check_deployment(job) + ca_template_findings(job.home)


# Certificates read before pyca's work on them is done together, then judged by the rules:
# pyca's path building run back to back stays in the processor's caches, where interleaved
# with the reading and the rules' Python it ran a quarter slower (bench/check.py, 1,000
# servers: 0.41 s one certificate at a time, 0.32 s in batches); a batch bounds what is held.
BATCH = 256


@dataclass
class _Judged:
    """A certificate read and waiting for its batch: its context, its store's entry, and the
    place its findings take in the report (the order of a run without batches)."""

    ctx: CertificateContext
    server: _Server
    key_id: str | None
    findings: list[Finding]


def _judge(
    job: DeploymentCheck, batch: list[_Judged], rules: tuple[Rule, ...], placed: int = 0
) -> None:
    """Judge the batch; then tell `job.progress` of the `placed` placements read for it."""
    compute_views([judged.ctx for judged in batch])
    for judged in batch:
        judged.findings += check_certificate(judged.ctx, rules)
        if job.open_key is not None and judged.key_id:
            judged.findings += _key_matches(job, judged.server, judged.key_id, judged.ctx)
    batch.clear()
    if job.progress is not None and placed:
        job.progress(placed)


def placements_checked(job: DeploymentCheck) -> int:
    """How many (certificate, store) placements `check_deployment` judges (a bar's total)."""
    return sum(1 for _, name in placements(job.plan) if job.servers is None or name in job.servers)


def _check_deployment(job: DeploymentCheck) -> list[Finding]:
    stores = _Stores(job.home)
    parts: list[list[Finding]] = []  # in the report's order; a batch's filled when judged
    batch: list[_Judged] = []
    assigned: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (cert id, usage)
    # offline: the rules that fetch CRLs and ask OCSP are left out once, not per certificate
    rules = tuple(RULES if job.revocation is not None else offline_rules())
    unreadable: set[str] = set()
    placed = 0  # placements read since the last batch was judged
    for planned, name in placements(job.plan):
        if job.servers is not None and name not in job.servers:
            continue
        placed += 1
        server = stores.get(name)
        if isinstance(server, StoreError):
            if name in unreadable:  # one finding per store, not one per certificate planned
                continue
            unreadable.add(name)
            parts.append(
                [
                    _finding(
                        "store.unreadable",
                        Severity.ERROR,
                        name,
                        None,
                        planned.subject,
                        server.message,
                        server.fix or "",
                        "R-GEN-13",
                    )
                ]
            )
            continue
        for usage in planned.usages:
            usage_name = str(usage)
            slots = server.index.slots(usage_name, job.now) if server else None
            if slots is None or slots.current is None:
                parts.append([_unassigned(planned, name, usage, server)])
                continue
            thumbprint = slots.current.thumbprint
            assigned[planned.id, usage_name][name] = thumbprint
            assert server is not None
            entry = server.index.certificate(thumbprint)
            try:
                certificate = server.store.certificate(thumbprint)
            except StoreError as error:
                parts.append(
                    [
                        _finding(
                            "store.unreadable",
                            Severity.ERROR,
                            name,
                            usage_name,
                            planned.subject,
                            error.message,
                            error.fix or "",
                            "R-GEN-13",
                        )
                    ]
                )
                continue
            ctx = CertificateContext(
                certificate=certificate,
                now=job.now,
                server=name,
                usage=usage_name,
                planned=planned,
                intermediates=server.intermediates,
                roots=server.roots,
                has_key=bool(entry and server.store.has_key(entry)),
                exportable=entry.exportable if entry else None,
                days=job.days,
                revocation=job.revocation,
                internal_roots=job.internal_roots,
            )
            judged = _Judged(ctx, server, entry.key_id if entry else None, [])
            parts.append(judged.findings)
            batch.append(judged)
            if len(batch) >= BATCH:
                _judge(job, batch, rules, placed)
                placed = 0
    _judge(job, batch, rules, placed)
    findings = [finding for part in parts for finding in part]
    if job.servers is None:
        findings += _pool_identical(job.plan, assigned)
    else:  # one member checked: still compared with the other members of its pool
        _pool_members(job, stores, assigned)
        findings += [f for f in _pool_identical(job.plan, assigned) if f.server in job.servers]
    findings += [
        f
        for f in _layout_apart(job.plan, assigned)
        if job.servers is None or f.server in job.servers
    ]
    findings += _oauth_everywhere(job, stores, assigned)
    return ordered(findings)


def _pool_members(
    job: DeploymentCheck, stores: _Stores, assigned: dict[tuple[str, str], dict[str, str]]
) -> None:
    """What the other members of a checked server's pool assign (read, not judged): `check
    -s edge01` passed while edge02 held another A/V certificate."""
    assert job.servers is not None
    for planned in job.plan.certificates:
        if len(planned.servers) < 2 or not job.servers.intersection(planned.servers):
            continue
        for other in planned.servers:
            server = None if other in job.servers else stores.get(other)
            if not isinstance(server, _Server):
                continue
            for usage in planned.usages:
                current = server.index.slots(str(usage), job.now).current
                if current is not None:
                    assigned[planned.id, str(usage)][other] = current.thumbprint


def _layout_apart(
    plan: CertificatePlan, assigned: dict[tuple[str, str], dict[str, str]]
) -> list[Finding]:
    """One certificate assigned on a server to usages the plan gives separate certificates
    (a combined certificate left after the layout went separate): the external web site then
    carries the internal names, the admin URL among them (R-GEN-17). Each certificate's own
    SANs pass, so no other rule sees it; deploy renews it."""
    by_server: dict[tuple[str, str], set[str]] = defaultdict(set)  # (server, thumb) -> ids
    for (cert_id, _usage), holders in assigned.items():
        for server, thumbprint in holders.items():
            by_server[server, thumbprint].add(cert_id)
    findings: list[Finding] = []
    for (server, thumbprint), ids in sorted(by_server.items()):
        if len(ids) < 2:
            continue
        usages = sorted(str(u) for cert_id in ids for u in plan.by_id(cert_id).usages)
        for cert_id in sorted(ids):
            planned = plan.by_id(cert_id)
            findings.append(
                _finding(
                    "layout.combined",
                    Severity.ERROR,
                    server,
                    ",".join(str(u) for u in planned.usages),
                    planned.subject,
                    f"one certificate ({thumbprint[:12]}…) is assigned to {', '.join(usages)}, "
                    "which the plan keeps on separate certificates: each usage carries the "
                    "others' names (the external web site the internal ones, admin included)",
                    "request each planned certificate and assign it to its own usages "
                    "(lyncpki deploy renews them), or plan the combined layout",
                    "R-GEN-17",
                )
            )
    return findings


def _unassigned(
    planned: PlannedCertificate, server: str, usage: Usage, store: _Server | None
) -> Finding:
    waiting = store is not None and any(str(usage) in r.usages for r in store.index.pending)
    if waiting:
        fix = (
            f"a request for it is pending on {server}: import the CA's answer (lyncpki import), "
            "or fetch it (lyncpki request --retrieve ID), then assign it"
        )
    elif len(planned.servers) > 1 and server != planned.servers[0]:
        # one certificate for the whole pool (an Edge pool's external and A/V certificates):
        # a request here would make a second one, which pool.not-identical then reports
        first = planned.servers[0]
        fix = (
            f"copy the pool's certificate from {first}: lyncpki export --server {first} --type "
            f"{usage} --pfx pool.pfx, then lyncpki import --server {server} pool.pfx and assign "
            "it (one certificate for the pool, never a request per server)"
        )
    else:
        fix = (
            f"request it (lyncpki request --server {server} --type {usage}), then assign it "
            "(lyncpki assign, or request --assign)"
        )
    return _finding(
        "cert.unassigned",
        Severity.ERROR,
        server,
        str(usage),
        planned.subject,
        f"no certificate is assigned to {usage} on {server}"
        + (" (its store does not exist yet)" if store is None else ""),
        fix,
        ",".join(planned.rules) or "R-CMD-SET",
    )


def _key_matches(
    job: DeploymentCheck, server: _Server, key_id: str, ctx: CertificateContext
) -> list[Finding]:
    assert job.open_key is not None
    try:
        key = job.open_key(server.store, key_id)
    except Exception as error:  # a damaged or foreign key file is what this rule reports
        problem = getattr(error, "message", str(error))
        return [_key_finding(ctx, f"the private key cannot be opened ({problem})")]
    if key.public_key() != ctx.certificate.public_key():
        return [_key_finding(ctx, "the private key in the store is not the certificate's")]
    return []


def _key_finding(ctx: CertificateContext, message: str) -> Finding:
    return Finding(
        "key.mismatch",
        Severity.ERROR,
        ctx.server,
        ctx.usage,
        ctx.certificate.subject.rfc4514_string(),
        message,
        "import the certificate with its own key (.pfx), or request a new one",
        "R-GEN-13",
    )


def _pool_identical(
    plan: CertificatePlan, assigned: dict[tuple[str, str], dict[str, str]]
) -> list[Finding]:
    """A certificate planned for a pool (the Edge's) must be the same on every member: the
    A/V authentication certificate above all, whose tokens every Edge must validate."""
    findings: list[Finding] = []
    for planned in plan.certificates:
        if len(planned.servers) < 2:
            continue
        for usage in planned.usages:
            holders = assigned.get((planned.id, str(usage)), {})
            distinct = sorted(set(holders.values()))
            if len(distinct) < 2:
                continue
            av = usage == Usage.AV_AUTH
            spread = "; ".join(
                f"{t[:12]}… on {', '.join(s for s, v in sorted(holders.items()) if v == t)}"
                for t in distinct
            )
            for server in sorted(holders):
                findings.append(
                    _finding(
                        "av.not-identical" if av else "pool.not-identical",
                        Severity.ERROR,
                        server,
                        str(usage),
                        planned.subject,
                        f"the {usage} certificate differs across {planned.target}: {spread}",
                        "export the one certificate with its key (lyncpki export) and import "
                        "and assign it on every server of the pool",
                        "R-EDGE-02" if av else "R-EDGE-01,R-EDGE-03",
                    )
                )
    return findings


def _oauth_everywhere(
    job: DeploymentCheck, stores: _Stores, assigned: dict[tuple[str, str], dict[str, str]]
) -> list[Finding]:
    """One OAuthTokenIssuer for the whole deployment, replicated from the global store; a
    server that assigns another one locally (a manual copy) breaks server-to-server auth."""
    findings: list[Finding] = []
    for planned in job.plan.certificates:
        if Usage.OAUTH not in planned.usages or planned.target != GLOBAL:
            continue
        wanted = assigned.get((planned.id, str(Usage.OAUTH)), {}).get(GLOBAL)
        for server_name in planned.servers:
            if job.servers is not None and server_name not in job.servers:
                continue
            server = stores.get(server_name)
            if not isinstance(server, _Server):
                continue
            local = server.index.slots(str(Usage.OAUTH), job.now).current
            if local is None or local.thumbprint == wanted:
                continue
            findings.append(
                _finding(
                    "oauth.not-global",
                    Severity.ERROR,
                    server_name,
                    str(Usage.OAUTH),
                    planned.subject,
                    f"{server_name} assigns its own OAuthTokenIssuer ({local.thumbprint[:12]}…)"
                    f", not the global one ({(wanted or 'none')[:12]}…): partners reject its "
                    "tokens",
                    f"remove it (lyncpki remove --server {server_name} --type OAuthTokenIssuer) "
                    "and assign the certificate once with --server global",
                    "R-OAUTH-01,R-OAUTH-02",
                )
            )
    return findings
