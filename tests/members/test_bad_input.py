"""Bad input on the members routes that write (pages, onboarding and /api/users): a clear 4xx, never a 500, nothing
written."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.members.models import Member
from app.platform.models import Invitation
from tests.api import conftest as api_fixtures
from tests.api.conftest import People
from tests.hostile import FORM_HOSTILE_TEXT, HOSTILE_TEXT, assert_refused, send_form, send_json

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
NEW = {"username": "newkid", "display_name": "New Kid"}
KID = {"display_name": "Maya", "birthdate": "2016-05-04", "pin": "2468", "avatar": "🦄", "color": "#e84393"}
BAD_API: list[tuple[str, Any]] = [
    *[(f"POST /api/users {key} {kind}", {**NEW, key: text}) for kind, text in HOSTILE_TEXT.items()
      for key in ("username", "display_name", "password")],
    *[(f"PUT /api/users/{{kid}} {key} {kind}", {key: text}) for kind, text in HOSTILE_TEXT.items()
      for key in ("display_name", "school", "notes")],
    *[(f"PATCH /api/users/me phone {kind}", {"phone_number": text}) for kind, text in HOSTILE_TEXT.items()],
    ("POST /api/users username a number", {**NEW, "username": 7}),
    ("POST /api/users no display name", {"username": "newkid"}),
    ("POST /api/users no such date", {**NEW, "birthdate": "2016-02-30"}),
    ("POST /api/users date not ISO", {**NEW, "birthdate": "04/05/2016"}),
    ("POST /api/users date in Arabic digits", {**NEW, "birthdate": "٢٠١٦-٠٥-٠٤"}),
    ("PUT /api/users/{kid} goal huge", {"daily_goal": 10**30}),
    ("PUT /api/users/{kid} goal negative", {"daily_goal": -1}),
    ("PUT /api/users/{kid} is_parent as text", {"is_parent": "yes"}),
    ("PATCH /api/users/me birthdate in the future", {"birthdate": "2999-01-01"}),
    ("PUT /api/users/me/preferences huge", {"preferences": {"x": "y" * 1_000_000}}),
    ("PUT /api/users/me/preferences not an object", {"preferences": [1]}),
]
BAD_FORM: list[tuple[str, str, dict[str, str]]] = [
    *[(f"kid name {kind}", "/members/kids", {**KID, "display_name": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"parent username {kind}", "/members/parents",
       {"display_name": "Dad", "username": text, "password": "a long enough passphrase"})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"edit name {kind}", "/members/{kid}", {"display_name": text, "username": "maya", "color": "#e84393"})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"onboarding kid name {kind}", "/welcome/kids", {**KID, "display_name": text})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    ("kid birthdate not real", "/members/kids", {**KID, "birthdate": "2016-02-30"}),
    ("kid age huge", "/members/kids", {**KID, "birthdate": "", "age": "9" * 40}),
    ("kid PIN in Arabic digits", "/members/kids", {**KID, "pin": "٢٤٦٨"}),
    ("edit birthdate malformed", "/members/{kid}", {"display_name": "Maya", "username": "maya", "birthdate": "soon"}),
    ("new PIN too long", "/members/{kid}/pin", {"pin": "1" * 1_000_000}),
    *[(f"invite email {kind}", "/welcome/invite", {"email": f"co{text}@example.com"})
      for kind, text in FORM_HOSTILE_TEXT.items()],
]


def _stored(in_family, people: People) -> list[Any]:  # noqa: ANN001
    with in_family(people.family) as ctx:
        columns = (Member.id, Member.username, Member.display_name, Member.birthdate, Member.school, Member.notes,
                   Member.phone_number, Member.daily_goal, Member.role, Member.pin_hash, Member.preferences)
        invitations = ctx.session.scalar(select(func.count()).select_from(Invitation)
                                         .where(Invitation.family_id == people.family.id))
        return [*sorted(ctx.session.execute(select(*columns)).all(), key=str), invitations]


@pytest.mark.parametrize("case, body", BAD_API, ids=[case for case, _ in BAD_API])
def test_bad_member_bodies_are_refused_through_the_api(api, people: People, in_family, case: str,  # noqa: ANN001
                                                       body: Any) -> None:
    before = _stored(in_family, people)
    method, path = case.split()[:2]
    who = people.kid if path.startswith("/api/users/me") else people.parent

    response = send_json(api, method, path.format(kid=people.kid.id), body, people.headers(who))

    assert_refused(response)
    assert _stored(in_family, people) == before


@pytest.mark.parametrize("case, path, fields", BAD_FORM, ids=[case for case, _, _ in BAD_FORM])
def test_bad_member_forms_are_refused_on_the_pages(app, api, people: People, in_family, auth,  # noqa: ANN001
                                                   case: str, path: str, fields: dict[str, str]) -> None:
    auth.sign_in(api, people.parent, people.family)
    before = _stored(in_family, people)

    response = send_form(app, api, path.format(kid=people.kid.id), fields, htmx=True)

    assert_refused(response)
    assert _stored(in_family, people) == before
