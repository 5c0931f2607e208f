"""The daily loop end to end at the service level: materialise, claim, complete, verify, credit once."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.assignments.services import (claim_assignment, complete_assignment, ensure_day, materialise_day,
                                      verify_assignment)
from app.domain import Forbidden, ValidationFailed
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from tests.assignments.conftest import NOW, make_chore


def _parent(session) -> Member:  # noqa: ANN001
    parent = Member(username="mum", display_name="Mum", role="parent")
    session.add(parent)
    session.flush()
    return parent


def test_materialise_is_idempotent(in_family, family, kids, rules) -> None:  # noqa: ANN001
    maya, leo = kids("Maya", "Leo")
    with in_family(family) as ctx:
        make_chore(ctx.session, assignees=[maya, leo], strategy="each")
        day = NOW.date()
        assert materialise_day(ctx.session, rules, day, NOW) == 2
        assert materialise_day(ctx.session, rules, day, NOW) == 0
        ensure_day(ctx.session, rules, day, NOW)
        ctx.session.commit()
        assert ctx.session.scalar(select(func.count()).select_from(Assignment)) == 2


def test_kid_completes_parent_verifies_and_points_land_once(in_family, family, kids, rules) -> None:  # noqa: ANN001
    (maya,) = kids("Maya")
    with in_family(family) as ctx:
        s = ctx.session
        parent = _parent(s)
        make_chore(s, assignees=[maya], base_points=15)
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        kid = s.get(Member, maya.id)
        done = complete_assignment(s, actor=kid, assignment_id=assignment.id, rules=rules, now=NOW)
        assert done.status == "pending_verification" and kid.available_points == 0
        with pytest.raises(Forbidden):
            verify_assignment(s, actor=kid, assignment_id=assignment.id, approved=True, rules=rules, now=NOW)
        verify_assignment(s, actor=parent, assignment_id=assignment.id, approved=True, rules=rules, now=NOW)
        with pytest.raises(ValidationFailed, match="Cannot verify assignment with status: verified"):
            verify_assignment(s, actor=parent, assignment_id=assignment.id, approved=True, rules=rules, now=NOW)
        s.commit()
        assert s.get(Member, maya.id).available_points == 15
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 1
        assert reconcile_balances(s, rules.clock, NOW) == []


def test_reject_returns_the_chore_with_a_reason(in_family, family, kids, rules) -> None:  # noqa: ANN001
    (maya,) = kids("Maya")
    with in_family(family) as ctx:
        s = ctx.session
        parent = _parent(s)
        make_chore(s, assignees=[maya])
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        complete_assignment(s, actor=s.get(Member, maya.id), assignment_id=assignment.id, rules=rules, now=NOW)
        verify_assignment(s, actor=parent, assignment_id=assignment.id, approved=False, rules=rules, now=NOW,
                          notes="Still crumbs on the table")
        assert assignment.status == "pending" and assignment.rejection_reason == "Still crumbs on the table"


def test_auto_approve_when_no_check_is_needed(in_family, family, kids, rules) -> None:  # noqa: ANN001
    (maya,) = kids("Maya")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[maya], requires_verification=False, base_points=7)
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        complete_assignment(s, actor=s.get(Member, maya.id), assignment_id=assignment.id, rules=rules, now=NOW)
        assert assignment.status == "verified" and s.get(Member, maya.id).available_points == 7


def test_kid_cannot_complete_another_kids_chore(in_family, family, kids, rules) -> None:  # noqa: ANN001
    maya, leo = kids("Maya", "Leo")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[maya])
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        with pytest.raises(Forbidden):
            complete_assignment(s, actor=s.get(Member, leo.id), assignment_id=assignment.id, rules=rules, now=NOW)


def test_open_chore_first_claim_wins(in_family, family, kids, rules) -> None:  # noqa: ANN001
    maya, leo = kids("Maya", "Leo")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, strategy="open", open_bonus_points=5, base_points=10)
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        assert assignment.status == "open" and assignment.points_offered == 15
        claim_assignment(s, actor=s.get(Member, maya.id), assignment_id=assignment.id, now=NOW)
        with pytest.raises(ValidationFailed, match="not available to claim"):
            claim_assignment(s, actor=s.get(Member, leo.id), assignment_id=assignment.id, now=NOW)
        assert assignment.assigned_to == maya.id and assignment.claimed_at == NOW


@pytest.mark.parametrize("strategy", ["round_robin", "fair_share", "random"])
def test_rotating_strategies_spread_the_work(in_family, family, kids, rules, strategy: str) -> None:  # noqa: ANN001
    maya, leo, zoe = kids("Maya", "Leo", "Zoe")
    with in_family(family) as ctx:
        s = ctx.session
        make_chore(s, assignees=[maya, leo, zoe], strategy=strategy, requires_verification=False)
        rng = random.Random(7)
        picked = []
        for offset in range(6):
            day = NOW.date() + timedelta(days=offset)
            materialise_day(s, rules, day, NOW, rng=rng)
            assignment = s.scalar(select(Assignment).where(Assignment.due_date == day))
            picked.append(assignment.assigned_to)
            if strategy == "fair_share":
                complete_assignment(s, actor=s.get(Member, assignment.assigned_to), assignment_id=assignment.id,
                                    rules=rules, now=NOW + timedelta(days=offset))
        if strategy == "random":
            assert all(a != b for a, b in zip(picked, picked[1:], strict=False)), "random never repeats the last one"
        else:
            assert picked == [maya.id, leo.id, zoe.id] * 2


def test_min_age_and_presence_decide_eligibility(in_family, family, kids, rules) -> None:  # noqa: ANN001
    from app.presence.inputs import PresenceExceptionInput
    from app.presence.services import add_exception

    (maya,) = kids("Maya", birthdate=date(2012, 1, 1))
    (zoe,) = kids("Zoe", birthdate=date(2021, 1, 1))
    with in_family(family) as ctx:
        s = ctx.session
        parent = _parent(s)
        make_chore(s, name="Mow", strategy="each", min_age=10)
        camp = NOW.date() + timedelta(days=1)
        add_exception(s, actor=parent, member=s.get(Member, maya.id),
                      data=PresenceExceptionInput(start_date=camp, end_date=camp, present=False, note="camp"))
        materialise_day(s, rules, NOW.date(), NOW)
        materialise_day(s, rules, NOW.date() + timedelta(days=1), NOW)
        rows = {(a.due_date, a.assigned_to, a.status) for a in s.scalars(select(Assignment))}
        assert rows == {(NOW.date(), maya.id, "pending"), (NOW.date() + timedelta(days=1), None, "open")}
        assert zoe.id not in {a for _, a, _ in rows}


def test_a_day_seen_materialised_costs_no_query_and_an_uncommitted_one_is_not_remembered(  # noqa: ANN001
        in_family, family, kids, rules) -> None:
    from sqlalchemy import Engine, event

    (maya,) = kids("Maya")
    day = NOW.date() + timedelta(days=3)
    with in_family(family) as ctx:
        make_chore(ctx.session, assignees=[maya])
        ctx.session.commit()
    with in_family(family) as ctx:
        assert ensure_day(ctx.session, rules, day, NOW) is True  # made here…
        ctx.session.rollback()  # …and lost
    with in_family(family) as ctx:
        assert ensure_day(ctx.session, rules, day, NOW) is True, "a rolled-back day is made again"
        ctx.session.commit()
    with in_family(family) as ctx:
        assert ensure_day(ctx.session, rules, day, NOW) is False  # read as materialised, remembered
        ctx.session.commit()
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args: object) -> None:  # noqa: ANN001
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        with in_family(family) as ctx:
            assert ensure_day(ctx.session, rules, day, NOW) is False
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert sent and not [sql for sql in sent if "materialised_days" in sql], sent  # only the context's own lookups
    with in_family(family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Assignment).where(Assignment.due_date == day)) == 1
