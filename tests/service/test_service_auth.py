"""Who may call: HTTP basic with a CA account; wrong passwords answered 401 with a challenge and
audited, repeated ones throttled (429 with Retry-After, the right password too), and roles:
a requester enrolls, only managers approve, deny and revoke.

Failed logins are counted per account and per client address: every test that fails a login
calls from an address of its own (127.0.0.N, still loopback), and the throttling test with an
account of its own, so that no other test's client or account is throttled.
"""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest
from service_tools import (
    PASSWORDS,
    Service,
    curl,
    enroll_pem,
    openssl_req,
    serial_of,
)
from starlette.requests import Request

from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.service.auth import Authenticator
from lyncpki.service.errors import ServiceError

FE01 = f"fe01:{PASSWORDS['fe01']}"
THROTTLED_CLIENT = "127.0.0.2"
WRONG_PASSWORD_CLIENT = "127.0.0.3"
UNKNOWN_ACCOUNT_CLIENT = "127.0.0.4"


def _refused_logins(service: Service, name: str) -> list[dict]:
    return [
        row
        for row in service.audit()
        if row["actor"] == name and row["action"] == "login" and row["outcome"] == "refused"
    ]


@pytest.mark.external
def test_wrong_password_is_401_with_a_challenge_and_audited(service: Service, work: Path) -> None:
    before = len(_refused_logins(service, "fe01"))
    csr = openssl_req(work)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "--interface",
        WRONG_PASSWORD_CLIENT,
        "-u",
        "fe01:not-the-password",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 401, answer
    assert answer.headers["www-authenticate"].startswith('Basic realm="lyncpki CA"')
    assert answer.json()["error"] == "auth.failed"
    assert "not-the-password" not in answer.body.decode()
    rows = _refused_logins(service, "fe01")
    assert len(rows) == before + 1, rows
    assert rows[0]["target"] == WRONG_PASSWORD_CLIENT
    assert "not-the-password" not in str(rows)


@pytest.mark.external
def test_no_credentials_is_401(service: Service, work: Path) -> None:
    csr = openssl_req(work)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 401, answer
    assert "www-authenticate" in answer.headers
    assert answer.json()["error"] == "auth.required"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer abc",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":password-without-name").decode(),
        "Basic " + base64.b64encode(b"fe01:\xff\xfe").decode(),
    ],
)
def test_malformed_credentials_are_401(service: Service, header: str) -> None:
    answer = httpx.get(f"{service.url}/api/v1/requests/1", headers={"Authorization": header})
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"] in ("auth.required", "auth.malformed", "auth.failed")
    assert "www-authenticate" in answer.headers


def test_unknown_account_is_401(service: Service) -> None:
    transport = httpx.HTTPTransport(local_address=UNKNOWN_ACCOUNT_CLIENT)
    with httpx.Client(transport=transport) as http:
        answer = http.get(f"{service.url}/api/v1/requests/1", auth=("nobody", "any-password-1"))
    assert answer.status_code == 401
    assert answer.json()["error"] == "auth.failed"


@pytest.mark.external
def test_six_wrong_passwords_throttle_the_account_from_that_client(
    service: Service, work: Path
) -> None:
    transport = httpx.HTTPTransport(local_address=THROTTLED_CLIENT)
    statuses = []
    with httpx.Client(base_url=service.url, transport=transport, timeout=30) as http:
        for attempt in range(6):
            answer = http.get("/api/v1/requests/1", auth=("fe-locked", f"wrong-{attempt}"))
            statuses.append(answer.status_code)
        assert statuses == [401, 401, 401, 401, 401, 429], statuses
        assert answer.headers["retry-after"] == "60"
        assert answer.json()["error"] == "auth.throttled"
        # the right password is refused during the window as well
        right = http.get("/api/v1/requests/1", auth=("fe-locked", PASSWORDS["fe-locked"]))
        assert right.status_code == 429, right.text
        assert int(right.headers["retry-after"]) > 0
    # curl from the throttled address: still 429, whatever the account
    csr = openssl_req(work)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "--interface",
        THROTTLED_CLIENT,
        "-u",
        f"fe-locked:{PASSWORDS['fe-locked']}",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 429, answer
    assert "retry-after" in answer.headers
    with httpx.Client(base_url=service.url, transport=transport, timeout=30) as http:
        for attempt in range(10):  # a loop of throttled calls
            answer = http.get("/api/v1/requests/1", auth=("fe-locked", f"again-{attempt}"))
            assert answer.status_code == 429
    # audited once a minute at most (each throttled call wrote a row: a loop filled the log)
    throttled = [
        row
        for row in service.audit()
        if row["actor"] == "fe-locked" and "throttled" in str(row["detail"])
    ]
    assert len(throttled) == 1, throttled
    assert "wait a minute" in answer.json()["fix"] and "password" in answer.json()["fix"]
    # other clients and accounts are not affected
    assert enroll_pem(service, openssl_req(work)).exists()


# ------------------------------------------------------------------------------------ roles
@pytest.mark.external
def test_requester_may_not_revoke_approve_or_deny(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    with service.client("fe01") as http:
        calls = {
            "revoke": http.post(
                f"/api/v1/certificates/{serial}/revoke", json={"reason": "keyCompromise"}
            ),
            "approve": http.post("/api/v1/requests/1/approve"),
            "deny": http.post("/api/v1/requests/1/deny", json={"reason": "no"}),
        }
    for what, answer in calls.items():
        assert answer.status_code == 403, (what, answer.text)
        assert answer.json()["error"] == "auth.forbidden", what
        assert "requester" in answer.json()["message"], what
    shown = service.cli("ca", "show", serial, "--json").stdout
    assert '"status": "valid"' in shown, shown


@pytest.mark.external
def test_manager_revokes(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    with service.client("boss") as http:
        answer = http.post(
            f"/api/v1/certificates/{serial}/revoke", json={"reason": "keyCompromise"}
        )
        assert answer.status_code == 200, answer.text
        assert int(answer.json()["serial"], 16) == int(serial, 16)
        assert answer.json()["reason"] == "keyCompromise"
        again = http.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "superseded"})
        assert again.status_code == 409, again.text
        assert "already revoked" in again.json()["message"]
        unknown = http.post("/api/v1/certificates/0badc0ffee/revoke")
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["error"] == "not_found"
        bad_reason = http.post(
            f"/api/v1/certificates/{serial}/revoke", json={"reason": "because-i-said-so"}
        )
        assert 400 <= bad_reason.status_code < 500, bad_reason.text
    shown = service.cli("ca", "show", serial, "--json").stdout
    assert '"status": "revoked"' in shown, shown
    assert "keyCompromise" in shown
    revokes = [r for r in service.audit() if r["action"] == "revoke" and r["actor"] == "boss"]
    assert any(int(r["target"], 16) == int(serial, 16) for r in revokes), revokes


def _basic(credentials: str) -> Request:
    header = b"Basic " + base64.b64encode(credentials.encode())
    return Request(
        {"type": "http", "method": "POST", "path": "/api/v1/enroll", "headers": [
            (b"authorization", header)], "client": ("127.0.0.9", 4000), "query_string": b""}
    )  # fmt: skip


def one_account(
    tmp_path: Path, name: str, password: str
) -> tuple[CertificateAuthority, Authenticator]:
    """A CA of its own with one requester account, and an Authenticator of it."""
    ca = CertificateAuthority.create(
        CaHome(tmp_path / "home"), passphrase=b"authenticator-test", namespaces=("corp-test.se",),
        root_key=KeySpec("rsa", 2048), key=KeySpec("rsa", 2048),
    )  # fmt: skip
    Accounts(ca.engine, ca.clock).add(name, Role.REQUESTER, password)
    return ca, Authenticator(ca)


def test_remembered_credentials_are_found_without_the_database(tmp_path: Path) -> None:
    """The event loop asks `remembered` first: only credentials checked (scrypt, database)
    within the minute, while no account changed, pass there; anything else goes to the full
    check."""
    ca, authenticate = one_account(tmp_path, "fe09", "fe09-password-1234")
    assert authenticate.remembered(_basic("fe09:fe09-password-1234")) is None  # not checked yet
    assert authenticate(_basic("fe09:fe09-password-1234")).name == "fe09"
    remembered = authenticate.remembered(_basic("fe09:fe09-password-1234"))
    assert remembered is not None and remembered.name == "fe09"
    assert authenticate.remembered(_basic("fe09:fe09-password-12345")) is None
    assert authenticate.remembered(_basic("fe10:fe09-password-1234")) is None
    assert authenticate.remembered(_basic("no colon")) is None
    # removed (by any process: the accounts' generation moves): forgotten at once
    Accounts(ca.engine, ca.clock).remove("fe09")
    assert authenticate.remembered(_basic("fe09:fe09-password-1234")) is None
    with pytest.raises(ServiceError) as refused:
        authenticate(_basic("fe09:fe09-password-1234"))
    assert refused.value.status == 401
    authenticate.watch.close()
    ca.engine.dispose()


def test_a_lockout_is_not_passed_by_remembered_credentials(tmp_path: Path) -> None:
    """Credentials remembered from a success passed while the account was throttled: five
    wrong guesses got 401 then 429, and the right password 200 (a 200 among 429s tells the
    password). A failure forgets what the process remembers of the account."""
    ca, authenticate = one_account(tmp_path, "fe11", "fe11-password-1234")
    try:
        assert authenticate(_basic("fe11:fe11-password-1234")).name == "fe11"
        assert authenticate.remembered(_basic("fe11:fe11-password-1234")) is not None
        statuses = []
        for n in range(6):
            with pytest.raises(ServiceError) as refused:
                authenticate(_basic(f"fe11:wrong-guess-{n}"))
            statuses.append(refused.value.status)
        assert statuses == [401, 401, 401, 401, 401, 429]
        assert authenticate.remembered(_basic("fe11:fe11-password-1234")) is None
        with pytest.raises(ServiceError) as locked:
            authenticate(_basic("fe11:fe11-password-1234"))
        assert locked.value.status == 429
    finally:
        authenticate.watch.close()
        ca.engine.dispose()


FORWARDED_CLIENT = "127.0.0.6"


@pytest.mark.external
def test_x_forwarded_for_names_no_client(service: Service) -> None:
    """From 127.0.0.1, uvicorn took X-Forwarded-For as the client: a new address each time
    slipped past the per-client throttle, and the audit log recorded the forged addresses."""
    transport = httpx.HTTPTransport(local_address=FORWARDED_CLIENT)
    statuses = []
    with httpx.Client(base_url=service.url, transport=transport, timeout=30) as http:
        for n in range(6):
            answer = http.get(
                "/api/v1/requests/1",
                auth=("fe-forwarder", f"wrong-{n}"),
                headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Forwarded-Proto": "https"},
            )
            statuses.append(answer.status_code)
    assert statuses == [401, 401, 401, 401, 401, 429], statuses
    logins = [row for row in service.audit() if row["actor"] == "fe-forwarder"]
    assert logins and {row["target"] for row in logins} == {FORWARDED_CLIENT}, logins
