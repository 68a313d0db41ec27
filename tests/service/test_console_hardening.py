"""The web console's defences and pages, run in this process (Starlette's TestClient against
the service's app, a CA made here): form bodies capped before they are parsed, refusals
audited without flooding the log, pages rendered off the event loop, and what the pages show.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_tools import DOMAIN, in_process_ca, openssl_req

from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.service.app import ServiceApp, create_app

PASSWORDS = {"fe01": "console-fe01-password", "boss": "console-boss-password"}


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    authority: CertificateAuthority = in_process_ca(
        tmp_path / "home", b"console-hardening", "Console Issuing CA"
    )
    accounts = Accounts(authority.engine)
    accounts.add("fe01", Role.REQUESTER, PASSWORDS["fe01"])
    accounts.add("boss", Role.MANAGER, PASSWORDS["boss"])
    return authority


@pytest.fixture
def app(ca: CertificateAuthority) -> ServiceApp:
    return create_app(ca)


@pytest.fixture
def client(app: ServiceApp) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, name: str, next_page: str = "/ui/request") -> str:
    """Sign in as `name`; the CSRF token of its session."""
    client.get("/ui/login")
    token = client.cookies["lyncpki_login"]
    signed = client.post(
        "/ui/login",
        data={"name": name, "password": PASSWORDS[name], "token": token, "next": next_page},
    )
    assert signed.status_code == 303, signed.text
    page = client.get("/ui/request").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def audit_rows(ca: CertificateAuthority, **match: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ca.audit_log(limit=100_000)
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


# ------------------------------------------------------------------ 1. form bodies capped
def test_a_form_body_over_the_cap_is_refused_before_it_is_parsed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /ui/login read and parsed a body of any size (a 1.5 GB file part spooled to /tmp,
    60 MB forms in memory) before it refused the missing token: refused at the cap now, by its
    Content-Length or, sent chunked, by the bytes as they come — never parsed."""
    from starlette.requests import Request

    parsed: list[str] = []
    real_form = Request.form

    def form(self: Request, **kwargs: Any) -> Any:
        parsed.append(self.url.path)
        return real_form(self, **kwargs)

    monkeypatch.setattr(Request, "form", form)
    big = b"name=" + b"A" * (1024 * 1024)
    declared = client.post(
        "/ui/login", content=big, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert declared.status_code == 413, declared.text[:300]
    assert declared.headers["content-type"].startswith("text/html")
    assert "Form too large" in declared.text and "16 KiB" in declared.text
    assert declared.headers["x-frame-options"] == "DENY"

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b"name="
        for _ in range(64):
            yield b"B" * 16384

    streamed = client.post(
        "/ui/login", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413, streamed.text[:300]
    multipart = client.post(
        "/ui/login", files={"file": ("big.bin", b"\0" * (1024 * 1024), "application/octet-stream")}
    )
    assert multipart.status_code == 413, multipart.text[:300]
    assert parsed == []  # nothing reached the parser
    small = client.post("/ui/login", data={"name": "x", "password": "y", "token": "z"})
    assert small.status_code == 403 and "security token" in small.text  # under the cap: as before
    assert parsed == ["/ui/login"]


def test_the_request_page_takes_a_request_pasted_whole_but_no_more(client: TestClient) -> None:
    """The request page's cap leaves room for a request of 64 KiB percent-encoded; a form of
    many fields or files is refused by the parser, on the console's page."""
    csrf = sign_in(client, "fe01")
    pasted = client.post(
        "/ui/request", data={"csrf": csrf, "csr": "+/=\n" * (40 * 1024)}
    )  # 160 KiB of text, 400 KiB encoded: over the cap
    assert pasted.status_code == 413 and "256 KiB" in pasted.text
    fields = client.post("/ui/request", data={"csrf": csrf, **{f"f{i}": "x" for i in range(40)}})
    assert fields.status_code == 400 and "could not be read" in fields.text
    files = client.post(
        "/ui/request",
        data={"csrf": csrf},
        files=[("file", ("a.req", b"x", "application/octet-stream"))] * 3,
    )
    assert files.status_code == 400 and "could not be read" in files.text


# ------------------------------------------------------------------ 2. sign-in refusals
def test_sign_in_refusals_are_audited_once_a_minute_whatever_the_name(
    client: TestClient, ca: CertificateAuthority
) -> None:
    """A sign-in form without its token, and a throttled client's attempts, wrote a row each
    into the append-only audit log (700 a second from one client, each with a name of its
    choice): a row a minute of each kind now. Wrong passwords are still audited one by one."""
    client.get("/ui/login")
    for n in range(40):  # the token missing, a new name each time
        answer = client.post("/ui/login", data={"name": f"probe{n}", "password": "x"})
        assert answer.status_code == 403
    token = client.cookies["lyncpki_login"]
    statuses = []
    for n in range(30):  # wrong passwords, then throttled (20 failures per client a minute)
        answer = client.post(
            "/ui/login", data={"name": f"guess{n}", "password": "wrong", "token": token}
        )
        statuses.append(answer.status_code)
    assert statuses == [401] * 20 + [429] * 10
    forged = audit_rows(ca, action="login", detail="web: sign-in form's token missing or wrong")
    assert len(forged) == 1 and forged[0]["actor"] == "probe0", forged
    wrong = audit_rows(ca, action="login", detail="web: wrong name or password")
    assert len(wrong) == 20
    throttled = audit_rows(ca, action="login", detail="web: throttled")
    assert len(throttled) == 1 and throttled[0]["actor"] == "guess20", throttled


def test_the_audit_throttle_counts_what_it_did_not_write_by_kind() -> None:
    import asyncio

    from lyncpki.service.audit_throttle import AUDIT_EVERY, AuditThrottle

    now = [50.0]
    written: list[tuple[str, ...]] = []
    rows = AuditThrottle(lambda *row: written.append(row), clock=lambda: now[0])

    async def refuse(kind: str, times: int) -> None:
        for n in range(times):
            await rows.refused(kind, f"actor{n}", "login", "client", "refused", f"{kind} refused")

    asyncio.run(refuse("a", 100))
    asyncio.run(refuse("b", 3))  # another kind: its own row
    now[0] += AUDIT_EVERY
    asyncio.run(refuse("a", 1))
    asyncio.run(refuse("a", 1))  # within the new interval: counted
    assert [(row[0], row[-1]) for row in written] == [
        ("actor0", "a refused"),
        ("actor0", "b refused"),
        ("actor0", "a refused (99 more since the last row)"),
    ]


# ------------------------------------------------------------------ 3. pages off the loop
def test_a_slow_page_does_not_hold_up_the_service(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages ran on the event loop: with 600 pending requests /ui/pending took half a
    second, and OCSP, the API and /health waited for it. A page held until /health has
    answered: /health answers meanwhile (on the old code the page gave up waiting first)."""
    import threading

    from lyncpki.web.console import Console

    sign_in(client, "fe01")
    entered, health_answered = threading.Event(), threading.Event()
    seen: list[bool] = []
    real_page = Console.ca_page

    def slow_page(self: Console, request: Any) -> Any:
        entered.set()
        seen.append(health_answered.wait(timeout=10))
        return real_page(self, request)

    monkeypatch.setattr(Console, "ca_page", slow_page)
    pages: list[int] = []
    loader = threading.Thread(target=lambda: pages.append(client.get("/ui/ca").status_code))
    loader.start()
    assert entered.wait(timeout=30)
    assert client.get("/health").status_code == 200
    health_answered.set()
    loader.join(timeout=30)
    assert seen == [True] and pages == [200]


@pytest.mark.parametrize(
    ("path", "owner", "name"),
    [
        ("/ui", "lyncpki.web.session.Sessions", "read"),
        ("/ui/login", "lyncpki.web.console.Console", "login_page"),
    ],
)
def test_the_entry_pages_do_not_hold_up_the_service(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str, owner: str, name: str
) -> None:
    """/ui read the session (the file of ended sessions) and /ui/login rendered its page on the
    event loop: a slow disk held up OCSP, the API and /health. Held until /health has
    answered, each lets /health answer meanwhile."""
    import importlib
    import threading

    module, _, cls = owner.rpartition(".")
    target = getattr(importlib.import_module(module), cls)
    sign_in(client, "fe01")
    entered, health_answered = threading.Event(), threading.Event()
    seen: list[bool] = []
    real = getattr(target, name)

    def slow(self: Any, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        seen.append(health_answered.wait(timeout=10))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(target, name, slow)
    answers: list[int] = []
    loader = threading.Thread(target=lambda: answers.append(client.get(path).status_code))
    loader.start()
    assert entered.wait(timeout=30)
    assert client.get("/health").status_code == 200
    health_answered.set()
    loader.join(timeout=30)
    assert seen[:1] == [True] and answers and answers[0] in (200, 303)


# ------------------------------------------------------------------ 4. pending: policy now
def test_the_pending_page_judges_requests_by_the_namespaces_the_ca_signs_now(
    client: TestClient, ca: CertificateAuthority, tmp_path: Path
) -> None:
    """The pending page judged by the namespaces read at start, approve by config.json as it is
    now (`ca domains` in another process): "passes the template's policy", then refused."""
    import dataclasses

    from lyncpki.ca.home import CaHome

    csr = openssl_req(tmp_path, f"/CN=fe01.{DOMAIN}", (f"fe01.{DOMAIN}",), key="ec:P-256")
    asked = ca.submit(csr.read_bytes(), requester="fe01", template="SubCA")
    assert asked.status == "pending"
    sign_in(client, "boss")
    assert "passes the template's policy" in client.get("/ui/pending").text
    other = CaHome(ca.home.root)  # `lyncpki ca domains` run in another process
    other.write_config(dataclasses.replace(other.read_config(), namespaces=("other.example",)))
    page = client.get("/ui/pending").text
    assert "passes the template's policy" not in page
    assert "other.example" in page, page[-1500:]


def test_a_managers_own_request_is_shown_without_buttons_it_may_not_use(
    client: TestClient, ca: CertificateAuthority, tmp_path: Path
) -> None:
    """The pending page offered Approve and Deny on the signed-in manager's own request, which
    the console then refused (403): its row says another manager decides it; another's row
    keeps its buttons."""
    own = openssl_req(tmp_path, f"/CN=fe02.{DOMAIN}", (f"fe02.{DOMAIN}",), key="ec:P-256")
    other = openssl_req(tmp_path, f"/CN=fe03.{DOMAIN}", (f"fe03.{DOMAIN}",), key="ec:P-256")
    mine = ca.submit(own.read_bytes(), requester="boss", template="SubCA").request_id
    theirs = ca.submit(other.read_bytes(), requester="fe01", template="SubCA").request_id
    sign_in(client, "boss")
    page = client.get("/ui/pending").text
    rows = {
        int(found[1]): found[2]
        for found in re.finditer(r'<tr data-request="(\d+)">(.*?)</tr>', page, re.DOTALL)
    }
    assert "/approve" not in rows[mine] and "/deny" not in rows[mine], rows[mine]
    assert "another manager decides it" in rows[mine]
    assert f"/ui/pending/{theirs}/approve" in rows[theirs]
    assert f"/ui/pending/{theirs}/deny" in rows[theirs]


# ------------------------------------------------------------------ 5, 6. the dashboard
class _Slot:
    def __init__(self, thumbprint: str) -> None:
        self.current = self
        self.thumbprint = thumbprint


class _Index:
    def __init__(self, thumbprint: str) -> None:
        self.thumbprint = thumbprint

    def slots(self, usage: str, now: object) -> _Slot:
        return _Slot(self.thumbprint)


def _every_store_holds(monkeypatch: pytest.MonkeyPatch, cert: Any) -> None:
    """Every server of the topology with `cert` assigned for every usage (a store stand-in)."""
    from lyncpki.web import dashboard as module
    from lyncpki.x509.identifiers import thumbprint

    class Store:
        def __init__(self, home: Path, server: str) -> None:
            pass

        def exists(self) -> bool:
            return True

        def load(self) -> _Index:
            return _Index(thumbprint(cert))

        def certificate(self, thumbprint_text: str) -> Any:
            return cert

    monkeypatch.setattr(module, "ServerStore", Store)


def test_the_dashboard_shows_a_revoked_certificate_at_once(
    client: TestClient, ca: CertificateAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate revoked (or put on hold) showed as "assigned", healthy, until Check now."""
    import shutil

    from lab import CONTOSO

    shutil.copyfile(CONTOSO, ca.home.root / "topology.yaml")
    csr = openssl_req(tmp_path, f"/CN=fe01.{DOMAIN}", (f"fe01.{DOMAIN}",), key="ec:P-256")
    issued = ca.submit(csr.read_bytes(), requester="fe01", template=None)
    assert issued.certificate is not None and issued.serial is not None
    _every_store_holds(monkeypatch, issued.certificate)
    sign_in(client, "fe01")
    before = client.get("/ui/dashboard").text
    assert 'data-state="assigned"' in before and 'data-state="revoked"' not in before
    ca.revoke(issued.serial, reason="certificateHold", actor="boss")
    after = client.get("/ui/dashboard").text
    assert 'data-state="assigned"' not in after and 'data-state="revoked"' in after
    assert "(certificateHold)" in after
    assert re.search(r'data-count="revoked">[1-9]', after)


@pytest.mark.parametrize(
    "findings",
    [None, "x", ["x"], [{"severity": "error"}], [{"id": "a", "severity": "error", "message": 3}]],
)
def test_a_damaged_last_check_is_ignored_with_a_note(
    client: TestClient, ca: CertificateAuthority, findings: object
) -> None:
    """A last-check.json (or report.json) whose findings were null, strings or findings
    without their id made the dashboard a 500."""
    import json

    report = {"schema": "lyncpki.findings/1", "generated": "2026-01-01", "findings": findings}
    (ca.home.root / "last-check.json").write_text(json.dumps(report))
    (ca.home.root / "report.json").write_text(json.dumps({"check": report}))
    sign_in(client, "fe01")
    page = client.get("/ui/dashboard")
    assert page.status_code == 200, page.text[-500:]
    assert "last-check.json was ignored" in page.text and "report.json was ignored" in page.text
    assert "No check has run yet" in page.text


# ------------------------------------------------------------------ 7. revoke, confirmed
def test_a_revocation_is_named_and_confirmed_with_a_reason_chosen(
    client: TestClient, ca: CertificateAuthority, tmp_path: Path
) -> None:
    """Revoke was one click, with "unspecified" chosen in advance (final, and says nothing),
    the CA's own certificate included."""
    from lyncpki.x509.identifiers import serial_hex

    csr = openssl_req(tmp_path, f"/CN=fe01.{DOMAIN}", (f"fe01.{DOMAIN}",), key="ec:P-256")
    serial = ca.submit(csr.read_bytes(), requester="fe01", template=None).serial
    assert serial is not None
    csrf = sign_in(client, "boss")
    listing = client.get("/ui/certificates").text
    assert f'<form method="post" action="/ui/certificates/{serial}/revoke"' not in listing
    assert '<option value="">choose…</option>' in listing  # no reason chosen in advance

    def status() -> str:
        return str(ca.certificate(serial)[0]["status"])

    unchosen = client.post(f"/ui/certificates/{serial}/revoke", data={"csrf": csrf})
    assert unchosen.status_code == 422 and "Choose the reason" in unchosen.text
    unconfirmed = client.post(
        f"/ui/certificates/{serial}/revoke", data={"csrf": csrf, "reason": "superseded"}
    )
    assert unconfirmed.status_code == 200 and 'data-reason="superseded"' in unconfirmed.text
    assert status() == "valid"
    page = client.get(f"/ui/certificates/{serial}/revoke", params={"reason": "keyCompromise"})
    assert page.status_code == 200
    assert f"fe01.{DOMAIN}" in page.text and serial in page.text
    assert 'data-reason="keyCompromise"' in page.text and 'name="confirm" value="1"' in page.text
    done = client.post(
        f"/ui/certificates/{serial}/revoke",
        data={"csrf": csrf, "reason": "keyCompromise", "confirm": "1"},
    )
    assert done.status_code == 200 and "revoked (keyCompromise)" in done.text
    assert status() == "revoked"

    own = serial_hex(ca.issuer.certificate.serial_number)
    assert client.get(f"/ui/certificates/{own}/revoke").status_code == 403
    refused = client.post(
        f"/ui/certificates/{own}/revoke",
        data={"csrf": csrf, "reason": "superseded", "confirm": "1"},
    )
    assert refused.status_code == 403 and "lyncpki ca revoke" in refused.text
    assert ca.revocation(ca.issuer.certificate.serial_number) is None


# ------------------------------------------------------------------ 10. error pages
def test_an_error_page_shows_no_removed_account_as_signed_in(
    client: TestClient, ca: CertificateAuthority
) -> None:
    """A 404 page showed an account removed since sign-in as signed in, its menu and all."""
    sign_in(client, "fe01")
    assert "fe01 (requester)" in client.get("/ui/nothere").text
    Accounts(ca.engine).remove("fe01")
    page = client.get("/ui/nothere")
    assert page.status_code == 404
    assert "fe01 (requester)" not in page.text and "Sign out" not in page.text


# ------------------------------------------------------------------ 12. HSTS
def test_pages_served_over_https_ask_for_https_only(app: ServiceApp) -> None:
    with TestClient(app, base_url="https://ca.example", follow_redirects=False) as secure:
        login = secure.get("/ui/login")
        assert login.headers["strict-transport-security"] == "max-age=31536000"
        assert secure.get("/ui/nothere").headers["strict-transport-security"]
    with TestClient(app, follow_redirects=False) as plain:  # over HTTP a browser ignores it
        assert "strict-transport-security" not in plain.get("/ui/login").headers


# ------------------------------------------------------------------ 9. where sign-in leads
def test_sign_in_comes_back_to_the_page_and_its_query(client: TestClient) -> None:
    """A failed sign-in forgot where it was to lead (the form shown again led to /ui/request),
    and a session ending on a filtered list dropped the filter."""
    from urllib.parse import quote

    page = "/ui/certificates?q=fe01&status=revoked"
    away = client.get(page)
    assert away.headers["location"] == f"/ui/login?next={quote(page)}"
    form = client.get(away.headers["location"])
    assert 'name="next" value="/ui/certificates?q=fe01&amp;status=revoked"' in form.text
    token = client.cookies["lyncpki_login"]
    wrong = client.post(
        "/ui/login", data={"name": "fe01", "password": "wrong", "token": token, "next": page}
    )
    assert wrong.status_code == 401
    assert 'name="next" value="/ui/certificates?q=fe01&amp;status=revoked"' in wrong.text
    signed = client.post(
        "/ui/login",
        data={"name": "fe01", "password": PASSWORDS["fe01"], "token": token, "next": page},
    )
    assert signed.headers["location"] == page
    for elsewhere in ("https://evil.example/", "//evil.example/ui/", "/ui/..//evil.example"):
        assert (
            'name="next" value="/ui/request"'
            in client.get("/ui/login", params={"next": elsewhere}).text
        )


# ------------------------------------------------------------------ 11. other methods
def test_other_methods_get_a_console_page_and_head_works(client: TestClient) -> None:
    """HEAD, OPTIONS and PUT on console addresses got the API's JSON 405."""
    login = client.head("/ui/login")
    assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
    assert client.head("/ui/pending").status_code == 303  # as GET: sign in first
    for method, path, allow in (
        ("PUT", "/ui/login", "GET, HEAD, POST"),
        ("OPTIONS", "/ui/request", "GET, HEAD, POST"),
        ("DELETE", "/ui/certificates", "GET, HEAD"),
        ("PATCH", "/ui/logout", "POST"),
    ):
        answer = client.request(method, path)
        assert answer.status_code == 405, (method, path, answer.text[:200])
        assert answer.headers["content-type"].startswith("text/html"), (method, path)
        assert answer.headers["allow"] == allow, (method, path)
        assert answer.headers["x-frame-options"] == "DENY"
        assert "Method not allowed" in answer.text
    nowhere = client.request("PUT", "/ui/nothere")
    assert nowhere.status_code == 404 and "There is no console page" in nowhere.text
    assert client.put("/api/v1/enroll").headers["content-type"] == "application/json"


# ------------------------------------------------------------------ 8. certificate pages
def test_the_certificate_list_pages_keeping_its_query_and_shows_the_newest_first(
    client: TestClient, ca: CertificateAuthority, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list stopped at 500 rows, without a word or a way on, oldest first: the newest
    certificates could not be seen."""
    import html

    from lyncpki.web import console

    monkeypatch.setattr(console, "PAGE_ROWS", 2)
    clock = ca.clock
    for n in range(5):
        host = f"fe{n:02d}.{DOMAIN}"
        csr = openssl_req(tmp_path, f"/CN={host}", (host,), key="ec:P-256")
        ca.clock = _later(clock, n)  # each issued (and ending) a little later
        assert ca.submit(csr.read_bytes(), requester="fe01", template=None).serial
    sign_in(client, "fe01")
    first = client.get("/ui/certificates").text
    assert f"fe04.{DOMAIN}" in first and f"fe00.{DOMAIN}" not in first  # the newest first
    assert "Certificates 1 to 2 of 5" in first and "page 1 of 3" in first
    assert 'rel="prev"' not in first
    filtered = client.get(
        "/ui/certificates", params={"q": DOMAIN, "status": "valid", "sort": "subject", "dir": "asc"}
    ).text
    following = re.search(r'<a href="([^"]+)" rel="next">', filtered)
    assert following is not None
    link = html.unescape(following.group(1))
    for kept in (f"q={DOMAIN}", "status=valid", "sort=subject", "dir=asc", "page=2"):
        assert kept in link, link
    second = client.get(link).text
    assert "Certificates 3 to 4 of 5" in second and 'rel="prev"' in second
    assert f"fe02.{DOMAIN}" in second and f"fe00.{DOMAIN}" not in second
    last = client.get("/ui/certificates", params={"page": "99"}).text  # past the end: the last
    assert "Certificates 5 to 5 of 5" in last and 'rel="next"' not in last
    for wrong in ("0", "-1", "x", "9" * 5000):  # the first page, never a 500
        assert "Certificates 1 to 2 of 5" in client.get(f"/ui/certificates?page={wrong}").text


def _later(clock: Any, n: int) -> Any:
    import datetime as dt

    class Later:
        def now(self) -> dt.datetime:
            return clock.now() + dt.timedelta(minutes=n + 1)

    return Later()


def test_a_content_length_of_thousands_of_digits_is_too_large_not_a_500(app: ServiceApp) -> None:
    """int() refuses a number of more than 4,300 digits: the declared length was a 500."""
    with TestClient(app, raise_server_exceptions=False) as raw:
        answer = raw.post(
            "/ui/login",
            content=b"a=b",
            headers={
                "Content-Length": "9" * 5000,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert answer.status_code == 413, answer.text[:200]
