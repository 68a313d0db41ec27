"""The passphrase of a store's keys: where it comes from, and a check value that keeps every key
of a store under the same passphrase.

Order (as for the CA): --passphrase-file, $LYNCPKI_STORE_PASSPHRASE, $LYNCPKI_CA_PASSPHRASE,
the home's generated secret (<home>/secrets/store-passphrase, then ca-passphrase), a prompt.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from lyncpki import passphrase
from lyncpki.store.layout import SERVERS_DIR
from lyncpki.store.model import KeyProtection

STORE_PASSPHRASE_ENV = "LYNCPKI_STORE_PASSPHRASE"
CA_PASSPHRASE_ENV = "LYNCPKI_CA_PASSPHRASE"


def stores_protected(home: Path) -> bool:
    """Whether a store of the home already has keys under a passphrase (so that the one typed
    is checked against it, not chosen: asked once, not twice)."""
    for index in (home / SERVERS_DIR).glob("*/store.json"):
        try:
            if json.loads(index.read_bytes()).get("protection"):
                return True
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable store is reported by the command that reads it
    return False


def resolve_store_passphrase(
    home: Path,
    *,
    passphrase_file: Path | None = None,
    prompt: Callable[[], str] | None = None,
    file_option: bool = True,  # whether the command takes --passphrase-file (deploy does not)
) -> bytes:
    fix = f"set {STORE_PASSPHRASE_ENV} (or {CA_PASSPHRASE_ENV})"
    return passphrase.resolve(
        what="the server stores' private keys",
        passphrase_file=passphrase_file,
        env_names=(STORE_PASSPHRASE_ENV, CA_PASSPHRASE_ENV),
        generated=(home / "secrets" / "store-passphrase", home / "secrets" / "ca-passphrase"),
        prompt=prompt,
        fix=f"{fix}, or use --passphrase-file FILE" if file_option else fix,
    )


@functools.cache
def _derive(secret: bytes, salt: bytes, n: int, r: int, p: int) -> str:
    """scrypt once per store and passphrase in a process (a deployment checks the same store
    for every key it adds; each check would otherwise cost 50-100 ms of scrypt).

    Unbounded: one entry per store (each has its own salt) and passphrase form the process
    opens, so as many as the work has. A bound below that derived every store again (256
    entries against the 422 stores of a 400-server home: whatever assess() derived first was
    evicted before the run wrote to it). The entries hold the passphrase only as long as the
    process, which holds it that long itself: a command's process ends with its command, and
    the long-running ones (ca serve, the console) open no store's keys."""
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=32).hex()


def protect(secret: bytes) -> KeyProtection:
    """The check value of a new store's passphrase, of its Unicode NFC form (the keys' form)."""
    salt = secrets.token_bytes(16)
    protection = KeyProtection(salt=salt.hex(), check="")
    return KeyProtection(
        salt=protection.salt,
        check=_derive(
            passphrase.normalized(secret), salt, protection.n, protection.r, protection.p
        ),
    )


def matches(protection: KeyProtection, secret: bytes) -> bool:
    """Whether `secret` is the store's passphrase: in NFC, or as given (a store protected
    before passphrases were normalised)."""
    salt = bytes.fromhex(protection.salt)
    return any(
        hmac.compare_digest(
            _derive(form, salt, protection.n, protection.r, protection.p), protection.check
        )
        for form in passphrase.forms(secret)
    )


def matches_each(
    protections: Sequence[KeyProtection],
    secret: bytes,
    *,
    jobs: int = 1,
    done: Callable[[], None] | None = None,
) -> list[bool]:
    """`matches` of each protection (in their order), `jobs` at a time in threads: scrypt
    (hashlib's, OpenSSL's) releases the GIL, so two threads derive two keys at once. Each
    result is remembered (`_derive`), so the checks that follow, store by store
    (ServerStore.holds_key_of, a key added), cost nothing. `done` is called from the calling
    thread as each check ends (a progress bar)."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    found = [False] * len(protections)
    if not protections:
        return found
    with ThreadPoolExecutor(max_workers=min(jobs, len(protections))) as pool:
        futures = {pool.submit(matches, p, secret): i for i, p in enumerate(protections)}
        for future in as_completed(futures):
            found[futures[future]] = future.result()
            if done is not None:
                done()
    return found
