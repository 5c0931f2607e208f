"""Who may call which accounts route: every route × anonymous, kid, parent and a parent of another family."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import PARENT_PASSWORD, People

ROLES = ("anonymous", "kid", "parent", "stranger")

# (method, path, body, expected status for anonymous, kid, parent, stranger). {kid}, {parent} and {sibling} are ids
# in the family whose host is called; the stranger presents their own family's valid token on that host.
ROUTES: list[tuple[str, str, Any, tuple[int, int, int, int]]] = [
    ("POST", "/api/auth/login", {"username": "mom", "password": PARENT_PASSWORD}, (200, 200, 200, 200)),
    ("GET", "/api/auth/me", None, (401, 200, 200, 403)),
    ("GET", "/api/users", None, (401, 200, 200, 403)),
    ("POST", "/api/users", {"username": "newkid", "display_name": "New Kid"}, (401, 403, 201, 403)),
    ("GET", "/api/users/me", None, (401, 200, 200, 403)),
    ("PATCH", "/api/users/me", {"display_name": "Renamed"}, (401, 200, 200, 403)),
    ("GET", "/api/users/me/preferences", None, (401, 200, 200, 403)),
    ("PUT", "/api/users/me/preferences", {"preferences": {"theme": "dark"}}, (401, 200, 200, 403)),
    ("GET", "/api/users/{kid}", None, (401, 200, 200, 403)),
    ("GET", "/api/users/{parent}", None, (401, 403, 200, 403)),
    ("GET", "/api/users/{sibling}", None, (401, 403, 200, 403)),
    ("PUT", "/api/users/{sibling}", {"display_name": "Renamed"}, (401, 403, 200, 403)),
    ("PUT", "/api/users/{kid}", {"is_parent": True}, (401, 403, 200, 403)),
    ("DELETE", "/api/users/{sibling}", None, (401, 403, 200, 403)),
]

CASES = [pytest.param(method, path, body, role, expected[index], id=f"{method} {path} as {role}")
         for method, path, body, expected in ROUTES for index, role in enumerate(ROLES)]


@pytest.mark.parametrize("method, path, body, role, expected", CASES)
def test_access(api, people: People, load_member, method: str, path: str, body: Any, role: str,  # noqa: ANN001
                expected: int) -> None:
    caller = {"anonymous": None, "kid": people.kid, "parent": people.parent, "stranger": people.stranger}[role]
    url = path.format(kid=people.kid.id, parent=people.parent.id, sibling=people.sibling.id)
    response = api.open(url, method=method, json=body, headers=people.headers(caller))
    assert response.status_code == expected, response.get_json()
    assert response.is_json and (expected < 400 or set(response.get_json()) == {"error"})
    if expected >= 400:
        # A refused write changed nothing.
        for member in (people.kid, people.sibling, people.parent):
            stored = load_member(member.id)
            assert (stored.display_name, stored.role, stored.is_active, stored.preferences or {}) == (
                member.display_name, member.role, True, {})
