"""CA databases as older lyncpki versions left them, made from a CA of this version: its rows
kept, its tables put back to an old schema.

Schema 1 (lyncpki c81c1b5 to 86c5505) is rebuilt from the DDL that version's code emitted
(old_schemas/schema1.*.sql, generated from it; see the comment at the top of each file): the
five tables of the CA's records, its own indexes, no append-only triggers, no version recorded.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect, select

from lyncpki.ca import database as db

OLD_SCHEMAS = Path(__file__).parent / "old_schemas"
# The tables of schema 1, in an order that inserts a row after the rows it names
SCHEMA_1 = ("certificates", "requests", "revocations", "crls", "audit")


def statements(sql: str) -> list[str]:
    """The statements of a SQL file of old_schemas (comment lines left out)."""
    text = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    return [part.strip() for part in text.split(";") if part.strip()]


def make_schema_1(url: str) -> None:
    """Turn the database of a CA made by this version into the one lyncpki c81c1b5 kept for
    it: every table dropped, schema 1's made again by its own DDL, and the rows of those tables
    written back (ids as they were; PostgreSQL's sequences set past them)."""
    engine = db.connect(url)
    try:
        with engine.connect() as conn:
            rows = {
                name: [
                    dict(row._mapping)
                    for row in conn.execute(
                        select(db.metadata.tables[name]).order_by(
                            *db.metadata.tables[name].primary_key.columns
                        )
                    )
                ]
                for name in SCHEMA_1
            }
        db.unclaim(engine)  # every table of this version, and PostgreSQL's trigger function
        dialect = engine.dialect.name
        with engine.begin() as conn:
            for statement in statements((OLD_SCHEMAS / f"schema1.{dialect}.sql").read_text()):
                conn.exec_driver_sql(statement)
            for name in SCHEMA_1:
                if rows[name]:
                    conn.execute(db.metadata.tables[name].insert(), rows[name])
                if dialect == "postgresql" and name != "certificates":
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM {name}), 0) + 1, false)"
                    )
        assert set(table_names(engine)) == set(SCHEMA_1)
    finally:
        engine.dispose()


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
