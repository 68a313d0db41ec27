"""A server's certificate store: personal certificates with encrypted private keys, pending
requests, trusted CA certificates, and assignments to Lync usages (atomic on-disk format)."""

from lyncpki.store.layout import GLOBAL, StoreError, server_name, servers_in, thumbprint_name
from lyncpki.store.model import (
    Assignment,
    PendingRequest,
    PersonalCertificate,
    StoreIndex,
    TrustedCertificate,
    UsageSlots,
)
from lyncpki.store.protection import resolve_store_passphrase
from lyncpki.store.server_store import ServerStore, is_ca_certificate

__all__ = [
    "GLOBAL",
    "Assignment",
    "PendingRequest",
    "PersonalCertificate",
    "ServerStore",
    "StoreError",
    "StoreIndex",
    "TrustedCertificate",
    "UsageSlots",
    "is_ca_certificate",
    "resolve_store_passphrase",
    "server_name",
    "servers_in",
    "thumbprint_name",
]
