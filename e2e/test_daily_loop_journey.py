"""The daily loop in real browsers: a kid on the tablet does a photo chore, a parent approves, everyone sees it live."""
from __future__ import annotations

import http.client
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.auth import DEVICE_COOKIE
from e2e.conftest import LiveServer, services_app, target_box

TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
CHORE = "Photo of your tidy desk"
POINTS = 20
# An <img>'s natural width once it has loaded (0 when it failed).
LOADED_WIDTH = ("img => img.complete ? img.naturalWidth : new Promise(done => {"
                " img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); })")
LIVE = 5_000  # ms: a change on one device must show on the others well within this, without a reload


@dataclass(frozen=True)
class Setup:
    """Maya's photo chore for today, and a device token: the browser that carries it is the family tablet."""

    assignment_id: str
    tablet_token: str


@pytest.fixture(scope="module")
def setup(live_server: LiveServer) -> Iterator[Setup]:
    """Through the services: a parent hands Maya a one-off chore for today that needs a photo and a parent's check,
    and registers the family tablet (e2e/test_tablet_journey.py walks through that page)."""
    from sqlalchemy import select

    from app.assignments.inputs import AssignmentInput
    from app.assignments.services import create_assignment, load_family_rules
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
            maya = session.scalars(select(Member).where(Member.username_key == "maya")).one()
            chore = Chore(name=CHORE, icon="🧹", base_points=POINTS, requires_photo=True, requires_verification=True)
            session.add(chore)
            session.flush()
            assignment = create_assignment(session, actor=alex, data=AssignmentInput(
                chore_id=chore.id, assigned_to=maya.id, points_offered=POINTS),
                rules=load_family_rules(session, ctx.family.timezone), now=utcnow())
            # A second chore keeps an "I did it!" button on the kid's view after the first is done, whatever the
            # weekday (the demo's own chores depend on the day and on who is home).
            spare = Chore(name="Water the cactus", icon="🌵", base_points=5, requires_verification=True)
            session.add(spare)
            session.flush()
            create_assignment(session, actor=alex, data=AssignmentInput(
                chore_id=spare.id, assigned_to=maya.id, points_offered=5),
                rules=load_family_rules(session, ctx.family.timezone), now=utcnow())
            _device, token = register_device(session, alex, name="Kitchen tablet", now=utcnow())
            session.commit()
            made = Setup(assignment_id=str(assignment.id), tablet_token=token)
            # Where the server will keep the proof photo (the same instance folder: same checkout, no UPLOADS_DIR).
            photos = Path(app.instance_path) / "uploads" / str(ctx.family.id)
        engines().dispose_all()
    yield made
    for name in (f"{made.assignment_id}.jpg", f"{made.assignment_id}_thumb.jpg"):
        (photos / name).unlink(missing_ok=True)
    if photos.is_dir() and not any(photos.iterdir()):
        photos.rmdir()


def a_photo() -> dict[str, object]:
    """A small JPEG, as the tablet's camera would hand it over."""
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 160, 90)).save(out, format="JPEG")
    return {"name": "desk.jpg", "mimeType": "image/jpeg", "buffer": out.getvalue()}


def sign_in_as_parent(page: Page, live_server: LiveServer, next_path: str) -> None:
    page.goto(live_server.url("demo", f"/login?next={next_path}"))
    page.get_by_label("Email or username").fill("alex")
    page.get_by_label("Password").fill("demo-parent-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed in as")).to_be_visible()


def kid_signs_in_on_the_tablet(page: Page, live_server: LiveServer) -> None:
    """On the family tablet, Maya taps her picture and types her PIN on the keypad."""
    page.goto(live_server.url("demo", "/tablet"))
    page.get_by_role("list", name="Kids").get_by_role("link", name="Maya").click()
    expect(page.get_by_role("heading", name="Hi Maya! Type your PIN")).to_be_visible()
    for digit in "1234":
        page.get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(live_server.url("demo", "/me"))


def wait_for_live_stream(page: Page) -> None:
    """The page's SSE stream is open (htmx's sse extension has connected), so the next event reaches it."""
    page.wait_for_function("() => { const s = htmx.find('body'); const d = s && s['htmx-internal-data'];"
                           " return d && d.sseEventSource && d.sseEventSource.readyState === 1; }", timeout=LIVE)


def test_a_photo_chore_done_on_the_tablet_is_approved_and_every_screen_updates_live(
        browser: Browser, live_server: LiveServer, setup: Setup, shot) -> None:  # noqa: ANN001
    tablet: BrowserContext = browser.new_context(viewport=TABLET)
    tablet.add_cookies([{"name": DEVICE_COOKIE, "value": setup.tablet_token, "url": live_server.url("demo")}])
    desktop: BrowserContext = browser.new_context(viewport=DESKTOP)
    try:
        kid = tablet.new_page()
        kid_signs_in_on_the_tablet(kid, live_server)
        expect(kid.get_by_role("heading", level=1, name="Maya")).to_be_visible()
        points = kid.locator("[data-points-counter]")
        points_before = int(points.inner_text())
        card = kid.get_by_role("listitem").filter(has=kid.get_by_role("heading", name=CHORE))
        expect(card).to_contain_text("To do")
        expect(card).to_contain_text(f"{POINTS} points")
        expect(card).to_contain_text("needs a photo")
        for target in (card.get_by_role("button", name="I did it!"), card.locator(".photo-picker")):
            box = target_box(target)
            assert box is not None and box["height"] >= 64, box  # big enough for small fingers
        shot(kid, "01-kid-today")

        # The parent's desktop: the wall of the family's progress, open before anything happens.
        parent = desktop.new_page()
        sign_in_as_parent(parent, live_server, "/wall")
        wall = desktop.new_page()
        wall.goto(live_server.url("demo", "/wall"))
        maya_leader = wall.get_by_role("list", name="This week's leaderboard").get_by_role("listitem").filter(
            has_text="Maya")
        weekly_before = int(re.match(r"\d+", maya_leader.locator(".leader-points").inner_text()).group(0))
        maya_today = wall.get_by_role("list", name="Today", exact=True).get_by_role("listitem").filter(
            has_text="Maya")
        waiting = maya_today.locator(".wall-waiting")
        waiting_before = int(waiting.inner_text().split()[0]) if waiting.count() else 0
        wait_for_live_stream(wall)
        shot(wall, "02-wall-before")

        # One tap with the photo: the card flips to "waiting", and the wall shows Maya's chore waiting, live.
        card.locator("input[type=file]").set_input_files(a_photo())
        card.get_by_role("button", name="I did it!").click()
        expect(card).to_contain_text("Waiting for a parent")
        expect(card.get_by_role("img", name=f"Your photo of {CHORE}")).to_be_visible()
        assert card.get_by_role("img").evaluate(LOADED_WIDTH) > 0  # the thumbnail really loads
        expect(points).to_have_text(str(points_before))  # nothing credited before a parent checks
        shot(kid, "03-kid-waiting")
        expect(waiting).to_have_text(f"{waiting_before + 1} waiting for a parent", timeout=LIVE)

        # The parent approves on the Today dashboard (or through the API while that page is not there yet).
        wait_for_live_stream(kid)
        approved_on_dashboard = approve(parent, live_server, setup)
        shot(parent, "04-parent-approved" if approved_on_dashboard else "04-parent-api-approved")

        # Live, no reload: the kid's points count up and the card turns done; the wall's leaderboard moves.
        # (Approved on the dashboard, this needs that page to publish its change after the commit, as the kid's does.)
        expect(points).to_have_text(str(points_before + POINTS), timeout=LIVE)
        expect(card).to_contain_text("Done!", timeout=LIVE)
        expect(maya_leader.locator(".leader-points")).to_have_text(f"{weekly_before + POINTS} points", timeout=LIVE)
        if waiting_before:
            expect(waiting).to_have_text(f"{waiting_before} waiting for a parent", timeout=LIVE)
        else:
            expect(waiting).to_have_count(0, timeout=LIVE)
        shot(kid, "05-kid-done")
        shot(wall, "06-wall-after")

        # The kid's view on a phone: one column, nothing wider than the screen, big buttons still.
        kid.set_viewport_size(PHONE)
        assert kid.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        box = target_box(kid.get_by_role("button", name="I did it!").first)
        assert box is not None and box["height"] >= 64 and box["x"] + box["width"] <= PHONE["width"], box
        shot(kid, "07-kid-phone")

        # The proof photo is the family's own: another family's site does not serve it.
        status, _ = call(live_server, "GET", "other-family", f"/photos/{setup.assignment_id}")
        assert status == 302  # not signed in there: off to that family's sign-in page, never the photo
    finally:
        tablet.close()
        desktop.close()


def approve(parent: Page, live_server: LiveServer, chore: Setup) -> bool:
    """Approve Maya's chore: the dashboard's Approve button when the page has it, else POST /api/…/verify."""
    response = parent.goto(live_server.url("demo", "/today"))
    button = parent.get_by_role("button", name=f"Approve: {CHORE}")
    if response is not None and response.ok and button.count() == 1:
        button.click()
        expect(button).to_have_count(0)
        return True
    status, body = call(live_server, "POST", "demo", "/api/auth/login",
                        {"username": "alex", "password": "demo-parent-1"})
    assert status == 200, body
    status, body = call(live_server, "POST", "demo", f"/api/assignments/{chore.assignment_id}/verify",
                        {"approved": True}, token=body["token"])
    assert status == 200, body
    return False


def call(live_server: LiveServer, method: str, slug: str, path: str, body: dict[str, object] | None = None, *,
         token: str | None = None) -> tuple[int, Any]:
    """One HTTP request from this test process (no browser; `*.localhost` needs no name lookup this way)."""
    headers = {"Host": f"{slug}.{live_server.base_domain}", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, json.loads(raw) if is_json else raw
    finally:
        conn.close()
