"""Whether anything was revoked since the last look, asked cheaply enough to ask before every
cached OCSP answer, and exactly across processes (several `ca serve` share one database).

The revocation generation is the last revocation id, read by a DatabaseWatch: on SQLite only
when `PRAGMA data_version` says another connection committed, on PostgreSQL one short round
trip on a dedicated connection. Revocation ids commit in their order
(`database.serialize_revocations`), so the last id grows exactly as revocations become visible:
none is committed later below an id already seen.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from lyncpki.ca import database as db
from lyncpki.ca.db_watch import DatabaseWatch

_LAST_REVOCATION = select(func.max(db.revocations.c.id))


class RevocationWatch(DatabaseWatch):
    """The last revocation id of the CA database (0 before any)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, _LAST_REVOCATION)

    def last_revocation(self) -> int:
        """The last revocation id (0 before any)."""
        return self.value()

    def last_revocation_at_once(self) -> int | None:
        """The last revocation id, or None when another thread is looking right now."""
        return self.value_at_once()


__all__ = ["RevocationWatch"]
