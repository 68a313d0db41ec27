"""Failed logins throttle the guesser, not the account's owner: five failures of one account
from one client, twenty from one client whatever the accounts, fifty of one account whatever
the clients. A per-account limit of five alone let anyone lock a CA manager out from anywhere
by failing on purpose. On SQLite and PostgreSQL (the counts are one SQL query)."""

from __future__ import annotations

from lyncpki.ca.accounts import (
    MAX_ACCOUNT_FAILURES,
    MAX_CLIENT_FAILURES,
    MAX_FAILURES,
    Accounts,
)
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.clock import FixedClock


def test_a_guesser_is_throttled_and_the_owner_elsewhere_is_not(
    backend_ca: CertificateAuthority,
) -> None:
    accounts = Accounts(backend_ca.engine, backend_ca.clock)
    for _ in range(MAX_FAILURES - 1):
        accounts.record_failure("boss", "10.0.0.1")
    assert not accounts.throttled("boss", "10.0.0.1")
    accounts.record_failure("boss", "10.0.0.1")
    assert accounts.throttled("boss", "10.0.0.1")  # the guesser
    assert not accounts.throttled("boss", "10.0.0.2")  # the manager at another desk
    assert not accounts.throttled("fe01", "10.0.0.1")  # another account from that client


def test_spraying_accounts_from_one_client_is_throttled(backend_ca: CertificateAuthority) -> None:
    accounts = Accounts(backend_ca.engine, backend_ca.clock)
    for n in range(MAX_CLIENT_FAILURES):
        accounts.record_failure(f"user{n}", "10.0.0.9")
    assert accounts.throttled("a-fresh-name", "10.0.0.9")
    assert not accounts.throttled("a-fresh-name", "10.0.0.10")


def test_a_guess_spread_over_many_clients_is_throttled(backend_ca: CertificateAuthority) -> None:
    accounts = Accounts(backend_ca.engine, backend_ca.clock)
    for n in range(MAX_ACCOUNT_FAILURES - 1):
        accounts.record_failure("boss2", f"10.1.{n // 250}.{n % 250}")
    assert not accounts.throttled("boss2", "10.9.9.9")
    accounts.record_failure("boss2", "10.2.0.1")
    assert accounts.throttled("boss2", "10.9.9.9")
    assert not accounts.throttled("boss", "10.9.9.9")


def test_failures_age_out_of_the_window(backend_ca: CertificateAuthority) -> None:
    clock = FixedClock(backend_ca.clock.now())
    accounts = Accounts(backend_ca.engine, clock)
    for _ in range(MAX_FAILURES):
        accounts.record_failure("boss", "10.0.0.1")
    assert accounts.throttled("boss", "10.0.0.1")
    clock.advance(minutes=2)
    assert not accounts.throttled("boss", "10.0.0.1")


def test_guesses_sent_at_once_are_throttled_as_if_sent_one_by_one(
    backend_ca: CertificateAuthority,
) -> None:
    """Each attempt was checked against the failures recorded, then its password checked
    (scrypt: slow), then its failure recorded: a burst of 60 all passed the check, and a right
    guess among them got in after 30 wrong ones. MAX_FAILURES wrong guesses are now checked,
    however many arrive at once; the owner's right password, elsewhere, still opens."""
    from concurrent.futures import ThreadPoolExecutor

    from lyncpki.ca.accounts import Role

    accounts = Accounts(backend_ca.engine, backend_ca.clock)
    accounts.add("burst", Role.MANAGER, "Right-Passw0rd-long")
    with ThreadPoolExecutor(16) as pool:
        attempts = list(
            pool.map(lambda n: accounts.attempt("burst", f"wrong-{n}", "10.7.0.1"), range(40))
        )
    checked = [a for a in attempts if not a.throttled]
    assert len(checked) == MAX_FAILURES, len(checked)
    assert all(a.account is None for a in checked)
    assert accounts.attempt("burst", "Right-Passw0rd-long", "10.7.0.1").throttled
    owner = accounts.attempt("burst", "Right-Passw0rd-long", "10.7.0.2")  # another desk
    assert owner.account is not None and owner.account.name == "burst"
    assert not accounts.throttled("burst", "10.7.0.2")  # a right password leaves no failure
