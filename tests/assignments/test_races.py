"""Races against PostgreSQL with real threads, each in its own family session, released together by a barrier."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import (FamilyRules, claim_assignment, complete_assignment, mark_missed,
                                      materialise_day, undo_completion, verify_assignment)
from app.domain import DomainError, ValidationFailed
from app.jobs.tick import tick_family
from app.members.models import Member
from app.points.inputs import PointsAward
from app.points.models import LedgerEntry
from app.points.services import give_points, reconcile_balances
from tests.assignments.conftest import NOW, RACERS, make_chore, make_parent, run_together


def _outcomes(results: list[object]) -> tuple[list[object], list[Exception]]:
    """Successes and refusals; anything that is not a DomainError (deadlock, duplicate key…) fails the test."""
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert not unexpected, unexpected
    return [r for r in results if not isinstance(r, Exception)], [r for r in results if isinstance(r, Exception)]


def _assert_ledger_matches(in_family, family, rules: FamilyRules) -> None:  # noqa: ANN001
    """A fresh session: every cached balance equals the ledger, and each assignment's credits equal its points."""
    with in_family(family) as ctx:
        s = ctx.session
        assert reconcile_balances(s, rules.clock, NOW + timedelta(hours=1)) == []
        credited = dict(s.execute(select(LedgerEntry.assignment_id, func.sum(LedgerEntry.amount))
                                  .where(LedgerEntry.kind == "chore").group_by(LedgerEntry.assignment_id)).all())
        for assignment in s.scalars(select(Assignment)):
            assert credited.get(assignment.id, 0) == assignment.points_earned


@pytest.fixture
def household(in_family, family, kids):  # noqa: ANN001, ANN201
    """A parent and four kids, committed; returns (parent id, kid ids)."""
    kid_rows = kids("Ava", "Ben", "Cal", "Dee")
    with in_family(family) as ctx:
        parent = make_parent(ctx.session)
        ctx.session.commit()
        return parent.id, [k.id for k in kid_rows]


def _setup_assignment(in_family, family, rules: FamilyRules, assignee: uuid.UUID | None, *,  # noqa: ANN001
                      status: str = "pending", **chore_fields: object) -> uuid.UUID:
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, strategy="fixed" if assignee else "open",
                   assignees=[s.get(Member, assignee)] if assignee else [], **chore_fields)
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        if status == "pending_verification":
            complete_assignment(s, actor=s.get(Member, assignee), assignment_id=assignment.id, rules=rules, now=NOW)
        ctx.session.commit()
        assert assignment.status == status
        return assignment.id


def test_concurrent_verifications_credit_once(race_app, in_family, family, household, rules) -> None:  # noqa: ANN001
    parent_id, (ava, *_) = household
    assignment_id = _setup_assignment(in_family, family, rules, ava, status="pending_verification", base_points=15)

    def approve(s: Session) -> str:
        done = verify_assignment(s, actor=s.get(Member, parent_id), assignment_id=assignment_id, approved=True,
                                 rules=rules, now=NOW)
        return done.status

    successes, refusals = _outcomes(run_together(race_app, family.slug, [approve] * RACERS))
    assert successes == ["verified"] and len(refusals) == RACERS - 1
    assert all(isinstance(r, ValidationFailed) and "status: verified" in r.message for r in refusals)
    with in_family(family) as ctx:
        assert ctx.session.scalars(select(LedgerEntry.amount)).all() == [15]
        assert ctx.session.get(Member, ava).available_points == 15
    _assert_ledger_matches(in_family, family, rules)


def test_concurrent_completions_by_parent_and_kid_make_one_transition(  # noqa: ANN001
        race_app, in_family, family, household, rules) -> None:
    parent_id, (ava, *_) = household
    assignment_id = _setup_assignment(in_family, family, rules, ava, base_points=9)

    def complete_as(member_id: uuid.UUID):  # noqa: ANN202
        def complete(s: Session) -> str:
            return complete_assignment(s, actor=s.get(Member, member_id), assignment_id=assignment_id, rules=rules,
                                       now=NOW).status
        return complete

    workers = [complete_as(parent_id if i % 2 else ava) for i in range(RACERS)]
    successes, refusals = _outcomes(run_together(race_app, family.slug, workers))
    assert len(successes) == 1 and len(refusals) == RACERS - 1
    with in_family(family) as ctx:
        assignment = ctx.session.get(Assignment, assignment_id)
        assert assignment.status == successes[0]
        # A parent's completion is approved at once (one credit); a kid's waits for a parent (none yet).
        expected = [9] if successes[0] == "verified" else []
        assert ctx.session.scalars(select(LedgerEntry.amount)).all() == expected
    _assert_ledger_matches(in_family, family, rules)


def test_concurrent_claims_have_one_winner(race_app, in_family, family, household, rules) -> None:  # noqa: ANN001
    _, kid_ids = household
    assignment_id = _setup_assignment(in_family, family, rules, None, status="open")

    def claim_as(member_id: uuid.UUID):  # noqa: ANN202
        def claim(s: Session) -> uuid.UUID:
            return claim_assignment(s, actor=s.get(Member, member_id), assignment_id=assignment_id,
                                    now=NOW).assigned_to
        return claim

    successes, refusals = _outcomes(run_together(race_app, family.slug,
                                                 [claim_as(kid_ids[i % len(kid_ids)]) for i in range(RACERS)]))
    assert len(successes) == 1 and len(refusals) == RACERS - 1
    assert all(isinstance(r, ValidationFailed) and r.message == "Assignment is not available to claim"
               for r in refusals)
    with in_family(family) as ctx:
        assignment = ctx.session.get(Assignment, assignment_id)
        assert (assignment.status, assignment.assigned_to) == ("pending", successes[0])


def test_concurrent_bonuses_all_land(race_app, in_family, family, household, rules) -> None:  # noqa: ANN001
    parent_id, (ava, *_) = household
    amounts = [i + 1 for i in range(RACERS)]

    def bonus(amount: int):  # noqa: ANN202
        def give(s: Session) -> int:
            return give_points(s, actor=s.get(Member, parent_id), member=s.get(Member, ava),
                               data=PointsAward(kind="bonus", points=amount, reason="Helping"), clock=rules.clock,
                               now=NOW).entry.amount
        return give

    successes, refusals = _outcomes(run_together(race_app, family.slug, [bonus(a) for a in amounts]))
    assert sorted(successes) == amounts and not refusals
    with in_family(family) as ctx:
        kid = ctx.session.get(Member, ava)
        assert kid.available_points == kid.weekly_points == kid.lifetime_points_earned == sum(amounts)
        assert sorted(ctx.session.scalars(select(LedgerEntry.amount))) == amounts
    _assert_ledger_matches(in_family, family, rules)


def test_concurrent_approve_and_undo_keep_credits_equal_to_points(  # noqa: ANN001
        race_app, in_family, family, household, rules) -> None:
    parent_id, (ava, *_) = household
    assignment_id = _setup_assignment(in_family, family, rules, ava, status="pending_verification", base_points=6)

    def act(approve: bool):  # noqa: ANN202
        def run(s: Session) -> str:
            parent = s.get(Member, parent_id)
            if approve:
                return verify_assignment(s, actor=parent, assignment_id=assignment_id, approved=True, rules=rules,
                                         now=NOW).status
            return undo_completion(s, actor=parent, assignment_id=assignment_id, rules=rules, now=NOW).status
        return run

    _outcomes(run_together(race_app, family.slug, [act(i % 2 == 0) for i in range(RACERS)]))
    _assert_ledger_matches(in_family, family, rules)
    with in_family(family) as ctx:
        kid = ctx.session.get(Member, ava)
        assert kid.available_points == ctx.session.get(Assignment, assignment_id).points_earned


def test_concurrent_materialise_creates_each_assignment_once(race_app, in_family, family, household,  # noqa: ANN001
                                                             rules) -> None:
    _, kid_ids = household
    with in_family(family) as ctx:
        s = ctx.session
        kids = [s.get(Member, k) for k in kid_ids]
        make_chore(s, name="Beds", strategy="each")
        make_chore(s, name="Dishes", strategy="round_robin", assignees=kids)
        make_chore(s, name="Trash", strategy="open")
        make_chore(s, name="Dog", strategy="random", assignees=kids)
        s.commit()
    day = NOW.date()

    def materialise(s: Session) -> int:
        return materialise_day(s, rules, day, NOW)

    successes, _ = _outcomes(run_together(race_app, family.slug, [materialise] * RACERS))
    expected = len(kid_ids) + 3
    assert sum(successes) == expected, Counter(successes)
    with in_family(family) as ctx:
        keys = ctx.session.scalars(select(Assignment.schedule_key)).all()
        assert len(keys) == len(set(keys)) == expected


def test_concurrent_ticks_never_duplicate_or_double_penalise(race_app, in_family, family, household,  # noqa: ANN001
                                                             rules) -> None:
    _, kid_ids = household
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, name="Beds", strategy="each", penalty_points=2)
        # Yesterday's chores, never done: each tick would mark them missed, but only one may charge the penalty.
        materialise_day(s, rules, NOW.date() - timedelta(days=1), NOW - timedelta(days=1))
        s.commit()

    def tick(s: Session) -> tuple[int, int]:
        result = tick_family(s, timezone="UTC", now=NOW)
        return result.created, result.missed

    successes, _ = _outcomes(run_together(race_app, family.slug, [tick] * RACERS))
    assert sum(c for c, _ in successes) == 2 * len(kid_ids)
    assert sum(m for _, m in successes) == len(kid_ids)
    with in_family(family) as ctx:
        s = ctx.session
        per_day = Counter(s.scalars(select(Assignment.due_date)))
        assert per_day == {NOW.date() - timedelta(days=1): 4, NOW.date(): 4, NOW.date() + timedelta(days=1): 4}
        assert sorted(s.scalars(select(LedgerEntry.amount))) == [-2] * len(kid_ids)
    _assert_ledger_matches(in_family, family, rules)


def test_concurrent_mark_missed_and_completion_never_both_win(race_app, in_family, family, household,  # noqa: ANN001
                                                              rules) -> None:
    parent_id, (ava, *_) = household
    assignment_id = _setup_assignment(in_family, family, rules, ava, penalty_points=4, base_points=8)
    late = NOW + timedelta(days=1)  # past the due time: a completion and the tick race

    def work(i: int):  # noqa: ANN202
        def run(s: Session) -> str:
            if i % 2:
                return f"missed:{mark_missed(s, rules, late)}"
            return complete_assignment(s, actor=s.get(Member, parent_id), assignment_id=assignment_id, rules=rules,
                                       now=late).status
        return run

    successes, _ = _outcomes(run_together(race_app, family.slug, [work(i) for i in range(RACERS)]))
    with in_family(family) as ctx:
        s = ctx.session
        status = s.get(Assignment, assignment_id).status
        amounts = sorted(s.scalars(select(LedgerEntry.amount)))
    assert (status, amounts) in (("missed", [-4]), ("verified", [8]))
    assert successes.count("verified") == (status == "verified")
    assert successes.count("missed:1") == (status == "missed")
    _assert_ledger_matches(in_family, family, rules)
