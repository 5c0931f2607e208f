"""Presence rules as a table: weekly and alternate-week patterns, exceptions and overrides, transitions, bad input."""
from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from typing import Any

import pytest

from app.domain import Forbidden, NotFound, ValidationFailed
from app.members.models import Member
from app.inputs import parse_input
from app.presence.inputs import PresenceExceptionInput, PresencePatternInput
from app.presence.services import add_exception, add_pattern, delete_presence_rule, presence_map, transitions_on
from tests.assignments.conftest import make_parent

D = date.fromisoformat
ALL_WEEK = [0, 1, 2, 3, 4, 5, 6]
WEEKEND = [4, 5, 6]  # Fri-Sun


def P(kind: str, weekdays: list[int], anchor: str, present: bool,  # noqa: N802
      at: str | None = None) -> dict[str, Any]:
    return {"rule": "pattern", "kind": kind, "weekdays": weekdays, "anchor_date": anchor, "present": present,
            "transition_time": at}


def E(start: str, end: str, present: bool, at: str | None = None) -> dict[str, Any]:  # noqa: N802
    return {"rule": "exception", "start_date": start, "end_date": end, "present": present, "transition_time": at}


def _apply(session, parent: Member, kid: Member, rules: list[dict[str, Any]]) -> None:  # noqa: ANN001
    for rule in rules:  # one flush each: creation order is what "later" means
        fields = {k: v for k, v in rule.items() if k != "rule"}
        if rule["rule"] == "pattern":
            add_pattern(session, actor=parent, member=kid, data=parse_input(PresencePatternInput, fields))
        else:
            add_exception(session, actor=parent, member=kid, data=parse_input(PresenceExceptionInput, fields))


def _household(session) -> tuple[Member, Member]:  # noqa: ANN001
    parent = make_parent(session)
    kid = Member(username="ava", display_name="Ava", role="child")
    session.add(kid)
    session.flush()
    return parent, kid


# March 2026: Mon 2, Wed 4, Fri 6, Sat 7, Sun 8, Mon 9, Fri 13, Fri 20.
TABLE: list[tuple[str, list[dict[str, Any]], dict[str, bool]]] = [
    ("no rules: home", [], {"2026-03-04": True, "2026-03-07": True}),
    ("weekly: away on Wednesdays", [P("weekly", [2], "2026-03-02", False)],
     {"2026-03-03": True, "2026-03-04": False, "2026-03-05": True, "2026-03-11": False}),
    ("weekly: home on weekdays only", [P("weekly", [0, 1, 2, 3, 4], "2026-03-02", True)],
     {"2026-03-06": True, "2026-03-07": False, "2026-03-08": False, "2026-03-09": True}),
    ("alternate weeks away, Monday anchor", [P("alternate_weeks", ALL_WEEK, "2026-03-02", False)],
     {"2026-02-16": False, "2026-02-23": True, "2026-03-02": False, "2026-03-08": False, "2026-03-09": True,
      "2026-03-15": True, "2026-03-16": False}),
    ("alternate weeks away, mid-week anchor", [P("alternate_weeks", ALL_WEEK, "2026-03-04", False)],
     {"2026-03-02": False, "2026-03-08": False, "2026-03-09": True, "2026-03-16": False}),
    ("alternate weeks home (split custody)", [P("alternate_weeks", ALL_WEEK, "2026-03-09", True)],
     {"2026-03-02": False, "2026-03-09": True, "2026-03-15": True, "2026-03-16": False}),
    ("every other weekend Fri-Sun away", [P("alternate_weeks", WEEKEND, "2026-03-06", False, "18:00")],
     {"2026-03-05": True, "2026-03-06": False, "2026-03-07": False, "2026-03-08": False, "2026-03-09": True,
      "2026-03-13": True, "2026-03-14": True, "2026-03-15": True, "2026-03-20": False, "2026-03-22": False,
      "2026-03-23": True}),
    ("a date range beats a pattern", [P("weekly", ALL_WEEK, "2026-03-02", True), E("2026-03-10", "2026-03-12", False)],
     {"2026-03-09": True, "2026-03-10": False, "2026-03-12": False, "2026-03-13": True}),
    ("a one-day override beats a pattern",
     [P("alternate_weeks", WEEKEND, "2026-03-06", False), E("2026-03-07", "2026-03-07", True)],
     {"2026-03-06": False, "2026-03-07": True, "2026-03-08": False}),
    ("a one-day override beats a camp added after it",
     [E("2026-03-07", "2026-03-07", True), E("2026-03-01", "2026-03-14", False)],
     {"2026-03-06": False, "2026-03-07": True, "2026-03-08": False, "2026-03-15": True}),
    ("the newer of two equal ranges wins",
     [E("2026-03-01", "2026-03-03", False), E("2026-03-01", "2026-03-03", True)], {"2026-03-02": True}),
    ("a later pattern beats an earlier one",
     [P("weekly", [2], "2026-03-02", False), P("weekly", [2], "2026-03-02", True)],
     {"2026-03-04": True, "2026-03-05": False}),
]


@pytest.mark.parametrize(("rules", "expected"), [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_presence_table(in_family, family, rules: list[dict[str, Any]],  # noqa: ANN001
                        expected: dict[str, bool]) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        _apply(s, parent, kid, rules)
        days = sorted(D(d) for d in expected)
        presence = presence_map(s, [kid.id], days[0], days[-1])
        assert {d.isoformat(): presence[(kid.id, d)] for d in days} == expected
        assert presence_map(s, [parent.id], days[0], days[0]) == {(parent.id, days[0]): True}


# --- transitions: who arrives or leaves, and when -------------------------------------------------------------------

TRANSITIONS: list[tuple[str, list[dict[str, Any]], dict[str, tuple[str, str] | None]]] = [
    ("every other weekend from 18:00", [P("alternate_weeks", WEEKEND, "2026-03-06", False, "18:00")],
     {"2026-03-05": None, "2026-03-06": ("departure", "18:00"), "2026-03-07": None,
      "2026-03-09": ("arrival", "18:00"), "2026-03-13": None}),
    ("camp has its own time", [P("alternate_weeks", WEEKEND, "2026-03-06", False, "18:00"),
                               E("2026-03-10", "2026-03-12", False, "10:00")],
     {"2026-03-10": ("departure", "10:00"), "2026-03-11": None, "2026-03-13": ("arrival", "10:00")}),
    ("each pattern its own time", [P("weekly", [2], "2026-03-02", False, "08:00"),
                                   P("alternate_weeks", WEEKEND, "2026-03-06", False, "18:00")],
     {"2026-03-04": ("departure", "08:00"), "2026-03-05": ("arrival", "08:00"),
      "2026-03-06": ("departure", "18:00"), "2026-03-09": ("arrival", "18:00")}),
    ("a one-day visit home", [P("alternate_weeks", WEEKEND, "2026-03-06", False, "18:00"),
                              E("2026-03-07", "2026-03-07", True, "09:00")],
     {"2026-03-06": ("departure", "18:00"), "2026-03-07": ("arrival", "09:00"),
      "2026-03-08": ("departure", "18:00"), "2026-03-09": ("arrival", "18:00")}),
    ("no time given", [E("2026-03-10", "2026-03-10", False)],
     {"2026-03-10": ("departure", None), "2026-03-11": ("arrival", None)}),
]


@pytest.mark.parametrize(("rules", "expected"), [c[1:] for c in TRANSITIONS], ids=[c[0] for c in TRANSITIONS])
def test_transitions_table(in_family, family, rules: list[dict[str, Any]],  # noqa: ANN001
                           expected: dict[str, tuple[str, str | None] | None]) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        _apply(s, parent, kid, rules)
        for day, change in expected.items():
            got = [(member.id, kind, at) for member, at, kind in transitions_on(s, D(day))]
            want = [] if change is None else [(kid.id, change[0], time.fromisoformat(change[1]) if change[1] else None)]
            assert got == want, day


# --- bad input --------------------------------------------------------------------------------------------------

PATTERN_OK = {"kind": "weekly", "weekdays": [2], "anchor_date": "2026-03-02", "present": False}
EXCEPTION_OK = {"start_date": "2026-03-02", "end_date": "2026-03-04", "present": False}
BAD = [
    ("end before start", "exception", {"start_date": "2026-03-04", "end_date": "2026-03-02"}, "end_date"),
    ("over a year", "exception", {"start_date": "2026-01-01", "end_date": "2027-06-01"}, "end_date"),
    ("not a date", "exception", {"start_date": "soon"}, "start_date"),
    ("impossible date", "exception", {"end_date": "2026-02-30"}, "end_date"),
    ("exception time 25:00", "exception", {"transition_time": "25:00"}, "transition_time"),
    ("weekday 7", "pattern", {"weekdays": [7]}, "weekdays"),
    ("weekday -1", "pattern", {"weekdays": [-1]}, "weekdays"),
    ("no weekdays", "pattern", {"weekdays": []}, "weekdays"),
    ("weekdays missing", "pattern", {"weekdays": None}, "weekdays"),
    ("weekday names", "pattern", {"weekdays": ["friday"]}, "weekdays"),
    ("unknown kind", "pattern", {"kind": "monthly"}, "kind"),
    ("no anchor", "pattern", {"anchor_date": ""}, "anchor_date"),
    ("pattern time nonsense", "pattern", {"transition_time": "six"}, "transition_time"),
]


@pytest.mark.parametrize(("target", "changes", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_presence_input_is_refused(in_family, family, target: str, changes: dict[str, Any],  # noqa: ANN001
                                       field: str) -> None:
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        add = add_pattern if target == "pattern" else add_exception
        model = PresencePatternInput if target == "pattern" else PresenceExceptionInput
        data = {**(PATTERN_OK if target == "pattern" else EXCEPTION_OK), **changes}
        with pytest.raises(ValidationFailed) as caught:
            add(s, actor=parent, member=kid, data=parse_input(model, data))  # type: ignore[arg-type]
        assert field in caught.value.fields
        assert presence_map(s, [kid.id], D("2026-03-02"), D("2026-03-02"))[(kid.id, D("2026-03-02"))] is True


@pytest.mark.parametrize("action", ["pattern", "exception", "delete"])
def test_only_parents_change_the_calendar(in_family, family, action: str) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        rule = add_exception(s, actor=parent, member=kid, data=parse_input(PresenceExceptionInput, EXCEPTION_OK))
        with pytest.raises(Forbidden):
            if action == "pattern":
                add_pattern(s, actor=kid, member=kid, data=parse_input(PresencePatternInput, PATTERN_OK))
            elif action == "exception":
                add_exception(s, actor=kid, member=kid, data=parse_input(PresenceExceptionInput, EXCEPTION_OK))
            else:
                delete_presence_rule(s, actor=kid, rule_id=rule.id)


def test_deleting_a_rule_restores_presence(in_family, family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        rule = add_pattern(s, actor=parent, member=kid, data=parse_input(PresencePatternInput, PATTERN_OK))
        day = D("2026-03-04")
        assert presence_map(s, [kid.id], day, day)[(kid.id, day)] is False
        delete_presence_rule(s, actor=parent, rule_id=rule.id)
        assert presence_map(s, [kid.id], day, day)[(kid.id, day)] is True
        with pytest.raises(NotFound):
            delete_presence_rule(s, actor=parent, rule_id=uuid.uuid4())


def test_a_year_of_presence_is_one_map(in_family, family) -> None:  # noqa: ANN001
    """The calendar asks for whole ranges: every day is answered, and the answers match the rules."""
    with in_family(family) as ctx:
        s = ctx.session
        parent, kid = _household(s)
        add_pattern(s, actor=parent, member=kid, data=parse_input(PresencePatternInput, {
            "kind": "alternate_weeks", "weekdays": WEEKEND, "anchor_date": "2026-03-06", "present": False}))
        start = D("2026-03-02")
        presence = presence_map(s, [kid.id], start, start + timedelta(days=363))
        away = [d for (_, d), here in presence.items() if not here]
        assert len(presence) == 364 and len(away) == 26 * 3
        assert all(d.weekday() in WEEKEND and ((d - start).days // 7) % 2 == 0 for d in away)

