"""From the keyboard, with what a screen reader hears (issue 13): approving on Today keeps focus on the chore (not
<body>) and the page's status region says "Approved: …"; on the tablet the PIN keypad is a labelled group that says
how many digits are in, and "I did it!" says what happened. Zoe's chores only (the other journeys use Maya and Leo).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect

from app.auth import DEVICE_COOKIE
from e2e.conftest import LiveServer, services_app

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
WAITING = "Fold the towels"  # done by Zoe, waiting for a parent
TO_DO = "Feed the goldfish"  # for Zoe to tap on the tablet
POINTS = 8
FOCUS_IS_ON_BODY = "() => !document.activeElement || document.activeElement === document.body"


@dataclass(frozen=True)
class Setup:
    waiting_id: str
    to_do_id: str
    tablet_token: str


@pytest.fixture(scope="module")
def setup(live_server: LiveServer) -> Iterator[Setup]:
    """Through the services: two chores for Zoe today (one she has done already) and a registered tablet."""
    from sqlalchemy import select

    from app.assignments.inputs import AssignmentInput
    from app.assignments.services import complete_assignment, create_assignment, load_family_rules
    from app.auth.services import register_device
    from app.chores.models import Chore
    from app.db import engines
    from app.db.bases import utcnow
    from app.members.models import Member
    from app.tenancy.context import family_context

    app = services_app(live_server)
    with app.app_context():
        with family_context("demo") as ctx:
            session = ctx.session
            alex = session.scalars(select(Member).where(Member.username_key == "alex")).one()
            zoe = session.scalars(select(Member).where(Member.username_key == "zoe")).one()
            rules = load_family_rules(session, ctx.family.timezone)
            ids = []
            for name, icon in ((WAITING, "🧺"), (TO_DO, "🐟")):
                chore = Chore(name=name, icon=icon, base_points=POINTS, requires_verification=True)
                session.add(chore)
                session.flush()
                ids.append(create_assignment(session, actor=alex, data=AssignmentInput(
                    chore_id=chore.id, assigned_to=zoe.id, points_offered=POINTS), rules=rules, now=utcnow()).id)
            complete_assignment(session, actor=zoe, assignment_id=ids[0], rules=rules, now=utcnow())
            _device, token = register_device(session, alex, name="Hall tablet", now=utcnow())
            session.commit()
        engines().dispose_all()
    yield Setup(waiting_id=str(ids[0]), to_do_id=str(ids[1]), tablet_token=token)


def test_approving_from_the_keyboard_keeps_focus_and_says_what_happened(browser: Browser, live_server: LiveServer,
                                                                       setup: Setup, shot) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto(live_server.url("demo", "/login?next=/today"))
        page.get_by_label("Email or username").fill("alex")
        page.get_by_label("Password").fill("demo-parent-1")
        page.keyboard.press("Enter")
        expect(page.get_by_label("Signed in as")).to_be_visible()
        page.goto(live_server.url("demo", "/today"))  # a whole load: htmx has taken over every form once it is done
        expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()

        approve = page.get_by_role("button", name=f"Approve: {WAITING}")
        approve.focus()
        expect(approve).to_be_focused()
        page.keyboard.press("Enter")

        status = page.get_by_role("status").filter(has_text="Approved:")
        expect(status).to_have_text(f"Approved: {WAITING} — {POINTS} points to Zoe")
        row = page.locator(f"#assignment-{setup.waiting_id}")
        expect(row).to_be_focused()  # the chore's row, now under "Done"; never <body>
        assert not page.evaluate(FOCUS_IS_ON_BODY)
        expect(row).to_contain_text(f"{POINTS} pts")
        expect(page.get_by_role("button", name=f"Approve: {WAITING}")).to_have_count(0)
        shot(page, "01-approved-focus-kept")

        # The keyboard carries on from there: the next stop is that chore's own next action.
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name=f"Undo completion: {WAITING}")).to_be_focused()
    finally:
        context.close()


def test_the_keypad_says_its_progress_and_a_tap_says_done(browser: Browser, live_server: LiveServer, setup: Setup,
                                                          shot) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=TABLET)
    context.add_cookies([{"name": DEVICE_COOKIE, "value": setup.tablet_token, "url": live_server.url("demo")}])
    try:
        page = context.new_page()
        page.goto(live_server.url("demo", "/tablet"))
        page.get_by_role("list", name="Kids").get_by_role("link", name="Zoe").click()

        keypad = page.get_by_role("group", name="PIN keypad")
        expect(keypad).to_be_visible()
        progress = page.get_by_role("status").filter(has_text="digit")
        expect(progress).to_have_text("No digits entered yet")
        keypad.get_by_role("button", name="3", exact=True).click()
        keypad.get_by_role("button", name="4", exact=True).click()
        expect(progress).to_have_text("2 of 4 digits entered")
        keypad.get_by_role("button", name="Delete").click()
        expect(progress).to_have_text("1 of 4 digits entered")
        page.keyboard.press("9")  # a keyboard works too
        expect(progress).to_have_text("2 of 4 digits entered")
        shot(page, "02-keypad-progress")
        keypad.get_by_role("button", name="OK").click()
        expect(page.get_by_role("alert")).to_have_text("That PIN didn't work. Try again.")

        for digit in "3456":
            keypad = page.get_by_role("group", name="PIN keypad")
            keypad.get_by_role("button", name=digit, exact=True).click()
        expect(page.get_by_role("status").filter(has_text="digits entered")).to_have_text("4 of 4 digits entered")
        page.get_by_role("group", name="PIN keypad").get_by_role("button", name="OK").click()
        expect(page.get_by_role("heading", level=1, name="Zoe")).to_be_visible()

        # The chore card: a list item named by its heading, its state in words.
        card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=TO_DO))
        expect(card).to_contain_text("To do")
        done = card.get_by_role("button", name="I did it!")
        done.focus()
        page.keyboard.press("Enter")
        said = page.get_by_role("status").filter(has_text=TO_DO)
        expect(said).to_have_text(f"{TO_DO}: Done! Waiting for a parent")
        expect(page.locator(f"#chore-{setup.to_do_id}")).to_be_focused()
        assert not page.evaluate(FOCUS_IS_ON_BODY)
        expect(card).to_contain_text("Waiting for a parent")
        shot(page, "03-tap-said")
    finally:
        context.close()
