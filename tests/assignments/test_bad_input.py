"""Bad input at the service level: each one a DomainError (a clear 4xx), never a crash, never a double credit."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.inputs import AssignmentInput
from app.assignments.models import Assignment
from app.assignments.services import (FamilyRules, claim_assignment, complete_assignment, create_assignment,
                                      get_assignment_or_404, mark_missed, materialise_day, reopen_assignment,
                                      skip_assignment, undo_completion, verify_assignment)
from app.domain import DomainError, Forbidden, NotFound, ValidationFailed
from app.family_time import FamilyClock
from app.inputs import parse_input
from app.members.models import Member
from app.points.models import LedgerEntry
from app.points.services import reconcile_balances
from tests.assignments.conftest import NOW, make_chore, make_parent


@dataclass
class World:
    session: Any
    rules: FamilyRules
    parent: Member
    ava: Member
    ben: Member
    chore_id: uuid.UUID
    assignment: Assignment  # Ava's, 10 points, needs a parent's check, 3 points penalty
    open_one: Assignment  # open to claim

    def to(self, status: str) -> Assignment:
        """Walk Ava's assignment to `status` the way the family would."""
        a, s = self.assignment, self.session
        if status in ("pending_verification", "verified"):
            complete_assignment(s, actor=self.ava, assignment_id=a.id, rules=self.rules, now=NOW)
        if status == "verified":
            verify_assignment(s, actor=self.parent, assignment_id=a.id, approved=True, rules=self.rules, now=NOW)
        if status == "missed":
            mark_missed(s, self.rules, a.due_at + timedelta(minutes=1))
        if status == "skipped":
            skip_assignment(s, actor=self.parent, assignment_id=a.id, now=NOW)
        assert a.status == status
        return a

    def ledger(self) -> list[int]:
        return sorted(self.session.scalars(select(LedgerEntry.amount)))


@pytest.fixture
def world(in_family, family) -> Iterator[World]:  # noqa: ANN001
    """Ava's materialised chore and an open one, in New York time; the session stays open for the test."""
    with in_family(family) as ctx:
        s = ctx.session
        rules = FamilyRules(clock=FamilyClock("America/New_York"))
        parent = make_parent(s)
        ava, ben = (Member(username=n, display_name=n.title(), role="child") for n in ("ava", "ben"))
        s.add_all([ava, ben])
        s.flush()
        chore = make_chore(s, assignees=[ava], base_points=10, penalty_points=3)
        make_chore(s, name="Trash", strategy="open", base_points=4)
        materialise_day(s, rules, rules.clock.today(NOW), NOW)
        mine = s.scalar(select(Assignment).where(Assignment.assigned_to == ava.id))
        open_one = s.scalar(select(Assignment).where(Assignment.status == "open"))
        s.commit()
        yield World(s, rules, parent, ava, ben, chore.id, mine, open_one)


# --- create_assignment ---------------------------------------------------------------------------------------------

CREATE_BAD: list[tuple[str, dict[str, Any], type[DomainError]]] = [
    ("points over 10,000", {"points_offered": 10_001}, ValidationFailed),
    ("negative points", {"points_offered": -5}, ValidationFailed),
    ("points not a number", {"points_offered": "lots"}, ValidationFailed),
    ("due two years ago", {"due_date": "2024-03-04"}, ValidationFailed),
    ("due in two years", {"due_date": "2028-03-04"}, ValidationFailed),
    ("due on the last day of the calendar", {"due_date": "9999-12-31"}, ValidationFailed),
    ("due at the last instant of the calendar", {"due_date": "9999-12-31T23:59:59+00:00"}, ValidationFailed),
    ("due at the first instant of the calendar", {"due_date": "0001-01-01T00:00:00Z"}, ValidationFailed),
    ("due with no timezone", {"due_date": "2026-03-05T10:00:00"}, ValidationFailed),
    ("due some day", {"due_date": "next tuesday"}, ValidationFailed),
    ("due on 30 February", {"due_date": "2026-02-30"}, ValidationFailed),
    ("chore id garbage", {"chore_id": "nope"}, ValidationFailed),
    ("unknown chore", {"chore_id": str(uuid.uuid4())}, NotFound),
    ("assignee garbage", {"assigned_to": "<script>"}, ValidationFailed),
    ("unknown assignee", {"assigned_to": str(uuid.uuid4())}, NotFound),
    ("a kid hands out chores", {"actor": "ava"}, Forbidden),
]


@pytest.mark.parametrize(("changes", "error"), [c[1:] for c in CREATE_BAD], ids=[c[0] for c in CREATE_BAD])
def test_create_assignment_refuses_bad_input(world: World, changes: dict[str, Any],
                                             error: type[DomainError]) -> None:
    args: dict[str, Any] = {"actor": world.parent, "chore_id": str(world.chore_id), "assigned_to": str(world.ben.id),
                            "points_offered": 5, "due_date": "2026-03-05"}
    args.update(changes)
    if args["actor"] == "ava":
        args["actor"] = world.ava
    actor = args.pop("actor")
    before = world.session.scalar(select(func.count()).select_from(Assignment))
    with pytest.raises(error):  # the API's typed input first, then the service's rules
        create_assignment(world.session, actor=actor, data=parse_input(AssignmentInput, args), rules=world.rules,
                          now=NOW)
    world.session.rollback()
    assert world.session.scalar(select(func.count()).select_from(Assignment)) == before


@pytest.mark.parametrize(("due", "day", "hour_utc"), [
    ("2026-03-05", "2026-03-05", 4),  # a date: the end of that family-local day (23:59:59 EST)
    ("2026-03-05T15:30:00Z", "2026-03-05", 15),
    ("2026-03-06T03:30:00+00:00", "2026-03-05", 3),  # still the 5th in New York
    (None, "2026-03-04", 4),
])
def test_create_assignment_accepts_good_due_dates(world: World, due: str | None, day: str, hour_utc: int) -> None:
    data = parse_input(AssignmentInput, {"chore_id": str(world.chore_id), "assigned_to": str(world.ben.id),
                                         "points_offered": None, "due_date": due})
    made = create_assignment(world.session, actor=world.parent, data=data, rules=world.rules, now=NOW)
    assert (made.due_date.isoformat(), made.due_at.hour, made.points_offered, made.status) == (day, hour_utc, 10,
                                                                                                "pending")


# --- the lifecycle ---------------------------------------------------------------------------------------------------

def _complete_by(who: str) -> Callable[[World], object]:
    return lambda w: complete_assignment(w.session, actor=getattr(w, who), assignment_id=w.assignment.id,
                                         rules=w.rules, now=NOW)


def _verify(by: str = "parent", **extra: Any) -> Callable[[World], object]:
    return lambda w: verify_assignment(w.session, actor=getattr(w, by), assignment_id=w.assignment.id,
                                       approved=True, rules=w.rules, now=NOW, **extra)


def _as(service: Callable[..., object], who: str, *, with_rules: bool = False) -> Callable[[World], object]:
    def act(w: World) -> object:
        extra = {"rules": w.rules} if with_rules else {}
        return service(w.session, actor=getattr(w, who), assignment_id=w.assignment.id, now=NOW, **extra)
    return act


LIFECYCLE_BAD: list[tuple[str, str, Callable[[World], object], type[DomainError], str]] = [
    ("a kid completes another kid's chore", "pending", _complete_by("ben"), Forbidden, "Not authorized"),
    ("completing twice", "pending_verification", _complete_by("ava"), ValidationFailed, "status: pending_verif"),
    ("completing a verified chore", "verified", _complete_by("parent"), ValidationFailed, "status: verified"),
    ("completing a missed chore", "missed", _complete_by("ava"), ValidationFailed, "status: missed"),
    ("completing a skipped chore", "skipped", _complete_by("ava"), ValidationFailed, "status: skipped"),
    ("verifying a chore not done yet", "pending", _verify(), ValidationFailed, "status: pending"),
    ("verifying twice", "verified", _verify(), ValidationFailed, "status: verified"),
    ("a kid verifies", "pending_verification", _verify("ava"), Forbidden, "Only parents"),
    ("awarding over 10,000", "pending_verification", _verify(points_awarded=10_001), ValidationFailed, "between"),
    ("awarding negative points", "pending_verification", _verify(points_awarded=-1), ValidationFailed, "negative"),
    ("awarding nonsense", "pending_verification", _verify(points_awarded="x"), ValidationFailed, "whole number"),
    ("claiming an assigned chore", "pending", _as(claim_assignment, "ben"), ValidationFailed, "not available"),
    ("undoing a chore not done", "pending", _as(undo_completion, "parent", with_rules=True), ValidationFailed,
     "status: pending"),
    ("a kid undoes", "verified", _as(undo_completion, "ava", with_rules=True), Forbidden, "Only parents"),
    ("skipping a verified chore", "verified", _as(skip_assignment, "parent"), ValidationFailed, "status: verified"),
    ("a kid skips", "pending", _as(skip_assignment, "ava"), Forbidden, "Only parents"),
    ("re-opening a chore not missed", "pending", _as(reopen_assignment, "parent", with_rules=True), ValidationFailed,
     "status: pending"),
    ("a kid re-opens", "missed", _as(reopen_assignment, "ava", with_rules=True), Forbidden, "Only parents"),
]


@pytest.mark.parametrize(("status", "action", "error", "message"), [c[1:] for c in LIFECYCLE_BAD],
                         ids=[c[0] for c in LIFECYCLE_BAD])
def test_lifecycle_refuses_bad_moves_without_touching_points(world: World, status: str,
                                                             action: Callable[[World], object],
                                                             error: type[DomainError], message: str) -> None:
    assignment = world.to(status)
    world.session.commit()
    ledger = world.ledger()
    with pytest.raises(error, match=message):
        action(world)
    world.session.rollback()
    assert world.session.get(Assignment, assignment.id).status == status
    assert world.ledger() == ledger
    assert reconcile_balances(world.session, world.rules.clock, NOW) == []


def test_claiming_a_claimed_chore_is_refused(world: World) -> None:
    claim_assignment(world.session, actor=world.ava, assignment_id=world.open_one.id, now=NOW)
    with pytest.raises(ValidationFailed, match="not available to claim"):
        claim_assignment(world.session, actor=world.ben, assignment_id=world.open_one.id, now=NOW)
    assert world.open_one.assigned_to == world.ava.id


def test_an_open_chore_must_be_claimed_before_it_is_done(world: World) -> None:
    with pytest.raises(ValidationFailed, match="status: open"):
        complete_assignment(world.session, actor=world.parent, assignment_id=world.open_one.id, rules=world.rules,
                            now=NOW)


@pytest.mark.parametrize("garbage", ["nope", "", str(uuid.uuid4()), "1; DROP TABLE assignments"])
def test_unknown_assignments_are_not_found(world: World, garbage: str) -> None:
    with pytest.raises(NotFound):
        get_assignment_or_404(world.session, garbage)


def test_not_before_and_photo_rules_hold_for_kids_only(in_family, family, rules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        parent = make_parent(s)
        ava = Member(username="ava", display_name="Ava", role="child")
        s.add(ava)
        s.flush()
        make_chore(s, assignees=[ava], not_before_time=time(16, 0), requires_photo=True)
        materialise_day(s, rules, NOW.date(), NOW)
        assignment = s.scalar(select(Assignment))
        with pytest.raises(ValidationFailed, match="Not yet: this chore opens at 16:00"):
            complete_assignment(s, actor=ava, assignment_id=assignment.id, rules=rules, now=NOW)
        with pytest.raises(ValidationFailed, match="needs a photo"):
            complete_assignment(s, actor=ava, assignment_id=assignment.id, rules=rules, now=NOW + timedelta(hours=2))
        complete_assignment(s, actor=parent, assignment_id=assignment.id, rules=rules, now=NOW)
        assert assignment.status == "verified"


def test_a_long_rejection_reason_is_kept_short_not_a_crash(world: World) -> None:
    world.to("pending_verification")
    verify_assignment(world.session, actor=world.parent, assignment_id=world.assignment.id, approved=False,
                      rules=world.rules, now=NOW, notes="Please wipe the table too. " * 40)
    world.session.commit()
    assert world.assignment.status == "pending"
    assert 0 < len(world.assignment.rejection_reason) <= 300
    assert world.ledger() == []


def test_double_approval_and_double_undo_move_points_once(world: World) -> None:
    world.to("verified")
    with pytest.raises(ValidationFailed):
        verify_assignment(world.session, actor=world.parent, assignment_id=world.assignment.id, approved=True,
                          rules=world.rules, now=NOW)
    undo_completion(world.session, actor=world.parent, assignment_id=world.assignment.id, rules=world.rules, now=NOW)
    with pytest.raises(ValidationFailed):
        undo_completion(world.session, actor=world.parent, assignment_id=world.assignment.id, rules=world.rules,
                        now=NOW)
    world.session.commit()
    assert world.ledger() == [-10, 10] and world.ava.available_points == 0


def test_a_reopened_chore_gets_until_the_end_of_today_and_is_not_charged_twice(world: World) -> None:
    """Re-opening refunds the penalty; the next tick must not mark it missed again straight away."""
    missed = world.to("missed")
    reopened_at = missed.due_at + timedelta(hours=10)
    reopen_assignment(world.session, actor=world.parent, assignment_id=missed.id, rules=world.rules, now=reopened_at)
    assert missed.status == "pending" and world.ledger() == [-3, 3]
    end_of_today = world.rules.clock.at(world.rules.clock.today(reopened_at), None)
    assert missed.due_at == end_of_today
    assert mark_missed(world.session, world.rules, reopened_at + timedelta(minutes=1)) == 0
    complete_assignment(world.session, actor=world.ava, assignment_id=missed.id, rules=world.rules,
                        now=reopened_at + timedelta(hours=1))
    assert missed.status == "pending_verification"
    assert reconcile_balances(world.session, world.rules.clock, reopened_at) == []
