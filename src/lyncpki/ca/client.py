"""A client of the CA service (httpx): enroll, retrieve a pending request, manage, and fetch
CRLs and CA certificates. What goes wrong becomes a domain error with a clear message:
unreachable, timed out, refused (with the CA's reasons), not authorized."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509

from lyncpki.ca_url import (
    CREDENTIALS_FIX,
    check_ca_url,
    credentials_message,
    has_credentials,
    redact_text,
    redact_url,
)
from lyncpki.errors import LyncPkiError
from lyncpki.x509.identifiers import parse_serial, serial_hex


class CaClientError(LyncPkiError):
    """The CA service could not be used."""

    def __init__(
        self,
        message: str,
        fix: str | None = None,
        *,
        code: str = "error",
        status: int | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, fix)
        self.code = code
        self.status = status
        self.details = details or []


class CaUnreachable(CaClientError):
    """No answer: connection refused, DNS, TLS or timeout."""


class CaNoAnswer(CaUnreachable):
    """The request was sent and no answer came (the connection dropped, or the answer took too
    long): the CA may have acted on it."""


class CaRefused(CaClientError):
    """The CA answered no: policy refusal, bad request, unknown request."""


class CaNotAuthorized(CaClientError):
    """Wrong or missing credentials, a role that may not, or throttled."""


@dataclass(frozen=True)
class Enrollment:
    status: str  # issued | pending | denied
    request_id: int
    serial: str | None = None
    certificate: x509.Certificate | None = None
    chain: list[x509.Certificate] = field(default_factory=list)
    reason: str = ""  # a denial's reason, as the CA manager gave it


def _unreachable(where: str, error: Exception) -> CaUnreachable:
    """No connection: an HTTPS certificate this machine does not trust (its own fix), or no
    service at that address."""
    said = redact_text(str(error))
    if "CERTIFICATE_VERIFY_FAILED" in said:
        fix = (
            "use the name the CA service's certificate is for in the URL"
            if "mismatch" in said.lower()
            else "give the root that signs the CA service's HTTPS certificate: --ca-trust "
            "ROOT.pem (the root of a lyncpki home: <home>/ca/root.crt)"
        )
        return CaUnreachable(
            f"the HTTPS certificate of {where} is not trusted here: {said}", fix, code="tls"
        )
    if "WRONG_VERSION_NUMBER" in said and where.startswith("https://"):
        return CaUnreachable(
            f"{where} answered HTTPS with something else ({said})",
            "a service without --tls speaks plain HTTP: give its URL as http://",
            code="tls",
        )
    return CaUnreachable(
        f"cannot reach {where}: {said}",
        "check the URL and that `lyncpki ca serve` runs there",
        code="unreachable",
    )


def _id(request_id: int | str) -> int:
    """A request id, never a path: "../certificates/S/revoke#" as an id to approve revoked
    certificate S."""
    text = str(request_id).strip()
    if isinstance(request_id, bool) or not text.isascii() or not text.isdigit():
        raise CaRefused(
            f"{text[:80]!r} is no request id",
            "give the number the CA answered for the request (lyncpki ca pending lists them)",
            code="request.invalid",
        )
    return int(text)


def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode()) if pem else []


class CaClient:
    """One CA service at `base_url` with a CA account (the wizard's CA account page)."""

    def __init__(
        self,
        base_url: str,
        account: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if has_credentials(base_url):  # httpx would log in with them; the URL is kept and shown
            raise CaClientError(credentials_message(base_url), CREDENTIALS_FIX, code="config")
        try:  # "not a url" or ftp:// was "cannot reach ...: check that ca serve runs there"
            check_ca_url(base_url, "")
        except LyncPkiError as error:
            raise CaClientError(error.message, error.fix, code="config") from None
        auth = httpx.BasicAuth(account, password or "") if account else None
        self.base_url = base_url.rstrip("/")
        if isinstance(verify, str) and not Path(verify).is_file():
            raise CaClientError(
                f"the CA's trusted certificate file {verify} does not exist (or is no file)",
                "give the CA's root certificate as PEM (lyncpki ca chain --out chain.pem on "
                "the CA's home)",
                code="trust",
            )
        try:
            self._http = httpx.Client(
                base_url=self.base_url,
                auth=auth,
                timeout=timeout,
                verify=verify,
                transport=transport,
            )
        except (OSError, ValueError, httpx.InvalidURL) as error:  # ssl.SSLError is an OSError
            raise CaClientError(
                f"cannot use the CA at {base_url[:200]}: {redact_text(str(error))}",
                "give the CA's base URL (http://host:port or https://host:port) and, for "
                "https, its root certificate as PEM",
                code="config",
            ) from None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _where(self, url: str) -> str:
        """The URL asked for, for messages: a CRL or AIA URL as it is (any user-info in it
        shown as ***), an API path under the base URL."""
        return redact_url(url) if "://" in url else f"{self.base_url}{url}"

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        where = self._where(url)[:300]
        try:
            response = self._http.request(method, url, **kwargs)
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise CaUnreachable(
                f"{where} did not answer in time",
                "check that `lyncpki ca serve` runs, or raise the timeout",
                code="timeout",
            ) from None
        except (httpx.TimeoutException, httpx.ReadError, httpx.RemoteProtocolError) as error:
            # sent, and then no answer: unlike a connection never made, the CA may have acted
            raise CaNoAnswer(
                f"{where} took the request but gave no answer ({str(error) or 'timed out'})",
                "see what the CA did (lyncpki ca list on the CA) before asking again"
                + (
                    "; if the service runs with --tls, the URL starts with https://"
                    if where.startswith("http://")
                    else ""
                ),
                code="no_answer",
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise _unreachable(where, error) from None
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:  # the CA is down or failing: not a refusal of ours
            raise CaUnreachable(
                f"the CA at {self.base_url} is not available (HTTP {response.status_code}"
                + (f": {body['message']}" if body.get("message") else "")
                + ")",
                str(body.get("fix") or "retry later; if it persists, see the CA service's log"),
                code=str(body.get("error", "unavailable")),
                status=response.status_code,
            )
        message = str(body.get("message") or f"HTTP {response.status_code} from {where}")
        fix = body.get("fix") or (
            f"check that {self.base_url} is a lyncpki CA service (its /health answers JSON)"
        )
        code = str(body.get("error", "error"))
        if code == "auth.required":  # the service's words are for HTTP; these are lyncpki's
            fix = (
                "give a CA account: --ca-account NAME, its password in --ca-password-file or "
                "$LYNCPKI_CA_PASSWORD"
            )
        kind = CaNotAuthorized if response.status_code in (401, 403, 429) else CaRefused
        raise kind(
            f"the CA refused: {message}",
            fix,
            code=code,
            status=response.status_code,
            details=body.get("refusals", []),
        )

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object; a web page or anything else at that URL is an answer from
        something that is not a lyncpki CA."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            kind = response.headers.get("content-type", "no content type")
            raise CaRefused(
                f"{redact_url(str(response.request.url))[:300]} did not answer like a lyncpki "
                f"CA (HTTP {response.status_code}, {kind[:80]})",
                f"check the CA's URL: it is the base URL of `lyncpki ca serve` (its /health "
                f"answers JSON), not {self.base_url}",
                code="not_a_ca",
                status=response.status_code,
            )
        return data

    def _enrollment(self, response: httpx.Response) -> Enrollment:
        data = self._json(response)
        try:
            certificate = _certificates(data.get("certificate", ""))
            return Enrollment(
                status=str(data["status"]),
                request_id=int(data.get("request_id") or data["id"]),
                serial=data.get("serial"),
                certificate=certificate[0] if certificate else None,
                chain=[c for pem in data.get("chain", []) for c in _certificates(pem)],
                reason=str(data.get("reason") or "")[:500],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise CaRefused(
                f"{redact_url(str(response.request.url))[:300]} answered JSON that is no "
                f"enrollment ({type(error).__name__}: {str(error)[:100]})",
                f"check that {self.base_url} is a lyncpki CA service",
                code="not_a_ca",
                status=response.status_code,
            ) from None

    def enroll(
        self, request_pem: bytes, template: str | None = None, *, validity_days: int | None = None
    ) -> Enrollment:
        """Send a request: issued (with certificate and chain) or pending (with its id).
        `validity_days`: fewer days than the template's (more is refused: policy.validity)."""
        params: dict[str, str | int] = {"template": template} if template else {}
        if validity_days is not None:
            params["validity_days"] = validity_days
        response = self._call(
            "POST",
            "/api/v1/enroll",
            content=request_pem,
            params=params or None,
            headers={"Content-Type": "application/pkcs10", "Accept": "application/json"},
        )
        return self._enrollment(response)

    def retrieve(self, request_id: int) -> Enrollment:
        """A request's state, with its certificate once a CA manager issued it."""
        return self._enrollment(self._call("GET", f"/api/v1/requests/{_id(request_id)}"))

    def approve(self, request_id: int) -> Enrollment:
        return self._enrollment(
            self._call(
                "POST",
                f"/api/v1/requests/{_id(request_id)}/approve",
                headers={"Accept": "application/json"},
            )
        )

    def deny(self, request_id: int, reason: str = "") -> None:
        self._call("POST", f"/api/v1/requests/{_id(request_id)}/deny", json={"reason": reason})

    def revoke(self, serial: str, reason: str = "unspecified") -> dict[str, Any]:
        try:  # a serial, never a path ("../requests/7/approve#" approved request 7)
            key = serial_hex(parse_serial(serial))
        except LyncPkiError as error:
            raise CaRefused(error.message, error.fix, code="request.invalid") from None
        response = self._call("POST", f"/api/v1/certificates/{key}/revoke", json={"reason": reason})
        return self._json(response)

    def fetch_crl(self, url: str) -> x509.CertificateRevocationList:
        data = self._call("GET", url).content
        try:
            return x509.load_der_x509_crl(data)
        except ValueError:
            raise CaRefused(
                f"{redact_url(url)} did not return a DER CRL", "check the CDP URL"
            ) from None

    def fetch_certificate(self, url: str) -> x509.Certificate:
        data = self._call("GET", url).content
        try:
            return x509.load_der_x509_certificate(data)
        except ValueError:
            raise CaRefused(
                f"{redact_url(url)} did not return a DER certificate", "check the AIA URL"
            ) from None

    def health(self) -> dict[str, Any]:
        return self._json(self._call("GET", "/health"))

    def account(self) -> dict[str, Any]:
        """The account these credentials sign in as ({"account", "role"}); CaNotAuthorized
        when they do not."""
        return self._json(self._call("GET", "/api/v1/account"))
