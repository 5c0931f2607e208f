"""Notifications are written in each reader's language (their own, else the family's); webhooks stay English."""
from __future__ import annotations

from sqlalchemy import select

from app.languages import phrase, plural_phrase
from app.members.models import FamilySetting, Member
from app.notifications.models import Delivery, Notification, Webhook
from app.notifications.services import queue_notification


def test_each_reader_gets_their_language_and_the_webhook_english(in_family, family, create_member) -> None:  # noqa: ANN001
    kid = create_member(username="maya", display_name="Maya", language="es")
    parent = create_member(role="parent", username="mum", display_name="Mum", language="en")
    follower = create_member(role="parent", username="dad", display_name="Dad")  # follows the family: Spanish
    with in_family(family) as ctx:
        ctx.session.add(FamilySetting(key="language", value="es", is_private=False))
        ctx.session.add(Webhook(url="https://example.com/hook", secret="s" * 40, events=[], active=True))
        ctx.session.flush()
        readers = [ctx.session.get(Member, m.id) for m in (kid, parent, follower)]
        queue_notification(ctx.session, event="chore_approved", recipients=readers,
                           title=phrase("Approved: %(chore)s", chore="Feed the cat"),
                           body=plural_phrase("You earned %(num)d point.", "You earned %(num)d points.", 5))
        ctx.session.commit()
        notes = {n.member_id: (n.title, n.body) for n in ctx.session.scalars(select(Notification))}
        hook = ctx.session.scalars(select(Delivery).where(Delivery.channel == "webhook")).one()

    assert notes[kid.id] == ("Aprobada: Feed the cat", "Ganaste 5 puntos.")
    assert notes[parent.id] == ("Approved: Feed the cat", "You earned 5 points.")
    assert notes[follower.id] == ("Aprobada: Feed the cat", "Ganaste 5 puntos.")
    assert hook.subject == "Approved: Feed the cat" and hook.payload["data"]["body"] == "You earned 5 points."


def test_one_point_is_singular_in_both_languages() -> None:
    earned = plural_phrase("You earned %(num)d point.", "You earned %(num)d points.", 1)

    assert (earned.render("en"), earned.render("es"), earned.render(None)) == (
        "You earned 1 point.", "Ganaste 1 punto.", "You earned 1 point.")
