"""Attempts to get what policy forbids: each must fail, and each failure must be in the CA's
append-only audit log. Requests are made with pyca/cryptography directly (not our request
builder, which would never make most of them)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from scoreboard import Scoreboard

from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.ca.policy import RequestRefused
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.service.app import create_app
from lyncpki.store import StoreError, server_name

pytestmark = pytest.mark.reliability
PASSWORDS = {"req-one": "req-one-password-1", "boss": "boss-password-0001"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    authority = CertificateAuthority.create(
        CaHome(tmp_path_factory.mktemp("bypass") / "home"),
        passphrase=b"bypass-passphrase",
        namespaces=("contoso.net", "contoso.com"),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("rsa", 2048),
    )
    accounts = Accounts(authority.engine)
    accounts.add("req-one", Role.REQUESTER, PASSWORDS["req-one"])
    accounts.add("boss", Role.MANAGER, PASSWORDS["boss"])
    return authority


def csr(
    names: list[x509.GeneralName] | None = None,
    *,
    cn: str = "fe01.contoso.net",
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    extra: list[tuple[x509.ExtensionType, bool]] = (),  # type: ignore[assignment]
    subject: x509.Name | None = None,
) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    )
    builder = builder.add_extension(
        x509.SubjectAlternativeName(names or [x509.DNSName(cn)]), critical=False
    )
    for value, critical in extra:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM)


def refused_and_audited(ca: CertificateAuthority, attempt: Callable[[], object]) -> str:
    before = {row["id"] for row in ca.audit_log(1000)}
    with pytest.raises(LyncPkiError) as caught:
        attempt()
    fresh = [r for r in ca.audit_log(1000) if r["id"] not in before]
    # refused (policy, state) or denied (what the actor may not do): audited either way
    assert any(r["outcome"] in ("refused", "denied") for r in fresh), (caught.value.message, fresh)
    return caught.value.message


ATTEMPTS: dict[str, Callable[[CertificateAuthority], bytes]] = {
    "a request asking for CA:TRUE": lambda ca: csr(
        extra=[(x509.BasicConstraints(ca=True, path_length=None), True)]
    ),
    "a foreign domain": lambda ca: csr(cn="www.not-contoso.example"),
    "an IP address SAN": lambda ca: csr(
        [x509.DNSName("fe01.contoso.net"), x509.IPAddress(ipaddress.ip_address("10.0.0.5"))]
    ),
    "an e-mail SAN": lambda ca: csr(
        [x509.DNSName("fe01.contoso.net"), x509.RFC822Name("admin@contoso.com")]
    ),
    "a URI SAN": lambda ca: csr(
        [x509.DNSName("fe01.contoso.net"), x509.UniformResourceIdentifier("https://x.contoso.com")]
    ),
    "an oversized subject": lambda ca: csr(
        subject=x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "a" * 60 + ".contoso.net", _validate=False)]
        )
    ),
    "a subject of many attributes": lambda ca: csr(
        subject=x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "fe01.contoso.net")]
            + [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"u{i}") for i in range(200)]
        )
    ),
    "the CA's own public key (duplicate-key attack)": lambda ca: csr(key=ca.issuer.key),
    "the root's public key": lambda ca: csr(key=ca.root.key),
}


@pytest.mark.parametrize("what", list(ATTEMPTS))
# pyca warns when it reads the oversized subject made on purpose above (the CLI silences it)
@pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
def test_each_forbidden_request_is_refused_and_audited(
    ca: CertificateAuthority, scoreboard: Scoreboard, what: str
) -> None:
    request = ATTEMPTS[what](ca)
    message = refused_and_audited(ca, lambda: ca.submit(request, requester="req-one"))
    assert "refused" in message or "not" in message
    scoreboard.record(f"bypass: {what}", "1 attempt", 0, 0, "refused, audited")


def test_a_wildcard_the_template_forbids(ca: CertificateAuthority, scoreboard: Scoreboard) -> None:
    request = csr([x509.DNSName("contoso.com"), x509.DNSName("*.contoso.com")], cn="contoso.com")
    with pytest.raises(RequestRefused, match="wildcard"):
        ca.submit(request, requester="req-one", template="OAuthTokenSigning")
    refused_and_audited(
        ca, lambda: ca.submit(request, requester="req-one", template="OAuthTokenSigning")
    )
    scoreboard.record(
        "bypass: a wildcard the template forbids", "1 attempt", 0, 0, "refused, audited"
    )


@pytest.mark.parametrize(
    "name", ["WebServer\r\nX: y", "../templates.yaml", "WebServer' OR '1'='1", "W" * 300]
)
def test_template_name_injection(
    ca: CertificateAuthority, scoreboard: Scoreboard, name: str
) -> None:
    refused_and_audited(ca, lambda: ca.submit(csr(), requester="req-one", template=name))
    scoreboard.record("bypass: template name injection", "4 attempts", 0, 0, "refused, audited")


def test_a_server_name_with_dot_dot(tmp_path: Path, scoreboard: Scoreboard) -> None:
    for name in ("../../etc", "fe01.contoso.net/../../x", "..", "/etc"):
        with pytest.raises(StoreError):
            server_name(name)
    scoreboard.record("bypass: a server FQDN with ../", "4 attempts", 0, 0, "refused")


@pytest.fixture(scope="module")
def client(ca: CertificateAuthority) -> Iterator[TestClient]:
    with TestClient(create_app(ca)) as test_client:
        yield test_client


@pytest.fixture
def other_ca(tmp_path: Path) -> CertificateAuthority:
    """A CA of this test alone: its failed logins throttle nobody else."""
    authority = CertificateAuthority.create(
        CaHome(tmp_path / "home"),
        passphrase=b"bypass-passphrase-2",
        namespaces=("contoso.net",),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )
    Accounts(authority.engine).add("req-one", Role.REQUESTER, PASSWORDS["req-one"])
    return authority


def test_enrollment_without_or_with_wrong_credentials(
    other_ca: CertificateAuthority, scoreboard: Scoreboard
) -> None:
    ca = other_ca
    client = TestClient(create_app(ca))
    body = {"content": csr(), "headers": {"Content-Type": "application/pkcs10"}}
    assert client.post("/api/v1/enroll", **body).status_code == 401  # type: ignore[arg-type]
    statuses = [
        client.post("/api/v1/enroll", auth=("req-one", f"wrong-{i}"), **body).status_code  # type: ignore[arg-type]
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses  # throttled
    failures = [
        r for r in ca.audit_log(1000) if r["action"] == "login" and r["outcome"] == "refused"
    ]
    assert len(failures) >= 6  # 5 wrong passwords; the throttled ones a row a minute
    scoreboard.record(
        "bypass: enrollment with wrong credentials",
        "8 attempts",
        0,
        0,
        "401, then 429 (throttled); audited",
    )


def test_a_requester_approving_its_own_request(
    ca: CertificateAuthority, client: TestClient, scoreboard: Scoreboard
) -> None:
    # a template that needs approval: SubCA (a manager's own request, then its own approval)
    request = csr(cn="subca.contoso.net")
    held = ca.submit(request, requester="boss", template="SubCA")
    assert held.status == "pending"
    refused_and_audited(ca, lambda: ca.approve(held.request_id, actor="boss", forbid_self=True))
    # and a requester may not approve at all
    answer = client.post(
        f"/api/v1/requests/{held.request_id}/approve", auth=("req-one", PASSWORDS["req-one"])
    )
    assert answer.status_code == 403
    with pytest.raises(CaError):
        ca.approve(held.request_id, actor="boss", forbid_self=True)
    scoreboard.record("bypass: approving one's own request", "2 attempts", 0, 0, "refused, audited")
