"""CSV exports of the ledger and of assignments for a range of family days, written row by row as they stream."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from app.assignments.models import Assignment
from app.chores.models import Chore
from app.family_time import FamilyClock
from app.members.models import Member
from app.points.descriptions import say_ledger_text
from app.points.models import LedgerEntry
from app.reports.services import Period

LEDGER_HEADER = ("date", "time", "member", "username", "kind", "amount", "description", "assignment_id",
                 "reference_id", "entry_id")
ASSIGNMENT_HEADER = ("due_date", "due_time", "chore", "category", "member", "username", "status", "points_offered",
                     "points_awarded", "completed_at", "verified_at", "assignment_id")
BATCH = 500
CHUNK = 8192
# A cell starting with one of these is a formula to a spreadsheet: such text gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """RFC 4180 text (quoted where needed, CRLF line ends) in chunks of about 8 KB, so a long export streams."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        if buffer.tell() >= CHUNK:
            yield _drain(buffer)
    yield _drain(buffer)


def _local(clock: FamilyClock, moment: datetime | None) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


def ledger_rows(session: Session, clock: FamilyClock, period: Period, *,
                language: str | None = None) -> Iterator[tuple[object, ...]]:
    """Ledger rows stamped on the range's family days, oldest first, with family-local dates and times and each
    description in `language` (the stored English without one)."""
    start, end = clock.day_bounds(period.start)[0], clock.day_bounds(period.end)[1]
    query = (select(LedgerEntry, Member.display_name, Member.username)
             .join(Member, Member.id == LedgerEntry.member_id)
             .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
             .order_by(LedgerEntry.created_at, LedgerEntry.id)
             .execution_options(yield_per=BATCH))
    for entry, name, username in session.execute(query):
        local = clock.local(entry.created_at)
        yield (local.date().isoformat(), local.strftime("%H:%M:%S"), name, username, entry.kind, entry.amount,
               say_ledger_text(entry.kind, entry.description, language), entry.assignment_id or "",
               entry.reference_id or "", entry.id)


def assignment_rows(session: Session, clock: FamilyClock, period: Period) -> Iterator[tuple[object, ...]]:
    """Every assignment due on the range's family days, with what the ledger credited it."""
    assignee = aliased(Member)
    credited = func.coalesce(func.sum(LedgerEntry.amount), 0)
    query = (select(Assignment.id, Assignment.due_date, Assignment.due_at, Chore.name, Chore.category,
                    assignee.display_name, assignee.username, Assignment.status, Assignment.points_offered,
                    credited, Assignment.completed_at, Assignment.verified_at)
             .join(Chore, Chore.id == Assignment.chore_id)
             .outerjoin(assignee, assignee.id == Assignment.assigned_to)
             .outerjoin(LedgerEntry, and_(LedgerEntry.assignment_id == Assignment.id, LedgerEntry.kind == "chore"))
             .where(Assignment.due_date >= period.start, Assignment.due_date <= period.end)
             .group_by(Assignment.id, Assignment.due_date, Assignment.due_at, Chore.name, Chore.category,
                       assignee.display_name, assignee.username, Assignment.status, Assignment.points_offered,
                       Assignment.completed_at, Assignment.verified_at)
             .order_by(Assignment.due_date, Assignment.due_at, Chore.name, Assignment.id)
             .execution_options(yield_per=BATCH))
    for (a_id, due_date, due_at, chore, category, name, username, status, offered, awarded, completed_at,
         verified_at) in session.execute(query):
        yield (due_date.isoformat(), clock.local(due_at).strftime("%H:%M"), chore, category, name or "",
               username or "", status, offered, int(awarded), _local(clock, completed_at),
               _local(clock, verified_at), a_id)
