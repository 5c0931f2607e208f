"""A new family's parent walks the welcome wizard in Chromium: two kids, a co-parent invite, starter chores, done."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from app import create_app
from app.db import engines, platform_engine
from app.members.models import Member
from app.security import hash_secret
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.context import family_context
from app.tenancy.provisioning import provision_family
import config
from e2e.conftest import DEDICATED_TEMPLATE, FAMILY_URL, PLATFORM_URL, REDIS_KEY_PREFIX, REDIS_URL, LiveServer

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 375, "height": 812}
PASSWORD = "newcomer-parent-1"


@dataclass(frozen=True)
class NewFamily:
    slug: str
    name: str
    parent_username: str


@pytest.fixture(scope="module")
def e2e_app(live_server: LiveServer) -> Iterator[Flask]:
    """An app on the live server's databases, to set up data through the services as sign-up would."""
    app = create_app(config.TestConfig, PLATFORM_DATABASE_URL=PLATFORM_URL, FAMILY_DATABASE_URL=FAMILY_URL,
                     DEDICATED_DATABASE_URL_TEMPLATE=DEDICATED_TEMPLATE, REDIS_URL=REDIS_URL,
                     REDIS_KEY_PREFIX=REDIS_KEY_PREFIX, BASE_DOMAIN=live_server.base_domain)
    yield app
    with app.app_context():
        engines().dispose_all()


@pytest.fixture
def new_family(e2e_app: Flask) -> NewFamily:
    """A fresh family (the shared demo family stays as other journeys expect it) with one parent and no kids."""
    slug = f"newcomers-{uuid.uuid4().hex[:6]}"
    with e2e_app.app_context():
        with Session(platform_engine(), expire_on_commit=False) as session:
            provision_family(session, engines(), placement_config(), slug=slug, name="The Newcomers",
                             placement="pooled", timezone="Europe/London")
        with family_context(slug) as ctx:
            ctx.session.add(Member(username="robin", display_name="Robin", role="parent", avatar="🦉",
                                   password_hash=hash_secret(PASSWORD)))
            ctx.session.commit()
        registry().invalidate(slug)
    return NewFamily(slug=slug, name="The Newcomers", parent_username="robin")


def _fits_the_width(page: Page) -> bool:
    """Nothing sticks out sideways (pages must work on a 375 px phone)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _add_kid(page: Page, name: str, age: str, avatar: str, pin: str) -> None:
    form = page.get_by_role("form", name="Add a kid")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Age in years").fill(age)
    form.get_by_role("radio", name=avatar).check()
    form.get_by_label("Tablet PIN").fill(pin)
    form.get_by_role("button", name="Add kid").click()
    expect(page.locator("#main").get_by_role("status")).to_have_text(f"{name} was added.")


def test_a_parent_walks_the_welcome_wizard(page: Page, live_server: LiveServer, new_family: NewFamily,
                                          shot) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url(new_family.slug, "/login?next=/welcome"))
    page.get_by_label("Email or username").fill(new_family.parent_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # /welcome resumes at the first step for a family that never opened it.
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/kids"))
    expect(page.get_by_role("heading", name="Who are the kids?")).to_be_visible()
    expect(page.get_by_role("list", name="Setup steps").get_by_role("listitem").first).to_have_attribute(
        "aria-current", "step")
    shot(page, "01-kids-step")

    page.set_viewport_size(PHONE)
    assert _fits_the_width(page)
    shot(page, "01-kids-step-phone")
    page.set_viewport_size(DESKTOP)

    _add_kid(page, "Ava", "6", "🦊", "1357")
    _add_kid(page, "Ben", "10", "🐼", "2468")
    kids = page.get_by_role("list", name="Kids added so far")
    expect(kids.get_by_role("listitem")).to_have_count(2)
    expect(kids).to_contain_text("Ava")
    expect(kids).to_contain_text("Ben")
    shot(page, "02-two-kids")

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Invite a co-parent")).to_be_visible()
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/invite"))

    # Back once: the kids are still there, and the URL follows.
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/kids"))
    expect(page.get_by_role("list", name="Kids added so far").get_by_role("listitem")).to_have_count(2)
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Their email address").fill("jamie@example.com")
    page.get_by_role("button", name="Send invite").click()
    expect(page.locator("#main").get_by_role("status")).to_have_text("Invitation sent to jamie@example.com.")
    expect(page.get_by_role("list", name="Invitations sent")).to_contain_text("jamie@example.com")
    page.set_viewport_size(TABLET)
    shot(page, "03-invite-sent-tablet")
    page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="Next").click()

    # Starter chores: pre-ticked for the youngest (6).
    expect(page.get_by_role("heading", name="Pick some starter chores")).to_be_visible()
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/chores"))
    expect(page.get_by_role("checkbox", name="Homework done")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Mow the lawn")).not_to_be_checked()
    page.get_by_role("checkbox", name="Empty the dishwasher").check()
    page.get_by_role("checkbox", name="Feed the pet").uncheck()
    shot(page, "04-starter-chores")
    page.get_by_role("button", name="Add chores").click()

    expect(page.get_by_role("heading", name="You're all set")).to_be_visible()
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/done"))
    expect(page.locator("#main").get_by_role("status")).to_contain_text("chores.")
    expect(page.get_by_role("main")).to_contain_text("2 kids")
    expect(page.get_by_role("main")).to_contain_text("1 invitation waiting")
    # Starter chores come with a schedule and turns: each kid already has something for tomorrow.
    tomorrow = page.locator(".tomorrow-list")
    for kid in ("Ava", "Ben"):
        expect(tomorrow.get_by_role("listitem").filter(has_text=kid)).to_contain_text("Make your bed")
    page.set_viewport_size(TABLET)
    shot(page, "05-done-tablet")

    page.get_by_role("button", name="Go to Today").click()
    expect(page).to_have_url(live_server.url(new_family.slug, "/today"))
    expect(page.get_by_role("heading", level=1, name="Today")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Ava")
    shot(page, "06-dashboard-tablet")

    # Finished: /welcome now opens the last step instead of starting over.
    page.goto(live_server.url(new_family.slug, "/welcome"))
    expect(page).to_have_url(live_server.url(new_family.slug, "/welcome/done"))


def test_members_page_adds_and_deactivates_a_kid(page: Page, live_server: LiveServer, new_family: NewFamily,
                                                 shot) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url(new_family.slug, "/login?next=/members"))
    page.get_by_label("Email or username").fill(new_family.parent_username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Family members")).to_be_visible()

    page.get_by_role("link", name="Add a kid").click()
    _add_kid(page, "Cleo", "8", "🐸", "8642")
    active = page.get_by_role("region", name="Active members")
    expect(active.get_by_role("listitem").filter(has_text="Cleo")).to_be_visible()
    shot(page, "01-kid-added")

    page.once("dialog", lambda dialog: dialog.accept())
    active.get_by_role("button", name="Deactivate Cleo").click()
    deactivated = page.get_by_role("region", name="Deactivated")
    expect(deactivated.get_by_role("listitem").filter(has_text="Cleo")).to_be_visible()
    expect(active).not_to_contain_text("Cleo")
    page.set_viewport_size(TABLET)
    shot(page, "02-kid-deactivated-tablet")
    page.set_viewport_size(PHONE)
    assert _fits_the_width(page)
    shot(page, "03-members-phone")
