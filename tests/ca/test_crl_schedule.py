"""`ca serve` publishes its CRLs again before they run out (ca/crl_schedule.py): nothing did,
and a day without a revocation left relying servers with an expired delta CRL, a week with an
expired full CRL. Time is moved with a FixedClock; what was published is read by openssl."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, assert_verifies, ca_file, crl_pem, openssl, openssl_req, write_pem

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.crl_schedule import CrlSchedule
from lyncpki.clock import FixedClock

pytestmark = pytest.mark.external


def _number_and_end(path: Path) -> tuple[int, dt.datetime]:
    """The CRL number and nextUpdate openssl reads in a published CRL (PEM)."""
    said = openssl("crl", "-in", path, "-noout", "-crlnumber", "-nextupdate")
    fields = dict(line.split("=", 1) for line in said.splitlines() if "=" in line)
    end = dt.datetime.strptime(fields["nextUpdate"], "%b %d %H:%M:%S %Y GMT")
    return int(fields["crlNumber"], 16), end.replace(tzinfo=dt.UTC)


def _opened(ca: CertificateAuthority, clock: FixedClock, root_key: bool) -> CertificateAuthority:
    return CertificateAuthority.open(ca.home, PASSPHRASE, clock=clock, root_key=root_key)


def test_each_crl_is_published_again_past_half_its_life(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    clock = FixedClock()
    ca = _opened(fresh_ca, clock, root_key=True)
    said: list[str] = []
    schedule = CrlSchedule(ca, report=said.append)
    full, delta, root = crl_pem(ca), crl_pem(ca, delta=True), crl_pem(ca, root=True)
    before = {p: _number_and_end(p) for p in (full, delta, root)}
    assert schedule.check() == [] and said == []  # all fresh after ca init

    clock.advance(hours=13)  # the delta (24 hours) is past half its life; the rest is not
    assert schedule.check() == [
        f"published delta CRL #{_number_and_end(delta)[0]} of {ca.config.slug}"
    ]
    assert _number_and_end(delta)[0] > before[delta][0]
    assert _number_and_end(delta)[1] - clock.now() > dt.timedelta(hours=23)
    assert _number_and_end(full) == before[full]

    clock.advance(days=3, hours=12)  # the full CRL (7 days) too: published with a delta
    assert "and its delta" in schedule.check()[0]
    assert _number_and_end(full)[0] > before[full][0]
    assert _number_and_end(full)[1] - clock.now() > dt.timedelta(days=6)
    assert _number_and_end(root) == before[root]

    clock.advance(days=90)  # the root's (180 days): published by a service with its key
    assert any(line.startswith("published CRL #") and ca.config.root_slug in line
               for line in schedule.check())  # fmt: skip
    assert _number_and_end(root)[0] > before[root][0]
    # what a relying server checks at that moment takes the CRLs published for it
    leaf = write_pem(work, "leaf.pem", ca.submit(openssl_req(work), requester="t").certificate)
    moment = str(int(clock.now().timestamp()))
    assert_verifies(ca, leaf, flags=["-crl_check_all", "-attime", moment], crls=[full, root])
    assert ca_file(ca, "issuing").exists()


def test_without_the_root_key_the_root_crl_is_said_once_a_day(
    fresh_ca: CertificateAuthority,
) -> None:
    clock = FixedClock()
    ca = _opened(fresh_ca, clock, root_key=False)
    said: list[str] = []
    schedule = CrlSchedule(ca, report=said.append)
    root = crl_pem(ca, root=True)
    number = _number_and_end(root)[0]
    clock.advance(days=91)
    reminders = [line for line in schedule.check() if "root CA's CRL" in line]
    assert len(reminders) == 1 and "lyncpki ca crl --root" in reminders[0], said
    clock.advance(hours=12)
    assert not [line for line in schedule.check() if "root CA's CRL" in line]
    clock.advance(hours=13)
    assert [line for line in schedule.check() if "root CA's CRL" in line]
    assert _number_and_end(root)[0] == number  # never signed without its key


def test_a_missing_crl_is_published_at_once(fresh_ca: CertificateAuthority) -> None:
    delta = fresh_ca.home.crl_file(fresh_ca.config.slug, delta=True)
    delta.unlink()
    assert CrlSchedule(fresh_ca, report=lambda _: None).check()
    assert delta.exists()
