"""One server's certificate store on disk (the Windows computer store of a Lync server).

Every change is made under the store's lock in two steps: first the new files (certificates,
encrypted keys, requests), each written atomically under a name derived from its content, then
the index (store.json), atomically. A crash before the index is written leaves files nobody
refers to and the previous state whole; a crash after it leaves the new state whole. Readers
never lock: they see one index or the other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.atomic import TEMPORARY_GLOB, write_atomic
from lyncpki.ca_url import redact_text, without_credentials
from lyncpki.clock import SYSTEM_CLOCK, Clock
from lyncpki.errors import LyncPkiError
from lyncpki.file_lock import exclusive
from lyncpki.passphrase import weakness
from lyncpki.store import protection as keyguard
from lyncpki.store.layout import SUBFOLDERS, StoreError, StorePaths, thumbprint_name
from lyncpki.store.model import (
    FORMAT,
    Assignment,
    PendingRequest,
    PersonalCertificate,
    StoreIndex,
    TrustedCertificate,
    UsageSlots,
)
from lyncpki.x509.forms import UNREADABLE, single_pem_der
from lyncpki.x509.identifiers import der_thumbprint, thumbprint
from lyncpki.x509.keys import PrivateKey, decrypt_key, encrypt_key, key_id
from lyncpki.x509.requests import request_pem


def is_ca_certificate(cert: x509.Certificate) -> bool:
    """A CA certificate: basicConstraints CA:TRUE, or, without basicConstraints, a
    self-signed one (an X.509 v1 root). A self-signed certificate that says CA:FALSE is an end
    entity's (RFC 5280 4.2.1.9), never a root to trust."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        return constraints.ca
    except (x509.ExtensionNotFound, *UNREADABLE):
        try:
            return cert.issuer == cert.subject
        except UNREADABLE:
            return False


@dataclass(frozen=True)
class SealedKey:
    """A private key already encrypted (PKCS#8 PEM) with the store's passphrase, and its id."""

    pem: bytes
    key_id: str


def _assigned(slots: UsageSlots, entry: Assignment, now: dt.datetime) -> UsageSlots:
    """A usage's slots with `entry` assigned: staged when its effective date is to come,
    else current (the one it replaces becomes previous)."""
    if entry.effective is not None and entry.effective > now:
        return dataclasses.replace(slots, staged=entry)
    current = slots.current
    previous = current if current and current.thumbprint != entry.thumbprint else slots.previous
    kept = slots.staged
    staged = kept if kept and kept.thumbprint != entry.thumbprint else None
    return UsageSlots(current=entry, staged=staged, previous=previous)


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
_JSON_KINDS[type(None)] = "null"


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def _same_as_installed(existing: PersonalCertificate, exportable: bool | None) -> None:
    """Installing a certificate again changes nothing: asking for another exportability is
    refused, not ignored (a key being locked down was told "already installed")."""
    if exportable is not None and exportable != existing.exportable:
        made = "exportable" if existing.exportable else "not exportable"
        raise StoreError(
            f"{existing.thumbprint} is installed already, its key {made}: exportability is "
            "fixed when a key is made, and installing the certificate again cannot change it",
            "import it without --exportable/--no-exportable; to change it, request a new "
            "certificate (lyncpki request ... --exportable or --no-exportable)",
        )


def _key_exportability(index: StoreIndex, key_name: str, asked: bool | None) -> bool:
    """The exportability of a key the store keeps for another certificate (a second
    certificate issued for one request): the key's own, fixed when it was made; asking for
    another is refused (--exportable made a non-exportable key exportable)."""
    held = [c.exportable for c in index.personal if c.key_id == key_name]
    if not held:  # a key no certificate holds any more: as asked, else not exportable
        return bool(asked)
    own = all(held)
    if asked is not None and asked != own:
        made = "exportable" if own else "not exportable"
        raise StoreError(
            f"this certificate's key is the key of a certificate installed here already, made "
            f"{made}: exportability is fixed when a key is made",
            "import it without --exportable/--no-exportable, or request a new certificate "
            "with a new key",
        )
    return own


class ServerStore:
    """The store of `server` in the lyncpki home `home`."""

    def __init__(self, home: Path, server: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.home = Path(home)
        self.paths = StorePaths(self.home, server)
        self.server = self.paths.server
        self.clock = clock

    # ------------------------------------------------------------------ reading
    def exists(self) -> bool:
        return self.paths.index.is_file()

    def load(self) -> StoreIndex:
        """The index; an empty one when the server has no store yet."""
        index = self.read()
        return StoreIndex(server=self.server) if index is None else index

    def read(self) -> StoreIndex | None:
        """The index; None when the server has no store yet (one open, no stat first)."""
        try:
            with open(self.paths.index_file, "rb", buffering=0) as file:  # noqa: PTH123
                text = file.read()
        except FileNotFoundError:
            return None
        except PermissionError:
            raise StoreError(
                f"the store of {self.server} cannot be read: permission denied on "
                f"{self.paths.index}",
                f"run as the user that owns {self.paths.root}, or give that user read and write "
                "access to it (the file is intact)",
            ) from None
        except OSError as error:
            raise StoreError(
                f"the store of {self.server} cannot be read ({self.paths.index}: {error})",
                "restore store.json from a backup; the certificates and keys beside it are intact",
            ) from None
        try:
            try:
                data = json.loads(text)
            except UnicodeDecodeError as error:  # not "Expecting value": not text at all
                raise ValueError(
                    f"it is not UTF-8 text (byte {error.start}): not a store index, or damaged"
                ) from None
            if not isinstance(data, dict):
                kind = _JSON_KINDS.get(type(data), type(data).__name__)
                raise ValueError(f"it holds a JSON {kind}, not the store's object")
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            index = StoreIndex.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"the store of {self.server} cannot be read ({self.paths.index}: {error})",
                "restore store.json from a backup; the certificates and keys beside it are intact",
            ) from None
        if index.server != self.server:
            raise StoreError(
                f"{self.paths.index} belongs to {index.server}, not {self.server}",
                "move the folder back to servers/<its server>",
            )
        return index

    def certificate(self, thumbprint_text: str) -> x509.Certificate:
        return self.read_named(self.paths.certificate_file(thumbprint_text), thumbprint_text)

    def trusted_certificate(self, thumbprint_text: str) -> x509.Certificate:
        return self.read_named(self.paths.trusted(thumbprint_text), thumbprint_text)

    def trusted_bytes(self, thumbprint_text: str) -> bytes:
        """The bytes of a trusted CA certificate's file as stored (StoreError when it cannot
        be read), for a reader that already parsed the same bytes elsewhere."""
        return self._certificate_bytes(self.paths.trusted(thumbprint_text))

    def trusted_certificates(self, index: StoreIndex | None = None) -> list[x509.Certificate]:
        index = index or self.load()
        return [self.trusted_certificate(t.thumbprint) for t in index.trusted]

    def read_named(self, path: str | Path, thumbprint_text: str) -> x509.Certificate:
        """The certificate stored under `thumbprint_text`, which must be the one in the file: a
        file replaced by another certificate was judged, listed and served under the name of
        the one the index assigns."""
        data = self._certificate_bytes(path)
        wanted = thumbprint_name(thumbprint_text)
        der = single_pem_der(data)
        if der is None:  # not as lyncpki writes them: pyca reads (or refuses) the whole file
            certificate = self._parse(path, data, x509.load_pem_x509_certificate)
            held = thumbprint(certificate)
        else:  # the store's own PEM: hashed as it is (no certificate at all is damage, not a
            # replacement: the parse refuses it first)
            certificate = self._parse(path, der, x509.load_der_x509_certificate)
            held = der_thumbprint(der)
        if held != wanted:
            raise self._replaced(path, held, wanted)
        return certificate

    def read_certificate(self, path: str | Path) -> x509.Certificate:
        return self._parse(path, self._certificate_bytes(path), x509.load_pem_x509_certificate)

    def _certificate_bytes(self, path: str | Path) -> bytes:
        try:
            # unbuffered: one read of the whole file, no isatty probe (pathlib adds more layers)
            with open(path, "rb", buffering=0) as file:  # noqa: PTH123
                return file.read()
        except OSError as error:
            raise self._damaged(path, error) from None

    def _parse(
        self, path: str | Path, data: bytes, load: Callable[[bytes], x509.Certificate]
    ) -> x509.Certificate:
        """A certificate from its file's PEM, or from the DER inside it."""
        try:
            return load(data)
        except (ValueError, x509.InvalidVersion) as error:
            raise self._damaged(path, error) from None

    def _damaged(self, path: str | Path, error: Exception) -> StoreError:
        return StoreError(
            f"the store of {self.server} lost or damaged {Path(path).name} ({error})",
            "import the certificate again (lyncpki import)",
        )

    def _no_key_for(self, certificate: x509.Certificate, why: str) -> StoreError:
        return StoreError(
            f"{self.server} has no private key for {certificate.subject.rfc4514_string()} ({why})",
            "import the answer on the server that made the request, or import a .pfx that "
            "holds the key",
        )

    def _replaced(self, path: str | Path, held: str, wanted: str) -> StoreError:
        return StoreError(
            f"the store of {self.server} holds certificate {held} in the file of {wanted} "
            f"({Path(path).name}): the file was replaced",
            "import the certificate again (lyncpki import), or restore the file from a backup",
        )

    def has_key(self, cert: PersonalCertificate) -> bool:
        key_file = self.paths.key_file(cert.key_id) if cert.key_id else None
        return key_file is not None and os.path.isfile(key_file)  # noqa: PTH113 (no Path built)

    def private_key(self, key_name: str, secret: bytes) -> PrivateKey:
        path = self.paths.key(key_name)
        try:
            data = path.read_bytes()
        except PermissionError:
            raise StoreError(
                f"the private key {key_name} of {self.server} cannot be read: permission denied "
                f"on {path}",
                "run as the user that owns the store, or give that user read access to the key "
                "(lyncpki writes keys with mode 0600)",
            ) from None
        except OSError:
            raise StoreError(
                f"the private key {key_name} is missing from the store of {self.server}",
                "import the certificate with its key (a .pfx), or request a new one",
            ) from None
        # the store's own keys: written by lyncpki, encrypted, named by their public key
        return decrypt_key(
            data,
            secret,
            what=f"{self.server} key {key_name}",
            ours=True,
            fix="check LYNCPKI_STORE_PASSPHRASE (or LYNCPKI_CA_PASSPHRASE, or --passphrase-file): "
            "the store's keys open with the passphrase they were stored with",
        )

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[StoreIndex]:
        self.paths.make()
        with exclusive(self.paths.lock):
            self._sweep()
            yield self.load()

    def _sweep(self) -> None:
        """Remove the temporary files of a writer that died mid-write (only a lock holder
        writes, and we hold the lock): they were never part of the store."""
        for folder in (self.paths.root, *(self.paths.root / s for s in SUBFOLDERS)):
            for temp in folder.glob(TEMPORARY_GLOB):
                temp.unlink(missing_ok=True)

    def _commit(self, index: StoreIndex) -> None:
        document = json.dumps(index.as_dict(), indent=2) + "\n"
        write_atomic(self.paths.index, document.encode(), mode=0o600)

    def holds_key_of(self, key_name: str, certificate: x509.Certificate, secret: bytes) -> bool:
        """Whether the key file `key_name` opens and is `certificate`'s key: False for a file
        replaced by another key or damaged. A passphrase that is not the store's is raised
        (every key would seem damaged)."""
        index = self.load()
        if index.protection is not None and not keyguard.matches(index.protection, secret):
            self._guard(index, secret)  # raises, with its words
        try:
            key = self.private_key(key_name, secret)
        except LyncPkiError:
            return False
        return bool(key.public_key() == certificate.public_key())

    def _guard(self, index: StoreIndex, secret: bytes) -> StoreIndex:
        """The index protected by `secret`; refused when its keys use another passphrase."""
        if index.protection is None:  # the store's first key: its passphrase is chosen here
            self._check_new_secret(secret)
            return dataclasses.replace(index, protection=keyguard.protect(secret))
        if not keyguard.matches(index.protection, secret):
            raise StoreError(
                f"the passphrase given is not the one that protects the keys of {self.server}",
                "use the same passphrase as before (LYNCPKI_STORE_PASSPHRASE, "
                "LYNCPKI_CA_PASSPHRASE or --passphrase-file)",
            )
        return index

    def _check_new_secret(self, secret: bytes) -> None:
        """A passphrase chosen for a store: the rule of every passphrase (passphrase.weakness;
        twelve blanks were taken)."""
        if found := weakness(secret):
            raise StoreError(
                f"the store passphrase {found.problem}: it alone protects the private keys of "
                f"{self.server} at rest",
                f"{found.advice} (LYNCPKI_STORE_PASSPHRASE or --passphrase-file)",
            )

    def _write_key(self, key: PrivateKey | SealedKey, secret: bytes) -> str:
        """Store a key encrypted with `secret` (or one sealed with it elsewhere, say in a key
        generation worker); its file is named by its public key."""
        if isinstance(key, SealedKey):
            name, sealed = key.key_id, key.pem
        else:
            name, sealed = key_id(key), None
        path = self.paths.key(name)
        if not path.exists() or (sealed is None and not self._key_intact(name, secret)):
            # a key file emptied, damaged or replaced by another key is written again from the
            # key given (a .pfx imported again: what export's refusal tells the user to do)
            data = sealed if sealed is not None else encrypt_key(cast(PrivateKey, key), secret)
            write_atomic(path, data, mode=0o600)
        return name

    def _key_intact(self, name: str, secret: bytes) -> bool:
        """Whether the key file `name` opens with `secret` (the store's checked passphrase)
        and is the key its name says."""
        try:
            return key_id(self.private_key(name, secret)) == name
        except LyncPkiError:
            return False

    def add_pending(
        self,
        key: PrivateKey | SealedKey,
        csr: x509.CertificateSigningRequest,
        *,
        secret: bytes,
        usages: Iterable[str],
        subject: str,
        sans: Iterable[str],
        key_name: str,
        template: str,
        friendly_name: str,
        exportable: bool,
        ca_url: str | None = None,
        ca_account: str | None = None,
        output: str | None = None,
    ) -> PendingRequest:
        """Keep a request's key until its certificate comes back."""
        if not self.exists():  # refused before the store's folders are made
            self._check_new_secret(secret)
        name = key.key_id if isinstance(key, SealedKey) else key_id(key)
        with self._locked() as index, self._key_removed_on_failure(name, fresh=True):
            # the key is removed again when its request file or the index cannot be written
            # (a full disk): referenced by no index, it was left behind for good
            index = self._guard(index, secret)
            request = PendingRequest(
                id=index.next_request,
                key_id=self._write_key(key, secret),
                usages=tuple(usages),
                subject=subject,
                sans=tuple(sans),
                key=key_name,
                template=template,
                friendly_name=friendly_name,
                exportable=exportable,
                created_at=self.clock.now(),
                ca_url=without_credentials(ca_url),  # never a password (--ca refuses one)
                ca_account=ca_account,
                output=output,
            )
            write_atomic(
                self.paths.request(request.id), request_pem(csr, certreq_armor=True), mode=0o644
            )
            self._commit(
                dataclasses.replace(
                    index,
                    pending=(*index.pending, request),
                    next_request=index.next_request + 1,
                )
            )
        return request

    def _pending(self, index: StoreIndex, request_id: int) -> PendingRequest:
        found = index.request(request_id)
        if found is None:
            at_ca = index.request_at_ca(request_id)
            raise StoreError(
                f"no pending request {request_id} on {self.server}"
                + (
                    f" ({request_id} is the CA's id of its request {at_ca.id})"
                    if at_ca is not None
                    else ""
                ),
                f"list them: lyncpki certs --server {self.server}",
            )
        return found

    def update_pending(self, request_id: int, **changes: Any) -> PendingRequest:
        with self._locked() as index:
            found = self._pending(index, request_id)
            updated = dataclasses.replace(found, **changes)
            self._commit(
                dataclasses.replace(
                    index,
                    pending=tuple(updated if r.id == request_id else r for r in index.pending),
                )
            )
        return updated

    def drop_pending(self, request_id: int) -> PendingRequest:
        """Forget a pending request (Request-CsCertificate -Clear) and its unused key."""
        with self._locked() as index:
            found = self._pending(index, request_id)
            self._commit(
                dataclasses.replace(
                    index, pending=tuple(r for r in index.pending if r.id != request_id)
                )
            )
            if all(c.key_id != found.key_id for c in index.personal):  # a key nobody needs
                self.paths.key(found.key_id).unlink(missing_ok=True)
            self.paths.request(request_id).unlink(missing_ok=True)
        return found

    def trust(self, certificates: Iterable[x509.Certificate]) -> list[TrustedCertificate]:
        """Add CA certificates to the trusted roots (self-signed) and intermediates."""
        with self._locked() as index:
            added, index = self._trust(index, certificates)
            self._commit(index)
        return added

    def _trust(
        self, index: StoreIndex, certificates: Iterable[x509.Certificate]
    ) -> tuple[list[TrustedCertificate], StoreIndex]:
        known = {t.thumbprint for t in index.trusted}
        added: list[TrustedCertificate] = []
        for cert in certificates:
            print_ = thumbprint(cert)
            if print_ in known:
                continue
            if not is_ca_certificate(cert):
                raise StoreError(
                    f"{cert.subject.rfc4514_string()} is not a CA certificate and cannot be "
                    "trusted as one",
                    "import it as the server's own certificate instead",
                )
            write_atomic(self.paths.trusted(print_), _pem(cert))
            entry = TrustedCertificate(
                print_, cert.subject.rfc4514_string(), cert.issuer == cert.subject
            )
            added.append(entry)
            known.add(print_)
        return added, dataclasses.replace(index, trusted=(*index.trusted, *added))

    def install(
        self,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
        *,
        source: str,
        key: PrivateKey | None = None,
        secret: bytes | None = None,
        exportable: bool | None = None,
        friendly_name: str | None = None,
        assign_to: Iterable[str] = (),
    ) -> tuple[PersonalCertificate, PendingRequest | None]:
        """Install a certificate with its private key: the key of the pending request it
        answers, or `key` (a PKCS#12 import). The chain's CA certificates become trusted.
        Installing the same certificate again changes nothing. `assign_to` assigns it to those
        usages in the same change. Returns the certificate and the pending request it
        answered, if any."""
        name = key_id(certificate.public_key())
        print_ = thumbprint(certificate)
        if key is not None:  # refused before the store's folders are made or locked
            if key_id(key) != name:
                raise StoreError(
                    "the private key given does not belong to the certificate",
                    "export the certificate together with its own key",
                )
            if secret is None:
                raise StoreError(
                    "a passphrase is needed to store the key",
                    "set LYNCPKI_STORE_PASSPHRASE, or give --passphrase-file",
                )
            if not self.exists():  # refused before the store's folders are made
                self._check_new_secret(secret)
        elif not self.exists() and not self.paths.key(name).is_file():
            # no store, so no request made here: refused before its folders are made (a refused
            # import left an empty store behind)
            raise self._no_key_for(certificate, "no request was made here: it has no store yet")
        with self._locked() as index:
            existing = index.certificate(print_)
            answered = next((r for r in index.pending if r.key_id == name), None)
            with self._key_removed_on_failure(name, fresh=key is not None):
                if key is not None:
                    assert secret is not None
                    index = self._guard(index, secret)
                    self._write_key(key, secret)
                elif (
                    answered is not None
                    and exportable is not None
                    and exportable != answered.exportable
                ):
                    made = "exportable" if answered.exportable else "not exportable"
                    raise StoreError(
                        f"the key of request {answered.id} was made {made}: exportability is fixed "
                        "when a key is made, and accepting the CA's answer cannot change it",
                        "import the answer without --exportable/--no-exportable, or make a new "
                        "request that asks for it (lyncpki request ... --exportable)",
                    )
                elif answered is None and not self.paths.key(name).is_file():
                    raise self._no_key_for(certificate, "no pending request made here matches it")
                if existing is not None:
                    _same_as_installed(existing, exportable)
                elif key is None and answered is None:  # another certificate of a kept key
                    exportable = _key_exportability(index, name, exportable)
                _, index = self._trust(index, chain)
                if existing is not None:
                    self._commit(self._with_assignments(index, existing.thumbprint, assign_to))
                    return existing, None
                write_atomic(self.paths.certificate(print_), _pem(certificate))
                wanted = friendly_name or (answered.friendly_name if answered else None)
                installed = PersonalCertificate(
                    thumbprint=print_,
                    friendly_name=self._unique_name(
                        index, wanted or certificate.subject.rfc4514_string()
                    ),
                    key_id=name,
                    exportable=(
                        exportable
                        if exportable is not None
                        else bool(answered and answered.exportable)
                    ),
                    installed_at=self.clock.now(),
                    source=redact_text(source),  # "ca URL": never a password in the index
                )
                pending = tuple(r for r in index.pending if r is not answered)
                index = dataclasses.replace(
                    index, personal=(*index.personal, installed), pending=pending
                )
                self._commit(self._with_assignments(index, print_, assign_to))
                return installed, answered

    @contextlib.contextmanager
    def _key_removed_on_failure(self, name: str, *, fresh: bool) -> Iterator[None]:
        """A key file this block writes (`fresh` and not there yet) is removed when the block
        fails: referenced by no index, it would be left behind."""
        made = fresh and not self.paths.key(name).exists()
        try:
            yield
        except BaseException:
            if made:
                self.paths.key(name).unlink(missing_ok=True)
            raise

    def _with_assignments(
        self, index: StoreIndex, thumbprint_text: str, usages: Iterable[str]
    ) -> StoreIndex:
        now = self.clock.now()
        changed = dict(index.assignments)
        for usage in usages:
            changed[usage] = _assigned(
                index.slots(usage, now), Assignment(thumbprint_text, now), now
            )
        return dataclasses.replace(index, assignments=changed)

    @staticmethod
    def _unique_name(index: StoreIndex, wanted: str) -> str:
        """Friendly names are unique within a store (R-GEN-15)."""
        taken = {c.friendly_name.lower() for c in index.personal}
        if wanted.lower() not in taken:
            return wanted
        number = 2
        while f"{wanted} ({number})".lower() in taken:
            number += 1
        return f"{wanted} ({number})"

    def assign(
        self, usage: str, thumbprint_text: str, *, effective: dt.datetime | None = None
    ) -> UsageSlots:
        """Assign an installed certificate to a usage: at once, or staged until `effective`
        (a roll: the current one becomes previous then)."""
        wanted = thumbprint_name(thumbprint_text)
        now = self.clock.now()
        with self._locked() as index:
            if index.certificate(wanted) is None:
                raise StoreError(
                    f"certificate {wanted} is not in the store of {self.server}",
                    f"see what is there: lyncpki certs --server {self.server}",
                )
            slots = index.slots(usage, now)
            current = slots.current
            if (
                effective is not None
                and effective > now
                and current
                and current.thumbprint == wanted
            ):
                # a roll of the current certificate onto itself changes nothing but dropped the
                # certificate staged before it
                raise StoreError(
                    f"{wanted} is already the current {usage} certificate on {self.server}: a "
                    "roll stages another certificate to replace it",
                    "give the new certificate's --thumbprint"
                    + (f" (staged now: {slots.staged.thumbprint})" if slots.staged else ""),
                )
            updated = _assigned(slots, Assignment(wanted, now, effective), now)
            self._commit(
                dataclasses.replace(index, assignments={**index.assignments, usage: updated})
            )
        return updated

    def unassign(self, usage: str, *, previous: bool = False) -> UsageSlots:
        """Remove-CsCertificate: the current (and staged) assignment of a usage, or with
        `previous` the rolled-out one. The certificate stays in the store."""
        return self.unassign_all([usage], previous=previous)[0]

    def unassign_all(self, usages: Sequence[str], *, previous: bool = False) -> list[UsageSlots]:
        """`unassign` for several usages at once, all or none: each is checked before any is
        changed (`remove --type A,B` removed A, then refused B, exit 2, A gone). A usage named
        twice is removed once. The slots as they were, in the order given."""
        wanted = list(dict.fromkeys(usages))
        now = self.clock.now()
        with self._locked() as index:
            before = [index.slots(usage, now) for usage in wanted]
            assignments = dict(index.assignments)
            for usage, slots in zip(wanted, before, strict=True):
                if previous:
                    if slots.previous is None:
                        raise StoreError(
                            f"{usage} has no previous certificate on {self.server}"
                            + (" (nothing was removed)" if len(wanted) > 1 else ""),
                            "nothing to remove",
                        )
                    assignments[usage] = dataclasses.replace(slots, previous=None)
                else:
                    if slots.current is None and slots.staged is None:
                        raise StoreError(
                            f"no certificate is assigned to {usage} on {self.server}"
                            + (" (nothing was removed)" if len(wanted) > 1 else ""),
                            f"see the assignments: lyncpki certs --server {self.server}",
                        )
                    assignments[usage] = dataclasses.replace(slots, current=None, staged=None)
            self._commit(dataclasses.replace(index, assignments=assignments))
        return before
