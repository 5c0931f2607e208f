"""Smoke journeys through a real browser: family pages, the apex, the 404 page, and isolation between families."""
from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from e2e.conftest import LiveServer


def sign_in(page: Page, live_server: LiveServer, login: str, password: str) -> None:
    """The family's people are shown to signed-in members only."""
    page.goto(live_server.url("demo", "/login"))
    page.get_by_label("Email or username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed in as")).to_be_visible()


def test_demo_home_page_shows_the_family_and_its_kids(page: Page, live_server: LiveServer, shot) -> None:
    sign_in(page, live_server, "alex", "demo-parent-1")
    page.goto(live_server.url("demo"))

    expect(page.get_by_role("heading", level=1, name="The Demo Family")).to_be_visible()
    people = page.get_by_role("region", name="Our people")
    for name in ("Maya", "Leo", "Zoe"):
        expect(people.get_by_role("listitem").filter(has_text=name)).to_be_visible()
    shot(page, "demo-home")

    page.set_viewport_size({"width": 768, "height": 1024})
    expect(page.get_by_role("heading", level=1, name="The Demo Family")).to_be_visible()
    shot(page, "demo-home-tablet")


def test_unknown_family_gets_the_friendly_404_page(page: Page, live_server: LiveServer) -> None:
    response = page.goto(live_server.url("nosuch-family"))

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="We couldn't find that")).to_be_visible()


def test_apex_landing_page_renders(page: Page, live_server: LiveServer) -> None:
    response = page.goto(live_server.url())

    assert response is not None and response.ok
    expect(page.get_by_role("heading", level=1, name="Chores that get done")).to_be_visible()


def test_a_family_cookie_is_not_sent_to_another_family(page: Page, context: BrowserContext,
                                                       live_server: LiveServer) -> None:
    page.goto(live_server.url("demo"))
    demo_cookies = [c for c in context.cookies(live_server.url("demo")) if c["name"] == "session"]
    assert len(demo_cookies) == 1, demo_cookies
    demo_session = demo_cookies[0]
    assert demo_session["domain"] == "demo.localhost"  # host-only: no leading dot, no parent domain
    assert demo_session["value"]

    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))  # not requests.append: Playwright tags handlers
    page.goto(live_server.url("other-family"))
    expect(page.get_by_role("heading", level=1, name="The Others")).to_be_visible()

    to_other = [r for r in requests if r.url.startswith(live_server.url("other-family"))]
    assert to_other, [r.url for r in requests]
    for request in to_other:  # the demo page's own late requests (its favicon) rightly carry the demo cookie
        assert demo_session["value"] not in (request.all_headers().get("cookie") or ""), request.url
    assert demo_session["value"] not in [c["value"] for c in context.cookies(live_server.url("other-family"))]


def test_a_family_cannot_see_another_familys_people(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url("other-family"))

    expect(page.get_by_role("heading", level=1, name="The Others")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("Maya")


def test_without_javascript_a_phone_menu_wraps_instead_of_sticking_out(browser: Browser,
                                                                        live_server: LiveServer) -> None:
    """Before forms.js folds the menu (a boosted swap, a slow phone, no JavaScript) nothing scrolls sideways."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, live_server, "jordan", "demo-parent-2")
        for path in ("/today", "/chores", "/settings/webhooks", "/rewards"):
            page.goto(live_server.url("demo", path))
            expect(page.get_by_role("link", name="Today", exact=True)).to_be_visible()  # the menu is open, not folded
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    finally:
        context.close()
