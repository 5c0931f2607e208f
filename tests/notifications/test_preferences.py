"""Each member chooses per event and channel; the family sets the digest hour and reminder lead time."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app.members.models import FamilySetting, Member
from app.notifications.models import NotificationPreference
from app.notifications.services import notification_settings, notify, preference_grid
from tests.notifications.conftest import deliveries_of, notifications_of


def _choices(fam, member: Member) -> dict[str, tuple[bool | None, bool | None]]:  # noqa: ANN001
    with fam.session() as ctx:
        return {row.event: (row.in_app, row.email)
                for row in preference_grid(ctx.session, ctx.session.get(Member, member.id))}


def test_defaults_bell_on_emails_off_digest_on(fam) -> None:  # noqa: ANN001
    parent = _choices(fam, fam.mum)
    assert parent["chore_waiting"] == (True, False)
    assert parent["daily_digest"] == (None, True)  # the digest is an email only
    assert "chore_approved" not in parent  # a kid's event
    kid = _choices(fam, fam.kid)
    assert kid["chore_approved"] == (True, None)  # no address, no email column
    assert "chore_waiting" not in kid


def test_the_page_saves_ticked_and_unticked_boxes(client, auth, post, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    page = client.get("/notifications/preferences")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="chore_waiting:email"' in html and 'name="chore_waiting:in_app"' in html
    assert 'id="digest_hour"' in html  # parents also see the family's times

    # Everything off except waiting chores by email and the digest.
    response = post(client, "/notifications/preferences", {"chore_waiting:email": "on", "daily_digest:email": "on"})
    assert (response.status_code, response.headers["Location"]) == (303, "/notifications/preferences")
    saved = _choices(fam, fam.mum)
    assert saved["chore_waiting"] == (False, True)
    assert saved["chore_missed"] == (False, False)
    assert saved["daily_digest"] == (None, True)
    assert "saved" in client.get("/notifications/preferences").get_data(as_text=True)


def test_a_kid_without_email_sees_no_email_boxes_and_cannot_turn_one_on(client, auth, post, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.kid, fam.record)
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert ":email" not in html and "Add an email address" in html
    assert 'id="digest_hour"' not in html
    post(client, "/notifications/preferences", {"chore_approved:email": "on", "chore_rejected:in_app": "on"})
    saved = _choices(fam, fam.kid)
    assert saved["chore_approved"] == (False, None) and saved["chore_rejected"] == (True, None)
    with fam.session() as ctx:
        assert ctx.session.scalars(select(NotificationPreference).where(
            NotificationPreference.channel == "email")).all() == []


def test_choices_are_respected_when_notifying(fam, rq_queue) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        ctx.session.add_all([
            NotificationPreference(member_id=fam.mum.id, event="chore_waiting", channel="in_app", enabled=False),
            NotificationPreference(member_id=fam.mum.id, event="chore_waiting", channel="email", enabled=True),
            NotificationPreference(member_id=fam.dad.id, event="chore_missed", channel="email", enabled=True),
        ])
        ctx.session.commit()
        parents = [ctx.session.get(Member, fam.mum.id), ctx.session.get(Member, fam.dad.id)]
        notify(ctx.session, event="chore_waiting", recipients=parents, title="Waiting")
        ctx.session.commit()
        assert notifications_of(ctx.session, fam.mum) == []  # the bell is off for mum
        assert len(notifications_of(ctx.session, fam.dad, "chore_waiting")) == 1
        assert [d.recipient for d in deliveries_of(ctx.session, channel="email")] == ["mum@example.test"]


def test_the_family_default_applies_until_a_member_chooses(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        ctx.session.add(FamilySetting(key="notification_defaults", value={"email": {"chore_waiting": True},
                                                                          "in_app": {"chore_missed": False}}))
        ctx.session.add(NotificationPreference(member_id=fam.dad.id, event="chore_waiting", channel="email",
                                               enabled=False))
        ctx.session.commit()
    assert _choices(fam, fam.mum)["chore_waiting"] == (True, True)
    assert _choices(fam, fam.mum)["chore_missed"] == (False, False)
    assert _choices(fam, fam.dad)["chore_waiting"] == (True, False)


def test_family_times_are_saved_and_checked(app: Flask, client, auth, post, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    ok = post(client, "/notifications/preferences/family", {"digest_hour": "7", "reminder_lead_minutes": "45"})
    assert ok.status_code == 303
    with fam.session() as ctx:
        assert notification_settings(ctx.session) == {"digest_hour": 7, "reminder_lead_minutes": 45}
    for bad in ({"digest_hour": "24", "reminder_lead_minutes": "45"},
                {"digest_hour": "-1", "reminder_lead_minutes": "0"},
                {"digest_hour": "seven", "reminder_lead_minutes": "0"},
                {"digest_hour": "7", "reminder_lead_minutes": "2000"}):
        refused = post(client, "/notifications/preferences/family", bad)
        assert refused.status_code == 422, bad
        assert 'aria-invalid="true"' in refused.get_data(as_text=True)
    with fam.session() as ctx:
        assert notification_settings(ctx.session) == {"digest_hour": 7, "reminder_lead_minutes": 45}
