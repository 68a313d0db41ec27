"""Whether DER bytes are a secret an output must not replace: a PKCS#12 file (by its shape) or a
private key (pyca reads it, or says it is encrypted)."""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_der_private_key

from lyncpki.x509.pkcs12_guard import looks_like_pkcs12


def der_secret(data: bytes) -> str | None:
    """ "a PKCS#12 file ...", "a private key", or None for anything else."""
    if looks_like_pkcs12(data):
        return "a PKCS#12 file (a private key with its certificate)"
    try:
        load_der_private_key(data, None)
    except TypeError:  # "password was not given but private key is encrypted"
        return "a private key"
    except (ValueError, UnsupportedAlgorithm):
        return None
    return "a private key"
