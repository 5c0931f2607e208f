"""Bad input on signing in (API and page) and naming the family tablet: a clear 4xx, never a 500, nothing written
(no session, no token, no counted failure, no device)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.auth.models import LoginFailure, MemberSession, TabletDevice
from tests.api import conftest as api_fixtures
from tests.api.conftest import PARENT_PASSWORD, People
from tests.hostile import FORM_HOSTILE_TEXT, HOSTILE_TEXT, assert_refused, send_form, send_json

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
BAD_LOGIN: list[tuple[str, Any]] = [
    *[(f"username {kind}", {"username": text, "password": PARENT_PASSWORD}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"password {kind}", {"username": "mom", "password": text}) for kind, text in HOSTILE_TEXT.items()],
    ("username a number", {"username": 5, "password": PARENT_PASSWORD}),
    ("password a list", {"username": "mom", "password": [PARENT_PASSWORD]}),
    ("no password", {"username": "mom"}), ("not an object", ["mom", PARENT_PASSWORD]),
]
BAD_FORMS: list[tuple[str, str, dict[str, str]]] = [
    *[(f"login {kind}", "/login", {"login": text, "password": PARENT_PASSWORD})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"password {kind}", "/login", {"login": "mom", "password": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
    ("blank login", "/login", {"login": "", "password": PARENT_PASSWORD}),
    *[(f"tablet name {kind}", "/settings/devices", {"name": text}) for kind, text in FORM_HOSTILE_TEXT.items()],
]


def _written(in_family, people: People) -> tuple[int, ...]:  # noqa: ANN001
    with in_family(people.family) as ctx:
        return tuple(ctx.session.scalar(select(func.count()).select_from(model))
                     for model in (MemberSession, LoginFailure, TabletDevice))


@pytest.mark.parametrize("case, body", BAD_LOGIN, ids=[case for case, _ in BAD_LOGIN])
def test_bad_logins_are_refused_through_the_api(api, people: People, in_family, case: str,  # noqa: ANN001
                                                body: Any) -> None:
    before = _written(in_family, people)

    response = send_json(api, "POST", "/api/auth/login", body, {})

    assert_refused(response)
    assert "token" not in response.get_json()
    assert _written(in_family, people) == before


@pytest.mark.parametrize("case, path, fields", BAD_FORMS, ids=[case for case, _, _ in BAD_FORMS])
def test_bad_logins_and_tablet_names_are_refused_on_the_pages(app, api, people: People, in_family,  # noqa: ANN001
                                                              auth, case: str, path: str,
                                                              fields: dict[str, str]) -> None:
    if path == "/settings/devices":
        auth.sign_in(api, people.parent, people.family)
    before = _written(in_family, people)

    response = send_form(app, api, path, fields)

    assert_refused(response)
    assert _written(in_family, people) == before
