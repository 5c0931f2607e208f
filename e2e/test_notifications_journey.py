"""Notifications: a kid finishes a chore on the family tablet, the parent's bell counts up live (no reload), and the
parent approves straight from the notification's link."""
from __future__ import annotations

import http.client
import json
import re
import uuid

from playwright.sync_api import Browser, Page, expect

from e2e.conftest import LiveServer, target_box

TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def sign_in(page: Page, live_server: LiveServer, login: str, password: str, path: str) -> None:
    page.goto(live_server.url("demo", f"/login?next={path}"))
    page.get_by_label("Email or username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed in as")).to_be_attached()  # in the folded menu on a phone


def unread(page: Page) -> int:
    """The number the bell shows (its accessible name says it)."""
    bell = page.get_by_role("link", name=re.compile(r"^Notifications: \d+ unread$"))
    expect(bell).to_be_visible()
    return int(re.search(r"\d+", bell.get_attribute("aria-label") or "").group())


def call_api(live_server: LiveServer, method: str, path: str, body: dict | None = None,
             token: str | None = None) -> tuple[int, dict]:
    """One JSON API call to the demo family, as its mobile app would make it (Host names the family)."""
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    headers = {"Host": f"demo.{live_server.base_domain}", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def a_chore_for_maya(live_server: LiveServer, name: str) -> None:
    """Alex (over the API) adds a chore that needs approval and gives it to Maya for today."""
    status, login = call_api(live_server, "POST", "/api/auth/login", {"username": "alex", "password": "demo-parent-1"})
    assert status == 200, login
    token = login["token"]
    status, chore = call_api(live_server, "POST", "/api/chores", {"name": name, "requires_verification": True,
                                                                  "base_points": 20, "icon": "🪣"}, token)
    assert status == 201, chore
    _, users = call_api(live_server, "GET", "/api/users", token=token)
    maya = next(u for u in users["users"] if u["username"] == "maya")
    status, made = call_api(live_server, "POST", "/api/assignments", {"chore_id": chore["id"], "assigned_to": maya["id"]},
                            token)
    assert status == 201, made


def test_parent_approves_from_the_bell_after_a_kid_finishes_on_the_tablet(browser: Browser, live_server: LiveServer,
                                                                         shot) -> None:
    chore = f"Wash the bucket {uuid.uuid4().hex[:4]}"

    # The parent, on a desktop, watching the family's day.
    parent_context = browser.new_context(viewport=DESKTOP)
    parent = parent_context.new_page()
    sign_in(parent, live_server, "alex", "demo-parent-1", "/today")
    a_chore_for_maya(live_server, chore)
    before = unread(parent)
    shot(parent, "01-parent-before")

    # Maya, on the family tablet (a parent registers it once; then her PIN opens her day).
    tablet_context = browser.new_context(viewport=TABLET)
    tablet = tablet_context.new_page()
    sign_in(tablet, live_server, "jordan", "demo-parent-2", "/settings/devices")
    tablet.get_by_role("button", name="Make this browser the family tablet").click()
    expect(tablet).to_have_url(live_server.url("demo", "/tablet"))
    tablet.get_by_role("list", name="Kids").get_by_role("link", name="Maya").click()
    expect(tablet.get_by_role("heading", name="Hi Maya! Type your PIN")).to_be_visible()
    for digit in "1234":
        tablet.get_by_role("button", name=digit, exact=True).click()
    expect(tablet.locator(".pin-dot.filled")).to_have_count(4)
    tablet.get_by_role("button", name="OK").click()
    expect(tablet).to_have_url(live_server.url("demo", "/me"))
    card = tablet.locator("li.chore-card").filter(has_text=chore)
    card.get_by_role("button", name="I did it!").click()
    expect(tablet.locator("li.chore-card").filter(has_text=chore)).to_contain_text(re.compile("check|wait", re.I))
    shot(tablet, "02-kid-done")

    # The parent's bell counts up by itself: no reload.
    expect(parent.get_by_role("link", name=f"Notifications: {before + 1} unread")).to_be_visible(timeout=10_000)
    shot(parent, "03-bell-rang")

    # The bell opens the list; the notification's link opens the dashboard at that chore.
    parent.set_viewport_size(PHONE)
    parent.get_by_role("link", name=re.compile(r"^Notifications: \d+ unread$")).click()
    expect(parent.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    item = parent.get_by_role("listitem").filter(has_text=f"Maya finished {chore}")
    expect(item).to_contain_text("waiting for your approval")
    unread(parent)  # the bell is on this page too
    shot(parent, "04-notification-list-phone")
    item.get_by_role("button", name=f"Open: Maya finished {chore}").click()
    expect(parent).to_have_url(re.compile(r"/today#assignment-[0-9a-f-]+$"))
    parent.get_by_role("button", name=f"Approve: {chore}").click()
    expect(parent.get_by_role("button", name=f"Approve: {chore}")).to_have_count(0)
    shot(parent, "05-approved")
    parent.goto(live_server.url("demo", "/notifications"))
    opened = parent.get_by_role("listitem").filter(has_text=f"Maya finished {chore}")
    expect(opened.get_by_role("button", name=re.compile("^Mark read"))).to_have_count(0)  # opening it read it
    if unread(parent):  # (a first approved chore can also earn Maya a badge, which parents hear about)
        parent.get_by_role("button", name="Mark all read").click()
    expect(parent.get_by_role("link", name="Notifications: 0 unread")).to_be_visible()
    expect(parent.locator("#main").get_by_role("status")).to_have_text("0 unread")

    # Maya's day shows the chore done with its points.
    tablet.reload()
    expect(tablet.locator("li.chore-card").filter(has_text=chore)).to_contain_text("+20")
    shot(tablet, "06-kid-approved")

    # Another family's site knows nothing of this browser's sign-in, nor of the demo family's notifications.
    response = parent.goto(live_server.url("other-family", "/notifications"))
    assert response is not None
    expect(parent).to_have_url(re.compile(r"other-family\.localhost:\d+/login"))
    expect(parent.get_by_text(chore)).to_have_count(0)

    tablet_context.close()
    parent_context.close()


def test_parent_chooses_emails_and_adds_a_webhook_on_a_phone(page: Page, live_server: LiveServer, shot) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "jordan", "demo-parent-2", "/notifications/preferences")
    expect(page.get_by_role("heading", level=1, name="Notification settings")).to_be_visible()
    email_box = page.get_by_role("checkbox", name="A chore is done and waiting for approval: Email")
    expect(email_box).not_to_be_checked()
    box = target_box(email_box.locator("xpath=.."))
    assert box is not None and box["width"] >= 44 and box["height"] >= 44, box  # the tap target is the label
    email_box.check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#main").get_by_role("status")).to_contain_text("saved")
    expect(page.get_by_role("checkbox", name="A chore is done and waiting for approval: Email")).to_be_checked()
    page.get_by_label("Daily summary email at (hour, 0–23)").fill("7")
    page.get_by_role("button", name="Save family times").click()
    expect(page.locator("#main").get_by_role("status")).to_contain_text("delivery times are saved")
    expect(page.get_by_label("Daily summary email at (hour, 0–23)")).to_have_value("7")
    # No horizontal scrolling once the page has settled (a toast may slide in from the side for a moment).
    page.wait_for_function(f"document.documentElement.scrollWidth <= {PHONE['width']}", timeout=5_000)
    shot(page, "01-preferences-phone")

    page.goto(live_server.url("demo", "/settings/webhooks"))
    page.get_by_label("Receiver URL").fill(f"http://127.0.0.1:{live_server.port}/nowhere")
    page.get_by_role("checkbox", name=re.compile("A chore was missed")).check()
    page.get_by_role("button", name="Add webhook").click()
    secret = page.get_by_label("Signing secret", exact=True)
    expect(secret).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sticks out sideways
    shot(page, "02-webhook-secret-once")
    page.get_by_role("link", name=re.compile(r"nowhere$")).click()
    expect(page.get_by_role("heading", level=1, name=re.compile("^Webhook:"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^[0-9a-f]{64}$"))).to_have_count(0)  # never shown again
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "03-webhook-page")
