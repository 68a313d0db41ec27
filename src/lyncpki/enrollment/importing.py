"""Import-CsCertificate: a CA's answer (matched to the key of a request made on this server),
a PKCS#12 file with its key (a certificate made elsewhere), or CA certificates alone (a root or
chain to trust). The chain's CA certificates become trusted by the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from lyncpki.inputs import read_input
from lyncpki.store import (
    PendingRequest,
    PersonalCertificate,
    ServerStore,
    StoreError,
    TrustedCertificate,
    is_ca_certificate,
)
from lyncpki.x509.bundles import PKCS12_SUFFIXES, Bundle, load_bundle
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.issuers import issuers_of
from lyncpki.x509.keys import key_id
from lyncpki.x509.pkcs12_guard import looks_like_pkcs12
from lyncpki.x509.requests import certificate_dns_names


@dataclass(frozen=True)
class ImportResult:
    form: str  # PEM | DER | PKCS#7 | PKCS#12
    certificate: PersonalCertificate | None = None
    answered: PendingRequest | None = None
    trusted: list[TrustedCertificate] = field(default_factory=list)
    already: bool = False  # the certificate was installed before: nothing changed
    left_out: tuple[str, ...] = ()  # names the answered request asked for, not in the answer
    not_trusted: tuple[str, ...] = ()  # CA certificates in the file that are not on its path
    not_installed: tuple[str, ...] = ()  # other end-entity certificates in the file

    def notes(self, server: str) -> list[tuple[bool, str]]:
        """What the import did and what to look at, in order, as (warning, text): the same
        lines for `lyncpki import` (warnings on stderr) and the wizard."""
        lines: list[tuple[bool, str]] = []
        if self.certificate:
            answered = f", answering request {self.answered.id}" if self.answered else ""
            done = "already installed" if self.already else "installed"
            lines.append(
                (
                    False,
                    f"{done} {self.certificate.thumbprint} ({self.certificate.friendly_name}) "
                    f"on {server}{answered}",
                )
            )
        if self.left_out:
            lines.append(
                (
                    True,
                    f"warning: the CA left out {len(self.left_out)} name(s) the request asked "
                    f"for: {', '.join(self.left_out)}; assign --topology refuses it where the "
                    "plan needs them (ask the CA to issue every name, e.g. a template that "
                    "takes the request's SANs)",
                )
            )
        for trusted in self.trusted:
            kind = "root" if trusted.root else "intermediate"
            lines.append((False, f"trusted {kind} {trusted.subject} ({trusted.thumbprint})"))
        lines += [
            (
                True,
                f"warning: not installed: {subject}, another end-entity certificate of the file "
                "(import it from a file of its own, with its key)",
            )
            for subject in self.not_installed
        ]
        lines += [
            (
                True,
                f"warning: not trusted: {subject}, a CA certificate of the file that is not on "
                "the certificate's path (import it on its own if this server must trust it)",
            )
            for subject in self.not_trusted
        ]
        if not self.certificate and not self.trusted:
            lines.append((False, "nothing new: every certificate of the file was already there"))
        return lines


def is_pkcs12_file(path: Path) -> bool:
    """A .pfx by its name or by its content, whatever its name (a renamed export, a .bin
    download): what needs a password and the store's passphrase."""
    if path.suffix.lower() in PKCS12_SUFFIXES:
        return True
    try:
        with path.open("rb") as opened:
            return looks_like_pkcs12(opened.read(16))
    except OSError:  # import_file says what is wrong with the file
        return False


def read_bundle(path: Path, password: str | None) -> Bundle:
    data = read_input(path, "check the path of the file to import", error=StoreError)
    return load_bundle(
        data, str(path), password=password, pkcs12_hint=path.suffix.lower() in PKCS12_SUFFIXES
    )


def _leaf(bundle: Bundle, store: ServerStore, source: str) -> x509.Certificate | None:
    """The server's own certificate in the bundle: the one holding the PKCS#12 key, else the
    end-entity one (the one answering a pending request when there are several)."""
    if bundle.key is not None:
        wanted = key_id(bundle.key)
        for cert in bundle.certificates:
            if key_id(cert.public_key()) == wanted:
                return cert
        raise StoreError(
            f"{source}: the private key matches none of its certificates",
            "export the certificate together with its own key",
        )
    leaves = [c for c in bundle.certificates if not is_ca_certificate(c)]
    if len(leaves) <= 1:
        return leaves[0] if leaves else None
    pending = {r.key_id for r in store.load().pending}
    answering = [c for c in leaves if key_id(c.public_key()) in pending]
    if len(answering) == 1:
        return answering[0]
    raise StoreError(
        f"{source} holds {len(leaves)} end-entity certificates and it is unclear which one is "
        f"{store.server}'s",
        "import each certificate from a file of its own",
    )


def import_file(
    store: ServerStore,
    path: Path,
    *,
    password: str | None = None,
    secret: bytes | None = None,
    exportable: bool | None = None,
    friendly_name: str | None = None,
) -> ImportResult:
    """Install what `path` holds into `store`."""
    bundle = read_bundle(path, password)
    source = str(path)
    leaf = _leaf(bundle, store, source)
    cas = [c for c in bundle.certificates if c is not leaf and is_ca_certificate(c)]
    if leaf is None:  # CA certificates imported as such: the administrator trusts them
        return ImportResult(bundle.form, trusted=store.trust(cas))
    # only the CAs on the leaf's own path become trusted: any other root a .pfx or a PEM
    # brings along (an unrelated, even hostile, one) would be trusted for everything after
    chain = issuers_of(leaf, cas)
    ignored = tuple(c.subject.rfc4514_string() for c in cas if c not in chain)
    others = tuple(
        c.subject.rfc4514_string()
        for c in bundle.certificates
        if c is not leaf and not is_ca_certificate(c)
    )  # end-entity certificates beside the one installed: named, not silently dropped
    index = store.load()
    before = {t.thumbprint for t in index.trusted}
    installed_as = index.certificate(thumbprint(leaf))
    already = installed_as is not None
    if installed_as is not None and friendly_name not in (None, installed_as.friendly_name):
        raise StoreError(  # said, not ignored: "already installed" and the old name kept
            f"{installed_as.thumbprint} is installed already as '{installed_as.friendly_name}': "
            "importing it again does not rename it",
            "import it without --friendly-name (a friendly name is given at installation)",
        )
    installed, answered = store.install(
        leaf,
        chain,
        source=f"{'pfx' if bundle.key else 'import'} {path.name}",
        key=bundle.key,
        secret=secret,
        exportable=exportable,
        friendly_name=friendly_name or (None if already else bundle.friendly_name),
    )
    trusted = [t for t in store.load().trusted if t.thumbprint not in before]
    named = certificate_dns_names(leaf)  # once, not once per requested name
    left_out = tuple(n for n in answered.sans if n.lower() not in named) if answered else ()
    return ImportResult(
        bundle.form, installed, answered, trusted, already, left_out, ignored, others
    )
