"""Who does it, as a table: fixed, each, round-robin, fair share, random, open — with presence skips and minimum age."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.assignments.models import Assignment
from app.assignments.services import claim_assignment, complete_assignment, materialise_day
from app.domain import Forbidden
from app.members.models import Member
from app.points.inputs import PointsAward
from app.points.services import give_points, post_entry
from app.presence.inputs import PresenceExceptionInput, PresencePatternInput
from app.presence.services import add_exception, add_pattern
from tests.assignments.conftest import make_chore, make_parent

START = date(2026, 3, 4)  # a Wednesday
BIRTHDATES = {"Ava": date(2014, 5, 1), "Ben": date(2013, 2, 1), "Cal": date(2012, 9, 1), "Tot": date(2022, 1, 1),
              "Nobirth": None}


def _at(day: date, hour: int = 6) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=timezone.utc)


def _family_with(session, names: list[str]) -> tuple[Member, dict[str, Member]]:  # noqa: ANN001
    parent = make_parent(session)
    members = {n: Member(username=n.lower(), display_name=n, role="child", birthdate=BIRTHDATES[n]) for n in names}
    session.add_all(members.values())
    session.flush()
    return parent, members


def _assignees(session, day: date) -> list[str | None]:  # noqa: ANN001
    rows = session.scalars(select(Assignment).where(Assignment.due_date == day)
                           .options(joinedload(Assignment.assignee)))
    return sorted((a.assignee.display_name if a.assignee else None for a in rows), key=lambda n: n or "")


# (id, strategy, rotation order ([] = every kid), away {day offset: names}, min age, days, expected per day)
TABLE: list[tuple[str, str, list[str], dict[int, list[str]], int, int, list[list[str | None]]]] = [
    ("fixed", "fixed", ["Ben", "Ava", "Cal"], {}, 0, 3, [["Ben"], ["Ben"], ["Ben"]]),
    ("fixed, assignee away: next covers", "fixed", ["Ben", "Ava", "Cal"], {1: ["Ben"]}, 0, 3,
     [["Ben"], ["Ava"], ["Ben"]]),
    ("fixed, two away: third covers", "fixed", ["Ben", "Ava", "Cal"], {1: ["Ben", "Ava"]}, 0, 2, [["Ben"], ["Cal"]]),
    ("fixed, nobody present: open", "fixed", ["Ben", "Ava"], {1: ["Ben", "Ava"]}, 0, 3, [["Ben"], [None], ["Ben"]]),
    ("each", "each", [], {}, 0, 1, [["Ava", "Ben", "Cal"]]),
    ("each, one away", "each", ["Ava", "Ben", "Cal"], {0: ["Ava"]}, 0, 2, [["Ben", "Cal"], ["Ava", "Ben", "Cal"]]),
    ("each, nobody present: one open", "each", ["Ava", "Ben"], {0: ["Ava", "Ben"]}, 0, 1, [[None]]),
    ("round-robin in the parent's order", "round_robin", ["Cal", "Ava", "Ben"], {}, 0, 4,
     [["Cal"], ["Ava"], ["Ben"], ["Cal"]]),
    ("round-robin skips an away kid", "round_robin", ["Ava", "Ben", "Cal"], {1: ["Ben"]}, 0, 4,
     [["Ava"], ["Cal"], ["Ava"], ["Ben"]]),
    ("round-robin, nobody present: open, then goes on", "round_robin", ["Ava", "Ben", "Cal"],
     {1: ["Ava", "Ben", "Cal"]}, 0, 3, [["Ava"], [None], ["Ben"]]),
    ("round-robin, every kid in name order", "round_robin", [], {}, 0, 3, [["Ava"], ["Ben"], ["Cal"]]),
    ("minimum age: fixed skips the toddler", "fixed", ["Tot", "Ben"], {}, 10, 2, [["Ben"], ["Ben"]]),
    ("minimum age: round-robin skips the toddler", "round_robin", ["Tot", "Ben", "Cal"], {}, 10, 3,
     [["Ben"], ["Cal"], ["Ben"]]),
    ("minimum age: each leaves the toddler out", "each", ["Tot", "Ava"], {}, 10, 1, [["Ava"]]),
    ("minimum age: unknown birthdate is eligible", "fixed", ["Nobirth"], {}, 10, 1, [["Nobirth"]]),
    ("minimum age: nobody old enough: open", "fixed", ["Tot"], {}, 10, 1, [[None]]),
]


@pytest.mark.parametrize(("strategy", "order", "away", "min_age", "days", "expected"), [c[1:] for c in TABLE],
                         ids=[c[0] for c in TABLE])
def test_strategy_table(in_family, family, rules, strategy: str, order: list[str],  # noqa: ANN001
                        away: dict[int, list[str]], min_age: int, days: int, expected: list[list[str | None]]) -> None:
    names = sorted({"Ava", "Ben", "Cal", *order})
    with in_family(family) as ctx:
        s = ctx.session
        parent, members = _family_with(s, names)
        for offset, absent in away.items():
            for name in absent:
                day = START + timedelta(days=offset)
                add_exception(s, actor=parent, member=members[name],
                              data=PresenceExceptionInput(start_date=day, end_date=day, present=False))
        make_chore(s, strategy=strategy, assignees=[members[n] for n in order], min_age=min_age)
        got = []
        for offset in range(days):
            day = START + timedelta(days=offset)
            materialise_day(s, rules, day, _at(day))
            got.append(_assignees(s, day))
        assert got == expected


def test_round_robin_skips_a_kid_away_by_weekly_pattern(in_family, family, rules) -> None:  # noqa: ANN001
    """Presence patterns (not just one-day exceptions) steer the rotation: Cal is never home on Wednesdays."""
    with in_family(family) as ctx:
        s = ctx.session
        parent, m = _family_with(s, ["Ava", "Ben", "Cal"])
        add_pattern(s, actor=parent, member=m["Cal"],
                    data=PresencePatternInput(kind="weekly", weekdays=[2], anchor_date=START, present=False))
        make_chore(s, strategy="round_robin", assignees=[m["Cal"], m["Ava"], m["Ben"]])
        got = []
        for offset in range(8):  # Wed … next Wed
            day = START + timedelta(days=offset)
            materialise_day(s, rules, day, _at(day))
            got.append(_assignees(s, day)[0])
        assert got == ["Ava", "Ben", "Cal", "Ava", "Ben", "Cal", "Ava", "Ben"]


# --- fair share ---------------------------------------------------------------------------------------------------

def _done(session, chore, member: Member, day: date) -> None:  # noqa: ANN001
    """History: a verified assignment of `chore` by `member` on `day` (no points: only the count matters)."""
    session.add(Assignment(chore_id=chore.id, assigned_to=member.id, due_date=day, due_at=_at(day, 20),
                           status="verified", completed_at=_at(day, 18), points_offered=5))
    session.flush()


@pytest.mark.parametrize(("completions", "bonuses", "away", "expected"), [
    ({}, {}, [], "Ava"),  # a tie everywhere: the parent's order decides
    ({"Ava": 2, "Ben": 1, "Cal": 1}, {}, [], "Ben"),  # fewest completions; Ben before Cal in order
    ({"Ava": 2, "Ben": 1, "Cal": 1}, {"Ben": 5}, [], "Cal"),  # then fewest points this week
    ({"Ava": 0, "Ben": 1, "Cal": 1}, {}, ["Ava"], "Ben"),  # the one owed the chore is away
    ({"Ava": 3, "Ben": 3, "Cal": 3}, {"Ava": 2, "Ben": 1, "Cal": 3}, [], "Ben"),
])
def test_fair_share_picks_fewest_completions_then_fewest_weekly_points(
        in_family, family, rules, completions: dict[str, int], bonuses: dict[str, int],  # noqa: ANN001
        away: list[str], expected: str) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        parent, m = _family_with(s, ["Ava", "Ben", "Cal"])
        chore = make_chore(s, strategy="fair_share", assignees=[m["Ava"], m["Ben"], m["Cal"]],
                           schedule={"kind": "once", "start_date": START})
        for name, count in completions.items():
            for n in range(count):
                _done(s, chore, m[name], START - timedelta(days=n + 1))
        for name, amount in bonuses.items():
            give_points(s, actor=parent, member=m[name],
                        data=PointsAward(kind="bonus", points=amount, reason="Helpful"), clock=rules.clock,
                        now=_at(START, 5))
        for name in away:
            add_exception(s, actor=parent, member=m[name],
                          data=PresenceExceptionInput(start_date=START, end_date=START, present=False))
        materialise_day(s, rules, START, _at(START))
        assert _assignees(s, START) == [expected]


def test_fair_share_ignores_points_from_an_earlier_week(in_family, family, rules) -> None:  # noqa: ANN001
    """Ava's 50 points were last week: this week she has 0, fewer than Ben's 10, so the chore is hers."""
    with in_family(family) as ctx:
        s = ctx.session
        parent, m = _family_with(s, ["Ava", "Ben"])
        make_chore(s, strategy="fair_share", assignees=[m["Ben"], m["Ava"]],
                   schedule={"kind": "once", "start_date": START})
        post_entry(s, m["Ava"].id, amount=50, kind="bonus", description="Last week", clock=rules.clock,
                   now=_at(START - timedelta(days=7)))
        post_entry(s, m["Ben"].id, amount=10, kind="bonus", description="This week", clock=rules.clock,
                   now=_at(START, 5))
        materialise_day(s, rules, START, _at(START))
        assert _assignees(s, START) == ["Ava"]


# --- random, never the last one ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 7, 2026])
def test_random_never_picks_the_last_one(in_family, family, rules, seed: int) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        _, m = _family_with(s, ["Ava", "Ben", "Cal"])
        make_chore(s, strategy="random", assignees=list(m.values()))
        rng = random.Random(seed)
        picked = []
        for offset in range(15):
            day = START + timedelta(days=offset)
            materialise_day(s, rules, day, _at(day), rng=rng)
            picked.append(_assignees(s, day)[0])
        assert all(a != b for a, b in zip(picked, picked[1:], strict=False)), picked
        assert set(picked) == {"Ava", "Ben", "Cal"}, "over 15 days every kid gets a turn"


def test_random_with_two_kids_alternates_and_an_only_kid_repeats(in_family, family, rules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        parent, m = _family_with(s, ["Ava", "Ben"])
        make_chore(s, strategy="random", assignees=[m["Ava"], m["Ben"]])
        rng = random.Random(3)
        picked = []
        for offset in range(6):
            day = START + timedelta(days=offset)
            if offset >= 4:  # Ben away: the last one (Ava) is the only one left, so she does it again
                add_exception(s, actor=parent, member=m["Ben"],
                              data=PresenceExceptionInput(start_date=day, end_date=day, present=False))
            materialise_day(s, rules, day, _at(day), rng=rng)
            picked.append(_assignees(s, day)[0])
        assert picked[:4] in (["Ava", "Ben", "Ava", "Ben"], ["Ben", "Ava", "Ben", "Ava"])
        assert picked[4:] == ["Ava", "Ava"]


# --- open, first claim wins, with a bonus --------------------------------------------------------------------------

def test_open_chore_pays_the_claim_bonus(in_family, family, rules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        _, m = _family_with(s, ["Ava", "Ben"])
        make_chore(s, strategy="open", assignees=[m["Ava"]], base_points=10, open_bonus_points=4,
                   requires_verification=False)
        materialise_day(s, rules, START, _at(START))
        (assignment,) = s.scalars(select(Assignment))
        assert (assignment.status, assignment.assigned_to, assignment.points_offered) == ("open", None, 14)
        claim_assignment(s, actor=m["Ben"], assignment_id=assignment.id, now=_at(START, 9))
        complete_assignment(s, actor=m["Ben"], assignment_id=assignment.id, rules=rules, now=_at(START, 10))
        assert (assignment.status, assignment.points_earned, m["Ben"].available_points) == ("verified", 14, 14)


def test_open_chore_respects_minimum_age_on_claim(in_family, family, rules) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        _, m = _family_with(s, ["Ava", "Tot"])
        make_chore(s, name="Mow", strategy="open", min_age=10)
        materialise_day(s, rules, START, _at(START))
        (assignment,) = s.scalars(select(Assignment))
        with pytest.raises(Forbidden, match="old enough"):
            claim_assignment(s, actor=m["Tot"], assignment_id=assignment.id, now=_at(START, 9))
        assert assignment.status == "open"
        claim_assignment(s, actor=m["Ava"], assignment_id=assignment.id, now=_at(START, 9))
        assert assignment.assigned_to == m["Ava"].id
