"""Sign-up and the family picker in a real browser: a new family in a few keystrokes, and moving between families."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import redis
from playwright.sync_api import Page, expect

from app import create_app
from app.db import engines
import config
from e2e.conftest import DEDICATED_TEMPLATE, FAMILY_URL, PLATFORM_URL, REDIS_URL, LiveServer
from tests.conftest import family_factory
from tests.platform.apex import Account, create_account

PHONE = {"width": 375, "height": 812}
TABLET = {"width": 768, "height": 1024}
PASSWORD = "plum tree in the garden"


@pytest.fixture(autouse=True)
def fresh_sign_up_limits() -> None:
    """Every browser test comes from 127.0.0.1: forget earlier sign-up and sign-in attempts so limits don't bite."""
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match="LIMITS:*/127.0.0.1/*"):
            if b"signup." in key or b"platform." in key:
                client.delete(key)


@pytest.fixture
def parent_of_two_families(live_server: LiveServer) -> Iterator[tuple[Account, str, str]]:
    """A platform account that is a parent in two families (as after accepting a co-parent invitation)."""
    app = create_app(config.TestConfig, PLATFORM_DATABASE_URL=PLATFORM_URL, FAMILY_DATABASE_URL=FAMILY_URL,
                     DEDICATED_DATABASE_URL_TEMPLATE=DEDICATED_TEMPLATE, REDIS_URL=REDIS_URL,
                     BASE_DOMAIN=live_server.base_domain)
    tag = uuid.uuid4().hex[:6]
    make_family = family_factory(app)
    harbour = make_family(f"harbour-{tag}", name="Harbour House")
    grandma = make_family(f"grandma-{tag}", name="Grandma's Place")
    account = create_account(app, [harbour, grandma], email=f"robin-{tag}@example.com", password=PASSWORD,
                             display_name="Robin")
    yield account, harbour.slug, grandma.slug
    with app.app_context():
        engines().dispose_all()


@pytest.mark.browser_context_args(timezone_id="Europe/Lisbon")
def test_a_parent_signs_up_and_lands_signed_in_on_the_new_family(page: Page, live_server: LiveServer,
                                                                  shot) -> None:
    page.set_viewport_size(PHONE)
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server.url())
    page.get_by_role("main").get_by_role("link", name="Start your family").click()
    expect(page.get_by_role("heading", level=1, name="Start your family")).to_be_visible()
    page.set_viewport_size(TABLET)
    shot(page, "01-sign-up-form-tablet")
    page.set_viewport_size(PHONE)
    shot(page, "01-sign-up-form")
    page.evaluate("window.sameDocument = true")  # gone if anything below reloads the page

    page.get_by_label("Your name").press_sequentially("Sam Rivera")
    page.get_by_label("Email").press_sequentially(f"sam-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_label("Password").press_sequentially(PASSWORD)
    # The address is proposed from the family name as it is typed, and checked live.
    page.get_by_label("Family name").press_sequentially("Other Family", delay=40)
    address = page.get_by_label("Your family's web address")
    status = page.locator("#slug-status")
    expect(address).to_have_value("other-family")
    expect(status).to_contain_text("The address 'other-family' is taken.")
    free = page.get_by_role("group", name="Free addresses")
    expect(free.get_by_role("button", name="other-family-2", exact=True)).to_be_visible()
    shot(page, "02-proposed-address-is-taken")

    # A town makes the first alternative friendlier; picking it fills the field.
    page.get_by_label("Town or city (optional)").press_sequentially("Lisbon", delay=40)
    expect(free.get_by_role("button").first).to_have_text("other-family-lisbon")
    shot(page, "03-alternatives-with-town")
    free.get_by_role("button", name="other-family-lisbon").click()
    expect(address).to_have_value("other-family-lisbon")
    expect(status).to_have_text(f"✓ other-family-lisbon.{live_server.base_domain} is yours")
    shot(page, "04-alternative-picked")

    # Typing a malformed address says why, live; the family name no longer overwrites an address the parent chose.
    address.fill("")
    address.press_sequentially("Our Place!", delay=40)
    expect(status).to_contain_text("may use only lowercase letters, digits and inner hyphens")
    shot(page, "05-malformed-address")
    free.get_by_role("button", name="our-place", exact=True).click()
    expect(address).to_have_value("our-place")
    family_name = page.get_by_label("Family name")
    family_name.press("End")
    family_name.press_sequentially(" Lisboa", delay=40)
    page.wait_for_timeout(600)  # longer than the 300 ms debounce: a proposal would have arrived by now
    expect(address).to_have_value("our-place")
    expect(status).to_have_text(f"✓ our-place.{live_server.base_domain} is yours")

    # The browser's time zone was preselected (this context runs in Lisbon); the parent may change it.
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    assert page.evaluate("window.sameDocument") is True, "the live checks reloaded the page"
    shot(page, "06-ready-to-create")

    page.get_by_role("button", name="Create our family").click()

    expect(page).to_have_url(re.compile(rf"^http://our-place\.{re.escape(live_server.base_domain)}/welcome(/.*)?$"))
    expect(page.get_by_role("heading", name=re.compile("Sign in"))).to_have_count(0)  # not a login page
    expect(page.get_by_label("Signed in as")).to_contain_text("Sam Rivera")
    expect(page.get_by_role("banner")).to_contain_text("Other Family Lisboa")
    shot(page, "07-landed-on-welcome")


def test_a_parent_of_two_families_picks_one_then_switches_without_a_password(
        page: Page, live_server: LiveServer, parent_of_two_families: tuple[Account, str, str], shot) -> None:
    account, harbour, grandma = parent_of_two_families
    handoffs: list[str] = []
    page.on("request", lambda request: handoffs.append(request.url) if "/auth/handoff" in request.url else None)
    page.goto(live_server.url(path="/login"))
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
    shot(page, "01-wrong-password")

    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server.url(path="/families"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi Robin, which family?")
    choices = page.get_by_role("listitem")
    expect(choices).to_have_count(2)
    expect(choices.filter(has_text="Harbour House")).to_contain_text(f"{harbour}.{live_server.base_domain}")
    expect(choices.filter(has_text="Grandma's Place")).to_contain_text("Admin")
    shot(page, "02-family-picker")

    page.get_by_role("button", name="Open Harbour House").click()

    expect(page).to_have_url(live_server.url(harbour, "/"))
    expect(page.get_by_label("Signed in as")).to_contain_text("Robin")
    shot(page, "03-in-harbour-house")

    page.goto(live_server.url(harbour, "/auth/switch"))
    expect(page.get_by_role("heading", level=1, name="Switch family")).to_be_visible()
    shot(page, "04-switch-family")
    page.get_by_role("button", name="Switch to Grandma's Place").click()

    expect(page).to_have_url(live_server.url(grandma, "/"))
    expect(page.get_by_label("Signed in as")).to_contain_text("Robin")
    shot(page, "05-in-grandmas-place")

    # The passes that carried Robin over are spent: replaying one fails, politely.
    assert [url.split("?")[0] for url in handoffs] == [live_server.url(harbour, "/auth/handoff"),
                                                      live_server.url(grandma, "/auth/handoff")]
    replay = page.goto(handoffs[-1])
    assert replay is not None and replay.status == 400
    expect(page.get_by_role("alert")).to_have_text("This link has already been used.")
    shot(page, "06-replayed-pass-refused")


def test_typing_a_new_address_is_never_garbled_by_the_proposal(page: Page, live_server: LiveServer) -> None:
    """Issue 13, found 5: the address proposed from the family name never replaces the field while it has focus,
    and sign-up logs no console error (the inherited hx-disabled-elt used to)."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url(None, "/signup"))
    name = page.get_by_label("Family name")
    address = page.get_by_label("Your family's web address")
    tag = uuid.uuid4().hex[:6]
    name.press_sequentially(f"Journey {tag}", delay=30)
    expect(address).to_have_value(f"journey-{tag}")
    # Straight from the name to the address (the name's "change" asks for a new proposal as focus moves),
    # select the proposal and type over it.
    address.click()
    address.press("Control+a")
    address.press_sequentially(f"jtest{tag}", delay=30)
    page.wait_for_timeout(1_000)  # any late proposal has arrived by now
    expect(address).to_have_value(f"jtest{tag}")
    expect(page.locator("#slug-status")).to_contain_text(f"jtest{tag}")
    assert errors == []
