"""The badge wall, the parents' overview and the celebration fragment on the kid's screen."""
from __future__ import annotations

from sqlalchemy import select

from app.achievements.models import MemberBadge
from app.achievements.services import insert_badges
from tests.achievements.conftest import NOW
from tests.reports.helpers import HTMX, post_form


def _give(in_family, family, member, *badges: str) -> None:  # noqa: ANN001
    with in_family(family) as ctx:
        insert_badges(ctx.session, member.id, [(badge, 0) for badge in badges], NOW)
        ctx.session.commit()


def test_a_kid_sees_their_own_wall(client, auth, family, home, in_family) -> None:  # noqa: ANN001
    _give(in_family, family, home.kid, "first_chore", "streak_3")
    auth.sign_in(client, home.kid, family)

    page = client.get("/badges").get_data(as_text=True)

    assert "My badges" in page and "2 of 12 earned" in page
    assert 'id="badge-first_chore"' in page and "Earned 4 Mar 2026" in page
    assert "0 of 10 chores" in page  # progress towards the next one


def test_parents_get_an_overview_and_each_kids_wall(client, auth, family, home, in_family) -> None:  # noqa: ANN001
    _give(in_family, family, home.kid, "first_chore")
    auth.sign_in(client, home.parent, family)

    overview = client.get("/badges").get_data(as_text=True)
    wall = client.get(f"/badges/{home.kid.id}").get_data(as_text=True)

    assert "1 badge" in overview and "0 badges" in overview and f"/badges/{home.kid.id}" in overview
    assert "Maya's badges" in wall and "1 of 12 earned" in wall


def test_a_kid_cannot_open_a_siblings_wall_or_a_parents(client, auth, family, home) -> None:  # noqa: ANN001
    auth.sign_in(client, home.kid, family)

    assert client.get(f"/badges/{home.sibling.id}").status_code == 403
    assert client.get(f"/badges/{home.kid.id}").status_code == 200


def test_another_familys_kid_is_not_found(client, auth, family, home, make_family,  # noqa: ANN001
                                          create_member) -> None:
    other = make_family()
    theirs = create_member(family_record=other, username="theirs", display_name="Theirs")
    auth.sign_in(client, home.parent, family)

    assert client.get(f"/badges/{theirs.id}").status_code == 404
    assert client.get(f"/badges/{home.parent.id}").status_code == 404  # parents have no wall


def test_the_celebration_shows_new_badges_once(app, client, auth, family, home, in_family) -> None:  # noqa: ANN001
    _give(in_family, family, home.kid, "first_chore")
    auth.sign_in(client, home.kid, family)

    shown = client.get("/badges/celebrate", headers=HTMX)
    page = shown.get_data(as_text=True)
    _give(in_family, family, home.kid, "streak_3")  # earned while the celebration is on screen
    with in_family(family) as ctx:
        first_id = ctx.session.scalar(select(MemberBadge.id).where(MemberBadge.badge == "first_chore"))
    closed = post_form(app, client, "/badges/celebrate", {"badge_id": str(first_id)}, htmx=True)
    again = client.get("/badges/celebrate", headers=HTMX)
    post_form(app, client, "/badges/celebrate", {"badge_id": ["not-a-uuid"]}, htmx=True)

    assert shown.status_code == 200 and 'role="status"' in page and "hp-confetti" in page
    assert "First chore" in page and "@keyframes hp-fall" in page and "prefers-reduced-motion" in page
    assert closed.status_code == 200 and closed.get_data(as_text=True) == ""
    assert again.status_code == 200 and "3-day streak" in again.get_data(as_text=True)
    assert "First chore" not in again.get_data(as_text=True)
    with in_family(family) as ctx:
        seen = dict(ctx.session.execute(select(MemberBadge.badge, MemberBadge.seen_at)).all())
        assert seen["first_chore"] is not None and seen["streak_3"] is None


def test_nothing_to_celebrate_is_204_and_a_plain_visit_goes_to_the_wall(client, auth, family,  # noqa: ANN001
                                                                       home) -> None:
    auth.sign_in(client, home.kid, family)

    assert client.get("/badges/celebrate", headers=HTMX).status_code == 204
    plain = client.get("/badges/celebrate")
    assert plain.status_code == 302 and plain.headers["Location"].endswith("/badges")


def test_a_kid_cannot_mark_a_siblings_badges_seen(app, client, auth, family, home, in_family) -> None:  # noqa: ANN001
    _give(in_family, family, home.sibling, "first_chore")
    with in_family(family) as ctx:
        sibling_badge = ctx.session.scalar(select(MemberBadge.id))
    auth.sign_in(client, home.kid, family)

    post_form(app, client, "/badges/celebrate", {"badge_id": str(sibling_badge)})

    with in_family(family) as ctx:
        assert ctx.session.get(MemberBadge, sibling_badge).seen_at is None
