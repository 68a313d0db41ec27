"""The stores' passphrase check (scrypt, one salt per store): derived once per store in a
process however many stores a home has, and many stores checked at once in threads."""

from __future__ import annotations

import hashlib
import secrets
import threading
from typing import Any

import pytest

from lyncpki.store import protection
from lyncpki.store.model import KeyProtection

STORES_OF_A_400_SERVER_HOME = 422


class CountedScrypt:
    """hashlib.scrypt at the cost of a hash (the tests count calls, not seconds)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, password: bytes, *, salt: bytes, **params: Any) -> bytes:
        with self._lock:
            self.calls += 1
        return hashlib.sha256(password + salt + repr(sorted(params.items())).encode()).digest()


def _stores(secret: bytes, count: int) -> list[KeyProtection]:
    return [protection.protect(secret) for _ in range(count)]


def test_every_store_of_a_large_home_is_derived_once(monkeypatch: pytest.MonkeyPatch) -> None:
    scrypt = CountedScrypt()
    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    secret = secrets.token_hex(16).encode()  # none of another test's derivations
    stores = _stores(secret, STORES_OF_A_400_SERVER_HOME)  # protect() derives each once
    assert scrypt.calls == STORES_OF_A_400_SERVER_HOME
    # assess() checks every store, then the run checks again each store it writes to
    for _ in range(2):
        assert all(protection.matches(p, secret) for p in stores)
    assert scrypt.calls == STORES_OF_A_400_SERVER_HOME


def test_matches_each_derives_in_parallel_and_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = CountedScrypt()
    together = threading.Barrier(2, timeout=30)  # passes only with two derivations at once

    def scrypt(password: bytes, *, salt: bytes, **params: Any) -> bytes:
        together.wait()
        return counted(password, salt=salt, **params)

    secret = secrets.token_hex(16).encode()
    with monkeypatch.context() as patched:
        patched.setattr(hashlib, "scrypt", counted)
        stores = _stores(secret, 3)
    other = protection.protect(secrets.token_hex(16).encode())  # another passphrase's store
    protection._derive.cache_clear()  # derived again, two at a time
    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    ticks: list[int] = []
    found = protection.matches_each(
        [*stores, other], secret, jobs=2, done=lambda: ticks.append(len(ticks))
    )
    assert found == [True, True, True, False]
    assert len(ticks) == 4


def test_jobs_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="jobs"):
        protection.matches_each([], b"x", jobs=0)
