"""One lockout per account, shared by every way in (apex, family page, API, tablet, operator console).

Each sign-in try is counted *before* its secret is checked, on the account's row in the platform database, under a
row lock (`SELECT … FOR UPDATE` on PostgreSQL; SQLite runs one writer at a time and the row's upsert makes this
transaction the writer), in a short transaction of its own that commits at once. Concurrent tries therefore take
turns at the counter: exactly `LOCKOUT_THRESHOLD` of them are checked and the rest are refused, whatever their
timing, and a request that later rolls back cannot lose its count. A right secret then calls `clear_failures`.
Nothing here needs Redis.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.domain import LockedOut
from app.languages import plural_phrase
from app.platform.models import LoginLockout

LOCKOUT_THRESHOLD = 5
LOCKOUT_WINDOW = timedelta(minutes=15)


def user_account(user_id: uuid.UUID) -> str:
    """A platform account's password: used at the apex and, for parents, on every family host and the API."""
    return f"user:{user_id}"


def member_password_account(member_id: uuid.UUID) -> str:
    """A member's own password (older kids, parents without a platform account)."""
    return f"member:{member_id}:password"


def member_pin_account(member_id: uuid.UUID) -> str:
    """A kid's tablet PIN."""
    return f"member:{member_id}:pin"


def operator_account(operator_id: uuid.UUID | str) -> str:
    """An operator console sign-in."""
    return f"operator:{operator_id}"


def locked_out(remaining: timedelta, **extra: str) -> LockedOut:
    """The refusal for a locked account, saying how long to wait (and Retry-After in `extra`)."""
    seconds = max(1, int(remaining.total_seconds()) + (remaining.total_seconds() % 1 > 0))
    minutes = max(1, -(-seconds // 60))
    refusal = LockedOut(plural_phrase("Too many tries. Please wait %(num)d minute or ask a parent.",
                                      "Too many tries. Please wait %(num)d minutes or ask a parent.", minutes),
                        retry_after=seconds)
    refusal.extra.update(extra)  # who is locked (member_id / user_id), for the audit row
    return refusal


def _own_transaction(session: Session) -> Engine:
    """The platform engine behind `session`: counts commit on their own, whatever the request does next."""
    bind = session.get_bind(mapper=LoginLockout.__mapper__)
    return bind.engine if isinstance(bind, Connection) else bind


def _count_try(connection: Connection, account: str, now: datetime) -> tuple[datetime | None, bool]:
    """Lock the account's row (creating it), count this try; (locked_until if already locked, is-last-try)."""
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    # SQLite: this INSERT makes the transaction the database's one writer, so the read below cannot go stale.
    connection.execute(insert(LoginLockout).values(account=account, failures=0, window_started_at=now)
                       .on_conflict_do_nothing(index_elements=["account"]))
    row = connection.execute(select(LoginLockout.failures, LoginLockout.window_started_at, LoginLockout.locked_until)
                             .where(LoginLockout.account == account).with_for_update()).one()
    failures, window_started_at, locked_until = row
    if locked_until is not None and locked_until > now:
        return locked_until, False
    if window_started_at <= now - LOCKOUT_WINDOW or locked_until is not None:
        failures, window_started_at = 0, now
    failures += 1
    locked_until = now + LOCKOUT_WINDOW if failures >= LOCKOUT_THRESHOLD else None
    connection.execute(update(LoginLockout).where(LoginLockout.account == account)
                       .values(failures=failures, window_started_at=window_started_at, locked_until=locked_until))
    return None, locked_until is not None


def check_and_count_failure(session: Session, account: str, now: datetime, **extra: str) -> bool:
    """Count this try as a failure before its secret is checked; refuse it (LockedOut) if the account is locked.

    The count commits at once in its own short transaction, so a caller that rolls back cannot lose it. Returns
    True when this try is the last one allowed: if its secret is wrong, the caller answers
    `locked_out(LOCKOUT_WINDOW)` (the try that locks says so). A right secret must call `clear_failures`.
    """
    with _own_transaction(session).begin() as connection:
        already_locked_until, last_try = _count_try(connection, account, now)
    if already_locked_until is not None:
        raise locked_out(already_locked_until - now, **extra)
    return last_try


def clear_failures(session: Session, account: str) -> None:
    """The right secret was given: forget the account's failures (and the lock its last try would have set)."""
    with _own_transaction(session).begin() as connection:
        # Reset rather than delete: a try waiting on this row's lock must still find it.
        connection.execute(update(LoginLockout).where(LoginLockout.account == account)
                           .values(failures=0, locked_until=None))


def lockout_remaining(session: Session, account: str, now: datetime) -> timedelta | None:
    """How long this account stays locked, or None when it is open (read only, for pages that show it)."""
    locked_until = session.scalar(select(LoginLockout.locked_until).where(LoginLockout.account == account))
    if locked_until is None or locked_until <= now:
        return None
    return locked_until - now
