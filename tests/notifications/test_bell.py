"""The bell and the list: unread counts, mark read, mark all read, following a link, and live refreshes."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Flask

from app.assignments.services import complete_assignment
from app.live.events import events_channel
from app.members.models import Member
from app.notifications.models import Notification
from app.notifications.services import notify
from app.redis_store import get_redis
from tests.notifications.conftest import HTMX, RULES, make_assignment, notifications_of


def _send(fam, member: Member, count: int = 1, *, link: str | None = "/me") -> list[str]:  # noqa: ANN001
    with fam.session() as ctx:
        made = []
        for i in range(count):
            made += notify(ctx.session, event="points_bonus", recipients=[ctx.session.get(Member, member.id)],
                           title=f"Bonus number {i + 1}", body="For being kind", link=link)
        ctx.session.commit()
        return [str(n.id) for n in made]


def test_the_bell_counts_unread_notifications(client, auth, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.kid, fam.record)
    empty = client.get("/notifications/bell", headers=HTMX)
    assert empty.status_code == 200
    assert 'aria-label="Notifications: 0 unread"' in empty.get_data(as_text=True)
    assert "hp-bell-count" not in empty.get_data(as_text=True)

    _send(fam, fam.kid, 3)
    _send(fam, fam.teen, 2)  # someone else's do not count

    bell = client.get("/notifications/bell", headers=HTMX)
    html = bell.get_data(as_text=True)
    assert 'aria-label="Notifications: 3 unread"' in html and ">3</span>" in html
    assert 'href="/notifications"' in html
    assert "HX-Request" in bell.headers["Vary"] and bell.headers["Cache-Control"] == "no-store"
    # A browser landing on the fragment URL gets the page instead.
    assert client.get("/notifications/bell").headers["Location"] == "/notifications"


def test_the_list_shows_mine_newest_first_with_links(client, auth, fam) -> None:  # noqa: ANN001
    _send(fam, fam.kid, 2)
    _send(fam, fam.teen)
    auth.sign_in(client, fam.kid, fam.record)
    page = client.get("/notifications")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Bonus number 2") < html.index("Bonus number 1")
    assert html.count('class="hp-notification unread"') == 2
    assert "2 unread" in html and "Mark all read" in html and "Open: Bonus number 1" in html


def test_mark_one_read_with_htmx_refreshes_the_bell(client, auth, post, fam) -> None:  # noqa: ANN001
    first, second = _send(fam, fam.kid, 2)
    auth.sign_in(client, fam.kid, fam.record)
    response = post(client, f"/notifications/{first}/read", htmx=True)
    assert response.status_code == 204  # nothing to swap: the event makes the bell and the list refresh
    assert json.loads(response.headers["HX-Trigger"]) == {"notificationsChanged": None}
    listed = client.get("/notifications", headers=HTMX)
    html = listed.get_data(as_text=True)
    assert "<html" not in html and html.lstrip().startswith('<div id="notification-list"')
    assert "HX-Request" in listed.headers["Vary"]
    assert "Mark read: Bonus number 1" not in html and "Mark read: Bonus number 2" in html
    with fam.session() as ctx:
        assert ctx.session.get(Notification, first).read_at is not None
        assert ctx.session.get(Notification, second).read_at is None
    assert "1 unread" in client.get("/notifications/bell", headers=HTMX).get_data(as_text=True)
    # Without htmx the form posts and comes back to the list.
    plain = post(client, f"/notifications/{second}/read")
    assert (plain.status_code, plain.headers["Location"]) == (303, "/notifications")


def test_mark_all_read(client, auth, post, fam) -> None:  # noqa: ANN001
    _send(fam, fam.kid, 4)
    theirs = _send(fam, fam.teen)
    auth.sign_in(client, fam.kid, fam.record)
    response = post(client, "/notifications/read-all", htmx=True)
    assert response.status_code == 204 and "notificationsChanged" in response.headers["HX-Trigger"]
    assert "0 unread" in client.get("/notifications", headers=HTMX).get_data(as_text=True)
    with fam.session() as ctx:
        assert all(n.read_at for n in notifications_of(ctx.session, fam.kid))
        assert ctx.session.get(Notification, theirs[0]).read_at is None  # not anyone else's


def test_another_members_notification_is_not_found(client, auth, post, fam) -> None:  # noqa: ANN001
    [theirs] = _send(fam, fam.teen)
    auth.sign_in(client, fam.kid, fam.record)
    for path in (f"/notifications/{theirs}/read", f"/notifications/{theirs}/open", "/notifications/not-an-id/read"):
        assert post(client, path).status_code == 404
    with fam.session() as ctx:
        assert ctx.session.get(Notification, theirs).read_at is None


def test_opening_follows_the_link_and_marks_it_read(client, auth, post, fam) -> None:  # noqa: ANN001
    [nid] = _send(fam, fam.kid)
    [bare] = _send(fam, fam.kid, link=None)
    auth.sign_in(client, fam.kid, fam.record)
    opened = post(client, f"/notifications/{nid}/open")
    assert (opened.status_code, opened.headers["Location"]) == (303, "/me")
    assert post(client, f"/notifications/{bare}/open").headers["Location"] == "/notifications"
    with fam.session() as ctx:
        assert ctx.session.get(Notification, nid).read_at is not None
    # htmx (a boosted form) gets a whole-page load, so the link's #anchor works.
    [again] = _send(fam, fam.kid)
    response = post(client, f"/notifications/{again}/open", htmx=True)
    assert response.headers["HX-Redirect"] == "/me"


def test_links_never_lead_off_the_family_site(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        kid = ctx.session.get(Member, fam.kid.id)
        made = [notify(ctx.session, event="points_bonus", recipients=[kid], title="x", link=link)[0]
                for link in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)")]
        assert [n.link for n in made] == [None, None, None, None]


def test_the_bells_ring_live_after_the_commit_only(app: Flask, fam) -> None:  # noqa: ANN001
    with app.app_context():
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(events_channel(fam.record.id))
    try:
        with fam.session() as ctx:
            assignment = make_assignment(ctx.session, fam.kid)
            ctx.session.commit()
            complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                                rules=RULES, now=datetime.now(timezone.utc))
            ctx.session.flush()
            assert pubsub.get_message(timeout=0.3) is None  # nothing before the commit
            ctx.session.commit()
        message = pubsub.get_message(timeout=2)
    finally:
        pubsub.close()
    assert message is not None
    payload = json.loads(message["data"])
    assert payload["event"] == "notification"
    assert sorted(payload["data"]["member_ids"]) == sorted([str(fam.mum.id), str(fam.dad.id)])


def test_the_family_layout_loads_the_bell(client, auth, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    html = client.get("/notifications").get_data(as_text=True)
    assert 'id="bell" hx-get="/notifications/bell"' in html
