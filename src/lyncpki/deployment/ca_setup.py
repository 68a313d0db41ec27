"""The CA a deployment uses: the home's own (created on the first run, with the topology's
namespaces and a loopback base URL), its deploy account, and its service started on the port
the certificates' CRL, AIA and OCSP URLs name."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from lyncpki.atomic import write_atomic
from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import (
    PASSPHRASE_ENV,
    CaHome,
    check_new_passphrase,
    generate_passphrase,
    resolve_passphrase,
)
from lyncpki.checks.revocation import (
    RevocationSource,
    cdp_urls,
    delta_urls,
    entry_reason,
    ocsp_urls,
    revoking_entry,
    signed_by,
)
from lyncpki.deployment.needs import Revoked
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.parent_death import die_with_parent
from lyncpki.store import ServerStore, StoreError
from lyncpki.topology.names import is_within
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.issuers import signed_by as signed_by_ca

DEPLOY_ACCOUNT = "lyncpki-deploy"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class OpenedCa:
    ca: CertificateAuthority
    passphrase: bytes
    created: bool
    generated_passphrase: bool
    added_namespaces: tuple[str, ...] = ()  # the topology's, missing from an existing CA


def missing_namespaces(have: Sequence[str], needed: Sequence[str]) -> tuple[str, ...]:
    """The namespaces of `needed` that `have` does not cover (none when `have` is empty: a CA
    that signs any name)."""
    if not have:
        return ()
    return tuple(d for d in needed if not any(is_within(d, h) for h in have))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


_DEPLOY_GENERATES = f"unset {PASSPHRASE_ENV}: deploy then generates one for the home"


def check_new_ca_passphrase(home: Path) -> None:
    """Refuse, before anything is made, the passphrase a new CA of `home` would be given
    when it is too weak (none given: deploy generates one)."""
    ca_home = CaHome(home)
    if ca_home.exists():
        return
    try:
        secret = resolve_passphrase(ca_home)
    except LyncPkiError:
        return
    check_new_passphrase(secret, generated=_DEPLOY_GENERATES)


def open_or_create(home: Path, namespaces: Sequence[str], *, demo: bool) -> OpenedCa:
    """The home's CA; created when there is none (RSA 4096 root, RSA 2048 issuing CA, its
    URLs on a loopback port chosen now and kept). Without a passphrase anywhere, `demo`
    generates one into <home>/secrets (0600)."""
    ca_home = CaHome(home)
    generated = False
    try:
        secret = resolve_passphrase(ca_home)
    except LyncPkiError:
        if not demo:
            raise
        ca_home.make_dirs()
        secret = generate_passphrase(ca_home)
        generated = True
    if ca_home.exists():
        # a domain added to the topology (a new SIP domain) is added to the CA's namespaces:
        # the CA would refuse its names, and this is the administrator's own topology
        ca = CertificateAuthority.open(ca_home, secret)
        added = missing_namespaces(ca.config.namespaces, namespaces)
        if added:  # added to the namespaces as they are then (a `ca domains` may change them)
            added = ca.change_namespaces(add=added, actor="lyncpki deploy").added
        return OpenedCa(ca, secret, False, generated, added)
    if not generated:  # the fix deploy can follow: not ca init's --generate-passphrase
        check_new_passphrase(secret, generated=_DEPLOY_GENERATES)
    ca = CertificateAuthority.create(
        ca_home,
        passphrase=secret,
        name="lyncpki Issuing CA",
        root_key=KeySpec("rsa", 4096),
        key=KeySpec("rsa", 2048),
        base_url=f"http://{LOOPBACK}:{free_port()}",
        namespaces=tuple(namespaces),
        actor="lyncpki deploy",
    )
    return OpenedCa(ca, secret, True, generated)


def revoked_by(ca: CertificateAuthority) -> Revoked:
    """Why the CA revoked a certificate it issued ("revoked on ... (keyCompromise)"), asked of
    its database: a revoked certificate still assigned is renewed, not kept."""
    issuer = ca.issuer.certificate.subject

    def revoked(cert: x509.Certificate) -> str | None:
        if cert.issuer != issuer:
            return None
        found = ca.revocation(cert.serial_number)
        if found is None:
            return None
        at, reason = found
        return f"revoked on {at:%Y-%m-%d %H:%M} UTC ({reason})"

    return revoked


class ServiceRevocation:
    """Revocation of the certificates in place as the CA service of `deploy --ca` publishes it,
    learned as a Lync server learns it: the CRL at each certificate's CDP (with its delta) and
    the OCSP responder its AIA names, each answer's signature checked. Only certificates of
    that CA are judged: issued by a CA certificate the stores trust that chains to the root the
    service names (/health). Without it, `--ca` judged none revoked: a certificate the CA had
    revoked was "in place", and the run's own check then failed over it.

    What could not be learned is kept in `problems` (each said once), for the run to say: such
    a certificate is kept, as it was."""

    def __init__(
        self, home: Path, servers: Sequence[str], root: str | None, source: RevocationSource
    ) -> None:
        self.source = source
        self.problems: list[str] = []
        self._issuers = self._service_issuers(home, servers, root)

    @staticmethod
    def _service_issuers(
        home: Path, servers: Sequence[str], root: str | None
    ) -> list[x509.Certificate]:
        """The CA certificates the stores trust that the service's root issued (or is)."""
        if root is None:
            return []
        trusted: dict[str, x509.Certificate] = {}
        for server in servers:
            store = ServerStore(home, server)
            try:
                if store.exists():
                    trusted.update((thumbprint(c), c) for c in store.trusted_certificates())
            except (StoreError, OSError):
                continue  # the run's check says what is wrong with the store
        roots = [c for t, c in trusted.items() if t.upper() == root.upper()]
        return [c for c in trusted.values() if any(signed_by_ca(c, r) for r in roots) or c in roots]

    def _note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    def __call__(self, cert: x509.Certificate) -> str | None:
        issuer = next((i for i in self._issuers if signed_by_ca(cert, i)), None)
        if issuer is None:
            return None  # not this CA's: a public CA's, or one of another CA
        for url in ocsp_urls(cert):
            answer = self.source.ocsp(url, cert, issuer)
            if answer.status == "revoked":
                when = f" on {answer.revoked_at:%Y-%m-%d %H:%M} UTC" if answer.revoked_at else ""
                return f"revoked{when} ({answer.reason or 'unspecified'}; OCSP {url})"
            if answer.problem:
                self._note(f"the OCSP responder {url} did not answer usably ({answer.problem})")
        for url in cdp_urls(cert):
            full = self.source.crl(url)
            if full.crl is None or not signed_by(full.crl, issuer):
                why = full.problem or f"not signed by {issuer.subject.rfc4514_string()}"
                self._note(f"the CRL at {url} cannot be used ({why})")
                continue
            deltas = []
            for delta_url in delta_urls(full.crl, cert):
                delta = self.source.crl(delta_url)
                if delta.crl is not None and signed_by(delta.crl, issuer):
                    deltas.append(delta)
                else:
                    why = delta.problem or f"not signed by {issuer.subject.rfc4514_string()}"
                    self._note(f"the delta CRL at {delta_url} cannot be used ({why})")
            found = revoking_entry(full, deltas, cert.serial_number)
            if found is not None:
                entry, where = found
                reason = entry_reason(entry) or x509.ReasonFlags.unspecified
                return (
                    f"revoked on {entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC "
                    f"({reason.value}; listed by {where})"
                )
        return None


def deploy_account(ca: CertificateAuthority) -> tuple[str, str]:
    """The CA account deploy enrolls with (a requester), its password kept in
    <home>/secrets/deploy-account (0600) so that later runs use the same account."""
    path = ca.home.secrets / "deploy-account"
    accounts = Accounts(ca.engine)
    known = {str(a["name"]) for a in accounts.list()}
    if path.exists():
        data = json.loads(path.read_text("utf-8"))
        if str(data["name"]) in known:
            return str(data["name"]), str(data["password"])
        # kept from a CA this home no longer has (its folder was removed and made again)
    password = secrets.token_urlsafe(24)
    if DEPLOY_ACCOUNT in known:
        accounts.remove(DEPLOY_ACCOUNT)  # its password was lost with the secrets folder
    accounts.add(DEPLOY_ACCOUNT, Role.REQUESTER, password)
    document = json.dumps({"name": DEPLOY_ACCOUNT, "password": password}) + "\n"
    write_atomic(path, document.encode(), mode=0o600)
    return DEPLOY_ACCOUNT, password


def _die_with_parent() -> None:
    """In the service's child process: end it when deploy ends, even killed, so that a killed
    run leaves no service holding the CA's port."""
    die_with_parent(None)


class ServiceProcess:
    """`lyncpki ca serve` for the home, on the port of the CA's base URL, until stopped."""

    def __init__(self, home: Path, base_url: str, passphrase: bytes, log: Path) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname not in (LOOPBACK, "localhost"):
            raise LyncPkiError(
                f"the CA's URLs point to {base_url}, not to this machine's loopback",
                "serve the CA there yourself and give deploy --ca URL (with --ca-account)",
            )
        self.url = f"http://{LOOPBACK}:{parts.port or 80}"
        self.port = parts.port or 80
        self.home, self.passphrase, self.log = home, passphrase, log
        self.process: subprocess.Popen[bytes] | None = None

    def _refuse_taken_port(self) -> None:
        """Before starting: the port must be free. Another home's `ca serve` answering there
        took deploy's requests (and its password: 18 failed logins, then the loopback locked
        out); the health check alone cannot tell whose service answers."""
        with socket.socket() as probe:
            # as uvicorn binds: connections of an earlier run in TIME_WAIT do not count
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((LOOPBACK, self.port))
                return
            except OSError:
                pass
        try:
            answer = httpx.get(f"{self.url}/health", timeout=2)
            health = answer.json() if answer.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            health = None
        if isinstance(health, dict) and health.get("root_thumbprint") == self._own_root():
            raise LyncPkiError(
                f"port {self.port} of {LOOPBACK} is taken by this home's own CA service (a "
                f"`lyncpki ca serve --home {self.home}` still running): deploy serves the CA "
                "itself while it runs",
                f"stop that service, deploy, then start it again; or leave it running and give "
                f"deploy --ca {self.url} --ca-account NAME (an account of this CA)",
            )
        whose = " by another lyncpki CA service" if health is not None else ""
        raise LyncPkiError(
            f"port {self.port} of {LOOPBACK}, which this home's CA URLs name, is taken{whose}",
            f"stop what listens on {self.port} (a `lyncpki ca serve` of another home?), then run "
            "deploy again; or give --ca URL of the CA to use",
        )

    def _own_root(self) -> str | None:
        """The thumbprint of this home's root CA certificate (what /health reports)."""
        try:
            pem = CaHome(self.home).cert_file("root").read_bytes()
            return thumbprint(x509.load_pem_x509_certificate(pem))
        except (OSError, ValueError):
            return None

    def start(self, timeout: float = 60) -> None:
        self._refuse_taken_port()
        env = {**os.environ, PASSPHRASE_ENV: self.passphrase.decode()}
        command = [
            sys.executable,
            "-m",
            "lyncpki",
            "ca",
            "serve",
            "--home",
            str(self.home),
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
        ]
        # the CA service's log: the service's own (0600 whatever the umask; never through a link
        # planted in its place)
        descriptor = os.open(
            self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
        if os.fstat(descriptor).st_uid == os.getuid():  # one an earlier version made 0666
            os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "ab") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        # one client for every poll: each new one loads the CA bundle (160 ms, about 20 times)
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    tail = self.log.read_text("utf-8", "replace")[-800:]
                    raise LyncPkiError(
                        f"the CA service could not start on port {self.port}:\n{tail}",
                        f"free port {self.port} (the CA's URLs name it), or give --ca URL",
                    )
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise LyncPkiError(f"the CA service did not answer in {timeout:.0f} s", f"see {self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
