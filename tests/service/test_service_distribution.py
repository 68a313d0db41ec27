"""CRLs and CA certificates as relying parties fetch them: openssl follows the CDP URL written in
the certificate to this server (`-crl_download`), and the HTTP answers carry the media types
and caching headers that Windows, IIS and proxies expect."""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from service_tools import (
    Service,
    enroll_pem,
    make_service,
    openssl,
    openssl_req,
    revoke,
    serial_of,
    verify,
)

pytestmark = pytest.mark.external


def _uri(text: str, title: str) -> str:
    """The URI openssl prints under a certificate's extension (CDP `Full Name`, AIA lines)."""
    match = re.search(title + r".*?URI:(\S+)", text, re.DOTALL)
    assert match, f"no {title} URI in:\n{text}"
    return match.group(1)


def test_crl_download_follows_the_cdp_and_sees_a_revocation(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    text = openssl("x509", "-in", leaf, "-noout", "-text")
    cdp = _uri(text, "CRL Distribution Points")
    assert cdp.startswith(f"{service.url}/crl/"), cdp

    process = verify(service, leaf, "-crl_check", "-crl_download")
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == f"{leaf}: OK"

    # the revocation publishes the CRL (it waited for a `ca crl` on the CA's machine)
    assert revoke(service, leaf)["crl"] == "published"

    process = verify(service, leaf, "-crl_check", "-crl_download")
    assert process.returncode != 0, process.stdout + process.stderr
    assert "certificate revoked" in process.stdout + process.stderr

    # the CRL the server now hands out lists the serial with its reason
    crl = work / "fetched.crl"
    crl.write_bytes(httpx.get(cdp).content)
    listed = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text")
    serial = serial_of(leaf).upper()
    serial = "0" * (len(serial) % 2) + serial
    assert f"Serial Number: {serial}" in listed, listed
    assert "Key Compromise" in listed.split(f"Serial Number: {serial}", 1)[1].split("Serial")[0]


def _settled(service: Service) -> None:
    """Wait until the second the served CRLs were written in is over: Last-Modified is given
    only then (two CRLs published within one second would share it)."""
    newest = max(p.stat().st_mtime for p in (service.home / "publish" / "crl").glob("*.crl"))
    time.sleep(max(0.0, int(newest) + 1 - time.time()) + 0.05)


def test_crl_answer_headers_and_conditional_get(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    cdp = _uri(openssl("x509", "-in", leaf, "-noout", "-text"), "CRL Distribution Points")
    _settled(service)
    answer = httpx.get(cdp)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-crl"
    cache = answer.headers["cache-control"]
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age and 0 < int(max_age.group(1)) <= 3600, cache
    etag = answer.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"'), etag
    assert "last-modified" in answer.headers and "expires" in answer.headers
    # Expires is when max-age ends (an HTTP/1.0 cache reads only Expires): nextUpdate, a
    # week away, kept a CRL cached long past the publication of the next one
    expires = email.utils.parsedate_to_datetime(answer.headers["expires"])
    sent = email.utils.parsedate_to_datetime(answer.headers["date"])
    assert abs((expires - sent).total_seconds() - int(max_age.group(1))) <= 2, answer.headers
    # openssl reads it, signed by the issuing CA
    crl = work / "issuing.crl"
    crl.write_bytes(answer.content)
    checked = openssl("crl", "-inform", "DER", "-in", crl, "-CAfile", service.issuing_crt, "-noout")
    assert checked == ""  # `verify OK` goes to stderr; a bad signature exits non-zero

    again = httpx.get(cdp, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = httpx.get(cdp, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == answer.content
    head = httpx.head(cdp)
    assert head.status_code == 200 and head.headers["etag"] == etag

    # the delta CRL named in the base CRL's Freshest CRL is served too
    delta = httpx.get(cdp.replace(".crl", "+.crl"))
    assert delta.status_code == 200
    assert delta.headers["content-type"] == "application/pkix-crl"
    delta_file = work / "delta.crl"
    delta_file.write_bytes(delta.content)
    delta_text = openssl("crl", "-inform", "DER", "-in", delta_file, "-noout", "-text")
    assert "Delta CRL Indicator" in delta_text


def test_aia_serves_the_issuing_ca_certificate(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    aia = _uri(openssl("x509", "-in", leaf, "-noout", "-text"), "CA Issuers")
    assert aia == f"{service.url}/aia/{service.slug}.crt"
    answer = httpx.get(aia)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pkix-cert"
    assert "max-age" in answer.headers["cache-control"]
    expected = work / "issuing.der"
    openssl("x509", "-in", service.issuing_crt, "-outform", "DER", "-out", expected)
    assert answer.content == expected.read_bytes()
    # and the issuing CA's own AIA points at the root's certificate, served the same way
    issuing_aia = _uri(openssl("x509", "-in", service.issuing_crt, "-noout", "-text"), "CA Issuers")
    root = httpx.get(issuing_aia)
    assert root.status_code == 200
    root_der = work / "root.der"
    openssl("x509", "-in", service.root_crt, "-outform", "DER", "-out", root_der)
    assert root.content == root_der.read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/crl/no-such-ca.crl",
        "/crl/..%2Fca%2Fconfig.json",
        "/crl/../ca/issuing.key",
        "/aia/..%2F..%2Fca%2Fissuing.key",
        "/aia/UPPER.crt",
        "/aia/x.pem",
    ],
)
def test_unpublished_names_are_404(service: Service, path: str) -> None:
    answer = httpx.get(service.url + path)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"] == "not_found"
    assert b"PRIVATE KEY" not in answer.content


@pytest.mark.parametrize("form", ["list", "star", "weak"])
def test_if_none_match_lists_star_and_weak_tags(service: Service, form: str) -> None:
    url = f"{service.url}/crl/{service.slug}.crl"
    etag = httpx.get(url).headers["etag"]
    header = {"list": f'"an-older-one", {etag}', "star": "*", "weak": f"W/{etag}"}[form]
    answer = httpx.get(url, headers={"If-None-Match": header})
    assert answer.status_code == 304, (header, answer.status_code)


def test_if_modified_since_answers_304_for_a_crl_no_newer(service: Service) -> None:
    """If-Modified-Since was ignored (a full 200 each time); If-None-Match, when sent, still
    decides alone (RFC 9110 13.1.3)."""
    url = f"{service.url}/crl/{service.slug}.crl"
    _settled(service)  # a CRL published in the second under way has no Last-Modified yet
    first = httpx.get(url)
    modified = first.headers["last-modified"]
    later = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(modified) + dt.timedelta(hours=1), usegmt=True
    )
    earlier = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(modified) - dt.timedelta(hours=1), usegmt=True
    )
    assert httpx.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert httpx.get(url, headers={"If-Modified-Since": later}).status_code == 304
    again = httpx.get(url, headers={"If-Modified-Since": earlier})
    assert again.status_code == 200 and again.content == first.content
    assert httpx.get(url, headers={"If-Modified-Since": "not a date"}).status_code == 200
    mismatch = {"If-Modified-Since": later, "If-None-Match": '"another-tag"'}
    assert httpx.get(url, headers=mismatch).status_code == 200


def test_a_file_of_the_second_under_way_has_no_last_modified(tmp_path: Path) -> None:
    """Two CRLs published within one second had the same Last-Modified: a client holding the
    first, asking If-Modified-Since, was told (304) it had the second. Last-Modified is given,
    and If-Modified-Since honoured, once the file's second is over; the ETag serves meanwhile."""
    from starlette.requests import Request

    from lyncpki.clock import SystemClock
    from lyncpki.service.published import PublishedFiles

    (tmp_path / "crt").mkdir()
    path = tmp_path / "crt" / "test-ca.crt"
    path.write_bytes(b"a certificate as published")
    files = PublishedFiles(tmp_path, SystemClock())

    def get(since: float) -> tuple[int, dict[str, str]]:
        header = email.utils.formatdate(since, usegmt=True).encode()
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(b"if-modified-since", header)],
        }
        answer = files.respond(Request(scope), "crt", path.name)
        return answer.status_code, {k.lower(): v for k, v in answer.headers.items()}

    now = time.time()
    os.utime(path, (now + 5, now + 5))  # a second not over (ahead, as a clock set apart)
    status, headers = get(now + 5)
    assert status == 200 and "last-modified" not in headers and headers["etag"]
    os.utime(path, (now - 10, now - 10))  # a second long over
    status, headers = get(now - 10)
    assert status == 304
    assert email.utils.parsedate_to_datetime(headers["last-modified"]).timestamp() == int(now - 10)


def test_a_hold_released_through_the_api_is_published_at_once(service: Service, work: Path) -> None:
    """POST .../unrevoke publishes the CRL too: openssl, fetching it from the certificate's
    CDP, refuses the held certificate, then takes it again once released."""
    leaf = enroll_pem(service, openssl_req(work))
    revoke(service, leaf, "certificateHold")
    held = verify(service, leaf, "-crl_check", "-crl_download")
    assert held.returncode != 0 and "certificate revoked" in held.stdout + held.stderr
    with service.client("boss") as http:
        answer = http.post(f"/api/v1/certificates/{serial_of(leaf)}/unrevoke")
    assert answer.status_code == 200, answer.text
    assert answer.json()["crl"] == "published"
    process = verify(service, leaf, "-crl_check", "-crl_download")
    assert process.returncode == 0, process.stdout + process.stderr


def test_the_issuing_cas_own_certificate_is_not_revoked_through_the_api(
    service: Service, work: Path
) -> None:
    """A manager's (or an auditor's) one call revoked the issuing CA's own certificate, and
    every enrollment failed from then on: refused now with 403, audited, as the console
    refuses it; the CA still issues and openssl still verifies with the root's CRL."""
    issuing = serial_of(service.issuing_crt)
    with service.client("boss") as http:
        answer = http.post(
            f"/api/v1/certificates/{issuing}/revoke", json={"reason": "certificateHold"}
        )
    assert answer.status_code == 403, answer.text
    said = answer.json()
    assert said["error"] == "auth.forbidden"
    assert "lyncpki ca revoke" in said["fix"]
    row = next(r for r in service.audit() if r["action"] == "revoke" and r["target"] == issuing)
    assert row["outcome"] == "refused" and row["actor"] == "boss"
    leaf = enroll_pem(service, openssl_req(work))
    assert verify(service, leaf).returncode == 0
    with service.client() as http:
        assert http.get("/health").status_code == 200


def test_ca_serve_publishes_a_crl_that_is_due_when_it_starts(tmp_path: Path) -> None:
    """`ca serve` keeps its home's CRLs current (ca/crl_schedule.py): a delta CRL missing (or
    past half its life) when it starts is published, said in its log, and served."""
    served = make_service(tmp_path, accounts=())
    try:
        served.stop()
        delta = served.home / "publish" / "crl" / f"{served.slug}+.crl"
        delta.unlink()
        served.start()
        deadline = time.monotonic() + 20
        while not delta.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert delta.exists(), served.log.read_text()
        assert "published delta CRL #" in served.log.read_text()
        answer = httpx.get(f"{served.url}/crl/{served.slug}+.crl", timeout=10)
        assert answer.status_code == 200
        fetched = tmp_path / "delta.crl"
        fetched.write_bytes(answer.content)
        text = openssl("crl", "-inform", "DER", "-in", fetched, "-noout", "-text")
        assert "Delta CRL Indicator" in text
    finally:
        served.stop()
