"""Enrollments submitted together from one thread (service/submissions.py): concurrent
requests share submit_many calls, each still answered with its own certificate or its own
refusal, a failure is isolated to the request that caused it, and a client that went away
does not stop the others. Certificates are judged by `openssl verify`."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from service_tools import DOMAIN, in_process_ca, openssl, openssl_req

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.policy import RequestRefused
from lyncpki.service import submissions as module
from lyncpki.service.submissions import Submissions


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    authority: CertificateAuthority = in_process_ca(
        tmp_path / "home", b"submissions-test", "Submissions Issuing CA"
    )
    return authority


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def _requests(work: Path, hosts: list[str]) -> list[bytes]:
    return [openssl_req(work, f"/CN={h}", (h,), key="ec:P-256").read_bytes() for h in hosts]


def _verify(ca: CertificateAuthority, work: Path, certificate: object, name: str) -> str:
    path = work / f"{name}.crt"
    path.write_bytes(certificate.public_bytes(Encoding.PEM))  # type: ignore[attr-defined]
    return openssl(
        "verify", "-CAfile", ca.home.cert_file("root"), "-untrusted",
        ca.home.cert_file("issuing"), path,
    )  # fmt: skip


async def _gather(
    submissions: Submissions, requests: list[bytes], requester: str = "fe01"
) -> list[object]:
    return await asyncio.gather(
        *(submissions.submit(r, requester=requester, template=None) for r in requests),
        return_exceptions=True,
    )


def test_concurrent_requests_share_calls_and_each_gets_its_answer(
    ca: CertificateAuthority, work: Path
) -> None:
    hosts = [f"fe{n:02d}.{DOMAIN}" for n in range(12)]
    requests = _requests(work, hosts)
    foreign = _requests(work, ["fe99.fabrikam.example"])[0]
    submissions = Submissions(ca)
    outcomes = asyncio.run(_gather(submissions, [*requests[:6], foreign, *requests[6:]]))
    refused = outcomes.pop(6)
    assert isinstance(refused, RequestRefused)
    assert "fabrikam.example" in refused.message
    assert submissions.batches < len(requests), "every request was submitted alone"
    serials = set()
    for host, outcome in zip(hosts, outcomes, strict=True):
        certificate = outcome.certificate  # type: ignore[attr-defined]
        assert certificate.subject.rfc4514_string() == f"CN={host}"  # its own, not another's
        assert "OK" in _verify(ca, work, certificate, host)
        serials.add(certificate.serial_number)
    assert len(serials) == len(hosts)
    audit = ca.audit_log(100)
    assert sum(1 for e in audit if e["action"] == "issue") == len(hosts)
    assert any(e["outcome"] == "refused" and "fabrikam" in e["detail"] for e in audit)


def test_a_failure_is_isolated_to_its_request(
    ca: CertificateAuthority, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests = _requests(work, [f"fe{n:02d}.{DOMAIN}" for n in range(4)])
    poison = requests[2]
    submit_many = ca.submit_many

    def failing(batch: list[bytes], **kwargs: object) -> list[object]:
        if poison in batch:
            raise RuntimeError("the database went away")
        return submit_many(batch, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ca, "submit_many", failing)
    outcomes = asyncio.run(_gather(Submissions(ca), requests))
    assert isinstance(outcomes[2], RuntimeError)
    for n in (0, 1, 3):
        assert getattr(outcomes[n], "status", None) == "issued", outcomes[n]


def test_a_client_gone_does_not_stop_the_others(ca: CertificateAuthority, work: Path) -> None:
    requests = _requests(work, [f"fe{n:02d}.{DOMAIN}" for n in range(3)])
    submissions = Submissions(ca)

    async def scenario() -> list[object]:
        tasks = [
            asyncio.create_task(submissions.submit(r, requester="fe01", template=None))
            for r in requests
        ]
        await asyncio.sleep(0)  # all queued
        tasks[0].cancel()
        return await asyncio.gather(*tasks, return_exceptions=True)

    outcomes = asyncio.run(scenario())
    assert isinstance(outcomes[0], asyncio.CancelledError)
    assert [getattr(o, "status", None) for o in outcomes[1:]] == ["issued", "issued"]
    # and the thread goes on serving: a later request is answered too
    later = _requests(work, [f"fe10.{DOMAIN}"])
    assert getattr(asyncio.run(_gather(submissions, later))[0], "status", None) == "issued"


def test_the_thread_ends_when_idle_and_comes_back(
    ca: CertificateAuthority, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "IDLE_SECONDS", 0.05)
    submissions = Submissions(ca)
    first, second = _requests(work, [f"fe01.{DOMAIN}", f"fe02.{DOMAIN}"])
    asyncio.run(_gather(submissions, [first]))
    for _ in range(100):
        if not any(t.name == "lyncpki-submissions" for t in threading.enumerate()):
            break
        threading.Event().wait(0.02)
    else:
        pytest.fail("the submissions thread did not end when idle")
    outcome = asyncio.run(_gather(submissions, [second]))[0]
    assert getattr(outcome, "status", None) == "issued"


def test_a_request_checked_in_another_generation_is_sent_back(
    ca: CertificateAuthority, work: Path
) -> None:
    """Credentials remembered in an older generation of the accounts are not acted on: the
    generation is read once for the batch, and such a request is answered CredentialsChanged
    (its caller checks them again); the others are issued."""
    reads = []

    def generation() -> int:
        reads.append(1)
        return 7

    submissions = module.Submissions(ca, generation=generation)
    requests = _requests(work, [f"fe{n:02d}.{DOMAIN}" for n in range(4)])

    async def go() -> list[object]:
        return await asyncio.gather(
            *(
                submissions.submit(r, requester="fe01", template=None, checked_in=checked)
                for r, checked in zip(requests, (7, 6, 7, None), strict=True)
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(go())
    assert isinstance(outcomes[1], module.CredentialsChanged)
    for outcome in (outcomes[0], outcomes[2], outcomes[3]):
        assert outcome.certificate is not None  # type: ignore[union-attr]
    assert reads, "the generation was never read"
    with pytest.raises(ValueError, match="generation"):
        asyncio.run(
            module.Submissions(ca).submit(
                requests[0], requester="fe01", template=None, checked_in=1
            )
        )
