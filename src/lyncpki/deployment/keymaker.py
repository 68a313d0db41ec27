"""Keys and requests made in parallel: RSA key generation is the slowest step of a deployment,
so each worker process generates a key, signs its PKCS#10 request and encrypts the key with
the stores' passphrase before handing both back. No key leaves a worker unencrypted.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.keyspec import KeySpec
from lyncpki.parent_death import die_with_parent
from lyncpki.store.server_store import SealedKey
from lyncpki.x509.keys import encrypt_key, generate_key, key_id
from lyncpki.x509.requests import RequestSubject, build_request


@dataclass(frozen=True)
class KeyOrder:
    """One key and request to make."""

    key: str  # KeySpec name
    subject: RequestSubject
    template: str | None
    client_auth: bool


@dataclass(frozen=True)
class MadeKey:
    sealed: SealedKey
    csr_der: bytes


def make_one(order: KeyOrder, secret: bytes) -> MadeKey:
    """In a worker: the key, its request, the key sealed with `secret`."""
    private = generate_key(KeySpec.parse(order.key))
    csr = build_request(
        private, order.subject, template=order.template, client_auth=order.client_auth
    )
    return MadeKey(
        SealedKey(encrypt_key(private, secret), key_id(private)), csr.public_bytes(Encoding.DER)
    )


def _die_with(parent: int) -> None:
    """In a worker, first: killed with the deploy process. A forked worker holds every file the
    deploy had open, its lock among them: killed mid-run (kill -9), the deploy left its workers
    waiting forever, and every later deploy on that home was refused as "running"."""
    die_with_parent(parent, signal.SIGKILL)


def make_keys(
    orders: Sequence[KeyOrder],
    secret: bytes,
    *,
    jobs: int,
    done: Callable[[int], None] | None = None,
) -> list[MadeKey]:
    """Every order made, in order, by `jobs` processes (1: in this process)."""
    if jobs <= 1 or len(orders) <= 1:
        made = []
        for order in orders:
            made.append(make_one(order, secret))
            if done:
                done(1)
        return made
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(orders)), initializer=_die_with, initargs=(os.getpid(),)
    ) as pool:
        futures = [pool.submit(make_one, order, secret) for order in orders]
        results = []
        for future in futures:
            results.append(future.result())
            if done:
                done(1)
        return results
