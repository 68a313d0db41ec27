"""Requests the CA must refuse: each raises RequestRefused with the right code, signs nothing,
and leaves a 'refused' entry in the audit log. The requests are made by openssl wherever
openssl can make them (and checked with openssl to be what the test says they are)."""

from __future__ import annotations

import base64
import random
import textwrap
from pathlib import Path

import pytest
import yaml
from ca_tools import PASSPHRASE, ca_file, openssl, openssl_req, run_openssl
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.ca.policy import RequestRefused
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.x509.keys import generate_key
from lyncpki.x509.requests import RequestError, RequestSubject, build_request, request_pem


@pytest.fixture
def source(request: pytest.FixtureRequest) -> str:
    """A name for the submitted request, unique to the test: its audit entry is found by it."""
    return f"{request.node.name}.csr"


def audit_entry(ca: CertificateAuthority, source: str) -> dict[str, object]:
    entries = [e for e in ca.audit_log(1000) if e["target"] == source]
    assert len(entries) == 1, entries
    return entries[0]


def refused(
    ca: CertificateAuthority, request: bytes, source: str, **kwargs: object
) -> RequestRefused:
    """Submit; it must be refused, audited as refused with its codes, and sign nothing."""
    before = len(ca.certificates())
    with pytest.raises(RequestRefused) as caught:
        ca.submit(request, requester="test", source=source, **kwargs)  # type: ignore[arg-type]
    assert len(ca.certificates()) == before
    entry = audit_entry(ca, source)
    assert (entry["action"], entry["outcome"], entry["actor"]) == ("submit", "refused", "test")
    for code in caught.value.codes:
        assert code in str(entry["detail"])
    assert caught.value.fix  # every refusal says what to do
    return caught.value


def pem_of(der: bytes) -> bytes:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return (
        f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n".encode()
    )


# ---------------------------------------------------------------- proof of possession
@pytest.mark.external
def test_pss_signed_request(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, extra_args=["-sigopt", "rsa_padding_mode:pss"])
    (work / "pss.csr").write_bytes(request)
    assert "Signature Algorithm: rsassaPss" in openssl(
        "req", "-in", work / "pss.csr", "-noout", "-text"
    )
    assert refused(ca, request, source).codes == ["policy.pss"]


def _self_signature(path: Path) -> str:
    process = run_openssl("req", "-in", path, "-inform", "DER", "-noout", "-verify")
    return process.stdout + process.stderr


def _tampered(work: Path, der: bytes, mutate: object) -> bytes:
    (work / "original.der").write_bytes(der)
    assert "self-signature verify OK" in _self_signature(work / "original.der")
    changed: bytes = mutate(der)  # type: ignore[operator]
    assert changed != der and len(changed) == len(der)
    (work / "tampered.der").write_bytes(changed)
    # openssl still parses it, and finds the signature wrong
    assert openssl("req", "-in", work / "tampered.der", "-inform", "DER", "-noout", "-subject")
    # (openssl 3.0 exits 0 either way: its message is the verdict)
    assert "self-signature verify failure" in _self_signature(work / "tampered.der")
    return pem_of(changed)


def _flip_signature_byte(der: bytes) -> bytes:
    return der[:-1] + bytes([der[-1] ^ 0x01])


def _change_subject(der: bytes) -> bytes:
    start = der.index(b"fe01.corp-test.se")  # the subject CN comes before the SAN
    return der[:start] + b"fe02" + der[start + 4 :]


@pytest.mark.external
@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_flip_signature_byte, id="signature"),
        pytest.param(_change_subject, id="subject"),
    ],
)
def test_tampered_request(
    ca: CertificateAuthority, work: Path, source: str, mutate: object
) -> None:
    request = _tampered(work, openssl_req(work, der=True), mutate)
    assert refused(ca, request, source).codes == ["policy.signature"]


# ---------------------------------------------------------------- names
@pytest.mark.external
@pytest.mark.parametrize(
    ("subject", "sans"),
    [
        pytest.param("/CN=fe01.evil-corp.com", ["fe01.evil-corp.com"], id="subject"),
        pytest.param("/CN=fe01.corp-test.se", ["fe01.corp-test.se", "www.evil-corp.com"], id="san"),
        pytest.param("/CN=fe01.notcorp-test.se", None, id="suffix-lookalike"),
        pytest.param("/CN=corp-test.se.evil-corp.com", None, id="prefix-lookalike"),
    ],
)
def test_foreign_domain(
    ca: CertificateAuthority, work: Path, source: str, subject: str, sans: list[str] | None
) -> None:
    error = refused(ca, openssl_req(work, subject=subject, sans=sans), source)
    assert error.codes == ["policy.namespace"]
    assert "corp-test.se" in error.refusals[0].message  # names the CA's namespace


@pytest.mark.external
@pytest.mark.parametrize(
    ("subject", "extra"),
    [
        pytest.param("/CN=fe01.corp-test.se/CN=www.evil-corp.com", [], id="two-rdns"),
        pytest.param(
            "/CN=fe01.corp-test.se+CN=www.evil-corp.com", ["-multivalue-rdn"], id="one-rdn"
        ),
        pytest.param("/CN=fe01.corp-test.se/CN=fe02.corp-test.se", [], id="both-inside"),
    ],
)
def test_a_second_common_name_is_refused(
    ca: CertificateAuthority, work: Path, source: str, subject: str, extra: list[str]
) -> None:
    """Only the first CN was held to the namespace: a request with a second one, outside it,
    was issued with that name in the subject (found by an exploratory test)."""
    request = openssl_req(work, subject=subject, sans=["fe01.corp-test.se"], extra_args=extra)
    (work / "two-cn.csr").write_bytes(request)
    shown = openssl("req", "-in", str(work / "two-cn.csr"), "-noout", "-subject")
    assert shown.count("CN") == 2, shown  # openssl made the subject the test says
    error = refused(ca, request, source)
    assert error.codes == ["policy.subject-cn"]
    assert "2 common names" in error.refusals[0].message


@pytest.mark.parametrize("subject", ["/", "/O=Corp/C=SE"])
def test_a_subject_without_a_common_name_is_refused(
    ca: CertificateAuthority, work: Path, source: str, subject: str
) -> None:
    """A request naming the server in its SANs only was issued with an empty subject, and
    `check` passed it (R-GEN-06: the subject is the server's or pool's FQDN)."""
    request = openssl_req(work, subject=subject, sans=["fe01.corp-test.se"])
    error = refused(ca, request, source)
    assert error.codes == ["policy.subject-cn"]
    assert "no CN" in error.refusals[0].message
    assert "CN=fe01.corp-test.se" in error.refusals[0].fix


@pytest.mark.external
@pytest.mark.parametrize(
    ("san", "shown"),
    [
        pytest.param("IP:10.0.0.1", "10.0.0.1", id="ip"),
        pytest.param("email:a@corp-test.se", "a@corp-test.se", id="email"),
        # a UPN: its OID, not a Python representation of its bytes (b'\x0c\r...')
        pytest.param("otherName:1.3.6.1.4.1.311.20.2.3;UTF8:u@corp-test.se",
                     "otherName 1.3.6.1.4.1.311.20.2.3 is not allowed", id="upn"),
    ],
)  # fmt: skip
def test_non_dns_san(
    ca: CertificateAuthority, work: Path, source: str, san: str, shown: str
) -> None:
    error = refused(ca, openssl_req(work, sans=["fe01.corp-test.se", san]), source)
    assert error.codes == ["policy.san-type"]
    assert shown in error.refusals[0].message


@pytest.mark.external
def test_every_reason_is_given(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, subject="/CN=fe01.evil-corp.com", sans=["IP:10.0.0.1"])
    assert sorted(refused(ca, request, source).codes) == ["policy.namespace", "policy.san-type"]


@pytest.mark.external
def test_wildcard_under_a_template_without_wildcards(
    ca: CertificateAuthority, work: Path, source: str
) -> None:
    request = openssl_req(work, sans=["fe01.corp-test.se", "*.corp-test.se"])
    error = refused(ca, request, source, template="OAuthTokenSigning")
    assert error.codes == ["policy.wildcard"]
    # the same request is fine where wildcards are allowed: the template made the difference
    issued = ca.submit(request, requester="test", template="WebServer")
    assert issued.status == "issued"


@pytest.mark.external
def test_wildcard_subject(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, subject="/CN=*.corp-test.se", sans=None)
    assert refused(ca, request, source).codes == ["policy.subject-name"]


@pytest.mark.external
def test_too_many_sans(ca: CertificateAuthority, work: Path, source: str) -> None:
    names = [f"n{i}.corp-test.se" for i in range(250)]  # plus the subject: 251
    assert refused(ca, openssl_req(work, sans=names), source).codes == ["policy.too-many-sans"]


@pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")
def test_oversized_common_name(ca: CertificateAuthority, source: str) -> None:
    """openssl refuses to write a CN over 64 characters; cryptography is told not to check."""
    cn = "a" * 40 + "." + "b" * 20 + ".corp-test.se"  # 74 characters, labels valid
    key = generate_key(KeySpec("rsa", 2048))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn, _validate=False)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    error = refused(ca, csr.public_bytes(Encoding.PEM), source)
    assert error.codes == ["policy.subject-size"]
    assert "74" in error.refusals[0].message


@pytest.mark.parametrize(
    "organisation", ["Evil\x1b[31mRed", "Bell\x07", "Two\nlines", "txet\u202eReversed"]
)
def test_control_characters_in_the_subject(
    ca: CertificateAuthority, source: str, organisation: str
) -> None:
    """An escape sequence or a direction override in a subject would reach every terminal and
    report that shows the certificate: refused, without the value in the message."""
    key = generate_key(KeySpec("ec", 256))
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, "fe01.corp-test.se"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    error = refused(ca, csr.public_bytes(Encoding.PEM), source)
    assert error.codes == ["policy.subject-text"]
    assert organisation not in error.message and "O holds control" in error.message


# ---------------------------------------------------------------- keys and extensions
@pytest.mark.external
def test_512_bit_rsa_key(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, key="rsa:512")
    (work / "small.csr").write_bytes(request)
    assert "Public-Key: (512 bit)" in openssl("req", "-in", work / "small.csr", "-noout", "-text")
    assert refused(ca, request, source).codes == ["policy.key-size"]


@pytest.mark.external
def test_1024_bit_key_under_oauth(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, key="rsa:1024")
    error = refused(ca, request, source, template="OAuthTokenSigning")
    assert error.codes == ["policy.key-size"]  # RSA, but under the template's 2048
    assert "2048 bits or more" in error.message


@pytest.mark.external
def test_request_asking_to_be_a_ca(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(work, extra_args=["-addext", "basicConstraints=critical,CA:TRUE"])
    (work / "ca.csr").write_bytes(request)
    assert "CA:TRUE" in openssl("req", "-in", work / "ca.csr", "-noout", "-text")
    assert refused(ca, request, source).codes == ["policy.ca-request"]


@pytest.mark.external
def test_unknown_critical_extension(ca: CertificateAuthority, work: Path, source: str) -> None:
    request = openssl_req(
        work, extra_args=["-addext", "nameConstraints=critical,permitted;DNS:corp-test.se"]
    )
    assert refused(ca, request, source).codes == ["policy.extension"]


@pytest.mark.parametrize("which", ["issuer", "root"])
def test_request_reusing_a_ca_key(ca: CertificateAuthority, source: str, which: str) -> None:
    key = getattr(ca, which).key
    csr = build_request(key, RequestSubject("fe01.corp-test.se", ("fe01.corp-test.se",)))
    assert csr.is_signature_valid  # a genuine request: it proves possession of the CA key
    assert refused(ca, request_pem(csr), source).codes == ["policy.ca-key"]


@pytest.mark.external
def test_ca_key_check_compares_with_the_published_ca(ca: CertificateAuthority, work: Path) -> None:
    """The key the CA refuses is the one in issuing.crt, as openssl reads it."""
    csr = build_request(ca.issuer.key, RequestSubject("fe01.corp-test.se", ("fe01.corp-test.se",)))
    (work / "ca-key.csr").write_bytes(request_pem(csr))
    assert openssl("req", "-in", work / "ca-key.csr", "-noout", "-pubkey") == openssl(
        "x509", "-in", ca_file(ca, "issuing"), "-noout", "-pubkey"
    )


# ---------------------------------------------------------------- templates
@pytest.mark.external
def test_template_name_injection(ca: CertificateAuthority, work: Path, source: str) -> None:
    before = len(ca.certificates())
    with pytest.raises(LyncPkiError) as caught:
        ca.submit(
            openssl_req(work), requester="test", source=source, template="WebServer\n; DROP TABLE"
        )
    error = caught.value
    assert not isinstance(error, RequestRefused)
    assert "is not offered by this CA" in error.message
    assert "WebServer" in error.message
    assert "\n" not in error.message and "\r" not in error.message
    assert error.fix and "WebServer" in error.fix  # lists what is offered
    assert len(ca.certificates()) == before
    entry = audit_entry(ca, source)
    assert entry["outcome"] == "refused"
    assert "\n" not in str(entry["detail"])
    assert len(ca.certificates()) == before  # the table is still there


@pytest.mark.external
def test_unknown_template(ca: CertificateAuthority, work: Path, source: str) -> None:
    with pytest.raises(LyncPkiError, match="template 'NoSuchTemplate' is not offered"):
        ca.submit(openssl_req(work), requester="test", source=source, template="NoSuchTemplate")
    assert audit_entry(ca, source)["outcome"] == "refused"


def test_unknown_template_named_by_the_request(ca: CertificateAuthority, source: str) -> None:
    key = generate_key(KeySpec("ec", 256))
    csr = build_request(
        key, RequestSubject("fe01.corp-test.se", ("fe01.corp-test.se",)), template="Evil\r\nT"
    )
    with pytest.raises(LyncPkiError) as caught:
        ca.submit(request_pem(csr), requester="test", source=source)
    assert "is not offered" in caught.value.message
    assert "\n" not in caught.value.message and "\r" not in caught.value.message
    assert audit_entry(ca, source)["outcome"] == "refused"


# ---------------------------------------------------------------- not a request at all
def _certificate_pem(ca: CertificateAuthority) -> bytes:
    return ca.issuer.certificate.public_bytes(Encoding.PEM)


NOT_REQUESTS = [
    pytest.param(
        lambda ca: b"\x30\x82" + random.Random(7).randbytes(400),
        "is not a valid PKCS#10 certificate request",
        id="random-bytes",
    ),
    pytest.param(
        _certificate_pem, "is a certificate, not a certificate request", id="certificate-pem"
    ),
    pytest.param(
        lambda ca: ca.issuer.certificate.public_bytes(Encoding.DER),
        "is a certificate, not a certificate request",
        id="certificate-der",
    ),
    pytest.param(lambda ca: b"   \n", "is empty", id="empty"),
    pytest.param(lambda ca: b"hello, CA!\n", "is text but no certificate request", id="text"),
    pytest.param(  # letters only: it looked like base64, and was called damaged base64
        lambda ca: b"hello\n", "is text but no certificate request", id="word"
    ),
    pytest.param(  # decodes, but to no DER
        lambda ca: b"aGVsbG8gd29ybGQh\n", "is text but no certificate request", id="base64-text"
    ),
    pytest.param(  # DER in base64 (MII..., as a request begins) cut short, without armor
        lambda ca: _certificate_pem(ca).split(b"\n")[1][:61] + b"\n",
        "the base64 text is damaged",
        id="bare-base64-cut",
    ),
    pytest.param(
        lambda ca: (
            b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB*==\n-----END CERTIFICATE REQUEST-----\n"
        ),
        "the base64 text is damaged",
        id="damaged-base64",
    ),
    pytest.param(lambda ca: b"\x30" * 70_000, "larger than any certificate request", id="huge"),
    pytest.param(  # the first was issued, the second ignored without a word
        lambda ca: (
            2
            * request_pem(
                build_request(
                    generate_key(KeySpec("ec", 256)), RequestSubject("a.corp-test.se", ())
                )
            )
        ),
        "holds 2 certificate requests",
        id="two-requests",
    ),
]


@pytest.mark.parametrize(("make", "message"), NOT_REQUESTS)
def test_not_a_request(ca: CertificateAuthority, source: str, make: object, message: str) -> None:
    data: bytes = make(ca)  # type: ignore[operator]
    with pytest.raises(RequestError) as caught:
        ca.submit(data, requester="test", source=source)
    assert caught.value.message.startswith(source)
    assert message in caught.value.message
    assert caught.value.fix
    assert "Traceback" not in str(caught.value)
    assert "ParseError" not in str(caught.value)  # pyca's parser report is not for a reader
    entry = audit_entry(ca, source)
    assert entry["outcome"] == "refused"
    assert str(entry["detail"]).startswith("request: ")


@pytest.mark.external
def test_a_subject_cn_ending_in_a_dot_is_refused(
    ca: CertificateAuthority, work: Path, source: str
) -> None:
    """`CN=FE03.Corp-Test.SE.` was issued with its dot while its SAN lost it: the subject no
    longer named its first SAN."""
    request = openssl_req(work, subject="/CN=fe03.corp-test.se.", sans=["fe03.corp-test.se"])
    error = refused(ca, request, source)
    assert error.codes == ["policy.subject-name"]
    assert "ends with a dot" in error.refusals[0].message


@pytest.mark.external
def test_a_refused_attribute_is_named_once(
    ca: CertificateAuthority, work: Path, source: str
) -> None:
    request = openssl_req(work, subject="/CN=fe01.corp-test.se/emailAddress=a@corp-test.se")
    error = refused(ca, request, source)
    message = next(r.message for r in error.refusals if r.code == "policy.subject-attribute")
    assert message == "subject attribute emailAddress (1.2.840.113549.1.9.1) is not allowed"


@pytest.mark.parametrize("request_id", [2**31, 2**31 + 5, 2**63 - 1])
def test_a_request_id_beyond_the_database_is_no_request(
    backend_ca: CertificateAuthority, request_id: int
) -> None:
    """requests.id is 32 bits on PostgreSQL: `ca approve 2147483648` was an "integer out of
    range" from the database (an internal error with its SQL, exit 70), and unaudited."""
    ca = backend_ca
    for act in (
        lambda: ca.approve(request_id, actor="boss"),
        lambda: ca.deny(request_id, actor="boss"),
        lambda: ca.request_status(request_id),
    ):
        with pytest.raises(CaError) as caught:
            act()
        assert caught.value.message == f"no request {request_id}"
        assert caught.value.status == 404
    refused = [e for e in ca.audit_log(10) if e["target"] == f"request {request_id}"]
    assert [(e["action"], e["outcome"]) for e in refused] == [
        ("deny", "refused"),
        ("approve", "refused"),
    ]


@pytest.mark.external
def test_a_templates_namespaces_narrow_the_cas_never_widen_them(
    fresh_ca: CertificateAuthority, work: Path, source: str
) -> None:
    """A WebServer template listing evil.org issued www.evil.org, beyond `ca domains`, and
    refused the CA's own domain with a fix (`ca domains --add`) that could not help. The
    template's list now narrows the CA's: a name must be under both."""
    data = yaml.safe_load(fresh_ca.home.templates_file.read_text("utf-8"))
    web = next(t for t in data["templates"] if t["name"] == "WebServer")
    web["namespaces"] = ["evil.org", "lync.corp-test.se"]
    fresh_ca.home.templates_file.write_text(yaml.safe_dump(data), "utf-8")
    ca = CertificateAuthority.open(fresh_ca.home, PASSPHRASE)
    try:
        evil = openssl_req(work, subject="/CN=www.evil.org", sans=["www.evil.org"])
        refusal = refused(ca, evil, source)
        assert "outside this CA's namespace" in refusal.message
        inside_ca = openssl_req(work)  # fe01.corp-test.se: the CA's, not the template's
        refusal = refused(ca, inside_ca, f"{source}-2")
        assert "outside the names template WebServer allows" in refusal.message
        assert "templates.yaml" in refusal.fix and "ca domains" not in refusal.fix
        both = openssl_req(
            work, subject="/CN=pool.lync.corp-test.se", sans=["pool.lync.corp-test.se"]
        )
        assert ca.submit(both, requester="test").status == "issued"
    finally:
        ca.engine.dispose()


@pytest.mark.external
def test_a_ca_request_without_the_subca_template_is_told_of_it(
    ca: CertificateAuthority, work: Path, source: str
) -> None:
    """A request for a subordinate CA sent without --template SubCA quoted its name
    lowercased ('corp test sub ca') and never said which template issues CAs."""
    request = openssl_req(
        work, subject="/CN=Corp Test Sub CA", sans=None,
        extra_args=["-addext", "basicConstraints=critical,CA:TRUE"],
    )  # fmt: skip
    refusal = refused(ca, request, source)
    assert "'Corp Test Sub CA'" in refusal.message, refusal.message
    assert all("--template SubCA" in r.fix for r in refusal.refusals), refusal.refusals
