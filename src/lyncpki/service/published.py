"""CRLs and CA certificates served exactly as the CA published them (no regeneration per
request), with their media types and caching headers; re-read only when the file changes."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from fastapi import Request, Response

from lyncpki.clock import Clock
from lyncpki.service.errors import ServiceError

CRL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\+?\.crl\Z")
CERT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\.crt\Z")
CRL_TYPE = "application/pkix-crl"
CERT_TYPE = "application/pkix-cert"
MAX_AGE = 3600  # at most an hour, and never past a CRL's nextUpdate


@dataclass(frozen=True, slots=True)
class _File:
    stamp: tuple[float, int]
    body: bytes
    etag: str
    last_modified: str
    next_update: dt.datetime | None


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match (RFC 9110 13.1.2): `*`, or a list of tags compared weakly."""
    if not header:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified_since(header: str | None, modified: float) -> bool:
    """If-Modified-Since (RFC 9110 13.1.3): the file is no newer than the date given; a date
    that cannot be read is ignored, as the RFC says."""
    if not header:
        return False
    try:
        since = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:  # HTTP dates are GMT
        since = since.replace(tzinfo=dt.UTC)
    return int(modified) <= since.timestamp()


class PublishedFiles:
    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder = folder
        self.clock = clock
        self._cache: dict[Path, _File] = {}
        self._lock = threading.Lock()

    def _load(self, path: Path, is_crl: bool) -> _File:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ServiceError(
                404,
                "not_found",
                f"{path.name} is not published here",
                "check the URL in the certificate's CDP/AIA",
            ) from None
        stamp = (stat.st_mtime, stat.st_size)
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached.stamp == stamp:
            return cached
        body = path.read_bytes()
        next_update = None
        if is_crl:
            try:
                next_update = x509.load_der_x509_crl(body).next_update_utc
            except ValueError:
                next_update = None
        loaded = _File(
            stamp,
            body,
            f'"{hashlib.sha256(body).hexdigest()[:32]}"',
            email.utils.formatdate(stat.st_mtime, usegmt=True),
            next_update,
        )
        with self._lock:
            self._cache[path] = loaded
        return loaded

    def respond(self, request: Request, kind: str, name: str) -> Response:
        is_crl = kind == "crl"
        if not (CRL_NAME if is_crl else CERT_NAME).match(name):
            raise ServiceError(
                404,
                "not_found",
                f"no published file named {name[:80]!r}",
                "check the URL in the certificate's CDP/AIA",
            )
        file = self._load(self.folder / kind / name, is_crl)
        max_age = MAX_AGE if is_crl else 86400
        if file.next_update is not None:
            left = int((file.next_update - self.clock.now()).total_seconds())
            max_age = max(0, min(max_age, left))
        # Last-Modified has whole seconds: a file of the second under way may be replaced
        # within that second (two CRLs published at once), and a client holding the first,
        # asking If-Modified-Since, would be told it has the second. Given, and honoured, only
        # once the file's second is over (RFC 9110 8.8.2.2); the ETag serves meanwhile.
        settled = int(file.stamp[0]) < int(time.time())
        headers = {
            "ETag": file.etag,
            **({"Last-Modified": file.last_modified} if settled else {}),
            "Cache-Control": f"public, max-age={max_age}",
        }
        if file.next_update is not None:  # when max-age ends: an HTTP/1.0 cache reads only
            # Expires, and nextUpdate there kept a CRL for a week past a new one's publication
            ends = self.clock.now() + dt.timedelta(seconds=max_age)
            headers["Expires"] = email.utils.format_datetime(
                min(ends, file.next_update), usegmt=True
            )
        match = request.headers.get("if-none-match")
        if _matches(match, file.etag) or (
            match is None  # If-None-Match, when sent, decides alone
            and settled
            and _not_modified_since(request.headers.get("if-modified-since"), file.stamp[0])
        ):
            return Response(status_code=304, headers=headers)
        return Response(file.body, media_type=CRL_TYPE if is_crl else CERT_TYPE, headers=headers)
