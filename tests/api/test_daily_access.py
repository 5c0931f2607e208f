"""Who may call which daily-loop route: every route × anonymous, kid, parent and a parent of another family.

Also home of the helpers the other daily-loop API tests share (a prepared household, shape assertions).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from app.assignments.models import Assignment
from app.chores.models import Chore
from app.db.bases import utcnow
from app.members.models import FamilySetting, Member
from app.family_time import FamilyClock
from app.points.models import LedgerEntry, PointPreset
from app.points.services import post_entry
from app.presence.models import PresenceException, PresencePattern
from tests.api.conftest import People

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")


# --- shared helpers ----------------------------------------------------------------------------------------------

def assert_shape(body: dict[str, Any], types: dict[str, Any], optional: set[str] | frozenset[str] = frozenset()
                 ) -> None:
    """Every required key present, no unknown key, each value of its JSON type (an int is never a bool)."""
    assert set(body) <= set(types), f"unexpected keys {set(body) - set(types)}"
    assert set(types) - set(body) <= set(optional), f"missing keys {set(types) - set(body) - set(optional)}"
    for key, value in body.items():
        assert isinstance(value, types[key]), f"{key}={value!r}"
        if types[key] is int:
            assert not isinstance(value, bool), key


def refused(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """Assert a JSON error answer (with the message, when given) and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    if error is not None:
        assert body["error"] == error, body
    return body


def set_setting(in_family: Callable[..., Any], family: Any, key: str, value: Any) -> None:
    """Change one family setting, as the settings page will."""
    with in_family(family) as ctx:
        setting = ctx.session.scalar(select(FamilySetting).where(FamilySetting.key == key))
        if setting is None:
            ctx.session.add(FamilySetting(key=key, value=value))
        else:
            setting.value = value
        ctx.session.commit()


def add_assignment(session: Any, chore: Chore, member: Member | None, *, status: str = "pending",
                   day: date | None = None, points: int | None = None, **fields: Any) -> Assignment:
    """A hand-made assignment due at the end of `day` (today in UTC by default)."""
    day = day or utcnow().date()
    assignment = Assignment(chore_id=chore.id, assigned_to=member.id if member else None, status=status,
                            due_date=day, due_at=datetime.combine(day, time(23, 59, 59), tzinfo=timezone.utc),
                            points_offered=points if points is not None else chore.base_points, **fields)
    session.add(assignment)
    session.flush()
    return assignment


@dataclass
class World:
    """A household mid-day: a chore and assignments in every state the lifecycle routes act on."""

    people: People
    chore: uuid.UUID
    kid_assignment: uuid.UUID
    sibling_assignment: uuid.UUID
    open_assignment: uuid.UUID
    kid_done: uuid.UUID
    missed: uuid.UUID
    rule: uuid.UUID

    def ids(self) -> dict[str, str]:
        return {"kid": str(self.people.kid.id), "sibling": str(self.people.sibling.id),
                "parent": str(self.people.parent.id), "chore": str(self.chore),
                "kid_assignment": str(self.kid_assignment), "sibling_assignment": str(self.sibling_assignment),
                "open_assignment": str(self.open_assignment), "kid_done": str(self.kid_done),
                "missed": str(self.missed), "rule": str(self.rule)}


@pytest.fixture
def world(people: People, in_family: Callable[..., Any]) -> World:
    """This test's family with a chore (no schedule, so nothing else is materialised) and its assignments."""
    with in_family(people.family) as ctx:
        s = ctx.session
        kid, sibling = s.get(Member, people.kid.id), s.get(Member, people.sibling.id)
        chore = Chore(name="Dishes", category="kitchen", base_points=15, requires_verification=True)
        s.add(chore)
        s.flush()
        kid_assignment = add_assignment(s, chore, kid)
        sibling_assignment = add_assignment(s, chore, sibling)
        open_assignment = add_assignment(s, chore, None, status="open")
        kid_done = add_assignment(s, chore, kid, status="pending_verification", completed_at=utcnow())
        missed = add_assignment(s, chore, kid, status="missed", day=utcnow().date() - timedelta(days=1))
        rule = PresenceException(member_id=kid.id, start_date=date(2030, 1, 1), end_date=date(2030, 1, 2),
                                 present=False, note="Camp")
        s.add(rule)
        s.commit()
        return World(people, chore.id, kid_assignment.id, sibling_assignment.id, open_assignment.id, kid_done.id,
                     missed.id, rule.id)


def fingerprint(in_family: Callable[..., Any], family: Any) -> dict[str, Any]:
    """Everything a daily-loop write could change, to prove a refused request changed nothing."""
    with in_family(family) as ctx:
        s = ctx.session
        return {
            "chores": sorted((c.name, c.active, c.base_points) for c in s.scalars(select(Chore))),
            "assignments": sorted((str(a.id), a.status, a.assigned_to and str(a.assigned_to), a.points_earned)
                                  for a in s.scalars(select(Assignment))),
            "ledger": s.scalar(select(func.count()).select_from(LedgerEntry)),
            "balances": sorted((m.username, m.available_points, m.total_points) for m in s.scalars(select(Member))),
            "presets": s.scalar(select(func.count()).select_from(PointPreset)),
            "presence": (s.scalar(select(func.count()).select_from(PresencePattern)),
                         s.scalar(select(func.count()).select_from(PresenceException))),
        }


# --- the matrix ----------------------------------------------------------------------------------------------------

ROLES = ("anonymous", "kid", "parent", "stranger")
READ = (401, 200, 200, 403)
PARENT_WRITE = (401, 403, 201, 403)
PARENT_ACTION = (401, 403, 200, 403)
OWN_ONLY = (401, 403, 200, 403)

# (method, path, body, expected for anonymous, kid, parent, stranger). The stranger presents their own family's
# valid token on this family's host; {…} are ids in the family whose host is called (see World.ids).
ROUTES: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
    ("GET", "/api/chores", None, READ),
    ("POST", "/api/chores", {"name": "Laundry"}, PARENT_WRITE),
    ("GET", "/api/chores/{chore}", None, READ),
    ("PUT", "/api/chores/{chore}", {"base_points": 20}, PARENT_ACTION),
    ("DELETE", "/api/chores/{chore}", None, PARENT_ACTION),
    ("GET", "/api/assignments", None, READ),
    ("GET", "/api/assignments?user_id={kid}", None, READ),
    ("GET", "/api/assignments?user_id={sibling}", None, OWN_ONLY),
    ("GET", "/api/assignments/my-assignments", None, READ),
    ("GET", "/api/assignments/{kid_assignment}", None, READ),
    ("GET", "/api/assignments/{open_assignment}", None, READ),
    ("GET", "/api/assignments/{sibling_assignment}", None, OWN_ONLY),
    ("POST", "/api/assignments", {"chore_id": "{chore}", "assigned_to": "{kid}"}, PARENT_WRITE),
    ("POST", "/api/assignments/{open_assignment}/claim", None, READ),
    ("POST", "/api/assignments/{kid_assignment}/complete", {"notes": "done"}, READ),
    ("POST", "/api/assignments/{sibling_assignment}/complete", None, OWN_ONLY),
    ("POST", "/api/assignments/{kid_done}/verify", {"approved": True}, PARENT_ACTION),
    ("POST", "/api/assignments/{kid_done}/undo", None, PARENT_ACTION),
    ("POST", "/api/assignments/{kid_assignment}/skip", None, PARENT_ACTION),
    ("POST", "/api/assignments/{missed}/reopen", None, PARENT_ACTION),
    ("GET", "/api/users/{kid}/points", None, READ),
    ("GET", "/api/users/{sibling}/points", None, OWN_ONLY),
    ("GET", "/api/users/{parent}/points", None, OWN_ONLY),
    ("GET", "/api/users/{kid}/transactions", None, READ),
    ("GET", "/api/users/{sibling}/transactions", None, OWN_ONLY),
    ("GET", "/api/users/{kid}/stats", None, READ),
    ("GET", "/api/users/{sibling}/stats", None, OWN_ONLY),
    ("POST", "/api/users/{kid}/bonus", {"points": 5, "reason": "Helped"}, PARENT_WRITE),
    ("POST", "/api/users/{kid}/deductions", {"points": 5, "reason": "Shouted"}, PARENT_WRITE),
    ("GET", "/api/point-presets", None, READ),
    ("POST", "/api/point-presets", {"kind": "bonus", "label": "Kind words", "points": 3}, PARENT_WRITE),
    ("GET", "/api/leaderboard/weekly", None, READ),
    ("GET", "/api/leaderboard/alltime", None, READ),
    ("GET", "/api/schedule", None, READ),
    ("GET", "/api/presence/patterns", None, READ),
    ("POST", "/api/presence/patterns", {"user_id": "{kid}", "weekdays": [5, 6], "present": False}, PARENT_WRITE),
    ("GET", "/api/presence/exceptions", None, READ),
    ("POST", "/api/presence/exceptions", {"user_id": "{kid}", "start_date": "2030-02-01"}, PARENT_WRITE),
    ("DELETE", "/api/presence/rules/{rule}", None, PARENT_ACTION),
]

CASES = [pytest.param(method, path, body, role, expected[index], id=f"{method} {path} as {role}")
         for method, path, body, expected in ROUTES for index, role in enumerate(ROLES)]


def _filled(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize("method, path, body, role, expected", CASES)
def test_access(api, world: World, in_family, method: str, path: str, body: Any, role: str,  # noqa: ANN001
                expected: int) -> None:
    people = world.people
    caller = {"anonymous": None, "kid": people.kid, "parent": people.parent, "stranger": people.stranger}[role]
    ids = world.ids()
    if path.endswith("/deductions"):  # points to take: a deduction never takes a balance below zero
        with in_family(people.family) as ctx:
            post_entry(ctx.session, people.kid.id, amount=20, kind="bonus", description="earlier",
                       clock=FamilyClock("UTC"), now=utcnow())
            ctx.session.commit()
    before = fingerprint(in_family, people.family)
    response = api.open(path.format(**ids), method=method, json=_filled(body, ids), headers=people.headers(caller))
    assert response.status_code == expected, response.get_json()
    assert response.is_json
    if expected >= 400:
        assert set(response.get_json()) == {"error"}
        assert fingerprint(in_family, people.family) == before  # a refused request changed nothing
    expected_error = {401: "Authorization header required", 403: None}.get(expected)
    if role == "stranger":
        assert response.get_json() == {"error": "Token does not belong to this family"}
    elif expected_error:
        assert response.get_json()["error"] == expected_error


ID_ROUTES = [pytest.param(method, path, id=f"{method} {path}") for method, path, body, _ in ROUTES
             if "{" in path or any("{" in value for value in (body or {}).values() if isinstance(value, str))]


@pytest.mark.parametrize("method, path", ID_ROUTES)
def test_another_familys_ids_are_not_found(api, world: World, in_family, method: str, path: str) -> None:  # noqa: ANN001
    """The stranger family's own ids, used on this family's host by this family's parent, are simply not found."""
    people = world.people
    with in_family(people.other_family) as ctx:
        s = ctx.session
        stranger_kid = s.get(Member, people.stranger_kid.id)
        chore = Chore(name="Their chore", base_points=5)
        s.add(chore)
        s.flush()
        theirs = add_assignment(s, chore, stranger_kid)
        done = add_assignment(s, chore, stranger_kid, status="pending_verification")
        missed = add_assignment(s, chore, stranger_kid, status="missed")
        open_one = add_assignment(s, chore, None, status="open")
        rule = PresencePattern(member_id=stranger_kid.id, weekdays=[0], anchor_date=date(2030, 1, 1))
        s.add(rule)
        s.commit()
        foreign = {"kid": str(stranger_kid.id), "sibling": str(stranger_kid.id), "parent": str(people.stranger.id),
                   "chore": str(chore.id), "kid_assignment": str(theirs.id), "sibling_assignment": str(theirs.id),
                   "open_assignment": str(open_one.id), "kid_done": str(done.id), "missed": str(missed.id),
                   "rule": str(rule.id)}
    before = fingerprint(in_family, people.family)
    theirs_before = fingerprint(in_family, people.other_family)
    body = next(b for m, p, b, _ in ROUTES if (m, p) == (method, path))
    response = api.open(path.format(**foreign), method=method, json=_filled(body, foreign),
                        headers=people.headers(people.parent))
    if path == "/api/assignments?user_id={kid}" or path == "/api/assignments?user_id={sibling}":
        # A filter on someone we do not know finds nothing, like any other filter.
        assert response.status_code == 200 and response.get_json()["count"] == 0
    else:
        refused(response, 404)
    assert fingerprint(in_family, people.family) == before
    assert fingerprint(in_family, people.other_family) == theirs_before


# --- junk never reaches a 500 --------------------------------------------------------------------------------------

BODY_KEYS = ("name", "description", "category", "base_points", "penalty_points", "estimated_minutes", "difficulty",
             "requires_verification", "icon", "tags", "min_age", "assignment_type", "due_time", "not_before_time",
             "schedule", "assignees", "active", "chore_id", "assigned_to", "points_offered", "due_date", "approved",
             "points_awarded", "verification_notes", "notes", "points", "reason", "kind", "label", "user_id",
             "weekdays", "anchor_date", "present", "transition_time", "start_date", "end_date", "note")
QUERY_KEYS = ("user_id", "status", "start_date", "end_date", "limit", "offset", "type", "days")
JUNK_VALUES: list[Any] = [{}, [], [{}], "x" * 5000, -1, 10 ** 20, -(10 ** 20), 1.5, True, "", "\x00", "9999-12-31",
                          "0001-01-01", {"kind": [], "weekdays": {}, "interval": "x", "start_date": 5}]


@pytest.mark.parametrize("method, path", sorted({(method, path.split("?")[0]) for method, path, _, _ in ROUTES}))
def test_junk_gets_a_4xx_never_a_500(api, world: World, method: str, path: str) -> None:  # noqa: ANN001
    people = world.people
    url = path.format(**world.ids())
    headers = people.headers(people.parent)
    answers = []
    for raw in ("not json", "[1, 2]", "null", '{"points": 1' + "0" * 5000 + "}"):
        answers.append(api.open(url, method=method, data=raw, content_type="application/json", headers=headers))
    for value in JUNK_VALUES:
        answers.append(api.open(url, method=method, json={key: value for key in BODY_KEYS}, headers=headers))
        text = value if isinstance(value, str) else str(value)
        answers.append(api.open(url, method=method, query_string={key: text for key in QUERY_KEYS},
                                headers=headers))
    for response in answers:
        assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
        assert response.is_json
