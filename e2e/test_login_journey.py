"""A parent signs in on the family host with "remember this device", sees the dashboard and signs out."""
from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import LiveServer

TABLET = {"width": 768, "height": 1024}


def test_parent_signs_in_remembered_sees_the_dashboard_and_signs_out(page: Page, context: BrowserContext,
                                                                     live_server: LiveServer, shot) -> None:
    page.set_viewport_size(TABLET)
    page.goto(live_server.url("demo"))
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1, name="The Demo Family")).to_be_visible()
    expect(main).not_to_contain_text("Maya")  # no family data without a session
    shot(page, "01-welcome")

    main.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in to The Demo Family")).to_be_visible()
    page.get_by_label("Email or username").fill("alex")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password")
    shot(page, "02-wrong-password")

    page.get_by_label("Password").fill("demo-parent-1")
    page.get_by_label("Remember this device").check()
    shot(page, "03-sign-in-form")
    page.get_by_role("button", name="Sign in").click()

    people = page.get_by_role("region", name="Our people")
    for name in ("Alex", "Maya", "Leo", "Zoe"):
        expect(people.get_by_role("listitem").filter(has_text=name)).to_be_visible()
    expect(page.get_by_label("Signed in as")).to_contain_text("Alex")
    session = next(c for c in context.cookies(live_server.url("demo")) if c["name"] == "session")
    assert session["domain"] == "demo.localhost" and session["httpOnly"]
    assert session["expires"] > time.time() + 7 * 24 * 3600  # remembered: it outlives the browser
    shot(page, "04-dashboard")

    page.get_by_role("navigation", name="Main").get_by_text("More", exact=True).click()  # the less used links
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("main").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Maya")
    page.goto(live_server.url("demo", "/settings/devices"))
    expect(page).to_have_url(live_server.url("demo", "/login?next=/settings/devices"))
    shot(page, "05-signed-out")
