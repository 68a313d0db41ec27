"""Exporting a certificate with its private key as PKCS#12 (the MMC's "Yes, export the private
key", R-GEN-12): only for keys marked exportable, with the chain, for Windows to import."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from lyncpki.store import ServerStore, StoreError, thumbprint_name
from lyncpki.x509.bundles import export_pkcs12


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
    key = store.private_key(entry.key_id, secret)
    return export_pkcs12(
        key,
        store.certificate(wanted),
        list(chain),
        password=password,
        friendly_name=entry.friendly_name,
        legacy=legacy,
    )
