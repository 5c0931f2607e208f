"""The family tablet: a parent sets it up, kids sign in with their PIN on the keypad, "I'm done" and idle end the
turn (with a countdown), on the Rewards page too."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.conftest import LiveServer, target_box

TABLET = {"width": 768, "height": 1024}


def sign_in_as_parent(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url("demo", "/login?next=/settings/devices"))
    page.get_by_label("Email or username").fill("alex")
    page.get_by_label("Password").fill("demo-parent-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Devices")).to_be_visible()


def type_pin(page: Page, pin: str) -> None:
    """Clicks only: the on-screen keypad needs no keyboard."""
    for digit in pin:
        page.get_by_role("button", name=digit, exact=True).click()


def test_kids_take_turns_on_the_family_tablet(page: Page, live_server: LiveServer, shot) -> None:
    page.set_viewport_size(TABLET)
    page.clock.install()
    sign_in_as_parent(page, live_server)
    shot(page, "01-devices")

    page.get_by_role("button", name="Make this browser the family tablet").click()
    expect(page).to_have_url(live_server.url("demo", "/tablet"))
    wall = page.get_by_role("list", name="Kids")
    expect(page.get_by_role("heading", name="Who's there?")).to_be_visible()
    for name in ("Maya", "Leo", "Zoe"):
        expect(wall.get_by_role("link", name=name)).to_be_visible()
    expect(wall).not_to_contain_text("Alex")
    expect(page.get_by_label("Signed in as")).to_have_count(0)  # the tablet starts signed out
    shot(page, "02-wall")

    wall.get_by_role("link", name="Maya").click()
    expect(page.get_by_role("heading", name="Hi Maya! Type your PIN")).to_be_visible()
    for key in ("1", "0", "OK", "Delete"):
        box = target_box(page.get_by_role("button", name=key, exact=True))
        assert box is not None and box["width"] >= 64 and box["height"] >= 64, (key, box)
    type_pin(page, "99")
    expect(page.locator(".pin-dot.filled")).to_have_count(2)
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".pin-dot.filled")).to_have_count(1)
    type_pin(page, "999")
    shot(page, "03-keypad")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("alert")).to_have_text("That PIN didn't work. Try again.")
    expect(page.locator(".pin-dot.filled")).to_have_count(0)
    shot(page, "04-wrong-pin")

    type_pin(page, "1234")
    page.get_by_role("button", name="OK").click()
    expect(page).to_have_url(live_server.url("demo", "/me"))
    expect(page.get_by_role("heading", level=1, name="Maya")).to_be_visible()
    expect(page.get_by_text("Your chores will appear here")).to_be_visible()
    shot(page, "05-kid-home")

    page.get_by_role("button", name="I'm done").click()
    expect(page).to_have_url(live_server.url("demo", "/tablet"))
    expect(page.get_by_label("Signed in as")).to_have_count(0)
    shot(page, "06-back-to-wall")

    # Leo walks away without pressing Done: a minute without a touch ends his turn.
    page.get_by_role("list", name="Kids").get_by_role("link", name="Leo").click()
    type_pin(page, "2345")
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_role("heading", level=1, name="Leo")).to_be_visible()
    page.clock.run_for(30_000)
    expect(page).to_have_url(live_server.url("demo", "/me"))  # still his turn after half a minute
    countdown = page.get_by_role("timer")
    expect(countdown).to_be_hidden()
    page.clock.run_for(21_000)  # the last ten seconds are counted down on screen
    expect(countdown).to_contain_text("Your turn ends in")
    shot(page, "07a-idle-countdown")
    page.clock.run_for(11_000)
    expect(page).to_have_url(live_server.url("demo", "/tablet"))
    expect(page.get_by_role("heading", name="Who's there?")).to_be_visible()
    expect(page.get_by_label("Signed in as")).to_have_count(0)
    shot(page, "07-idle-back-to-wall")

    # The tablet's cookie is host-only: another family's site does not treat this browser as its tablet.
    response = page.goto(live_server.url("other-family", "/tablet"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="This browser isn't the family tablet")).to_be_visible()
