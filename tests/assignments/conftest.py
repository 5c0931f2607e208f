"""Fixtures for the daily loop: a family with kids, helpers for scheduled chores, and threads that race for real."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timezone
from typing import Any, TypeVar

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app import create_app
from app.assignments.services import FamilyRules
from app.chores.models import Chore, ChoreAssignee, ChoreSchedule
from app.db import engines
from app.family_time import FamilyClock
from app.members.models import Member
from app.tenancy.context import family_context
from config import TestConfig

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday
RACERS = 8
T = TypeVar("T")


@pytest.fixture
def rules() -> FamilyRules:
    return FamilyRules(clock=FamilyClock("UTC"))


def make_chore(session, *, name: str = "Dishes", assignees: list[Member] | None = None,  # noqa: ANN001
               strategy: str = "fixed", schedule: dict[str, Any] | None = None, **fields: Any) -> Chore:
    """A chore with a schedule (daily from 2026-01-01 by default) and its rotation order."""
    chore = Chore(name=name, assignment_type=strategy, **fields)
    spec = {"kind": "daily", "start_date": date(2026, 1, 1), **(schedule or {})}
    chore.schedule = ChoreSchedule(**spec)
    chore.assignees = [ChoreAssignee(member_id=m.id, position=i) for i, m in enumerate(assignees or [])]
    session.add(chore)
    session.flush()
    return chore


def make_parent(session: Session, username: str = "mum") -> Member:
    """A parent in the current family session (flushed, not committed)."""
    parent = Member(username=username, display_name=username.title(), role="parent")
    session.add(parent)
    session.flush()
    return parent


@pytest.fixture
def kids(in_family, family) -> Callable[..., list[Member]]:  # noqa: ANN001
    """Factory: add kids (name → birthdate) to this test's family and return them (in that family's session)."""
    def add(*names: str, birthdate: date | None = date(2015, 1, 1)) -> list[Member]:
        with in_family(family) as ctx:
            members = [Member(username=n.lower(), display_name=n, role="child", birthdate=birthdate) for n in names]
            ctx.session.add_all(members)
            ctx.session.commit()
            return members
    return add


# --- real concurrency ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def race_app(app: Flask) -> Iterator[Flask]:
    """The same databases and Redis as `app`, with pools big enough that all racers hold a connection at once."""
    shared = {key: app.config[key] for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL",
                                               "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_KEY_PREFIX")}
    racing = create_app(TestConfig, DB_POOL_SIZE=RACERS + 2, DB_MAX_OVERFLOW=2, **shared)
    yield racing
    with racing.app_context():
        engines().dispose_all()


def run_together(flask_app: Flask, slug: str, workers: list[Callable[[Session], T]]) -> list[T | Exception]:
    """Run each worker in its own thread and family session, all released at once; each commits its own work.

    Returns each worker's result, or the exception it raised (its transaction rolled back).
    """
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int) -> None:
        try:
            with flask_app.app_context(), family_context(slug) as ctx:
                barrier.wait(timeout=20)
                results[index] = workers[index](ctx.session)
                ctx.session.commit()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each racer got
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer hung (deadlock or pool exhaustion)"
    return results


__all__ = ["NOW", "RACERS", "make_chore", "make_parent", "run_together", "time"]
