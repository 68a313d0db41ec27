"""The HTTP forms of OCSP (RFC 6960 appendix A, RFC 5019) and the service's body limit: shared
by the ASGI routes (`app`) and the HTTP protocol that answers OCSP itself (`ocsp_protocol`)."""

from __future__ import annotations

import base64
import binascii

from lyncpki.ca.ocsp import unsuccessful

MAX_BODY = 1024 * 1024  # a request is a few KB; 1 MiB is generous
OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"


def ocsp_get_request(encoded: str) -> bytes:
    """The DER request of `GET /ocsp/{base64}` (RFC 6960 A.1: base64, then URL-encoded; the
    server has already decoded the URL), or b"" (answered malformedRequest)."""
    try:
        return base64.b64decode(
            encoded.replace("%2B", "+").replace("%2F", "/").replace("%3D", "="), validate=False
        )
    except (binascii.Error, ValueError):
        return b""


OCSP_GET_PREFIX = "/ocsp/"
# RFC 5019 6.2: an answer by GET may be kept by HTTP caches — as long as the responder keeps it
# itself (a revocation reaches clients behind a cache within that time); an unsuccessful one
# (malformedRequest, unauthorized, internalError while the database is down) never.
OCSP_GET_CACHING = (b"cache-control", b"public, max-age=300, no-transform, must-revalidate")
OCSP_GET_NO_STORE = (b"cache-control", b"no-store")


def ocsp_get_caching(answer: bytes) -> tuple[bytes, bytes]:
    """The Cache-Control header of an answer to GET /ocsp/{base64}."""
    return OCSP_GET_NO_STORE if unsuccessful(answer) else OCSP_GET_CACHING
