"""The ledger invariant: after 1,000 seeded random operations over ten days, every balance equals its ledger."""
from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.assignments.models import WITH_CHORE, WITH_CHORE_AND_ASSIGNEE, Assignment
from app.assignments.services import (FamilyRules, claim_assignment, complete_assignment, load_family_rules,
                                      mark_missed, reopen_assignment, skip_assignment, undo_completion,
                                      verify_assignment)
from app.domain import DomainError
from app.inputs import parse_input
from app.jobs.tick import tick_family
from app.members.models import Member
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import give_points, post_entry, reconcile_balances
from tests.assignments.conftest import make_chore, make_parent

SEED = 20260304
OPERATIONS = 1000
DAYS = 10
START = datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc)  # a Sunday: the run crosses two week starts


@dataclass
class Model:
    """What the balances must be, kept by the test from what each operation did (not from the ledger)."""

    session: Session
    rules: FamilyRules
    parent: Member
    kids: list[Member]
    rng: random.Random
    now: datetime = START
    expected: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    penalties: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))  # charged, not returned

    def pick(self, *statuses: str) -> Assignment | None:
        """Mostly an assignment in one of `statuses`; sometimes any at all (bad input the service must refuse)."""
        every = self.session.execute(select(Assignment.id, Assignment.status).order_by(Assignment.id)).all()
        wanted = [row for row in every if row.status in statuses]
        pool = wanted if wanted and self.rng.random() < 0.85 else every
        return self.session.get(Assignment, self.rng.choice(pool).id, options=WITH_CHORE_AND_ASSIGNEE) if pool else None

    def anyone(self, assignment: Assignment | None = None) -> Member:
        choices = [self.parent, *self.kids]
        if assignment is not None and assignment.assignee is not None:
            choices += [assignment.assignee] * 3
        return self.rng.choice(choices)

    def expect_misses(self) -> None:
        """Before anything marks chores missed: the assigned, overdue ones each cost their penalty once."""
        overdue = self.session.scalars(select(Assignment).where(Assignment.status.in_(("open", "pending")),
                                                                Assignment.due_at < self.now).options(*WITH_CHORE))
        for assignment in overdue:
            if assignment.assigned_to is not None and assignment.chore.penalty_points:
                self.expected[assignment.assigned_to] -= assignment.chore.penalty_points
                self.penalties[assignment.id] += assignment.chore.penalty_points


def op_complete(m: Model) -> None:
    assignment = m.pick("pending", "open")
    if assignment is None:
        return
    done = complete_assignment(m.session, actor=m.anyone(assignment), assignment_id=assignment.id, rules=m.rules,
                               now=m.now, notes="done")
    if done.status == "verified":
        m.expected[done.assigned_to] += done.points_earned


def op_verify(m: Model) -> None:
    assignment = m.pick("pending_verification")
    if assignment is None:
        return
    actor = m.parent if m.rng.random() < 0.9 else m.rng.choice(m.kids)
    awarded = m.rng.choice([None, None, None, 0, m.rng.randint(1, 30)])
    done = verify_assignment(m.session, actor=actor, assignment_id=assignment.id, approved=m.rng.random() < 0.7,
                             rules=m.rules, now=m.now, points_awarded=awarded, notes="checked")
    if done.status == "verified":
        m.expected[done.assigned_to] += done.points_earned


def op_undo(m: Model) -> None:
    assignment = m.pick("verified", "pending_verification")
    if assignment is None:
        return
    credited = assignment.points_earned if assignment.status == "verified" else 0
    member_id = assignment.assigned_to
    undo_completion(m.session, actor=m.parent, assignment_id=assignment.id, rules=m.rules, now=m.now)
    if member_id is not None:
        m.expected[member_id] -= credited


def op_bonus(m: Model) -> None:
    kid = m.rng.choice(m.kids)
    amount = m.rng.choice([m.rng.randint(1, 25)] * 9 + [0, 10_001, -3])
    give_points(m.session, actor=m.parent, member=kid,
                data=parse_input(PointsAward, {"kind": "bonus", "points": amount, "reason": "Extra helpful"}),
                clock=m.rules.clock, now=m.now)
    m.expected[kid.id] += amount


def op_deduction(m: Model) -> None:
    kid = m.rng.choice(m.kids)
    amount = m.rng.randint(1, 15)
    actor = m.parent if m.rng.random() < 0.8 else m.rng.choice(m.kids)
    give_points(m.session, actor=actor, member=kid,
                data=parse_input(PointsAward, {"kind": "deduction", "points": amount, "reason": "Not listening"}),
                clock=m.rules.clock, now=m.now)
    m.expected[kid.id] -= amount


def op_skip(m: Model) -> None:
    assignment = m.pick("open", "pending", "missed")
    if assignment is not None:
        skip_assignment(m.session, actor=m.anyone(), assignment_id=assignment.id, now=m.now)


def op_reopen(m: Model) -> None:
    assignment = m.pick("missed")
    if assignment is None:
        return
    reopen_assignment(m.session, actor=m.anyone(), assignment_id=assignment.id, rules=m.rules, now=m.now)
    if assignment.assigned_to is not None:
        m.expected[assignment.assigned_to] += m.penalties.pop(assignment.id, 0)


def op_mark_missed(m: Model) -> None:
    m.expect_misses()
    mark_missed(m.session, m.rules, m.now)


def op_claim(m: Model) -> None:
    assignment = m.pick("open")
    if assignment is not None:
        claim_assignment(m.session, actor=m.rng.choice(m.kids), assignment_id=assignment.id, now=m.now)


OPERATIONS_TABLE: list[tuple[Callable[[Model], None], int]] = [
    (op_complete, 20), (op_verify, 15), (op_undo, 5), (op_bonus, 10), (op_deduction, 8), (op_skip, 4),
    (op_reopen, 5), (op_mark_missed, 3), (op_claim, 8),
]


def test_ledger_invariant_after_a_thousand_random_operations(in_family, family) -> None:  # noqa: ANN001
    rng = random.Random(SEED)
    with in_family(family) as ctx:
        s = ctx.session
        rules = load_family_rules(s, family.timezone)
        parent = make_parent(s)
        kids = [Member(username=n.lower(), display_name=n, role="child") for n in ("Ava", "Ben", "Cal")]
        s.add_all(kids)
        s.flush()
        make_chore(s, name="Dishes", strategy="round_robin", assignees=kids, base_points=10, penalty_points=3)
        make_chore(s, name="Beds", strategy="each", base_points=5, requires_verification=False, penalty_points=1)
        make_chore(s, name="Trash", strategy="open", base_points=8, open_bonus_points=4, penalty_points=2)
        make_chore(s, name="Dog", strategy="fair_share", base_points=7, due_time=time(12, 0), penalty_points=2)
        make_chore(s, name="Garden", strategy="random", base_points=12, requires_verification=False,
                   schedule={"kind": "interval", "interval": 2})
        make_chore(s, name="Car", strategy="fixed", assignees=[kids[2]], base_points=20, due_time=time(9, 30),
                   penalty_points=5, schedule={"kind": "interval", "interval": 3, "rolling": True})
        s.commit()
        model = Model(session=s, rules=rules, parent=parent, kids=kids, rng=rng)
        outcomes: Counter[str] = Counter()
        per_day = OPERATIONS // DAYS
        operations, weights = zip(*OPERATIONS_TABLE, strict=False)
        for step in range(OPERATIONS):
            if step % per_day == 0:  # the morning tick: today and tomorrow, yesterday's leftovers missed
                model.now = START + timedelta(days=step // per_day)
                model.expect_misses()
                tick_family(s, timezone=family.timezone, now=model.now)
                s.commit()
            model.now += timedelta(minutes=rng.randint(1, 8))
            operation = rng.choices(operations, weights)[0]
            try:
                operation(model)
                s.commit()
                outcomes[f"{operation.__name__}:done"] += 1
            except DomainError:
                s.rollback()
                outcomes[f"{operation.__name__}:refused"] += 1
        end = model.now + timedelta(minutes=1)
        # Every operation happened, and plenty were refused (bad input mixed in) without moving a balance.
        assert all(outcomes[f"{operation.__name__}:done"] > 0 for operation in operations), outcomes
        assert sum(n for key, n in outcomes.items() if key.endswith(":refused")) > OPERATIONS // 5, outcomes
        assert reconcile_balances(s, rules.clock, end) == []
        ledger = dict(s.execute(select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
                                .group_by(LedgerEntry.member_id)).all())
        for kid in kids:
            s.refresh(kid)
            assert ledger.get(kid.id, 0) == kid.available_points == model.expected[kid.id], kid.username
        assert parent.id not in ledger
        kinds = set(s.scalars(select(LedgerEntry.kind).distinct()))
        assert kinds == {"chore", "bonus", "deduction", "penalty"}


# Raw UPDATE/DELETE/TRUNCATE of the ledger: tests/points/test_append_only.py (the gate, then the database).


def test_an_orm_change_to_a_ledger_row_is_refused(in_family, family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        kid = Member(username="ava", display_name="Ava", role="child")
        s.add(kid)
        s.flush()
        entry = post_entry(s, kid.id, amount=5, kind="bonus", description="Helpful",
                           clock=load_family_rules(s, family.timezone).clock, now=START)
        s.commit()
        entry.amount = 500
        with pytest.raises(DBAPIError, match="append-only|permission denied for table points_ledger"):
            s.commit()
        s.rollback()
        assert s.scalars(select(LedgerEntry.amount)).all() == [5]
