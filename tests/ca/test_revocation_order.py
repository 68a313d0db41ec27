"""Revocations commit in the order of their ids, on every database.

The OCSP responder's cache and every service worker notice a revocation by the last revocation
id (RevocationWatch), and a delta CRL lists the revocations whose id is above its base's. On
PostgreSQL two revocations run at once: without an order, the later id could commit first, be
seen, and the earlier one commit after it — below the id already seen, so that no cache and no
delta CRL would ever notice it (a revoked certificate answered `good` until the next
revocation). Here the first revocation is held just before its commit while a second one is
made: the second may only finish once the first is committed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ca_tools import openssl_req
from sqlalchemy import Engine, event, select

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.revocation_watch import RevocationWatch
from lyncpki.x509.identifiers import serial_hex

HOLD = 1.0  # seconds the first revocation waits before its commit


def _issued(ca: CertificateAuthority, work: Path, name: str) -> str:
    result = ca.submit(openssl_req(work, subject=f"/CN={name}", sans=[name]), requester="test")
    assert result.certificate is not None
    return serial_hex(result.certificate.serial_number)


def _revocation_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(db.revocations.c.serial, db.revocations.c.id))
        return {str(serial): int(rid) for serial, rid in rows}


def test_a_revocation_waits_for_the_one_before_it(
    backend_ca: CertificateAuthority, work: Path
) -> None:
    ca = backend_ca
    first, second = (
        _issued(ca, work, "first.corp-test.se"),
        _issued(ca, work, "second.corp-test.se"),
    )
    held = threading.local()
    inserted = threading.Event()

    @event.listens_for(ca.engine, "commit")
    def hold_the_first(conn: object) -> None:
        if getattr(held, "on", False):
            held.on = False
            inserted.set()  # its revocation row is written, its id taken
            time.sleep(HOLD)

    def revoke_first() -> None:
        held.on = True
        ca.revoke(first, actor="test")

    thread = threading.Thread(target=revoke_first)
    thread.start()
    try:
        assert inserted.wait(10)
        ca.revoke(second, actor="test")
        # what any other process sees once the second revocation is done
        other = db.connect(ca.engine.url.render_as_string(hide_password=False))
        watch = RevocationWatch(other)
        try:
            ids = _revocation_ids(other)
            assert first in ids, "the second revocation finished before the first was committed"
            assert ids[first] < ids[second]
            assert watch.last_revocation() == ids[second]
        finally:
            watch.close()
            other.dispose()
    finally:
        thread.join()
        event.remove(ca.engine, "commit", hold_the_first)
    assert set(_revocation_ids(ca.engine)) == {first, second}
