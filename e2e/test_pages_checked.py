"""Every main page in a real browser at phone, tablet and desktop widths: no content security policy violation,
nothing wider than the screen, the title and main action on the first screen, axe-core's serious and critical
findings in the light and the dark theme, and a screenshot of each (e2e/artifacts/pages/, gitignored). The demo
family is first put in the states that matter: a chore of Maya's waiting for a parent, one approved, a reward she
cannot afford. One browser context per visitor, and the dark theme is the same loaded page with the colour scheme
switched (no second navigation), so the whole walk stays quick."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.auth import DEVICE_COOKIE
from e2e.conftest import LiveServer, ROOT, start_kid_turn, target_box
from e2e.test_operator_journey import PASSWORD as OPERATOR_PASSWORD
from e2e.test_operator_journey import create_operator

WIDTHS = {"phone": {"width": 375, "height": 812}, "tablet": {"width": 768, "height": 1024},
          "desktop": {"width": 1280, "height": 800}}
ARTIFACTS = ROOT / "e2e" / "artifacts" / "pages"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCHEMES = ("light", "dark")  # every page is checked in both; the dark one gets its own screenshot folder
# Collects the page's CSP violations from the start of every document (a report, never a block of ours).
WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push("
             "e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':'"
             " + e.lineNumber));")
AXE_RUN = ("async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
           " return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
           ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }")


@dataclass(frozen=True)
class Check:
    """One page to look at: where, its name for the artifacts, its h1 and the main action (a role and a name)."""

    path: str
    name: str
    title: str
    action: tuple[str, str] | None = None


APEX = [Check("/", "landing", "Chores that get done", ("link", "Start your family")),
        Check("/login", "apex-login", "Sign in", ("button", "Sign in")),
        Check("/signup", "signup", "Start your family", ("textbox", "Your name"))]
PARENT = [Check("/today", "today", "Today"), Check("/chores", "chores", "Chores", ("link", "New chore")),
          Check("/chores/new", "chore-form", "New chore", ("textbox", "Name")),
          Check("/rewards", "rewards-parent", "Rewards"), Check("/calendar", "calendar", "Who is home"),
          Check("/members", "members", "Family members"), Check("/allowance", "allowance", "Allowance"),
          Check("/reports", "reports", "Reports"), Check("/settings", "settings", "Settings"),
          Check("/settings/devices", "devices", "Devices"), Check("/notifications", "notifications", "Notifications"),
          Check("/badges", "badges-parent", "Badges"), Check("/", "home", None)]  # type: ignore[arg-type]
KID = [Check("/wall", "family-wall", "Our day"), Check("/me", "kid-today", "Maya", ("button", "I'm done")),
       Check("/rewards", "kid-rewards", "Rewards", ("button", "I'm done")), Check("/badges", "kid-badges", "My badges")]
OPERATOR = [Check("/families", "operator-families", "Families"),
            Check("/families/demo", "operator-family", "The Demo Family"),
            Check("/analytics", "operator-analytics", "Platform analytics"),
            Check("/audit", "operator-audit", "Audit log")]


@dataclass(frozen=True)
class Setup:
    """What the walk needs from the demo family: the tablet's device token, Maya's id (her keypad) and what the
    states are called (so the walk can see them on the pages)."""

    tablet_token: str
    maya_id: str
    waiting: str
    approved: str
    unaffordable: str


@dataclass
class Findings:
    csp: dict[str, list[str]]
    overflow: dict[str, int]
    first_screen: dict[str, str]
    axe: dict[str, list[dict[str, Any]]]


def look(page: Page, live_server: LiveServer, slug: str | None, check: Check, width: str, found: Findings) -> None:
    """Load one page at one width and note what is wrong with it."""
    key = f"{check.name}@{width}"
    response = page.goto(live_server.url(slug, check.path))
    assert response is not None and response.ok, (key, response and response.status)
    page.wait_for_load_state("networkidle")
    if check.title:
        heading = page.get_by_role("heading", level=1).first
        expect(heading).to_contain_text(check.title)
        box = target_box(heading)
        if box is None or box["y"] + box["height"] > page.viewport_size["height"]:
            found.first_screen[key] = "title below the first screen"
    if check.action:
        role, name = check.action
        box = target_box(page.get_by_role(role, name=name).first)  # type: ignore[arg-type]
        if box is None or box["y"] + box["height"] > page.viewport_size["height"]:
            found.first_screen[key] = f"{role} {name!r} below the first screen"
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 0:
        found.overflow[key] = wide
    csp = page.evaluate("window.__csp || []")
    if csp:
        found.csp[key] = csp
    page.evaluate(AXE.read_text() + "\n;0")
    for scheme in SCHEMES:
        # The light theme first (the page as loaded), then the same page switched to dark: the CSS follows at once.
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        serious = page.evaluate(AXE_RUN)
        if serious:
            found.axe[f"{key}/{scheme}"] = serious
        folder = width if scheme == "light" else f"{width}-{scheme}"
        path = ARTIFACTS / folder / f"{check.name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
    page.emulate_media(color_scheme="light")


def walk(context: BrowserContext, live_server: LiveServer, slug: str | None, checks: list[Check],
         found: Findings, console: list[str]) -> None:
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    for width, size in WIDTHS.items():
        page.set_viewport_size(size)
        for check in checks:
            look(page, live_server, slug, check, width, found)
    page.close()


def sign_in(context: BrowserContext, live_server: LiveServer, user: str, password: str) -> None:
    page = context.new_page()
    page.goto(live_server.url("demo", "/login"))
    page.get_by_label("Email or username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Signed in as")).to_be_visible()
    page.close()


@pytest.fixture(scope="module")
def setup(live_server: LiveServer) -> Setup:
    """Through the services: the family tablet, and the states the issue names (something done, something
    unaffordable): one of Maya's chores waiting for a parent, one approved, and a reward far beyond her points."""
    from sqlalchemy import select

    from app.assignments.inputs import AssignmentInput
    from app.assignments.services import complete_assignment, create_assignment, load_family_rules, verify_assignment
    from app.auth.services import register_device
    from app.chores.models import Chore
    from app.db import engines
    from app.db.bases import utcnow
    from app.members.models import Member
    from app.rewards.inputs import RewardInput
    from app.rewards.services import create_reward
    from app.tenancy.context import family_context
    from e2e.conftest import services_app

    suffix = uuid.uuid4().hex[:4]
    names = {"waiting": f"Feed the fish {suffix}", "approved": f"Fold the towels {suffix}",
             "unaffordable": f"Trip to the moon {suffix}"}
    app = services_app(live_server)
    with app.app_context():
        with family_context("demo") as ctx:
            session = ctx.session
            alex = session.scalars(select(Member).where(Member.username_key == "alex")).one()
            maya = session.scalars(select(Member).where(Member.username_key == "maya")).one()
            rules = load_family_rules(session, ctx.family.timezone)
            done = {}
            for state, icon in (("waiting", "🐟"), ("approved", "🧺")):
                chore = Chore(name=names[state], icon=icon, base_points=5, requires_verification=True)
                session.add(chore)
                session.flush()
                assignment = create_assignment(session, actor=alex, data=AssignmentInput(
                    chore_id=chore.id, assigned_to=maya.id, points_offered=5), rules=rules, now=utcnow())
                complete_assignment(session, actor=maya, assignment_id=assignment.id, rules=rules, now=utcnow())
                done[state] = assignment.id
            verify_assignment(session, actor=alex, assignment_id=done["approved"], approved=True, rules=rules,
                              now=utcnow())
            create_reward(session, actor=alex, data=RewardInput(name=names["unaffordable"], cost=9_999, icon="🚀",
                                                                category="treat"))
            _device, token = register_device(session, alex, name="Checked tablet", now=utcnow())
            session.commit()
            made = Setup(tablet_token=token, maya_id=str(maya.id), **names)
        engines().dispose_all()
    return made


METRICS = ("() => { const nav = performance.getEntriesByType('navigation')[0];"
           " const paint = performance.getEntriesByName('first-contentful-paint')[0];"
           " const resources = performance.getEntriesByType('resource');"
           " return {fcp_ms: paint ? Math.round(paint.startTime) : null,"
           " document_bytes: nav.transferSize, resource_bytes: resources.reduce((n, r) => n + r.transferSize, 0),"
           " resources: resources.map(r => [r.name.split('/').pop(), r.transferSize])}; }")


def measure_kid_view(browser: Browser, signed_in: BrowserContext, live_server: LiveServer) -> None:
    """The kid's view on a cold cache over loopback: first contentful paint and bytes transferred, written to
    e2e/artifacts/pages/kid-view-metrics.json for docs/PERFORMANCE.md (measured, never asserted)."""
    cold = browser.new_context(storage_state=signed_in.storage_state(), viewport=WIDTHS["tablet"])
    try:
        page = cold.new_page()
        page.goto(live_server.url("demo", "/me"))
        page.wait_for_load_state("networkidle")
        metrics = page.evaluate(METRICS)
    finally:
        cold.close()
    metrics["total_bytes"] = metrics["document_bytes"] + metrics["resource_bytes"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "kid-view-metrics.json").write_text(json.dumps(metrics, indent=1))


def test_every_main_page_at_three_widths(browser: Browser, live_server: LiveServer, setup: Setup) -> None:
    found = Findings({}, {}, {}, {})
    console: list[str] = []
    contexts = []
    try:
        apex = browser.new_context()
        contexts.append(apex)
        apex.add_init_script(WATCH_CSP)
        walk(apex, live_server, None, APEX, found, console)

        parent = browser.new_context()
        contexts.append(parent)
        parent.add_init_script(WATCH_CSP)
        sign_in(parent, live_server, "alex", "demo-parent-1")
        page = parent.new_page()
        page.goto(live_server.url("demo", "/today"))
        maya = page.get_by_role("region", name="Maya", exact=True)
        expect(maya).to_contain_text(setup.waiting)  # the states are on the page the walk checks
        expect(maya).to_contain_text(setup.approved)
        page.close()
        walk(parent, live_server, "demo", PARENT, found, console)

        tablet = browser.new_context()
        contexts.append(tablet)
        tablet.add_init_script(WATCH_CSP)
        tablet.add_cookies([{"name": DEVICE_COOKIE, "value": setup.tablet_token, "url": live_server.url("demo")}])
        walk(tablet, live_server, "demo", [Check("/tablet", "tablet-wall", "Who's there?"),
                                           Check(f"/tablet/{setup.maya_id}", "keypad", "Hi Maya! Type your PIN",
                                                 ("button", "OK"))], found, console)
        page = tablet.new_page()
        start_kid_turn(page, live_server, "Maya", "1234")
        expect(page.get_by_role("heading", level=1, name="Maya")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text(setup.waiting)
        page.goto(live_server.url("demo", "/rewards"))
        expect(page.get_by_role("main")).to_contain_text(setup.unaffordable)
        page.close()
        measure_kid_view(browser, tablet, live_server)
        walk(tablet, live_server, "demo", KID, found, console)

        operator = browser.new_context()
        contexts.append(operator)
        operator.add_init_script(WATCH_CSP)
        page = operator.new_page()
        page.goto(live_server.url("admin", "/login"))
        page.get_by_label("Email").fill(create_operator(live_server))
        page.get_by_label("Password").fill(OPERATOR_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name="Families")).to_be_visible()
        page.close()
        walk(operator, live_server, "admin", OPERATOR, found, console)
    finally:
        for context in contexts:
            context.close()
    report = json.dumps({"csp": found.csp, "overflow": found.overflow, "first_screen": found.first_screen,
                         "axe": found.axe, "console_errors": console}, indent=1)
    (ARTIFACTS / "findings.json").write_text(report)
    assert found.csp == {}, report
    assert [c for c in console if "Content Security Policy" in c or "htmx" in c.lower()] == [], report
    assert found.overflow == {}, report
    assert found.first_screen == {}, report
    assert found.axe == {}, report
