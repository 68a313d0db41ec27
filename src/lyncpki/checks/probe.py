"""Probing a deployment's endpoints on the wire, several at once: for each endpoint, the
handshakes (live.handshakes), their judgement (live.judge) and every certificate rule on the
certificate it presents.

A deployment of a thousand servers is a thousand endpoints, some of them down or behind a
firewall that drops packets: probed one after the other, every silent one costs a timeout per
handshake. Endpoints are probed by `jobs` threads (the handshakes wait on the network and on
OpenSSL, which run without the GIL); results come back in the order of the endpoints.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from lyncpki.checks.certificate_rules import NETWORK_RULES, CertificateContext
from lyncpki.checks.engine import check_certificate
from lyncpki.checks.finding import Finding
from lyncpki.checks.live import (
    ClientIdentity,
    Endpoint,
    Handshake,
    handshakes,
    judge,
    names_to_probe,
)
from lyncpki.checks.revocation import RevocationSource
from lyncpki.planning import CertificatePlan
from lyncpki.store import ServerStore

DEFAULT_JOBS = 8
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class ProbeSettings:
    """What every probe of one check shares."""

    now: dt.datetime
    days: int
    roots: Sequence[x509.Certificate]  # trusted roots besides each server's own
    intermediates: Sequence[x509.Certificate]  # known CA certificates (chains not sent whole)
    plan: CertificatePlan | None = None
    home: Path | None = None  # the stores: each server's trusted certificates count too
    client: ClientIdentity | None = None  # mutual TLS with this certificate
    revocation: RevocationSource | None = None  # None: no CRL or OCSP fetched
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Probe:
    """An endpoint's handshakes and findings."""

    endpoint: Endpoint
    handshakes: list[Handshake]
    findings: list[Finding]


def probe(target: Endpoint, settings: ProbeSettings) -> Probe:
    """Handshakes with `target` for each of its planned names, judged; the certificate it
    presents judged by every certificate rule (revocation ones only with a source)."""
    plan = settings.plan
    planned = plan.for_usage(target.server, target.usage) if plan and target.server else None
    trusted, intermediates = list(settings.roots), list(settings.intermediates)
    if target.server and settings.home is not None:
        store = ServerStore(settings.home, target.server)
        if store.exists():
            for cert in store.trusted_certificates():
                (trusted if cert.issuer == cert.subject else intermediates).append(cert)
    made = handshakes(
        target,
        names_to_probe(target, planned.sans if planned else ()),
        client=settings.client,
        timeout=settings.timeout,
    )
    subject = planned.subject if planned else target.label
    found = judge(
        target, made, roots=trusted, intermediates=intermediates, now=settings.now, subject=subject
    )
    skip = () if settings.revocation is not None else tuple(NETWORK_RULES)
    # Each certificate the endpoint presents is judged, not only the first: a server that
    # picks its certificate by SNI passed with a revoked (or expired) one for one of its names.
    chains = _distinct_chains(made)
    for number, (sni, presented) in enumerate(chains):
        ctx = CertificateContext(
            certificate=presented[0],
            now=settings.now,
            server=target.server or target.label,
            usage=target.usage,
            planned=planned,
            intermediates=(*presented[1:], *intermediates),
            roots=tuple(trusted),
            days=settings.days,
            revocation=settings.revocation,
        )
        judged = check_certificate(ctx, skip=skip)
        if len(chains) > 1 and number:  # say which name it answers; the first is the usual one
            judged = [
                dataclasses.replace(f, message=f"{f.message} (the certificate presented for {sni})")
                for f in judged
            ]
        found += judged
    return Probe(target, made, found)


def _distinct_chains(made: Sequence[Handshake]) -> list[tuple[str, list[x509.Certificate]]]:
    """Each distinct certificate presented (with its chain and the first SNI it answered), the
    one of a successful handshake first."""
    chains: dict[bytes, tuple[str, list[x509.Certificate]]] = {}
    for handshake in sorted(made, key=lambda h: not h.ok):
        if handshake.presented:
            leaf = handshake.presented[0].fingerprint(hashes.SHA256())
            chains.setdefault(leaf, (handshake.sni or "no name", handshake.presented))
    return list(chains.values())


def probe_all(
    targets: Sequence[Endpoint],
    settings: ProbeSettings,
    *,
    jobs: int = DEFAULT_JOBS,
    done: Callable[[Probe], None] | None = None,
) -> list[Probe]:
    """Every target probed, `jobs` at a time; returned in the order of `targets`. `done` is
    called (from the calling thread) as each probe ends, for a progress bar."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if not targets:
        return []
    ended: list[Probe | None] = [None] * len(targets)
    with ThreadPoolExecutor(max_workers=min(jobs, len(targets))) as pool:
        futures = {pool.submit(probe, target, settings): i for i, target in enumerate(targets)}
        for future in as_completed(futures):
            result = future.result()
            ended[futures[future]] = result
            if done is not None:
                done(result)
    return [r for r in ended if r is not None]


def resolving(
    names: Sequence[str],
    port: int,
    *,
    jobs: int = DEFAULT_JOBS,
    done: Callable[[str, bool], None] | None = None,
) -> dict[str, bool]:
    """Whether each name resolves from here (looked up `jobs` at a time: a name the DNS does
    not know can take seconds to fail). `done(name, resolved)` is called (from the calling
    thread) as each lookup ends, for a progress bar."""

    def resolves(name: str) -> bool:
        try:
            socket.getaddrinfo(name, port)
        except OSError:
            return False
        return True

    if not names:
        return {}
    found: dict[str, bool] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(names)))) as pool:
        futures = {pool.submit(resolves, name): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            found[name] = future.result()
            if done is not None:
                done(name, found[name])
    return {name: found[name] for name in names}


__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_TIMEOUT",
    "Probe",
    "ProbeSettings",
    "probe",
    "probe_all",
    "resolving",
]
