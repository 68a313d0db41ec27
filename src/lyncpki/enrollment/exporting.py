"""Exporting a certificate with its private key as PKCS#12 (the MMC's "Yes, export the private
key", R-GEN-12): only for keys marked exportable, with the chain, for Windows to import."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from lyncpki.store import PersonalCertificate, ServerStore, StoreError, thumbprint_name
from lyncpki.x509.bundles import export_pkcs12
from lyncpki.x509.pkcs12_guard import looks_like_pkcs12


def replaceable_pfx(pfx: Path, option: str, *, replace: bool) -> None:
    """Refuse to write a .pfx over a file of another kind (`--pfx answer.cer` replaced the CA's
    answer, the wizard a topology, with a PKCS#12 file); an older .pfx is replaced only when
    `replace` says so (it may be the only copy of another key: a certificate bought for the
    reverse proxy)."""
    if pfx.is_file():
        with pfx.open("rb") as handle:
            head = handle.read(16)
        if not looks_like_pkcs12(head):
            raise StoreError(
                f"{pfx} exists and is not a .pfx: lyncpki does not replace it",
                f"choose another {option}, or move that file away",
            )
        if not replace:
            raise StoreError(
                f"{pfx} exists: a .pfx may be the only copy of a certificate's key, and "
                "lyncpki does not write over it unasked",
                f"choose another {option}, or give --replace to write over it",
            )


def exportable_entry(store: ServerStore, thumbprint: str) -> PersonalCertificate:
    """The store's entry of a certificate whose key can be exported (asked before the store's
    passphrase and the .pfx password: the wizard says it on the page that chose it)."""
    wanted = thumbprint_name(thumbprint)
    entry = store.load().certificate(wanted)
    if entry is None:
        raise StoreError(
            f"certificate {wanted} is not in the store of {store.server}",
            f"see what is there: lyncpki certs --server {store.server}",
        )
    if entry.key_id is None or not store.has_key(entry):
        raise StoreError(
            f"{store.server} has no private key for {wanted}: there is nothing to export",
            "export it from the server that holds the key",
        )
    if not entry.exportable:
        raise StoreError(
            f"the private key of {wanted} on {store.server} is not exportable",
            "request a new certificate with --exportable (Edge pools and the OAuth "
            "certificate need exportable keys, R-GEN-12)",
        )
    return entry


def export_pfx(
    store: ServerStore,
    thumbprint: str,
    *,
    secret: bytes,
    password: str,
    chain: Sequence[x509.Certificate],
    legacy: bool = False,
) -> bytes:
    """The PKCS#12 bytes of an installed certificate with its key and `chain`."""
    wanted = thumbprint_name(thumbprint)
    entry = exportable_entry(store, wanted)
    assert entry.key_id is not None
    key = store.private_key(entry.key_id, secret)
    certificate = store.certificate(wanted)
    if key.public_key() != certificate.public_key():  # a key file replaced by another key
        raise StoreError(
            f"the private key {entry.key_id} in the store of {store.server} is not the key of "
            f"{wanted}: the .pfx would not work",
            "import the certificate again with its own key (a .pfx), or request a new one "
            "(lyncpki check --verify-keys finds every such key)",
        )
    return export_pkcs12(
        key,
        certificate,
        list(chain),
        password=password,
        friendly_name=entry.friendly_name,
        legacy=legacy,
    )
