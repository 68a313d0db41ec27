"""A CA account removed (or added again with another role) while `lyncpki ca serve` runs with two
workers is refused at once by both — through the API, whose workers remember checked
credentials for a minute, and through the console, whose sessions last eight hours — and every
refusal is audited.

Every request below goes on a new connection (`Connection: close`), so that the kernel hands
them to either worker; a dozen of them reach both. The removed account's attempts come from an
address of their own (127.0.0.21): after five failures its client is throttled (429), and no
other test's client must be.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_tools import (
    PASSWORDS,
    CurlAnswer,
    Service,
    curl,
    free_port,
    init_ca,
    lyncpki,
    openssl_req,
    service_env,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.external

ROUNDS = 12  # requests on new connections: both workers answer some
CLOSE = {"Connection": "close"}
LEAVING_CLIENT = "127.0.0.21"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """A CA of its own (these tests remove accounts), served by two workers."""
    folder = tmp_path_factory.mktemp("account-changes")
    port = free_port()
    home = folder / "home"
    init_ca(home, port, accounts=("fe01", "boss"))
    log = folder / "serve.log"
    service = Service(home, port, folder, log)
    service.process = start_server(home, port, log, workers=2)
    try:
        yield service
    finally:
        stop_server(service.process)


def _add(service: Service, name: str, role: str, password: str) -> None:
    env = service_env(LYNCPKI_ACCOUNT_PASSWORD=password)
    lyncpki("ca", "account", "add", name, "--role", role, "--home", service.home, env=env)


def _statuses(
    service: Service, method: str, path: str, auth: tuple[str, str], client: str = "127.0.0.1"
) -> list[int]:
    transport = httpx.HTTPTransport(local_address=client)
    with httpx.Client(
        base_url=service.url, auth=auth, timeout=60, headers=CLOSE, transport=transport
    ) as http:
        return [http.request(method, path).status_code for _ in range(ROUNDS)]


def _enroll(service: Service, work: Path, name: str, password: str) -> CurlAnswer:
    csr = openssl_req(work)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "--interface",
        LEAVING_CLIENT,
        "-u",
        f"{name}:{password}",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    return answer


def test_a_removed_account_is_refused_at_once_by_every_worker(served: Service, work: Path) -> None:
    name, password = "fe-leaving", "fe-leaving-password-01"
    _add(served, name, "requester", password)
    enrolled = _enroll(served, work, name, password)
    assert enrolled.status == 200, enrolled
    path = f"/api/v1/requests/{enrolled.headers['x-request-id']}"  # its own request
    assert _statuses(served, "GET", path, (name, password), LEAVING_CLIENT) == [200] * ROUNDS

    served.cli("ca", "account", "remove", name)
    refused_before = _refused_logins(served, name)
    assert _enroll(served, work, name, password).status == 401
    # four more failures, then the account and its client are throttled (refused all the same)
    statuses = _statuses(served, "GET", path, (name, password), LEAVING_CLIENT)
    assert statuses == [401] * 4 + [429] * (ROUNDS - 4), statuses

    # every failure audited; the throttled ones a row a minute in each worker that saw one
    assert refused_before + 1 + 4 + 1 <= _refused_logins(served, name) <= refused_before + 7
    rows = served.audit()
    removal = next(r for r in rows if r["action"] == "account-remove" and r["target"] == name)
    issued_after = [
        r for r in rows if r["actor"] == name and r["action"] == "issue" and r["id"] > removal["id"]
    ]
    assert issued_after == []


def _refused_logins(service: Service, name: str) -> int:
    return sum(
        1
        for row in service.audit(2000)
        if row["actor"] == name and row["action"] == "login" and row["outcome"] == "refused"
    )


def test_a_manager_added_again_as_requester_may_no_longer_decide(
    served: Service, work: Path
) -> None:
    name, password = "boss-demoted", "boss-demoted-password-01"
    _add(served, name, "manager", password)
    csr = openssl_req(work, "/CN=Corp Test Sub CA", None)
    with httpx.Client(base_url=served.url, timeout=60) as http:
        pending = http.post(
            "/api/v1/enroll?template=SubCA",
            content=csr.read_bytes(),
            auth=("fe01", PASSWORDS["fe01"]),
            headers={"Content-Type": "application/pkcs10"},
        )
    assert pending.status_code == 202, pending.text
    request_id = pending.json()["request_id"]
    # as a manager it may see anyone's request: remembered by the workers
    seen = _statuses(served, "GET", f"/api/v1/requests/{request_id}", (name, password))
    assert seen == [200] * ROUNDS

    served.cli("ca", "account", "remove", name)
    _add(served, name, "requester", password)  # the same password, another role
    statuses = _statuses(served, "POST", f"/api/v1/requests/{request_id}/deny", (name, password))
    assert statuses == [403] * ROUNDS
    status = served.cli("ca", "pending", "--json").stdout
    assert f'"id": {request_id}' in status, status  # still pending: nobody denied it
    denied = [
        r
        for r in served.audit()
        if r["actor"] == name and r["action"] == "deny" and r["outcome"] == "denied"
    ]
    assert len(denied) == ROUNDS, denied


def _console_login(http: httpx.Client, name: str, password: str) -> None:
    form = http.get("/ui/login")
    assert form.status_code == 200, form.text
    token = http.cookies["lyncpki_login"]
    signed = http.post(
        "/ui/login",
        data={"name": name, "password": password, "token": token, "next": "/ui/pending"},
    )
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/ui/pending"


def _signed_in_csrf(http: httpx.Client, name: str, password: str, page: str) -> str:
    """Sign in, then the CSRF token of the form on `page`."""
    _console_login(http, name, password)
    found = re.search(r'name="csrf" value="([^"]+)"', http.get(page).text)
    assert found is not None
    return found.group(1)


def test_a_console_session_ends_when_its_account_is_removed(served: Service) -> None:
    name, password = "boss-console", "boss-console-password-01"
    _add(served, name, "manager", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        _console_login(http, name, password)
        assert [http.get("/ui/pending").status_code for _ in range(4)] == [200] * 4
        served.cli("ca", "account", "remove", name)
        after = [http.get("/ui/pending") for _ in range(ROUNDS)]
    assert [a.status_code for a in after] == [303] * ROUNDS
    assert all(a.headers["location"].startswith("/ui/login") for a in after)
    refused = [
        r
        for r in served.audit()
        if r["actor"] == name and r["action"] == "login" and "removed or changed" in r["detail"]
    ]
    assert len(refused) == ROUNDS, refused


def test_the_console_refuses_a_revocation_reason_it_does_not_know(
    served: Service, tmp_path: Path
) -> None:
    """A reason the console did not know (a tampered form, 'KeyCompromise' typed by a script)
    revoked the certificate as 'unspecified'; it is refused, as the API refuses it."""
    request = openssl_req(tmp_path)
    issued = json.loads(served.cli("ca", "issue", request, "--json").stdout)
    serial = issued["serial"]
    name, password = "boss-revoker", "boss-revoker-password-01"
    _add(served, name, "manager", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, name, password, "/ui/certificates")
        answer = http.post(
            f"/ui/certificates/{serial}/revoke", data={"csrf": csrf, "reason": "bogus"}
        )
    assert "Not revoked: unknown revocation reason" in answer.text, answer.text[-500:]
    assert answer.status_code == 422  # a refusal, not a 200 page
    shown = json.loads(served.cli("ca", "show", serial, "--json").stdout)
    assert shown["status"] == "valid"
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, name, password, "/ui/certificates")
        unknown = http.post("/ui/certificates/0abc/revoke", data={"csrf": csrf})
    assert unknown.status_code == 404 and "Not revoked: no certificate" in unknown.text


def test_the_console_and_the_api_refuse_to_deny_ones_own_request(
    served: Service, tmp_path: Path
) -> None:
    """Approving one's own request was refused, denying it was not (README: never one's own).
    Refusals show their fix, and a reason too long is refused, not cut to 500 characters."""
    name, password = "boss-asker", "boss-asker-password-01"
    _add(served, name, "manager", password)
    csr = openssl_req(tmp_path).read_bytes()
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        asked = http.post(
            "/api/v1/enroll?template=SubCA",
            content=csr,
            auth=(name, password),
            headers={"Content-Type": "application/pkcs10", "Accept": "application/json"},
        )
        assert asked.status_code == 202, asked.text
        request_id = asked.json()["request_id"]
        api = http.post(f"/api/v1/requests/{request_id}/deny", auth=(name, password))
        assert api.status_code == 403 and "cannot deny its own request" in api.text, api.text
        csrf = _signed_in_csrf(http, name, password, "/ui/pending")
        own = http.post(f"/ui/pending/{request_id}/deny", data={"csrf": csrf, "reason": "x"})
        assert own.status_code == 403 and "cannot deny its own request" in own.text
        assert "(another CA manager must decide it)" in own.text  # the fix, shown
        missing = http.post("/ui/pending/999999/deny", data={"csrf": csrf})
        assert missing.status_code == 404
    other, other_password = "boss-decider", "boss-decider-password-01"
    _add(served, other, "manager", other_password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, other, other_password, "/ui/pending")
        long = http.post(f"/ui/pending/{request_id}/deny", data={"csrf": csrf, "reason": "r" * 501})
        assert long.status_code == 409 and "at most 500 are kept" in long.text
    status = json.loads(served.cli("ca", "pending", "--json").stdout)
    assert request_id in [r["id"] for r in status]  # still pending: nothing was cut and kept


def test_signing_out_ends_the_session_on_every_worker(served: Service) -> None:
    """Sign-out only deleted the browser's cookie: a copy of it still approved, denied and
    revoked for the rest of its eight hours (found by an exploratory test)."""
    name, password = "boss-leaving", "boss-leaving-password-01"
    _add(served, name, "manager", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        _console_login(http, name, password)
        copied = dict(http.cookies)
        page = http.get("/ui/pending").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        out = http.post("/ui/logout", data={"csrf": csrf.group(1)})
        assert out.status_code == 303
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE, cookies=copied) as http:
        after = [http.get("/ui/pending") for _ in range(ROUNDS)]  # both workers answer some
        denied = http.post("/ui/pending/1/deny", data={"csrf": csrf.group(1), "reason": "x"})
    assert [a.status_code for a in after] == [303] * ROUNDS
    assert denied.status_code == 303 and denied.headers["location"].startswith("/ui/login")
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        _console_login(http, name, password)  # signing in again makes a new session
        assert http.get("/ui/pending").status_code == 200


def test_forged_tokens_are_refused_and_audited_never_a_500(served: Service) -> None:
    """Non-ASCII in the session cookie, the sign-in token or the CSRF token was a 500
    (hmac.compare_digest refuses such str); CSRF refusals were not audited."""
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        forged = http.get("/ui/pending", headers={"Cookie": b"lyncpki_session=a.\xe9"})
        assert forged.status_code == 303  # no session: sign in
        http.get("/ui/login")
        token = http.post("/ui/login", data={"token": "\u00e9", "name": "x", "password": "y"})
        assert token.status_code == 403, token.text
        name, password = "boss-forged", "boss-forged-password-01"
        _add(served, name, "manager", password)
        _console_login(http, name, password)
        for csrf in ("\u00e9", "forged"):
            answer = http.post("/ui/pending/1/deny", data={"csrf": csrf, "reason": "x"})
            assert answer.status_code == 403, answer.text
    refused = [r for r in served.audit() if r["actor"] == name and r["action"] == "form"]
    assert [r["outcome"] for r in refused] == ["refused", "refused"], refused
    assert all("CSRF" in r["detail"] for r in refused)
    health = httpx.get(f"{served.url}/health", timeout=10)
    assert health.status_code == 200


def test_console_pages_are_not_cached_and_downloads_are_named_by_the_serial(
    served: Service, work: Path
) -> None:
    """Signed-in pages came with no Cache-Control (Back after sign-out showed them, CSRF token
    and all); a download URL whose serial began with CR, LF or U+2028 dropped the connection or
    answered 500, and other whitespace went into the file name."""
    name, password = "boss-cache", "boss-cache-password-01"
    _add(served, name, "manager", password)
    csr = openssl_req(work)
    issued = served.cli("ca", "issue", csr, "--json")
    serial = json.loads(issued.stdout)["serial"]
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        assert http.get("/ui/login").headers["cache-control"] == "no-store"
        _console_login(http, name, password)
        for page in ("/ui/pending", "/ui/certificates", "/ui/dashboard"):
            answer = http.get(page)
            assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
        for prefix in ("", "%0a", "%0d", "%09", "%20", "%e2%80%a8", "%c2%85"):
            answer = http.get(f"/ui/certificates/{prefix}{serial}.pem")
            assert answer.status_code in (200, 404), (prefix, answer.status_code)
            if answer.status_code == 200:
                assert answer.headers["content-disposition"] == (
                    f'attachment; filename="{serial}.pem"'
                ), prefix
                assert answer.content.startswith(b"-----BEGIN CERTIFICATE-----")


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page(served: Service) -> None:
    """Approve (or revoke, check now) sent with an ended session went through sign-in back to
    the action's URL by GET: a 405 in JSON. It comes back to the page the form is on."""
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        for action, page in (
            ("/ui/pending/1/approve", "/ui/pending"),
            ("/ui/certificates/01/revoke", "/ui/certificates"),
            ("/ui/dashboard/check", "/ui/dashboard"),
            ("/ui/logout", "/ui/dashboard"),
        ):
            answer = http.post(action, data={"csrf": "x"})
            assert answer.status_code == 303, (action, answer.status_code)
            assert answer.headers["location"] == f"/ui/login?next={page}", action
        assert http.get("/ui/pending").headers["location"] == "/ui/login?next=/ui/pending"


def test_a_pasted_request_over_the_limit_gets_the_consoles_page(served: Service) -> None:
    """A pasted request over 64 KiB got the API's JSON error ("Part exceeded maximum size"),
    while an uploaded file of the same size got the console's page."""
    name, password = "req-paster", "req-paster-password-01"
    _add(served, name, "requester", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, name, password, "/ui/request")
        answer = http.post(
            "/ui/request", files={"csrf": (None, csrf), "csr": (None, "A" * (70 * 1024))}
        )
    assert answer.status_code == 413, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/html"), answer.headers
    assert "could not be read" in answer.text


def test_console_addresses_that_lead_nowhere_answer_with_a_console_page(served: Service) -> None:
    """/ui/nothere, a request id that is no number and GET /ui/logout answered with the API's
    JSON ("the API is under /api/v1/"); the service's root was a JSON 404 to a browser."""
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        for method, path in (("GET", "/ui/nothere"), ("POST", "/ui/pending/abc/approve"),
                             ("GET", "/ui/logout")):  # fmt: skip
            answer = http.request(method, path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html"), path
            assert "There is no console page at" in answer.text
        assert http.get("/ui/static/console.css").headers["content-type"].startswith("text/css")
        login = http.get("/ui/login")  # no page of the console in another site's frame
        assert login.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
        assert login.headers["x-content-type-options"] == "nosniff"
        root = http.get("/")
        assert root.status_code == 303 and root.headers["location"] == "/ui"
        assert http.get("/api/v1/nothing").headers["content-type"] == "application/json"


def test_a_console_request_given_both_as_a_file_and_as_text_is_refused(
    served: Service, tmp_path: Path
) -> None:
    """The file won without a word while the page showed the pasted request again: a request
    for another name could be judged in its place."""
    name, password = "fe-both", "fe-both-password-0001"
    _add(served, name, "requester", password)
    csr = openssl_req(tmp_path).read_bytes()
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, name, password, "/ui/request")
        answer = http.post(
            "/ui/request",
            data={"csrf": csrf, "csr": csr.decode()},
            files={"file": ("fe01.req", csr, "application/octet-stream")},
        )
    assert answer.status_code == 400
    assert "Give the request once: a .req file or pasted text, not both." in answer.text
    issued = json.loads(served.cli("ca", "list", "--json").stdout)
    assert not [r for r in issued if r["requester"] == name]


def test_the_console_shows_a_hold_and_releases_it(served: Service, tmp_path: Path) -> None:
    """A certificate on hold showed as "revoked", with no reason and no action: the console
    could neither make the hold final nor release it, which the API and the CLI can."""
    issued = json.loads(served.cli("ca", "issue", openssl_req(tmp_path), "--json").stdout)
    serial = issued["serial"]
    served.cli("ca", "revoke", serial, "--reason", "certificateHold")
    name, password = "boss-holder", "boss-holder-password-01"
    _add(served, name, "manager", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        csrf = _signed_in_csrf(http, name, password, "/ui/certificates")
        page = http.get("/ui/certificates", params={"q": serial}).text
        assert "revoked (certificateHold)" in page
        assert f'action="/ui/certificates/{serial}/release"' in page
        released = http.post(f"/ui/certificates/{serial}/release", data={"csrf": csrf})
    assert released.status_code == 200, released.text[-300:]
    assert f"Certificate {serial} released from hold" in released.text
    shown = json.loads(served.cli("ca", "show", serial, "--json").stdout)
    assert shown["status"] == "valid"


def test_the_ca_page_offers_the_chain_it_tells_to_import(served: Service, tmp_path: Path) -> None:
    """The CA page said "import the chain: lyncpki import --server FQDN chain.p7b" and offered
    no chain.p7b. openssl reads the one it offers now: the issuing CA and the root."""
    import subprocess

    name, password = "fe-chain", "fe-chain-password-0001"
    _add(served, name, "requester", password)
    with httpx.Client(base_url=served.url, timeout=60, headers=CLOSE) as http:
        assert http.get("/ui/ca/chain.p7b").status_code == 303  # signed in first
        _console_login(http, name, password)
        assert 'href="/ui/ca/chain.p7b"' in http.get("/ui/ca").text
        answer = http.get("/ui/ca/chain.p7b")
    assert answer.headers["content-type"] == "application/pkcs7-mime"
    p7b = tmp_path / "chain.p7b"
    p7b.write_bytes(answer.content)
    printed = subprocess.run(
        ["openssl", "pkcs7", "-inform", "DER", "-in", str(p7b), "-print_certs", "-noout"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert printed.count("subject=") == 2, printed
