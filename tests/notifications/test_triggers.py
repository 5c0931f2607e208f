"""Changes become notifications in the same transaction, whichever page, API or job made them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.achievements.models import MemberBadge
from app.assignments.services import complete_assignment, mark_missed, undo_completion, verify_assignment
from app.members.models import Member
from app.notifications.models import Notification
from app.points.inputs import PointsAward
from app.points.services import give_points, post_entry
from tests.notifications.conftest import RULES, make_assignment, notifications_of

NOW = datetime.now(timezone.utc)


def _titles(notifications: list[Notification]) -> list[str]:
    return [n.title for n in notifications]


def test_a_completed_chore_waits_for_the_parents(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid, name="Dishes")
        ctx.session.commit()
        kid = ctx.session.get(Member, fam.kid.id)
        complete_assignment(ctx.session, actor=kid, assignment_id=assignment.id, rules=RULES, now=NOW)
        ctx.session.commit()
        for parent in (fam.mum, fam.dad):
            [waiting] = notifications_of(ctx.session, parent, "chore_waiting")
            assert waiting.title == "Maya finished Dishes"
            assert waiting.link == f"/today#assignment-{assignment.id}"
            assert waiting.data["assignment_id"] == str(assignment.id)
            assert waiting.read_at is None
        assert notifications_of(ctx.session, fam.kid) == []


def test_approval_reaches_the_kid_with_the_points(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid, status="pending_verification", points=15)
        ctx.session.commit()
        verify_assignment(ctx.session, actor=ctx.session.get(Member, fam.mum.id), assignment_id=assignment.id,
                          approved=True, rules=RULES, now=NOW)
        ctx.session.commit()
        [approved] = notifications_of(ctx.session, fam.kid, "chore_approved")
        assert (approved.title, approved.body, approved.link) == ("Approved: Dishes", "You earned 15 points.", "/me")


def test_a_rejection_carries_the_reason_and_an_undo_sends_nothing(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        sent_back = make_assignment(ctx.session, fam.kid, status="pending_verification", name="Bins")
        undone = make_assignment(ctx.session, fam.kid, status="pending_verification", name="Bed")
        ctx.session.commit()
        mum = ctx.session.get(Member, fam.mum.id)
        verify_assignment(ctx.session, actor=mum, assignment_id=sent_back.id, approved=False, rules=RULES, now=NOW,
                          notes="Still crumbs on the floor")
        undo_completion(ctx.session, actor=mum, assignment_id=undone.id, rules=RULES, now=NOW)
        ctx.session.commit()
        [rejected] = notifications_of(ctx.session, fam.kid)
        assert rejected.event == "chore_rejected"
        assert (rejected.title, rejected.body) == ("Try again: Bins", "Still crumbs on the floor")
        assert rejected.data["reason"] == "Still crumbs on the floor"


def test_auto_approved_chores_do_not_ask_anyone(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid, requires_verification=False)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.commit()
        # (A first chore may earn a badge, which the achievements area announces; no chore event is sent.)
        events = {n.event for n in ctx.session.scalars(select(Notification))}
        assert not {"chore_waiting", "chore_approved"} & events


def test_a_missed_chore_tells_the_kid_and_the_parents(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid, name="Feed the cat", due_at=NOW - timedelta(minutes=5))
        ctx.session.commit()
        assert mark_missed(ctx.session, RULES, NOW) == 1
        ctx.session.commit()
        [kid_note] = notifications_of(ctx.session, fam.kid, "chore_missed")
        assert (kid_note.title, kid_note.link) == ("Missed: Feed the cat", "/me")
        for parent in (fam.mum, fam.dad):
            [note] = notifications_of(ctx.session, parent, "chore_missed")
            assert note.title == "Maya missed Feed the cat"
            assert note.link == f"/today#assignment-{assignment.id}"


@pytest.mark.parametrize(("kind", "amount", "title"), [("bonus", 5, "Bonus: +5 points"),
                                                        ("deduction", 3, "Deduction: -3 points")])
def test_bonuses_and_deductions_tell_the_kid_why(fam, kind: str, amount: int, title: str) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        if kind == "deduction":  # a deduction never takes a balance below zero: something to take first
            post_entry(ctx.session, fam.kid.id, amount=10, kind="bonus", description="earlier", clock=RULES.clock,
                       now=NOW)
        give_points(ctx.session, actor=ctx.session.get(Member, fam.mum.id), member=ctx.session.get(Member, fam.kid.id),
                    data=PointsAward(kind=kind, points=amount, reason="Helped grandma"), clock=RULES.clock, now=NOW)
        ctx.session.commit()
        [note] = notifications_of(ctx.session, fam.kid, f"points_{kind}")
        assert (note.title, note.body) == (title, "Helped grandma")
        assert notifications_of(ctx.session, fam.mum) == []


@pytest.mark.parametrize(("language", "title", "body"), [
    (None, "New badge: First chore", "Finished a first chore. Look at your badge wall!"),
    ("es", "Insignia nueva: Primera tarea", "Terminó su primera tarea. ¡Mira tu muro de insignias!"),
])
def test_a_new_badge_is_celebrated_once(fam, language: str | None, title: str, body: str) -> None:  # noqa: ANN001
    """The award is announced once per recipient (the old flush trigger on new MemberBadge rows would have been a
    second announcement, had a badge ever been added through the ORM), the badge named and described in each
    reader's language."""
    with fam.session() as ctx:
        ctx.session.get(Member, fam.kid.id).language = language
        assignment = make_assignment(ctx.session, fam.kid, requires_verification=False)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.commit()
        [note] = notifications_of(ctx.session, fam.kid, "badge_earned")
        assert (note.title, note.body) == (title, body)
        for parent in (fam.mum, fam.dad):
            [parent_note] = notifications_of(ctx.session, parent, "badge_earned")
            assert (parent_note.title, parent_note.body) == ("Maya earned a badge: First chore",
                                                             "Finished a first chore")


def test_a_badge_row_added_directly_announces_nothing(fam) -> None:  # noqa: ANN001
    """Only the recorded `BadgeAwarded` event notifies: no reaction watches rows being written."""
    with fam.session() as ctx:
        ctx.session.add(MemberBadge(member_id=fam.kid.id, badge="streak_7"))
        ctx.session.commit()
        assert ctx.session.scalars(select(Notification)).all() == []


def test_a_rolled_back_change_notifies_nobody(fam) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.flush()
        ctx.session.rollback()
        ctx.session.commit()
        assert ctx.session.scalars(select(Notification)).all() == []


def test_a_coparent_joining_by_invitation_tells_the_other_parents(app, fam) -> None:  # noqa: ANN001
    from app.platform.services import accept_invitation, create_invitation

    with fam.session() as ctx:
        invitation, _token = create_invitation(ctx.session, app.config["SECRET_KEY"], family_id=fam.record.id,
                                               inviter=ctx.session.get(Member, fam.mum.id), email="kim@example.test",
                                               now=NOW)
        ctx.session.commit()
        kim = accept_invitation(ctx.session, invitation, plan="premium", display_name="Kim",
                                password="a long enough passphrase 42", now=NOW)
        ctx.session.commit()
        for parent in (fam.mum, fam.dad):
            [note] = notifications_of(ctx.session, parent, "coparent_joined")
            assert (note.title, note.link) == ("Kim joined the family", "/members")
            assert note.data == {"member_id": str(kim.id)}
        assert notifications_of(ctx.session, kim) == []


def test_a_parent_added_without_an_invitation_is_not_announced(fam) -> None:  # noqa: ANN001
    import uuid

    with fam.session() as ctx:
        ctx.session.add(Member(username="owner", display_name="Owner", role="parent", user_id=uuid.uuid4()))
        ctx.session.commit()
        assert ctx.session.scalars(select(Notification)).all() == []

