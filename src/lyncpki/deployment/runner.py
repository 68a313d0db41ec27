"""Carrying a deployment out: keys made in parallel, requests sent to the CA service, answers
installed and assigned, pool copies made, CRLs published, every requirement checked, mutual
TLS proved, the report written.

Each step leaves the stores in a state the next run reads back (needs.assess): a request is
recorded pending before it is sent, and a request the CA already answered is recovered from
the CA's database by its key rather than sent again, so a run killed at any point is resumed
without issuing anything twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.x509.oid import NameOID

from lyncpki.atomic import write_atomic
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.client import CaClient, CaClientError, CaRefused, Enrollment
from lyncpki.ca.crl import Reason
from lyncpki.checks.deployment import DeploymentCheck, check_deployment, placements_checked
from lyncpki.checks.finding import Finding
from lyncpki.checks.revocation import RevocationSource
from lyncpki.deployment.keymaker import KeyOrder, MadeKey, make_keys
from lyncpki.deployment.needs import (
    ADOPT,
    COPY,
    PUBLIC_LAB,
    RESUME,
    Assessment,
    Need,
    asks_public_ca,
    granted_days,
)
from lyncpki.enrollment.request_spec import RequestSpec, WizardAnswers, decide
from lyncpki.enrollment.requesting import keep
from lyncpki.enrollment.selection import merge
from lyncpki.errors import LyncPkiError
from lyncpki.planning.model import PlannedCertificate, Usage
from lyncpki.planning.rules import is_webserver
from lyncpki.store import PendingRequest, ServerStore, StoreError
from lyncpki.topology.model import Organization
from lyncpki.x509.identifiers import serial_hex
from lyncpki.x509.keys import key_id
from lyncpki.x509.requests import request_pem

# Certificates that authenticate servers to each other (MTLS) are asked for with a template
# that adds Client Authentication: Lync does not require it (R-GEN-02), but OpenSSL peers, the
# live proof's included, insist on it in a client certificate.
MTLS_USAGES = frozenset({Usage.DEFAULT, Usage.INTERNAL})
MTLS_TEMPLATE = "LyncServer"
SUBMIT_THREADS = 8
PUBLIC_REQUESTS = "public-requests"  # in the home: requests waiting for the public CA
ANSWERED = "answered"  # in PUBLIC_REQUESTS: requests whose answers were imported
SUPERSEDED = "superseded"  # in PUBLIC_REQUESTS: requests made again with the plan's new names
REQUESTED = "requested"  # a Done's action: a request written for the public CA, not sent


class Reporter(Protocol):
    """Where a run says what it does (the command line draws progress bars from it)."""

    def phase(self, name: str, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class Done:
    """One thing a run did, for the summary and the report."""

    server: str
    certificate: str  # the planned certificate's id
    action: str  # issued | renewed | resumed | recovered | adopted | copied | pending
    # | requested (for the public CA) | failed
    thumbprint: str | None = None
    detail: str = ""


@dataclass
class Outcome:
    done: list[Done] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, item: Done) -> None:
        self.done.append(item)


def request_spec(
    planned: PlannedCertificate, holder: str, organization: Organization
) -> RequestSpec:
    """The request deploy makes for a planned certificate (its MTLS template where needed)."""
    mtls = bool(MTLS_USAGES & set(planned.usages)) and is_webserver(planned.template)
    answers = WizardAnswers(template=MTLS_TEMPLATE if mtls else None, client_eku=mtls)
    return decide(merge(holder, planned.usages, [planned]), answers, organization)


def _usages(planned: PlannedCertificate) -> list[str]:
    return [str(u) for u in planned.usages]


def _assign_all(store: ServerStore, planned: PlannedCertificate, thumbprint: str) -> None:
    for usage in planned.usages:
        store.assign(str(usage), thumbprint)


class _Answers:
    """What the CA issued to deploy's account, read once per run and grouped by subject: the
    answers of the requests a run resumes, which a killed run may have left uninstalled (each
    resumed request read every certificate of the CA again)."""

    def __init__(self, ca: CertificateAuthority, account: str) -> None:
        self.ca = ca
        self.by_subject: dict[str, list[dict[str, Any]]] = {}
        for row in ca.certificates(status=None):
            if row["requester"] == account:
                self.by_subject.setdefault(_common_name(row["subject"]), []).append(row)

    def of(self, pending: PendingRequest) -> x509.Certificate | None:
        """The certificate the CA issued for a pending request's key, if it did (the run that
        sent it was killed before installing the answer)."""
        since = pending.created_at - dt.timedelta(minutes=5)
        for row in self.by_subject.get(pending.subject, ()):
            issued = row["issued_at"]
            if issued.tzinfo is None:  # SQLite keeps UTC without its offset
                issued = issued.replace(tzinfo=dt.UTC)
            if issued < since:
                continue
            _, cert = self.ca.certificate(row["serial"])
            if key_id(cert.public_key()) == pending.key_id:
                return cert
        return None


def _common_name(subject: str) -> str:
    """The CN of a subject as the CA lists it (RFC 4514 text); "" when it has none."""
    try:
        names = x509.Name.from_rfc4514_string(subject).get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:  # not deploy's: no request of it is looked for
        return ""
    return str(names[0].value) if names else ""


@dataclass
class Runner:
    home: Path
    secret: bytes  # the stores' passphrase
    client: CaClient
    account: str
    organization: Organization
    reporter: Reporter
    ca: CertificateAuthority | None = None  # the home's CA (recovery, CRLs, the proof)
    jobs: int = 1
    public: str = PUBLIC_LAB  # PUBLIC_OFFLINE: public certificates are requested, not issued

    def holder_store(self, need: Need) -> ServerStore:
        return ServerStore(self.home, need.holder)

    # ------------------------------------------------------------------ issuing
    def issue(self, assessment: Assessment, outcome: Outcome) -> None:
        fresh = [n for n in assessment.needs if n.action not in (COPY, RESUME, ADOPT)]
        resumed = [n for n in assessment.needs if n.action == RESUME]
        for need in assessment.needs:
            if need.action == ADOPT and need.thumbprint:
                _assign_all(self.holder_store(need), need.planned, need.thumbprint)
                outcome.add(
                    Done(need.holder, need.planned.id, "adopted", need.thumbprint, need.reason)
                )
        specs = [request_spec(n.planned, n.holder, self.organization) for n in fresh]
        orders = [KeyOrder(s.key.name, s.subject, s.template, s.client_auth) for s in specs]
        self.reporter.phase("keys", len(orders))
        made = make_keys(orders, self.secret, jobs=self.jobs, done=self.reporter.advance)
        self.reporter.phase("requests", len(fresh) + len(resumed))
        work: list[Callable[[], Done]] = [
            partial(self._fresh, n, s, m) for n, s, m in zip(fresh, specs, made, strict=True)
        ]
        answers = _Answers(self.ca, self.account) if resumed and self.ca is not None else None
        work += [partial(self._resume, n, answers) for n in resumed]
        with ThreadPoolExecutor(max_workers=SUBMIT_THREADS) as pool:
            for item in pool.map(lambda job: job(), work):
                outcome.add(item)
                self.reporter.advance()

    def _fresh(self, need: Need, spec: RequestSpec, made: MadeKey) -> Done:
        store = self.holder_store(need)
        csr = x509.load_der_x509_csr(made.csr_der)
        pem = request_pem(csr, certreq_armor=True)
        if asks_public_ca(need, self.public):
            outbox = self.public_request_file(need)
            self._supersede(store, outbox)
            keep(store, spec, made.sealed, csr, self.secret, output=outbox)
            return self._await_public_ca(need, pem, outbox)
        pending = keep(
            store,
            spec,
            made.sealed,
            csr,
            self.secret,
            ca_url=self.client.base_url,
            ca_account=self.account,
        ).pending
        return self._send(
            need,
            store,
            pending,
            pem,
            spec.template,
            "renewed" if need.action == "renew" else "issued",
        )

    def _resume(self, need: Need, answers: _Answers | None) -> Done:
        assert need.pending is not None
        store = self.holder_store(need)
        pem = store.paths.request(need.pending.id).read_bytes()
        if asks_public_ca(need, self.public):
            return self._await_public_ca(need, pem, self.public_request_file(need))
        found = answers.of(need.pending) if answers is not None else None
        if found is not None:
            return self._install(need, store, need.pending, found, self._chain(), "recovered")
        return self._send(need, store, need.pending, pem, need.pending.template, "resumed")

    # ------------------------------------------------------------------ the public CA
    def _supersede(self, store: ServerStore, outbox: Path) -> None:
        """A request for the public CA made again (the plan now needs names the one left
        pending lacks): the old one is forgotten with its key, and its file moved to
        public-requests/superseded, so that the answer to it is never awaited or paid for."""
        for old in store.load().pending if store.exists() else ():
            if old.output and Path(old.output) == outbox:
                store.drop_pending(old.id)
        if outbox.is_file():
            target = outbox.parent / SUPERSEDED / outbox.name
            target.parent.mkdir(exist_ok=True)
            outbox.replace(target)

    def public_request_file(self, need: Need) -> Path:
        """Where the request for the public CA is written: one file per planned certificate,
        named by the server that holds its key (where the answer must be imported)."""
        kind = need.planned.id.rsplit("/", 1)[-1]
        return self.home / PUBLIC_REQUESTS / f"{need.holder}--{kind}.req"

    def file_answered_requests(self, outcome: Outcome) -> list[Path]:
        """Move the public CA's requests this run no longer waits for (their answers were
        imported, or the certificate left the plan) to public-requests/answered, so that the
        folder holds exactly what is still to be sent; the files moved, in their new place."""
        folder = self.home / PUBLIC_REQUESTS
        if not folder.is_dir():
            return []
        waiting = {
            self.home / PUBLIC_REQUESTS / f"{d.server}--{d.certificate.rsplit('/', 1)[-1]}.req"
            for d in outcome.done
            if d.action == REQUESTED
        }
        moved = []
        for path in sorted(folder.glob("*.req")):
            if path in waiting:
                continue
            target = folder / ANSWERED / path.name
            target.parent.mkdir(exist_ok=True)
            path.replace(target)  # a later one of the same name replaces the older record
            moved.append(target)
        return moved

    def _await_public_ca(self, need: Need, pem: bytes, path: Path) -> Done:
        """The request written (again) to `path`, where the administrator picks it up; the
        certificate stays pending until the public CA's answer is imported on the holder."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, pem, mode=0o644)
        return Done(
            need.holder,
            need.planned.id,
            REQUESTED,
            detail=(
                f"waits for the public CA: send {path}, then import its answer "
                f"(lyncpki import --server {need.holder} ANSWER) and run deploy again"
            ),
        )

    def _send(
        self,
        need: Need,
        store: ServerStore,
        pending: PendingRequest,
        pem: bytes,
        template: str,
        verb: str,
    ) -> Done:
        try:
            answer: Enrollment = self._enroll(pem, template, self._validity(need, template))
        except CaClientError as error:
            return Done(need.holder, need.planned.id, "failed", detail=error.message)
        if answer.status != "issued" or answer.certificate is None:
            store.update_pending(pending.id, ca_request_id=answer.request_id)
            return Done(
                need.holder,
                need.planned.id,
                "pending",
                detail=f"CA request {answer.request_id} waits for approval",
            )
        return self._install(need, store, pending, answer.certificate, answer.chain, verb)

    def _validity(self, need: Need, template: str) -> int | None:
        """The plan's validity (a public CA's 200 days, a topology's validity_days) within
        what the home's CA template gives; None for a template that needs approval (the
        request waits without it)."""
        if self.ca is None:
            return need.planned.validity_days
        try:
            known = self.ca.templates.get(template)
        except LyncPkiError:  # an unknown template: the CA says so
            return need.planned.validity_days
        return None if known.approval else granted_days(known, need.planned.validity_days)

    def _enroll(self, pem: bytes, template: str, days: int | None) -> Enrollment:
        """Enroll asking `days`; a remote CA whose template gives fewer, or needs approval
        (policy.validity), is asked again for the template's own."""
        try:
            return self.client.enroll(pem, template, validity_days=days)
        except CaRefused as error:
            if days is None or error.code != "policy.validity":
                raise
            return self.client.enroll(pem, template)

    def _install(
        self,
        need: Need,
        store: ServerStore,
        pending: PendingRequest,
        cert: x509.Certificate,
        chain: list[x509.Certificate],
        verb: str,
    ) -> Done:
        installed, _ = store.install(
            cert, chain, source=f"deploy {self.client.base_url}", assign_to=_usages(need.planned)
        )
        detail = f"serial {serial_hex(cert.serial_number)} (because: {need.reason})"
        return Done(need.holder, need.planned.id, verb, installed.thumbprint, detail)

    def _chain(self) -> list[x509.Certificate]:
        return self.ca.chain() if self.ca is not None else []

    # ------------------------------------------------------------------ pool copies
    def copy(self, assessment: Assessment, outcome: Outcome) -> None:
        """The holder's certificate and key onto the other servers of a pool (R-EDGE-01/03:
        one certificate for the pool; exported with its key, imported on each member)."""
        made: dict[str, str] = {}  # planned certificate -> the first thumbprint issued for it
        for done in outcome.done:
            if done.thumbprint:
                made.setdefault(done.certificate, done.thumbprint)
        jobs = []
        for need in assessment.needs:
            thumbprint = (
                need.thumbprint if need.action in (COPY, ADOPT) else made.get(need.planned.id)
            )
            if thumbprint:
                jobs += [(need, name, thumbprint) for name in need.copies]
        self.reporter.phase("pool copies", len(jobs))
        for need, name, thumbprint in jobs:
            outcome.add(self._copy_one(need, name, thumbprint))
            self.reporter.advance()

    def _copy_one(self, need: Need, name: str, thumbprint: str) -> Done:
        holder = self.holder_store(need)
        entry = holder.load().certificate(thumbprint)
        if entry is None or entry.key_id is None:
            return Done(name, need.planned.id, "failed", detail="the holder lost the certificate")
        try:
            key = holder.private_key(entry.key_id, self.secret)
            store = ServerStore(self.home, name)
            store.install(
                holder.certificate(thumbprint),
                holder.trusted_certificates(),
                source=f"copy from {need.holder}",
                key=key,
                secret=self.secret,
                exportable=entry.exportable,
                friendly_name=entry.friendly_name,
                assign_to=_usages(need.planned),
            )
        except StoreError as error:
            return Done(name, need.planned.id, "failed", detail=error.message)
        return Done(name, need.planned.id, "copied", thumbprint, f"from {need.holder}")

    # ------------------------------------------------------------------ after
    def publish(self) -> None:
        if self.ca is None:
            self.reporter.note("the CA is not in this home: its CRLs are published by it")
            return
        self.reporter.phase("CRLs", 1)
        self.ca.publish_crl(actor="lyncpki deploy")  # the full CRL and a delta based on it
        self.reporter.advance()

    def check(self, job: DeploymentCheck) -> list[Finding]:
        """Every rule on every placement, the bar advancing as each batch is judged."""
        self.reporter.phase("check", placements_checked(job))
        source = RevocationSource()
        try:
            return check_deployment(replace(job, revocation=source, progress=self.reporter.advance))
        finally:
            source.close()

    def revoke(self, serial: int) -> None:
        assert self.ca is not None
        self.ca.revoke(serial_hex(serial), reason=Reason.SUPERSEDED, actor="lyncpki deploy")
