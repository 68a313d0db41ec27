"""The HTTP forms of OCSP (RFC 6960 appendix A, RFC 5019) and the service's body limit: shared
by the ASGI routes (`app`) and the HTTP protocol that answers OCSP itself (`ocsp_protocol`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from email.utils import formatdate

from cryptography.x509 import ocsp

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
OCSP_GET_MAX_AGE = 300
OCSP_GET_CACHING = (
    b"cache-control",
    f"public, max-age={OCSP_GET_MAX_AGE}, no-transform, must-revalidate".encode(),
)
OCSP_GET_NO_STORE = (b"cache-control", b"no-store")


def ocsp_get_headers(answer: bytes) -> list[tuple[bytes, bytes]]:
    """The caching headers of an answer to GET /ocsp/{base64} (RFC 5019 6.2): Cache-Control,
    and for a successful answer its ETag, Last-Modified (thisUpdate) and Expires (when the
    max-age ends, or nextUpdate if sooner: an HTTP/1.0 cache reads only Expires)."""
    if unsuccessful(answer):
        return [OCSP_GET_NO_STORE]
    headers = [OCSP_GET_CACHING, (b"etag", f'"{hashlib.sha256(answer).hexdigest()[:32]}"'.encode())]
    try:
        response = ocsp.load_der_ocsp_response(answer)
        this_update, next_update = response.this_update_utc, response.next_update_utc
    except ValueError:  # not one single answer: the cache headers alone
        return headers
    expires = time.time() + OCSP_GET_MAX_AGE
    if next_update is not None:
        expires = min(expires, next_update.timestamp())
    headers.append((b"last-modified", formatdate(this_update.timestamp(), usegmt=True).encode()))
    headers.append((b"expires", formatdate(expires, usegmt=True).encode()))
    return headers
