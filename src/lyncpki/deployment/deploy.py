"""`deploy`: the whole job in one run, in phases (plan, CA, keys, requests, pool copies, CRLs,
check, live proof, report)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.atomic import write_atomic
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.client import CaClient, CaClientError, CaNotAuthorized
from lyncpki.ca.home import CaHome
from lyncpki.ca_url import check_ca_url
from lyncpki.checks.deployment import DeploymentCheck, stores
from lyncpki.checks.finding import ordered
from lyncpki.checks.home_check import HOME_TOPOLOGY, home_ca, left_stores_note
from lyncpki.checks.report import CheckReport
from lyncpki.checks.revocation import RevocationSource
from lyncpki.clock import SYSTEM_CLOCK
from lyncpki.deployment.ca_setup import (
    ServiceProcess,
    ServiceRevocation,
    check_new_ca_passphrase,
    deploy_account,
    missing_namespaces,
    open_or_create,
    revoked_by,
)
from lyncpki.deployment.needs import (
    PUBLIC_LAB,
    Assessment,
    Revoked,
    asks_public_ca,
    assess,
    protections,
)
from lyncpki.deployment.proof import (
    FRONT_ENDS,
    Party,
    ProofHandshake,
    count_handshakes,
    party,
    prove,
)
from lyncpki.deployment.runner import (
    MTLS_TEMPLATE,
    MTLS_USAGES,
    PUBLIC_REQUESTS,
    REQUESTED,
    Done,
    Outcome,
    Reporter,
    Runner,
)
from lyncpki.errors import LyncPkiError
from lyncpki.file_lock import Busy, exclusive
from lyncpki.planning import CertificatePlan, plan
from lyncpki.planning.model import Usage
from lyncpki.planning.namespaces import namespaces
from lyncpki.store import ServerStore, StoreError, resolve_store_passphrase
from lyncpki.store.layout import DEPLOY_LOCK
from lyncpki.store.protection import matches_each
from lyncpki.topology import Topology, load_topology
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.keys import decrypt_key, encrypt_key
from lyncpki.x509.requests import RequestSubject, build_request, request_pem

PROOF_DIR = "proof"


@dataclass(frozen=True)
class DeployOptions:
    topology: Path
    home: Path
    jobs: int = max(os.cpu_count() or 1, 1)
    renew_within: dt.timedelta = dt.timedelta(days=30)
    dry_run: bool = False
    ca_url: str | None = None
    ca_account: str | None = None
    ca_password: str | None = None
    live: bool = True
    public_ca: str = PUBLIC_LAB  # PUBLIC_OFFLINE: requests for the public CA, not the lab's

    @property
    def client_usages(self) -> frozenset[Usage]:
        """The usages whose certificates the live proof makes clients too (none without it)."""
        return MTLS_USAGES if self.live else frozenset()


@dataclass
class DeployResult:
    topology: str
    home: Path
    plan: CertificatePlan
    assessment: Assessment
    done: list[Done] = field(default_factory=list)
    check: CheckReport | None = None
    proof: list[ProofHandshake] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ca_created: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.done) or self.ca_created

    @property
    def passed(self) -> bool:
        check_ok = self.check is None or self.check.passed
        return (
            check_ok
            and all(h.proved for h in self.proof)
            and not any(d.action in ("failed", "pending", REQUESTED) for d in self.done)
        )


class _Clock:
    """Seconds spent in each phase."""

    def __init__(self, phases: dict[str, float]) -> None:
        self.phases = phases
        self._name: str | None = None
        self._start = 0.0

    def enter(self, name: str) -> None:
        self.stop()
        self._name, self._start = name, time.perf_counter()

    def stop(self) -> None:
        if self._name is not None:
            elapsed = time.perf_counter() - self._start
            self.phases[self._name] = self.phases.get(self._name, 0.0) + elapsed
            self._name = None


class _TimedReporter:
    """Passes the reporter's calls on and times each phase."""

    def __init__(self, inner: Reporter, clock: _Clock) -> None:
        self.inner, self.clock = inner, clock

    def phase(self, name: str, total: int) -> None:
        self.clock.enter(name)
        self.inner.phase(name, total)

    def advance(self, count: int = 1) -> None:
        self.inner.advance(count)

    def note(self, text: str) -> None:
        self.inner.note(text)


def dry_run(options: DeployOptions) -> DeployResult:
    """What a run would do, touching nothing."""
    topology = load_topology(options.topology)
    result = plan(topology, source=str(options.topology))
    now = SYSTEM_CLOCK.now()
    issuers = home_ca(options.home, "issuing") if options.ca_url is None else []
    ca = (
        CertificateAuthority.open(CaHome(options.home), None)  # reads, cannot sign
        if options.ca_url is None and CaHome(options.home).exists()
        else None
    )
    notes: list[str] = []
    internal: frozenset[str] | None = None
    if options.ca_url is not None:
        with CaClient(options.ca_url) as client:  # /health needs no account
            internal = _internal_roots(None, client)
    try:
        with _revocation(ca, options.home, result, internal, notes) as revoked:
            assessment = assess(
                result,
                options.home,
                now,
                renew_within=options.renew_within,
                issuers=issuers,
                public=options.public_ca,
                revoked=revoked,
                templates=ca.templates if ca is not None else None,
                client_usages=options.client_usages,
            )
    finally:
        if ca is not None:
            ca.engine.dispose()
    if not (options.home / "ca" / "config.json").exists() and options.ca_url is None:
        notes.append(f"would create a CA in {options.home / 'ca'}")
    elif options.ca_url is None:
        have = CaHome(options.home).read_config().namespaces
        added = missing_namespaces(have, namespaces(topology, result))
        if added:
            notes.append(f"would add {', '.join(added)} to the CA's namespaces (the topology's)")
    left = left_stores_note(options.home, result)
    if left:
        notes.append(left)
    public = [n for n in assessment.needs if asks_public_ca(n, options.public_ca)]
    if public:
        notes.append(
            f"would write {len(public)} request(s) for the public CA to "
            f"{options.home / PUBLIC_REQUESTS} instead of issuing them"
        )
    return DeployResult(str(options.topology), options.home, result, assessment, notes=notes)


def deploy(options: DeployOptions, reporter: Reporter) -> DeployResult:
    """The whole job; one run per home at a time (a second one is refused at once: two runs
    would each make keys, requests and copies for the same stores)."""
    if options.ca_account is not None and options.ca_url is None:  # would be ignored
        raise LyncPkiError(
            "--ca-account goes with --ca (a CA service's account)",
            "add --ca URL, or leave --ca-account out: the home's own CA needs no account",
        )
    if options.ca_url is not None:  # written into the reports: never with a password
        check_ca_url(options.ca_url)
    if options.dry_run:
        return dry_run(options)
    if options.ca_url is not None and not (options.ca_account and options.ca_password):
        raise LyncPkiError(  # before the home is made: a refused run leaves nothing behind
            "--ca needs a CA account and its password",
            "give --ca-account NAME and set LYNCPKI_CA_PASSWORD",
        )
    if options.ca_url is not None:  # no CA of the home to make a passphrase: it must be given
        resolve_store_passphrase(options.home, file_option=False)
    # the topology read and planned before the home is made: a refused one leaves nothing
    topology = load_topology(options.topology)
    planned = plan(topology, source=str(options.topology))
    if options.ca_url is None:
        check_new_ca_passphrase(options.home)
    else:
        _check_ca_service(options.ca_url, options.ca_account or "", options.ca_password or "")
    options.home.mkdir(parents=True, exist_ok=True)
    try:
        with exclusive(options.home / DEPLOY_LOCK, wait=False):
            return _deploy(options, reporter, topology, planned)
    except Busy:
        raise LyncPkiError(
            f"another lyncpki deploy is running on {options.home}",
            "wait for it to finish (or stop it), then run this one again: it resumes from what "
            "the stores hold",
        ) from None


def _check_ca_service(url: str, account: str, password: str) -> None:
    """The CA service of --ca answers and takes the account, asked once before any key or
    request is made: a wrong URL left a home of pending requests, and a wrong password, sent
    with every enrollment, locked the account out for its real users (the service's limit on
    failed sign-ins) — each said only in report.json."""
    try:
        with CaClient(url, account, password) as client:
            try:
                client.health()
            except CaClientError as error:
                if error.status == 503:  # it answers, and says why it cannot issue now
                    raise LyncPkiError(error.message, error.fix) from None
                raise LyncPkiError(
                    f"no lyncpki CA service answers at {url}: {error.message}",
                    error.fix or "check the URL: the base URL of `lyncpki ca serve`",
                ) from None
            try:
                client.account()
            except CaNotAuthorized as error:
                raise LyncPkiError(
                    f"the CA service at {url} does not take account {account!r}: "
                    f"{error.message.removeprefix('the CA refused: ')}",
                    "check --ca-account and its password ($LYNCPKI_CA_PASSWORD); after "
                    "repeated failures the service makes the account wait a minute",
                ) from None
            except CaClientError as error:
                if error.status != 404:  # 404: a service older than /api/v1/account
                    raise LyncPkiError(
                        f"the CA service at {url} cannot be used: {error.message}", error.fix
                    ) from None
    except CaClientError as error:  # the URL itself (CaClient refuses it)
        raise LyncPkiError(error.message, error.fix) from None


def _internal_roots(ca: CertificateAuthority | None, client: CaClient) -> frozenset[str]:
    """The roots of the internal CA, whose certificates must not face the Internet
    (issuer.internal-public-name): the home's CA's, or the one a --ca service names as its own
    (/health); none when an older service does not say."""
    if ca is not None:
        return frozenset({thumbprint(ca.root.certificate)})
    try:
        root = client.health().get("root_thumbprint")
    except LyncPkiError:
        return frozenset()
    return frozenset({root.upper()}) if isinstance(root, str) else frozenset()


@contextlib.contextmanager
def _revocation(
    ca: CertificateAuthority | None,
    home: Path,
    result: CertificatePlan,
    roots: frozenset[str] | None,
    notes: list[str],
) -> Iterator[Revoked | None]:
    """How the needs learn what the CA revoked: the home's CA from its database; the CA
    service of --ca as a Lync server would (its CRLs and OCSP), what could not be learned said
    in `notes` (such a certificate is kept). `roots`: None without --ca."""
    if ca is not None:
        yield revoked_by(ca)
        return
    if roots is None or not home.exists():  # no CA yet: nothing issued to judge
        yield None
        return
    source = RevocationSource()
    root = next(iter(roots), None)
    revoked = ServiceRevocation(home, stores(result), root, source)
    try:
        yield revoked
    finally:
        source.close()
    if root is None:
        notes.append(
            "the CA service did not name its root (its /health did not answer, or it is older): "
            "what it revoked is not known to this run, and such a certificate is kept; run "
            "deploy again when the service answers"
        )
    for problem in revoked.problems:
        notes.append(
            f"revocation not learned from the CA service: {problem}; a certificate it revoked "
            "is kept by this run (the check says it): publish the CRL (lyncpki ca crl) and "
            "open it to this machine, then run deploy again"
        )


def _deploy(
    options: DeployOptions, reporter: Reporter, topology: Topology, result: CertificatePlan
) -> DeployResult:
    phases: dict[str, float] = {}
    clock = _Clock(phases)
    timed = _TimedReporter(reporter, clock)
    timed.phase("plan", 1)  # read and planned by deploy(), before the home was made
    timed.advance()
    home = options.home  # made by deploy(), which holds its lock
    kept = home / HOME_TOPOLOGY  # the home's topology: check, assign and the dashboard read it
    if options.topology.resolve() != kept.resolve():
        write_atomic(kept, options.topology.read_bytes())
    ca: CertificateAuthority | None = None
    created = generated = False
    service: ServiceProcess | None = None
    if options.ca_url is None:
        timed.phase("CA", 1)
        opened = open_or_create(home, namespaces(topology, result), demo=True)
        ca, created, generated = opened.ca, opened.created, opened.generated_passphrase
        account, password = deploy_account(ca)
        service = ServiceProcess(home, ca.config.base_url, opened.passphrase, home / "serve.log")
        service.start()
        url = service.url
        timed.advance()
    else:
        if not (options.ca_account and options.ca_password):
            raise LyncPkiError(
                "--ca needs a CA account and its password",
                "give --ca-account NAME and set LYNCPKI_CA_PASSWORD",
            )
        url, account, password = options.ca_url, options.ca_account, options.ca_password
    outcome = Outcome()
    notes: list[str] = []
    if generated:
        notes.append(
            f"generated a random CA passphrase in {home / 'secrets' / 'ca-passphrase'} (0600): "
            "demo homes only, anyone who can read it can sign"
        )
    if options.ca_url is None and opened.added_namespaces:
        notes.append(
            f"added {', '.join(opened.added_namespaces)} to the CA's namespaces: the topology "
            "names them (lyncpki ca domains lists them)"
        )
    left = left_stores_note(home, result)  # a removed server keeps valid certificates
    if left:
        notes.append(left)
    try:
        secret = resolve_store_passphrase(home, file_option=False)
        client = CaClient(url, account, password)
        runner = Runner(
            home,
            secret,
            client,
            account,
            topology.organization,
            timed,
            ca,
            options.jobs,
            options.public_ca,
        )
        protected = protections(result, home)  # a scrypt each: derived `jobs` at a time
        timed.phase("stores", len(protected))
        matches_each(protected, secret, jobs=options.jobs, done=timed.advance)
        internal = _internal_roots(ca, client)
        service_roots = internal if options.ca_url is not None else None
        with _revocation(ca, home, result, service_roots, notes) as revoked:
            assessment = assess(
                result,
                home,
                SYSTEM_CLOCK.now(),
                renew_within=options.renew_within,
                issuers=(ca.issuer.certificate,) if ca is not None else (),
                public=options.public_ca,
                revoked=revoked,
                secret=secret,
                templates=ca.templates if ca is not None else None,
                client_usages=options.client_usages,
            )
        try:
            runner.issue(assessment, outcome)
            runner.copy(assessment, outcome)
        finally:
            client.close()
        waiting = [d for d in outcome.done if d.action == REQUESTED]
        answered = runner.file_answered_requests(outcome)
        if answered:
            notes.append(
                f"{len(answered)} request(s) of the public CA need no answer any more (imported, "
                f"or no longer planned): moved to {answered[0].parent}"
            )
        if waiting:
            notes.append(
                f"{len(waiting)} request(s) wait for the public CA in {home / PUBLIC_REQUESTS}: "
                "send each, import each answer on the server its file is named after "
                "(lyncpki import --server SERVER ANSWER), then run deploy again: it assigns "
                "the answers and copies them to the pool's other servers"
            )
        if outcome.done or created:
            runner.publish()
        now = SYSTEM_CLOCK.now()
        job = DeploymentCheck(plan=result, home=home, now=now, internal_roots=internal)
        findings = runner.check(job)
        proof: list[ProofHandshake] = []
        if options.live and ca is not None:
            clock.enter("live proof")  # its parties read before its bar, which counts handshakes
            proof = _proof(result, home, ca, secret, topology, notes, timed)
    finally:
        clock.stop()
        if service is not None:
            service.stop()
    checked = tuple(stores(result))
    report = CheckReport(
        findings=tuple(ordered(findings)),
        generated=now,
        checked=checked,
        topology=str(options.topology),
        notes=tuple(notes),
    )
    return DeployResult(
        str(options.topology),
        home,
        result,
        assessment,
        outcome.done,
        report,
        proof,
        phases,
        notes,
        created,
    )


def _proof(
    result: CertificatePlan,
    home: Path,
    ca: CertificateAuthority,
    secret: bytes,
    topology: Topology,
    notes: list[str],
    reporter: Reporter,
) -> list[ProofHandshake]:
    """The parties of the proof (each server's MTLS certificate from its store, with its site
    and pool), a revoked throwaway party, and the handshakes (a bar counting them)."""
    chain = ca.chain()[:-1]  # what a server sends after its own certificate: the issuing CA
    pools = {m: (site.name, pool.fqdn) for site, pool in topology.pools() for m in pool.members}
    parties: list[Party] = []
    now = SYSTEM_CLOCK.now()
    for planned in result.certificates:
        usage = Usage.INTERNAL if Usage.INTERNAL in planned.usages else Usage.DEFAULT
        if usage not in planned.usages or not planned.servers:
            continue
        for server in planned.servers:
            store = ServerStore(home, server)
            try:
                index = store.load()  # read once
                current = index.slots(str(usage), now).current
                entry = index.certificate(current.thumbprint) if current else None
                if entry is None or entry.key_id is None:
                    continue
                key = store.private_key(entry.key_id, secret)
                cert = store.certificate(entry.thumbprint)
            except StoreError:
                continue
            site, pool = pools.get(server, (planned.site, planned.target))
            parties.append(party(server, planned.role, cert, key, chain, site=site, pool=pool))
    root = home / PROOF_DIR / "root.pem"
    root.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(root, ca.root.certificate.public_bytes(Encoding.PEM))
    # the root's CRL too: the issuing CA itself is checked against it (a revoked issuing CA)
    crls = [ca.home.crl_file(s, pem=True) for s in (ca.config.root_slug, ca.config.slug)]
    revoked = _revoked_party(result, home, ca, secret, parties, notes)
    reporter.phase("live proof", count_handshakes(parties, revoked))
    return prove(parties, root, crls, revoked, reporter.advance)


def _revoked_party(
    result: CertificatePlan,
    home: Path,
    ca: CertificateAuthority,
    secret: bytes,
    parties: list[Party],
    notes: list[str],
) -> Party | None:
    """A throwaway certificate for a Front End's names, revoked: kept in <home>/proof and
    reused by later runs (it never serves; it only proves CRL checking refuses it)."""
    front = next((p for p in parties if p.role in FRONT_ENDS), None)
    if front is None:
        return None
    folder = home / PROOF_DIR
    cert_file, key_file = folder / "revoked.crt", folder / "revoked.key"
    if cert_file.exists() and key_file.exists():
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        key = decrypt_key(key_file.read_bytes(), secret, what="the proof's revoked certificate")
        return party(front.server, front.role, cert, key, ca.chain()[:-1])
    key = ec.generate_private_key(ec.SECP256R1())
    names = tuple(
        front.certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value.get_values_for_type(x509.DNSName)
    )
    csr = build_request(
        key, RequestSubject(names[0], names), template=MTLS_TEMPLATE, client_auth=True
    )
    issued = ca.submit(request_pem(csr), requester="lyncpki deploy (proof)", template=MTLS_TEMPLATE)
    assert issued.certificate is not None
    ca.revoke(format(issued.certificate.serial_number, "x"), actor="lyncpki deploy")
    ca.publish_crl(actor="lyncpki deploy")  # the full CRL and a delta based on it
    write_atomic(key_file, encrypt_key(key, secret), mode=0o600)
    write_atomic(cert_file, issued.certificate.public_bytes(Encoding.PEM))
    notes.append(
        f"issued and revoked a throwaway certificate for {front.server}'s names "
        f"(serial {issued.serial}) to prove that a revoked certificate is refused"
    )
    return party(front.server, front.role, issued.certificate, key, ca.chain()[:-1])
