"""The rewards store in real browsers: a kid asks on the tablet, a parent decides, the kid's screen follows live."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.conftest import LiveServer, services_app, target_box

TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
LIVE = 5_000  # ms: a change on one device must show on the other well within this, without a reload
BONUS = 100


@dataclass(frozen=True)
class Store:
    """Two rewards made for this run (unique names: the demo family is shared by the whole e2e session)."""

    movie: str
    story: str
    bike: str


@pytest.fixture(scope="module")
def store(live_server: LiveServer) -> Iterator[Store]:
    """Two rewards that need approval, and a bonus for Maya so she can afford both (through the services)."""
    from app.assignments.services import load_family_rules
    from app.db import engines
    from app.db.bases import utcnow
    from app.members.models import Member
    from app.points.inputs import PointsAward
    from app.points.services import give_points
    from app.rewards.inputs import RewardInput
    from app.rewards.services import create_reward
    from app.tenancy.context import family_context

    suffix = uuid.uuid4().hex[:4]
    made = Store(movie=f"Movie night {suffix}", story=f"Extra story {suffix}", bike=f"Bike {suffix}")
    app = services_app(live_server)
    with app.app_context():
        with family_context("demo") as ctx:
            session = ctx.session
            alex = session.query(Member).filter_by(username_key="alex").one()
            maya = session.query(Member).filter_by(username_key="maya").one()
            create_reward(session, actor=alex, data=RewardInput(name=made.movie, cost=30, icon="🎬",
                                                                category="screen time"))
            create_reward(session, actor=alex, data=RewardInput(name=made.story, cost=20, icon="📚",
                                                                category="treat"))
            create_reward(session, actor=alex, data=RewardInput(name=made.bike, cost=5000, icon="🚲",
                                                                category="toy"))
            give_points(session, actor=alex, member=maya,
                        data=PointsAward(kind="bonus", points=BONUS, reason="Rewards journey"),
                        clock=load_family_rules(session, ctx.family.timezone).clock, now=utcnow())
            session.commit()
        engines().dispose_all()
    yield made


def sign_in_as_parent(page: Page, live_server: LiveServer, next_path: str) -> None:
    page.goto(live_server.url("demo", f"/login?next={next_path}"))
    page.get_by_label("Email or username").fill("alex")
    page.get_by_label("Password").fill("demo-parent-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed in as")).to_be_attached()  # in the folded menu on a phone


def kid_signs_in_on_the_tablet(page: Page, live_server: LiveServer) -> None:
    """A parent makes this browser the family tablet, then Maya taps her picture and types her PIN."""
    sign_in_as_parent(page, live_server, "/settings/devices")
    page.get_by_role("button", name="Make this browser the family tablet").click()
    expect(page).to_have_url(live_server.url("demo", "/tablet"))
    page.get_by_role("list", name="Kids").get_by_role("link", name="Maya").click()
    for digit in "1234":
        page.get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(live_server.url("demo", "/me"))


def wait_for_live_stream(page: Page) -> None:
    """The page's SSE stream is open (htmx's sse extension has connected), so the next event reaches it."""
    page.wait_for_function("() => { const s = htmx.find('body'); const d = s && s['htmx-internal-data'];"
                           " return d && d.sseEventSource && d.sseEventSource.readyState === 1; }", timeout=LIVE)


def request(kid: Page, name: str) -> None:
    """Tap Request and say yes to "Spend N points on …?"."""
    kid.once("dialog", lambda dialog: dialog.accept())
    card = kid.get_by_role("listitem").filter(has=kid.get_by_role("heading", name=name))
    button = card.get_by_role("button", name=f"Request {name}")
    box = target_box(button)
    assert box is not None and box["height"] >= 44 and box["width"] >= 44, box  # a kid-sized target
    button.click()


def my_request(kid: Page, name: str):  # noqa: ANN201 - a Locator
    return kid.get_by_role("region", name="My requests").get_by_role("listitem").filter(has_text=name)


def test_a_kid_asks_on_the_tablet_and_sees_the_parents_answers_live(browser: Browser, live_server: LiveServer,
                                                                     store: Store, shot) -> None:  # noqa: ANN001
    tablet: BrowserContext = browser.new_context(viewport=TABLET)
    desktop: BrowserContext = browser.new_context(viewport=DESKTOP)
    try:
        kid = tablet.new_page()
        kid_signs_in_on_the_tablet(kid, live_server)
        kid.get_by_role("link", name="Rewards").click()
        expect(kid.get_by_role("heading", level=1, name="Rewards")).to_be_visible()
        balance = kid.locator("#balance")
        start = int(balance.inner_text())
        assert start >= BONUS
        movie = kid.get_by_role("listitem").filter(has=kid.get_by_role("heading", name=store.movie))
        expect(movie).to_contain_text("30 points")
        expect(movie).to_contain_text("You can afford it!")
        shot(kid, "01-kid-store")

        request(kid, store.movie)
        expect(kid.locator("#store-toast")).to_have_text(
            f"You asked for {store.movie}. A parent will look at it soon.")
        expect(balance).to_have_text(str(start - 30))
        expect(my_request(kid, store.movie)).to_contain_text("Waiting for a parent")
        request(kid, store.story)
        expect(balance).to_have_text(str(start - 50))
        shot(kid, "02-kid-asked")

        # The kid's screen stays put from here on: a marker on window would vanish with any reload.
        kid.evaluate("() => { window.__noReload = true; }")
        wait_for_live_stream(kid)

        parent = desktop.new_page()
        sign_in_as_parent(parent, live_server, "/")
        # The parent gets there from the notification bell: the request's notification links to the requests.
        parent.get_by_role("link", name=re.compile(r"^Notifications: [1-9]\d* unread$")).click()
        expect(parent.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
        asked = parent.get_by_role("listitem").filter(has_text=f"Maya asked for {store.movie}")
        asked.get_by_role("button", name=f"Open: Maya asked for {store.movie}").click()
        requests = parent.get_by_role("region", name="Requests", exact=True)
        waiting = requests.get_by_role("list", name="Waiting for you")
        expect(waiting.get_by_role("listitem").filter(has_text=store.movie)).to_contain_text("Maya")
        shot(parent, "03-parent-requests")

        waiting.get_by_role("button", name=f"Approve: {store.movie} for Maya").click()
        expect(requests.get_by_role("list", name="To hand over").get_by_role("listitem")
               .filter(has_text=store.movie)).to_be_visible()
        expect(my_request(kid, store.movie)).to_contain_text("Approved: on its way!", timeout=LIVE)

        story = waiting.get_by_role("listitem").filter(has_text=store.story)
        story.locator("summary", has_text="Reject").click()  # a <summary> has no ARIA role to find it by
        story.get_by_label("Why not?").fill("Bedtime already")
        story.get_by_role("button", name="Reject and refund").click()
        expect(waiting).to_have_count(0)
        shot(parent, "04-parent-decided")

        # The refund lands on the kid's screen live: balance back up by 20, the reason shown.
        expect(balance).to_have_text(str(start - 30), timeout=LIVE)
        expect(my_request(kid, store.story)).to_contain_text("Not this time", timeout=LIVE)
        expect(my_request(kid, store.story)).to_contain_text("Bedtime already")
        assert kid.evaluate("() => window.__noReload === true"), "the kid's page reloaded"
        shot(kid, "05-kid-live")

        requests.get_by_role("button", name=f"Hand over: {store.movie} for Maya").click()
        expect(my_request(kid, store.movie)).to_contain_text("Done: enjoy!", timeout=LIVE)

        kid.set_viewport_size(PHONE)
        expect(kid.get_by_role("heading", level=1, name="Rewards")).to_be_visible()
        shot(kid, "06-kid-phone")
    finally:
        tablet.close()
        desktop.close()


def test_a_kid_saves_for_a_goal_and_a_parent_turns_points_into_money(browser: Browser, live_server: LiveServer,
                                                                    store: Store, shot) -> None:  # noqa: ANN001
    tablet: BrowserContext = browser.new_context(viewport=TABLET)
    phone: BrowserContext = browser.new_context(viewport=PHONE)
    try:
        kid = tablet.new_page()
        kid_signs_in_on_the_tablet(kid, live_server)
        kid.get_by_role("link", name="Rewards").click()
        balance = kid.locator("#balance")
        start = int(balance.inner_text())
        bike = kid.get_by_role("listitem").filter(has=kid.get_by_role("heading", name=store.bike))
        expect(bike).to_contain_text(f"{5000 - start} more points")
        bike.get_by_role("button", name=f"Save for {store.bike}").click()
        goal = kid.get_by_role("region", name=f"Saving for {store.bike}")
        expect(goal.get_by_role("progressbar")).to_be_visible()
        expect(goal).to_contain_text(f"{start} of 5000 points")
        expect(bike).to_contain_text("Your goal")
        wait_for_live_stream(kid)
        shot(kid, "11-kid-goal")

        parent = phone.new_page()
        sign_in_as_parent(parent, live_server, "/allowance")
        expect(parent.get_by_role("heading", level=1, name="Allowance")).to_be_visible()
        card = parent.get_by_role("region", name="Maya", exact=True)
        card.locator("summary", has_text="Convert points").click()
        card.get_by_label("Points", exact=True).fill("20")
        card.get_by_role("button", name="Convert", exact=True).click()
        expect(parent.locator("#allowance-toast")).to_have_text("Converted 20 points to $0.20.")
        shot(parent, "12-parent-allowance-phone")

        expect(balance).to_have_text(str(start - 20), timeout=LIVE)  # live, on the tablet
        kid.get_by_role("link", name="My money").click()
        expect(kid.get_by_role("heading", level=1, name="My money")).to_be_visible()
        expect(kid.locator("header.topbar")).to_have_count(1)  # a whole page, not a page inside the store
        statement = kid.get_by_role("table")
        expect(statement.get_by_role("row").filter(has_text="Points converted").first).to_contain_text("$0.20")
        shot(kid, "13-kid-money")
    finally:
        tablet.close()
        phone.close()


def test_a_parent_adds_a_weekend_only_reward(page: Page, live_server: LiveServer, shot) -> None:
    name = f"Pancake breakfast {uuid.uuid4().hex[:4]}"
    page.set_viewport_size(TABLET)
    sign_in_as_parent(page, live_server, "/rewards")
    page.get_by_role("link", name="Add a reward").click()
    expect(page.get_by_role("heading", level=1, name="New reward")).to_be_visible()
    days = page.get_by_role("group", name="Days")
    expect(days).to_be_hidden()  # only the inputs the chosen window uses are shown
    page.get_by_label("Name").fill(name)
    page.get_by_label("Cost in points").fill("40")
    page.get_by_label("On some days of the week").check()
    expect(days).to_be_visible()
    page.get_by_role("button", name="Add reward").click()  # no day picked: the server says so (422)
    expect(page.get_by_role("alert")).to_contain_text("Pick at least one day of the week")
    expect(page.get_by_label("Name")).to_have_value(name)  # what was typed is kept
    for day in ("Sat", "Sun"):
        days.get_by_label(day, exact=True).check()
    shot(page, "21-reward-form")
    page.get_by_role("button", name="Add reward").click()

    expect(page).to_have_url(live_server.url("demo", "/rewards"))
    row = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name))
    expect(row).to_contain_text("On Saturdays and Sundays")
    expect(row).to_contain_text("40")
    shot(page, "22-reward-added")


def test_another_family_sees_none_of_it(page: Page, live_server: LiveServer, store: Store) -> None:
    response = page.goto(live_server.url("other-family", "/rewards"))

    assert response is not None and response.ok  # the sign-in page: nobody is signed in there
    expect(page).to_have_url(live_server.url("other-family", "/login?next=/rewards"))
    expect(page.get_by_role("main")).not_to_contain_text(store.movie)
