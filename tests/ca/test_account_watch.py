"""The accounts' generation: raised in the transaction of every account change, and seen at once
by an AccountWatch of another engine (another service process) — on SQLite through
`PRAGMA data_version`, on PostgreSQL by a short query — so that what a process remembers of an
account is checked again as soon as any process changes one."""

from __future__ import annotations

from lyncpki.ca import database as db
from lyncpki.ca.accounts import Accounts, AccountWatch, Role
from lyncpki.ca.authority import CertificateAuthority


def test_every_account_change_is_seen_at_once_by_another_process(
    backend_ca: CertificateAuthority,
) -> None:
    other = db.connect(str(backend_ca.engine.url.render_as_string(hide_password=False)))
    watch = AccountWatch(other)  # as in another worker process
    try:
        accounts = Accounts(backend_ca.engine, backend_ca.clock)
        start = watch.generation()
        assert watch.current("fe20") is None

        accounts.add("fe20", Role.MANAGER, "fe20-password-1234")
        assert watch.generation() == start + 1
        first = watch.current("fe20")
        assert first is not None and first[0] is Role.MANAGER

        accounts.remove("fe20")
        assert watch.generation() == start + 2
        assert watch.current("fe20") is None

        accounts.add("fe20", Role.REQUESTER, "fe20-password-1234")  # same password, new role
        again = watch.current("fe20")
        assert again is not None and again[0] is Role.REQUESTER
        assert again[1] != first[1]  # a new salted hash: another password version

        before = watch.generation()
        assert accounts.attempt("fe20", "wrong-password-123", "127.0.0.1").account is None
        assert watch.generation() == before  # a failed login changes no account
        if watch.local:
            assert watch.generation_at_once() == before
    finally:
        watch.close()
        other.dispose()
