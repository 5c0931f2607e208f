"""What a family weighs: member counts, activity on a day, rows per table and database bytes, read in its context."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Engine, Select, Table, func, literal, null, select, text, union, union_all
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.auth.models import MemberSession
from app.db.bases import FamilyBase
from app.members.models import Member


@dataclass(frozen=True)
class FamilyMeasure:
    """One family's numbers at one moment (bytes is None where it cannot be known)."""

    members: dict[str, int]
    rows: dict[str, tuple[int, int | None]]  # table → (rows, bytes of their values)
    bytes: int | None
    bytes_estimated: bool
    active_members: int = 0
    chores_completed: int = 0

    @property
    def member_total(self) -> int:
        return sum(self.members.values())

    @property
    def row_total(self) -> int:
        return sum(count for count, _ in self.rows.values())


def family_tables() -> list[Table]:
    """Every family table (each has a family_id column), in a stable order."""
    return [table for table in FamilyBase.metadata.sorted_tables if "family_id" in table.c]


def _family_column(table: Table) -> Column[uuid.UUID]:
    column: Column[uuid.UUID] = table.c.family_id
    return column


def row_counts(session: Session, family_id: uuid.UUID) -> dict[str, tuple[int, int | None]]:
    """(rows, bytes of those rows) per family table for one family, in one statement (each branch pinned to the
    family); the bytes are PostgreSQL's sizes of the row values (no indexes or free space), None on SQLite."""
    on_postgres = session.get_bind(Member).dialect.name == "postgresql"
    branches: list[Select[str, int, int | None]] = [
        select(literal(table.name).label("name"), func.count().label("rows"),
               (func.coalesce(func.sum(func.pg_column_size(table.table_valued())), 0) if on_postgres
                else null()).label("bytes"))
        .select_from(table).where(_family_column(table) == family_id)
        for table in family_tables()]
    return {str(name): (int(rows), None if size is None else int(size))
            for name, rows, size in session.execute(union_all(*branches))}


def member_counts(session: Session) -> dict[str, int]:
    """Members by role (active and inactive alike)."""
    return {str(role): int(count) for role, count in
            session.execute(select(Member.role, func.count()).group_by(Member.role))}


def active_on(session: Session, family_id: uuid.UUID, start: datetime, end: datetime) -> tuple[int, int]:
    """(members active, chores completed) between `start` and `end`: a member is active when they signed in,
    were seen in a session or completed a chore."""
    people = union(
        select(Member.id.label("member_id")).where(Member.family_id == family_id, Member.last_active_at >= start,
                                                   Member.last_active_at < end),
        select(MemberSession.member_id).where(MemberSession.family_id == family_id,
                                              MemberSession.last_seen_at >= start, MemberSession.last_seen_at < end),
        select(Assignment.completed_by).where(Assignment.family_id == family_id, Assignment.completed_by.is_not(None),
                                              Assignment.completed_at >= start, Assignment.completed_at < end),
    ).subquery()
    active = session.scalar(select(func.count()).select_from(people)) or 0
    completed = session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.family_id == family_id, Assignment.completed_at >= start, Assignment.completed_at < end)) or 0
    return int(active), int(completed)


def database_bytes(engine: Engine, *, dedicated: bool, rows: dict[str, tuple[int, int | None]]
                   ) -> tuple[int | None, bool]:
    """(bytes, estimated): the whole database for a dedicated family; for a pooled one on PostgreSQL the size of its
    rows' values (an estimate: no indexes or page overhead), nothing on pooled SQLite."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite":
        if dedicated and url.database and os.path.exists(url.database):
            return os.path.getsize(url.database), False
        return None, True
    if dedicated:
        with engine.connect() as connection:
            size = connection.scalar(text("SELECT pg_database_size(current_database())"))
        return (int(size) if size is not None else None), False
    return sum(size or 0 for _, size in rows.values()), True
