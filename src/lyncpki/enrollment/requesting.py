"""Making a request on a server (Request-CsCertificate -New): a new key pair, the PKCS#10 with
the planned names and the template, the key kept in the server's store until the answer
comes, and the request sent at once to an online CA or written to a `.req` file for any CA.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from lyncpki.atomic import write_atomic
from lyncpki.ca.client import CaClient, CaClientError, CaNoAnswer, Enrollment
from lyncpki.enrollment.request_spec import RequestSpec
from lyncpki.file_lock import exclusive
from lyncpki.store import (
    PendingRequest,
    PersonalCertificate,
    ServerStore,
    StoreError,
    servers_in,
)
from lyncpki.store.layout import REQUEST_FILES_LOCK
from lyncpki.store.server_store import SealedKey
from lyncpki.x509.keys import PrivateKey, generate_key
from lyncpki.x509.requests import build_request, request_pem


@dataclass(frozen=True)
class Prepared:
    """A request made and its key stored, not yet sent."""

    spec: RequestSpec
    pending: PendingRequest
    csr: x509.CertificateSigningRequest

    @property
    def pem(self) -> bytes:
        return request_pem(self.csr, certreq_armor=True)


@dataclass(frozen=True)
class Outcome:
    """What became of a request: issued and installed, or waiting (at a CA or offline)."""

    status: str  # installed | pending | offline
    pending: PendingRequest
    certificate: PersonalCertificate | None = None
    ca_request_id: int | None = None
    output: Path | None = None


def prepare(
    store: ServerStore,
    spec: RequestSpec,
    secret: bytes,
    *,
    key: PrivateKey | None = None,
    ca_url: str | None = None,
    ca_account: str | None = None,
    output: Path | None = None,
) -> Prepared:
    """Generate the key (or use `key`, made beforehand), sign the request, store both."""
    private = key or generate_key(spec.key)
    csr = build_request(private, spec.subject, template=spec.template, client_auth=spec.client_auth)
    return keep(
        store, spec, private, csr, secret, ca_url=ca_url, ca_account=ca_account, output=output
    )


def keep(
    store: ServerStore,
    spec: RequestSpec,
    key: PrivateKey | SealedKey,
    csr: x509.CertificateSigningRequest,
    secret: bytes,
    *,
    ca_url: str | None = None,
    ca_account: str | None = None,
    output: Path | None = None,
) -> Prepared:
    """Record a request made for `spec` as pending in the server's store, with its key."""
    pending = store.add_pending(
        key,
        csr,
        secret=secret,
        usages=[str(u) for u in spec.target.usages],
        subject=spec.subject.common_name,
        sans=spec.sans,
        key_name=spec.key.name,
        template=spec.template,
        friendly_name=spec.friendly_name,
        exportable=spec.exportable,
        ca_url=ca_url,
        ca_account=ca_account,
        output=str(output) if output else None,
    )
    return Prepared(spec, pending, csr)


_REQUEST_ARMORS = (
    b"-----BEGIN NEW CERTIFICATE REQUEST-----",
    b"-----BEGIN CERTIFICATE REQUEST-----",
)


def check_request_file(output: Path, store: ServerStore, keep: Sequence[Path] = ()) -> None:
    """Refuse, before any key is made, a .req destination that cannot be written or must not
    be replaced: a folder, a folder that does not exist, a file that is no request (the
    topology given as --output was overwritten), the request of a request still pending."""
    where = "choose another --output"
    if output.is_dir():
        raise StoreError(f"{output} is a folder", f"name the .req file inside it, or {where}")
    if not output.parent.is_dir():
        raise StoreError(
            f"cannot write {output}: folder {output.parent} does not exist",
            f"create it first (mkdir -p {output.parent}) or {where}",
        )
    if not output.exists():
        return
    if any(output.resolve() == k.resolve() for k in keep):
        raise StoreError(f"{output} is the topology file: a request would replace it", where)
    head = output.read_bytes()[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(_REQUEST_ARMORS):
        raise StoreError(
            f"{output} exists and is not a certificate request: lyncpki does not replace it",
            f"{where}, or move that file away",
        )
    target = output.resolve()
    for server, pending in _pending_in_home(store):  # the two Edges of a pool share a folder
        if pending.output and Path(pending.output).resolve() == target:
            raise StoreError(
                f"{output} holds pending request {pending.id} of {server} (made "
                f"{pending.created_at:%Y-%m-%d %H:%M} UTC), whose answer has not been imported: "
                "replacing it loses that request",
                f"{where}, or clear it first (lyncpki request --server {server} --clear "
                f"{pending.id})",
            )


@contextmanager
def request_files(store: ServerStore) -> Iterator[None]:
    """Held from `check_request_file` to `write_offline`: two requests given the same --output
    at once (two servers, two terminals) both passed the check and both said "written", the
    file holding one of them. The second now finds the first pending for that file."""
    if not store.home.is_dir():  # a first request makes the home: nothing else runs in it
        yield
        return
    with exclusive(store.home / REQUEST_FILES_LOCK):
        yield


def _pending_in_home(store: ServerStore) -> Iterator[tuple[str, PendingRequest]]:
    """The pending requests of `store` and of the other readable stores of its home (a damaged
    store is another command's finding, not a reason to refuse this request)."""
    if store.exists():
        yield from ((store.server, p) for p in store.load().pending)
    for name in servers_in(store.home):
        if name == store.server:
            continue
        try:
            index = ServerStore(store.home, name).load()
        except StoreError:
            continue
        yield from ((name, p) for p in index.pending)


def write_offline(store: ServerStore, prepared: Prepared, output: Path) -> Outcome:
    """The delayed request: base64 PKCS#10 with certreq's armor, for AD CS or any CA. When the
    file cannot be written the request is forgotten with its key: nothing should wait for the
    answer to a request nobody can send."""
    try:
        write_atomic(output, prepared.pem, mode=0o644)
    except BaseException:
        store.drop_pending(prepared.pending.id)
        raise
    return Outcome("offline", prepared.pending, output=output)


def install_answer(
    store: ServerStore, pending: PendingRequest, answer: Enrollment, source: str
) -> Outcome:
    """Install what an online CA answered: the certificate with the pending key and its chain,
    or keep the request pending with the CA's request id."""
    if answer.status == "issued" and answer.certificate is not None:
        installed, _ = store.install(answer.certificate, answer.chain, source=source)
        return Outcome("installed", pending, installed, answer.request_id)
    if answer.status == "pending":
        updated = store.update_pending(pending.id, ca_request_id=answer.request_id)
        return Outcome("pending", updated, ca_request_id=answer.request_id)
    raise StoreError(
        f"the CA {answer.status} request {answer.request_id}",
        "ask the CA manager why, then make a new request",
    )


class RequestKept(StoreError):
    """A request sent that the CA may have acted on, kept pending with its key: making it
    again would make a second key and maybe a second certificate (the wizard ends here)."""


def submit_online(store: ServerStore, prepared: Prepared, client: CaClient) -> Outcome:
    """The immediate request: sent to the CA service; issued (installed here) or pending."""
    try:
        answer = client.enroll(prepared.pem, prepared.spec.template)
    except CaNoAnswer as error:  # sent: the CA may have issued it, so the key is kept
        raise RequestKept(
            f"{error.message}. The request and its key are kept as pending request "
            f"{prepared.pending.id} of {store.server}: the CA may have issued it",
            f"if the CA lists a certificate for {prepared.spec.subject.common_name} issued "
            "just now (lyncpki ca list), install it from the CA's copy (lyncpki ca show "
            f"SERIAL --pem > answer.cer; lyncpki import --server {store.server} answer.cer); "
            f"else forget the request (lyncpki request --server {store.server} --clear "
            f"{prepared.pending.id}) and ask again",
        ) from None
    except (CaClientError, KeyboardInterrupt):
        # never sent, refused, or interrupted before the CA's answer (no CA request id to
        # retrieve it by): nothing to wait for, and the key is never to be used
        store.drop_pending(prepared.pending.id)
        raise
    return install_answer(store, prepared.pending, answer, f"ca {client.base_url}")


def pending_at_ca(store: ServerStore, ca_request_id: int) -> PendingRequest:
    """The server's pending request the CA service knows by `ca_request_id`."""
    index = store.load()
    pending = index.request_at_ca(ca_request_id)
    if pending is None:
        waiting = [
            f"CA request {r.ca_request_id} (request {r.id} here)"
            for r in index.pending
            if r.ca_request_id is not None
        ]
        raise StoreError(
            f"{store.server} has no pending request with CA request id {ca_request_id}"
            + (
                f"; waiting at a CA: {', '.join(waiting)}"
                if waiting
                else "; none of its requests waits at a CA"
            ),
            "--retrieve takes the CA request id, --clear the request id here; see the pending "
            f"requests: lyncpki certs --server {store.server}",
        )
    return pending


def retrieve(store: ServerStore, ca_request_id: int, client: CaClient) -> Outcome:
    """Request-CsCertificate -Retrieve: fetch a request a CA manager has decided."""
    pending = pending_at_ca(store, ca_request_id)
    answer = client.retrieve(ca_request_id)
    if answer.status == "denied":
        said = f": {answer.reason}" if answer.reason else ""  # shown escaped by the interfaces
        raise StoreError(
            f"the CA denied request {ca_request_id}{said}",
            f"forget it and its key (lyncpki request --server {store.server} --clear "
            f"{pending.id}), then request again" + ("" if said else " (ask the CA manager why)"),
        )
    return install_answer(store, pending, answer, f"ca {client.base_url}")
