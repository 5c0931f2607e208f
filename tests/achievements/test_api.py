"""Badges over the API: the catalogue, a kid's wall with progress; kids see only their own."""
from __future__ import annotations

import uuid

from app.achievements.rules import BADGE_RULES
from app.achievements.services import insert_badges
from tests.achievements.conftest import NOW


def test_the_catalogue(client, auth, family, home) -> None:  # noqa: ANN001
    body = client.get("/api/badges", headers=auth.bearer(home.kid, family)).get_json()

    assert body["count"] == len(BADGE_RULES)
    assert body["badges"][0] == {"badge": "first_chore", "name": "First chore", "icon": "⭐",
                                 "description": "Finished a first chore", "target": 1}


def test_a_kids_badges_with_progress(client, auth, family, home, in_family) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        insert_badges(ctx.session, home.kid.id, [("streak_3", 5)], NOW)
        ctx.session.commit()

    for asker in (home.kid, home.parent):
        body = client.get(f"/api/users/{home.kid.id}/badges", headers=auth.bearer(asker, family)).get_json()
        assert body["user_id"] == str(home.kid.id) and body["earned"] == 1
        first = body["badges"][0]
        assert first == {"badge": "streak_3", "name": "3-day streak", "icon": "🔥",
                         "description": "Everything done 3 days in a row", "target": 3, "earned": True,
                         "progress": 3, "awarded_at": "2026-03-04T15:00:00Z", "bonus_points": 5}
        assert body["badges"][1] == {"badge": "first_chore", "name": "First chore", "icon": "⭐",
                                     "description": "Finished a first chore", "target": 1, "earned": False,
                                     "progress": 0}


def test_who_may_read_whose_badges(client, auth, family, home, make_family, create_member) -> None:  # noqa: ANN001
    other = make_family()
    theirs = create_member(family_record=other, username="theirs", display_name="Theirs")

    def status(path: str, member) -> int:  # noqa: ANN001
        return client.get(path, headers=auth.bearer(member, family)).status_code

    assert status(f"/api/users/{home.sibling.id}/badges", home.kid) == 403
    assert status(f"/api/users/{home.parent.id}/badges", home.parent) == 404
    assert status(f"/api/users/{theirs.id}/badges", home.parent) == 404
    assert status(f"/api/users/{uuid.uuid4()}/badges", home.parent) == 404
    assert status("/api/users/not-a-uuid/badges", home.parent) == 400
    assert client.get("/api/badges").status_code == 401
