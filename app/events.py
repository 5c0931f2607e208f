"""Domain events: what services say happened, and the one dispatcher that runs each area's reactions to them.

A service calls `record(session, ChoreApproved(...))`; nothing else happens then. When the transaction commits, the
dispatcher (built and bound to the session class in `create_app`) first runs the in-transaction reactions (badges,
their bonus ledger rows, the notification rows) inside `before_commit`, round after round while reactions record
new events, then — once the commit succeeded — the after-commit reactions (deliveries, live updates). A rollback
forgets the events. No reaction is registered by importing a module: `create_app` names every one.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("housepoints.events")

RECORDED = "events.recorded"        # session.info: events not yet seen by the before-commit reactions
COMMITTED = "events.committed"      # session.info: every event of the transaction, for the after-commit reactions
EXTENSION = "domain_events"
MAX_ROUNDS = 10                     # a badge's bonus can earn the next badge, whose bonus …: bounded


class DomainEvent:
    """Base of every event: a frozen record of something that happened in a family, named in the past tense."""


@dataclass(frozen=True)
class ChoreCompleted(DomainEvent):
    """A kid finished a chore that waits for a parent's check."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID | None
    chore: str
    at: datetime


@dataclass(frozen=True)
class ChoreApproved(DomainEvent):
    """A chore became verified and credited; `reviewed` when a parent approved one that was waiting."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID | None
    chore: str
    points: int
    at: datetime
    reviewed: bool


@dataclass(frozen=True)
class ChoreRejected(DomainEvent):
    """A parent sent a waiting chore back, with the reason the kid sees."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID | None
    chore: str
    reason: str


@dataclass(frozen=True)
class ChoreMissed(DomainEvent):
    """A chore's time ran out while it was still to do."""

    assignment_id: uuid.UUID
    member_id: uuid.UUID | None
    chore: str


@dataclass(frozen=True)
class PointsPosted(DomainEvent):
    """A ledger row was appended (any kind: chore, bonus, deduction, redemption, refund, achievement …)."""

    entry_id: uuid.UUID
    member_id: uuid.UUID
    kind: str
    amount: int
    description: str
    at: datetime


@dataclass(frozen=True)
class RewardRequested(DomainEvent):
    """A kid spent points on a reward: waiting for a parent (`pending`) or granted at once (`approved`)."""

    redemption_id: uuid.UUID
    reward_id: uuid.UUID
    reward: str
    member_id: uuid.UUID
    cost: int
    status: str
    notes: str | None
    at: datetime


@dataclass(frozen=True)
class RewardDecided(DomainEvent):
    """A parent approved, rejected (`reason`, points refunded) or handed over (`fulfilled`) a request."""

    redemption_id: uuid.UUID
    reward_id: uuid.UUID
    reward: str
    member_id: uuid.UUID
    status: str
    points: int
    at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class BadgeAwarded(DomainEvent):
    """A kid earned a badge (once: the insert-or-ignore decided it)."""

    badge_id: uuid.UUID
    member_id: uuid.UUID
    badge: str
    name: str
    description: str
    bonus_points: int


@dataclass(frozen=True)
class CoparentJoined(DomainEvent):
    """A parent joined the family by accepting an invitation."""

    member_id: uuid.UUID


@dataclass(frozen=True)
class AccessRevoked(DomainEvent):
    """Sessions, a member's every sign-in, tablets or the whole family were signed out: their open streams must end."""

    session_ids: tuple[uuid.UUID, ...] = ()
    member_ids: tuple[uuid.UUID, ...] = ()
    device_ids: tuple[uuid.UUID, ...] = ()
    whole_family: bool = False


@dataclass(frozen=True)
class NotificationsQueued(DomainEvent):
    """Bell rows and deliveries were written: ring the bells and send the deliveries once they are committed."""

    member_ids: tuple[uuid.UUID, ...] = ()
    delivery_ids: tuple[uuid.UUID, ...] = field(default=())


E = TypeVar("E", bound=DomainEvent)
BeforeCommit = Callable[[Session, list[Any]], None]
AfterCommit = Callable[[uuid.UUID, list[Any]], None]


def record(session: Session, happened: DomainEvent) -> None:
    """Say what happened; the dispatcher reacts when (and only if) the transaction commits."""
    session.info.setdefault(RECORDED, []).append(happened)
    session.info.setdefault(COMMITTED, []).append(happened)


def recorded(session: Session) -> list[DomainEvent]:
    """Every event this transaction recorded so far (tests and the neighbour seed look)."""
    return list(session.info.get(COMMITTED, []))


def forget(session: Session) -> None:
    """Drop the transaction's events: nothing will react to them."""
    session.info.pop(RECORDED, None)
    session.info.pop(COMMITTED, None)


class Dispatcher:
    """Which reactions run for which event, in registration order; before the commit or after it."""

    def __init__(self) -> None:
        self._before: list[tuple[tuple[type[DomainEvent], ...], BeforeCommit]] = []
        self._after: list[tuple[tuple[type[DomainEvent], ...], AfterCommit]] = []

    def before_commit(self, kinds: Sequence[type[DomainEvent]], reaction: BeforeCommit) -> None:
        """`reaction(session, events)` writes in the same transaction (badges, ledger, notification rows)."""
        self._before.append((tuple(kinds), reaction))

    def after_commit(self, kinds: Sequence[type[DomainEvent]], reaction: AfterCommit) -> None:
        """`reaction(family_id, events)` talks to the world once the rows are safe (deliveries, live updates)."""
        self._after.append((tuple(kinds), reaction))

    def run_before_commit(self, session: Session) -> None:
        """Rounds of in-transaction reactions until no reaction records anything new."""
        for _round in range(MAX_ROUNDS):
            batch: list[DomainEvent] = session.info.pop(RECORDED, [])
            if not batch:
                return
            for kinds, reaction in self._before:
                mine = [happened for happened in batch if isinstance(happened, kinds)]
                if mine:
                    reaction(session, mine)
        session.info.pop(RECORDED, None)
        log.warning("domain events still recorded after %d rounds; the rest is dropped", MAX_ROUNDS)

    def run_after_commit(self, family_id: uuid.UUID, events: list[DomainEvent]) -> None:
        """Every after-commit reaction; one failing must neither fail the request nor stop the others."""
        for kinds, reaction in self._after:
            mine = [happened for happened in events if isinstance(happened, kinds)]
            if not mine:
                continue
            try:
                reaction(family_id, mine)
            except Exception:  # noqa: BLE001 - the commit already happened; the tick's sweeps catch up
                log.exception("after-commit reaction %s failed for family %s", reaction.__name__, family_id)


def _dispatcher() -> Dispatcher | None:
    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def _before_commit(session: Session) -> None:
    if not session.info.get(RECORDED):
        return
    dispatcher = _dispatcher()
    if dispatcher is None:
        raise RuntimeError("domain events were recorded outside an app with a dispatcher; refusing to commit")
    dispatcher.run_before_commit(session)


def _after_commit(session: Session) -> None:
    events: list[DomainEvent] = session.info.pop(COMMITTED, [])
    session.info.pop(RECORDED, None)
    family_id = session.info.get("family_id")
    dispatcher = _dispatcher()
    if events and family_id is not None and dispatcher is not None:
        dispatcher.run_after_commit(family_id, events)


def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction rolled back, not a savepoint
        forget(session)


def init_app(app: Flask, session_class: type[Session]) -> Dispatcher:
    """Give the app its one dispatcher and bind the session class's transaction events to it (once per process)."""
    dispatcher = Dispatcher()
    app.extensions[EXTENSION] = dispatcher
    if not event.contains(session_class, "before_commit", _before_commit):
        event.listen(session_class, "before_commit", _before_commit)
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", _after_rollback)
    return dispatcher
