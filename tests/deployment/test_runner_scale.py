"""The runner's bookkeeping stays linear in the size of the run: the CA's certificates are
read once for all the requests a killed run left pending (each resumed request read them all
again), and the pool copies find each certificate's thumbprint in one pass over what was done
(each need scanned the whole list)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lab import CONTOSO
from lyncpki.deployment.needs import COPY, ISSUE, Assessment, Need
from lyncpki.deployment.runner import Done, Outcome, Runner, _Answers
from lyncpki.planning import plan_file
from lyncpki.store import PendingRequest
from lyncpki.x509.keys import key_id

ACCOUNT = "lyncpki-deploy"
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _certificate(name: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


class FakeCa:
    """The two reads of CertificateAuthority that recovery makes, counted."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.issued: dict[str, x509.Certificate] = {}
        self.listed = 0

    def add(self, cert: x509.Certificate, requester: str, issued_at: dt.datetime) -> None:
        serial = format(cert.serial_number, "x")
        self.issued[serial] = cert
        self.rows.append(
            {
                "serial": serial,
                "subject": cert.subject.rfc4514_string(),
                "requester": requester,
                "issued_at": issued_at.replace(tzinfo=None),  # as SQLite gives it
            }
        )

    def certificates(self, status: str | None = None) -> list[dict[str, Any]]:
        self.listed += 1
        return [dict(r) for r in self.rows]

    def certificate(self, serial: str) -> tuple[dict[str, Any], x509.Certificate]:
        return {}, self.issued[serial]


def _pending(number: int, name: str, key: ec.EllipticCurvePrivateKey) -> PendingRequest:
    return PendingRequest(
        id=number,
        key_id=key_id(key),
        usages=("Default",),
        subject=name,
        sans=(name,),
        key="ec-p256",
        template="LyncServer",
        friendly_name=name,
        exportable=False,
        created_at=NOW - dt.timedelta(minutes=1),
    )


def test_the_answers_of_resumed_requests_are_read_once() -> None:
    ca = FakeCa()
    names = [f"fe{n:02}.contoso.net" for n in range(1, 9)]
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in names]
    for name, key in zip(names, keys, strict=True):
        ca.add(_certificate(name, key), ACCOUNT, NOW)
    other = ec.generate_private_key(ec.SECP256R1())
    ca.add(_certificate(names[0], other), "someone-else", NOW)  # not deploy's
    late = ec.generate_private_key(ec.SECP256R1())
    ca.add(_certificate(names[1], late), ACCOUNT, NOW - dt.timedelta(days=1))  # before it
    answers = _Answers(ca, ACCOUNT)  # type: ignore[arg-type]
    pairs = enumerate(zip(names, keys, strict=True))
    pending = [_pending(n, name, key) for n, (name, key) in pairs]
    found = [answers.of(p) for p in pending]
    assert [key_id(c.public_key()) if c else None for c in found] == [p.key_id for p in pending]
    assert answers.of(_pending(99, names[0], other)) is None  # issued to another requester
    assert answers.of(_pending(98, names[1], late)) is None  # issued before the request
    assert ca.listed == 1


class CountedList(list[Done]):
    passes = 0

    def __iter__(self) -> Any:
        CountedList.passes += 1
        return super().__iter__()


class Reporter:
    def phase(self, name: str, total: int) -> None:
        self.total = total

    def advance(self, count: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def test_pool_copies_find_the_issued_thumbprints_in_one_pass(tmp_path: Path) -> None:
    planned = plan_file(CONTOSO).certificates
    needs = [Need(p, f"holder{i}", (f"member{i}",), ISSUE, "new") for i, p in enumerate(planned)]
    needs.append(Need(planned[0], "edge01", ("edge02",), COPY, "pool", thumbprint="C0FFEE"))
    outcome = Outcome()
    outcome.done = CountedList(
        [Done(f"holder{i}", p.id, "issued", f"T{i}") for i, p in enumerate(planned)]
        + [Done("holder0", planned[0].id, "issued", "LATER")]  # the first one counts
    )
    runner = Runner(tmp_path, b"x", None, ACCOUNT, None, Reporter())  # type: ignore[arg-type]
    copied: list[tuple[str, str]] = []

    def copy_one(need: Need, name: str, thumbprint: str) -> Done:
        copied.append((name, thumbprint))
        return Done(name, need.planned.id, "copied", thumbprint)

    runner._copy_one = copy_one  # type: ignore[method-assign]
    CountedList.passes = 0
    runner.copy(Assessment(tuple(needs), ()), outcome)
    assert CountedList.passes == 1
    expected = [(f"member{i}", f"T{i}") for i in range(len(planned))]
    assert copied == [*expected, ("edge02", "C0FFEE")]
