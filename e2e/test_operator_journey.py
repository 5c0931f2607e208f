"""An operator signs in on admin.<base>, finds the demo family, suspends it (its site shows the suspended page),
finds the action in the audit log, and reactivates it."""
from __future__ import annotations

import subprocess
import uuid

from playwright.sync_api import BrowserContext, Page, expect

from e2e.conftest import BIN, ROOT, LiveServer

PASSWORD = "a long operator passphrase"


def create_operator(live_server: LiveServer) -> str:
    """`flask operators create EMAIL`, answering its password prompt, against the live server's databases."""
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    subprocess.run([str(BIN / "flask"), "operators", "create", email], input=f"{PASSWORD}\n{PASSWORD}\n", cwd=ROOT,
                   env=live_server.env, capture_output=True, text=True, timeout=120, check=True)
    return email


def test_operator_suspends_and_reactivates_a_family(page: Page, context: BrowserContext, live_server: LiveServer,
                                                    shot) -> None:
    email = create_operator(live_server)
    console = live_server.url("admin")

    page.goto(console)
    expect(page.get_by_role("heading", name="Operator sign-in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid email or password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Families")).to_be_visible()
    cookie = next(c for c in context.cookies(console) if c["name"] == "session")
    assert cookie["domain"] == "admin.localhost" and cookie["httpOnly"]
    shot(page, "01-families")

    page.get_by_role("searchbox", name="Search").fill("demo")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="The Demo Family").click()
    expect(page.get_by_role("heading", level=1, name="The Demo Family")).to_be_visible()
    expect(page.locator("#family-status")).to_have_text("active")
    shot(page, "02-family")

    page.get_by_label("Reason (kept in the audit log)").fill("e2e: testing suspension")
    page.get_by_role("button", name="Suspend").click()
    expect(page.locator("#family-status")).to_have_text("suspended")

    family_page = context.new_page()
    response = family_page.goto(live_server.url("demo"))
    assert response is not None and response.status == 403
    expect(family_page.get_by_role("heading", level=1)).to_have_text("You can't go there")
    expect(family_page.get_by_role("main")).to_contain_text("not active")
    shot(family_page, "03-suspended-family")

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Family").fill("demo")
    page.get_by_role("button", name="Filter").click()
    entry = page.get_by_role("row").filter(has_text="operator.family_suspended")
    expect(entry).to_contain_text(email)
    expect(entry).to_contain_text("e2e: testing suspension")
    shot(page, "04-audit")

    page.go_back()
    page.go_back()
    page.reload()
    page.get_by_role("button", name="Reactivate").click()
    expect(page.locator("#family-status")).to_have_text("active")

    response = family_page.goto(live_server.url("demo"))
    assert response is not None and response.status == 200
    expect(family_page.get_by_role("heading", level=1, name="The Demo Family")).to_be_visible()
    shot(family_page, "05-family-back")

    # The console's pages do not exist on the family's host, nor the family's on the console's.
    assert family_page.goto(live_server.url("demo", "/audit")).status == 404  # type: ignore[union-attr]
    assert page.goto(live_server.url("admin", "/dashboard")).status == 404  # type: ignore[union-attr]
