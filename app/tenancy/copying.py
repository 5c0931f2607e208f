"""A family's rows as a whole: copy them to another database, fingerprint them, erase them (moves and purges).

Copying goes through the app's own gated engines (every read pinned to the family, every insert binding it), table
by table in foreign-key order. Erasing runs as the owner role on an engine of its own (like migrations): the app
role may not delete ledger history, and the append-only trigger lets the owner delete only the one family named by
the transaction-local `app.erase_family` (family migration 8b4f2d6e0a19).
"""
from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, insert, select, update
from sqlalchemy.orm import Session

from app.db.bases import FamilyBase
from app.db.engines import new_engine
from app.db.rls import APPEND_ONLY_TABLES
from app.tenancy.databases import DatabaseOwner, owner_url

BATCH = 2000  # rows read and inserted per round trip
# SQLite has no transaction-local settings: the eraser lifts this trigger inside its own transaction instead.
SQLITE_LEDGER_DELETE_TRIGGER = ("CREATE TRIGGER points_ledger_no_delete BEFORE DELETE ON points_ledger "
                                "BEGIN SELECT RAISE(ABORT, 'points_ledger is append-only'); END")


@dataclass(frozen=True)
class TableFingerprint:
    """How many rows of the family a table holds, and a checksum of their content (in primary-key order)."""

    table: str
    rows: int
    checksum: str


def family_tables() -> list[Table]:
    """Every family table, referenced tables before the tables that point at them."""
    return list(FamilyBase.metadata.sorted_tables)


def _self_references(table: Table) -> list[str]:
    """Columns pointing at another row of the same table (members.created_by): filled in after every row exists."""
    return sorted({fk.parent.name for fk in table.foreign_keys
                   if fk.column.table is table and fk.parent.name != "family_id"})


def _canonical(row: dict[str, Any], columns: list[str]) -> bytes:
    # JSONB reorders object keys and both engines return tz-aware UTC datetimes: sorted keys + str() compare equal.
    return json.dumps([row[name] for name in columns], sort_keys=True, default=str).encode() + b"\n"


def _pages(session: Session, table: Table, family_id: uuid.UUID) -> Iterator[list[dict[str, Any]]]:
    """The family's rows of `table` in primary-key order, a page at a time (keyset pagination on `id`)."""
    last: Any = None
    while True:
        query = select(table).where(table.c.family_id == family_id).order_by(table.c.id).limit(BATCH)
        if last is not None:
            query = query.where(table.c.id > last)
        result = session.execute(query)
        names = list(result.keys())
        rows = [dict(zip(names, row, strict=True)) for row in result]  # cheaper than a RowMapping per row
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def fingerprint_family(session: Session, family_id: uuid.UUID) -> list[TableFingerprint]:
    """Per-table row counts and content checksums of one family, read through `session` (scoped to it)."""
    out = []
    for table in family_tables():
        columns = [column.name for column in table.columns]
        digest, count = hashlib.sha256(), 0
        for rows in _pages(session, table, family_id):
            for row in rows:
                digest.update(_canonical(row, columns))
            count += len(rows)
        out.append(TableFingerprint(table.name, count, digest.hexdigest()))
    return out


def copy_family_rows(source: Session, target: Session, family_id: uuid.UUID,
                     progress: Callable[[str, int], None] | None = None) -> list[TableFingerprint]:
    """Insert every row of the family from `source` into `target` (not committed) and fingerprint what was copied."""
    out = []
    for table in family_tables():
        columns = [column.name for column in table.columns]
        later = _self_references(table)
        digest, count = hashlib.sha256(), 0
        links: list[dict[str, Any]] = []
        for rows in _pages(source, table, family_id):
            for row in rows:
                digest.update(_canonical(row, columns))
                if later and any(row[name] is not None for name in later):
                    links.append({"id": row["id"], **{name: row[name] for name in later}})
            target.execute(insert(table), [{**row, **dict.fromkeys(later)} for row in rows])
            count += len(rows)
        for link in links:  # a member created by another member: both exist now
            target.execute(update(table).where(table.c.id == link["id"], table.c.family_id == family_id)
                           .values({name: link[name] for name in later}))
        if progress is not None:
            progress(table.name, count)
        out.append(TableFingerprint(table.name, count, digest.hexdigest()))
    return out


def erase_family_rows(url: str, family_id: uuid.UUID, owner: DatabaseOwner | None) -> int:
    """Delete every row of one family from the database behind app URL `url`, as the owner; returns rows deleted."""
    engine = new_engine(owner_url(url, owner))
    deleted = 0
    try:
        with engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if not sqlite:
                connection.exec_driver_sql("SELECT set_config('app.family_id', %s, true), "
                                           "set_config('app.erase_family', %s, true)", (str(family_id),) * 2)
            for table in reversed(family_tables()):
                deleted += _erase_table(connection, table, family_id, sqlite=sqlite)
    finally:
        engine.dispose()
    return deleted


def _erase_table(connection: Connection, table: Table, family_id: uuid.UUID, *, sqlite: bool) -> int:
    lifted = sqlite and table.name in APPEND_ONLY_TABLES
    if lifted:  # inside this transaction (rows of later tables were already deleted, so it has begun)
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS points_ledger_no_delete")
    result = connection.execute(table.delete().where(table.c.family_id == family_id))
    if lifted:
        connection.exec_driver_sql(SQLITE_LEDGER_DELETE_TRIGGER)
    return result.rowcount
