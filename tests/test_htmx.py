"""One htmx convention: every event heard is sent and every event sent is heard, one 4xx rule, HX-* only in app.htmx."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from flask import Flask, Response

from app.htmx import (
    LIVE_EVENTS,
    PAGE_EVENTS,
    SCRIPT_EVENTS,
    HousePointsHtmx,
    HxEvent,
    is_htmx,
    is_htmx_request,
    is_navigation,
    reswap,
    trigger,
)
from app.live.events import publish_event

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "templates").glob("**/*.html"))
SCRIPTS = sorted((ROOT / "static" / "js").glob("*.js"))
APP_CODE = sorted(p for p in (ROOT / "app").glob("**/*.py") if p != ROOT / "app" / "htmx.py")

# Browser and htmx events scripts may listen for: anything else a script listens for is one of ours.
BROWSER_EVENTS = frozenset({"click", "keydown", "keyup", "change", "input", "submit", "focus", "blur", "focusin",
                            "focusout", "pointerdown", "pointermove", "touchstart", "scroll", "DOMContentLoaded",
                            "load", "visibilitychange", "online", "offline", "install", "activate", "fetch"})
REGISTRY_REF = re.compile(r"\{\{\s*HxEvent\.(\w+)\s*\}\}")


class Heard:
    """What pages listen for: events on <body> (HX-Trigger), live events (SSE), and listeners not using the registry."""

    def __init__(self) -> None:
        self.page: dict[str, set[str]] = {}
        self.live: dict[str, set[str]] = {}
        self.problems: list[str] = []

    def add(self, kind: dict[str, set[str]], name: str, where: str) -> None:
        kind.setdefault(name, set()).add(where)


def scan_template(text: str, where: str, heard: Heard) -> None:
    """Collect the events one template's hx-trigger attributes listen for."""
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.DOTALL)  # comments listen for nothing
    for value in re.findall(r'hx-trigger="([^"]*)"', text):
        for member in REGISTRY_REF.findall(value):
            if member not in HxEvent.__members__:
                heard.problems.append(f"{where}: HxEvent.{member} is not in the registry (it would render empty)")
        for member in re.findall(r"sse:\{\{\s*HxEvent\.(\w+)\s*\}\}", value):
            if member in HxEvent.__members__:
                heard.add(heard.live, HxEvent[member].value, where)
        for member in re.findall(r"\{\{\s*HxEvent\.(\w+)\s*\}\}\s+from:body", value):
            if member in HxEvent.__members__:
                heard.add(heard.page, HxEvent[member].value, where)
        bare = REGISTRY_REF.sub("", value)
        for name in re.findall(r"sse:(\w+)", bare) + re.findall(r"(\w+)(?:\[[^\]]*\])?\s+from:", bare):
            heard.problems.append(f"{where}: listens for {name!r} by a bare name; use {{{{ HxEvent.… }}}}")


def scan_script(text: str, where: str, heard: Heard) -> None:
    """Collect the events of ours a script listens for on the document (HX-Trigger events fire on <body>)."""
    for name in re.findall(r"""addEventListener\(\s*["']([^"']+)["']""", text):
        if name.startswith("htmx:") or name in BROWSER_EVENTS:
            continue
        if name not in HxEvent._value2member_map_:
            heard.problems.append(f"{where}: listens for {name!r}, which is not in app.htmx.HxEvent")
        heard.add(heard.page, name, where)


def heard_by_pages() -> Heard:
    """Every listener in templates/**/*.html and static/js/*.js."""
    heard = Heard()
    for path in TEMPLATES:
        scan_template(path.read_text(), str(path.relative_to(ROOT)), heard)
    for path in SCRIPTS:
        scan_script(path.read_text(), str(path.relative_to(ROOT)), heard)
    return heard


def sent_by(source: str) -> set[str]:
    """The registry's names one module's code uses: `HxEvent.X`, or the exact string (`publish_event("…")`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "HxEvent"
                and node.attr in HxEvent.__members__):
            names.add(HxEvent[node.attr].value)
        elif isinstance(node, ast.Constant) and node.value in HxEvent._value2member_map_:
            names.add(node.value)
    return names


def sent_by_app() -> dict[str, set[str]]:
    """Each registry name the app's code sends, with the modules that send it, by channel."""
    channels: dict[str, set[str]] = {"page": set(), "live": set()}
    for path in APP_CODE:
        source = path.read_text()
        names = sent_by(source)
        if re.search(r"\btrigger\(", source):
            channels["page"] |= names
        if "publish_event" in source:
            channels["live"] |= names
    return channels


# --- the scanners see what they must (so the checks below can fail) ----------------------------------------------

def test_the_scanners_find_listeners_senders_and_bare_names() -> None:
    heard = Heard()
    scan_template('<div hx-trigger="{{ HxEvent.MEMBERS_CHANGED }} from:body, sse:{{ HxEvent.NOTIFICATION }}, '
                  "kidChanged[detail.id=='1'] from:body, sse:dashboardChanged, every 5s\"></div>"
                  '{# hx-trigger="ignoredInComments from:body" #}<p hx-trigger="{{ HxEvent.TYPO }} from:body"></p>',
                  "t.html", heard)
    scan_script('document.addEventListener("pointsChanged", f); document.addEventListener("click", g);'
                'document.addEventListener("htmx:beforeSwap", h); document.addEventListener("madeUp", i);',
                "t.js", heard)

    assert set(heard.page) == {"membersChanged", "pointsChanged", "madeUp"} and set(heard.live) == {"notification"}
    assert len(heard.problems) == 4
    assert ["kidChanged" in p for p in heard.problems].count(True) == 1
    assert any("dashboardChanged" in p for p in heard.problems) and any("TYPO" in p for p in heard.problems)
    assert any("madeUp" in p for p in heard.problems)
    assert sent_by('trigger(r, HxEvent.POINTS_CHANGED)\npublish_event(f, "rewardChanged")\n"""pointsChanged is x"""'
                   ) == {"pointsChanged", "rewardChanged"}


# --- the registry against the pages and the code -----------------------------------------------------------------

def test_every_listener_names_its_event_through_the_registry() -> None:
    assert heard_by_pages().problems == []


def test_every_page_event_is_heard_on_body_and_every_body_listener_hears_a_page_event() -> None:
    heard = heard_by_pages()
    assert set(heard.page) == PAGE_EVENTS | SCRIPT_EVENTS, {name: heard.page.get(name) for name in
                                                           set(heard.page) ^ (PAGE_EVENTS | SCRIPT_EVENTS)}


def test_every_live_event_is_heard_and_every_live_listener_hears_a_live_event() -> None:
    heard = heard_by_pages()
    assert set(heard.live) == set(LIVE_EVENTS), set(heard.live) ^ set(LIVE_EVENTS)


def test_every_event_heard_is_sent_on_its_channel() -> None:
    sent = sent_by_app()
    assert set(PAGE_EVENTS) - sent["page"] == set(), "heard on <body>, never put in an HX-Trigger"
    assert set(LIVE_EVENTS) - sent["live"] == set(), "heard as sse:, never published"


def test_the_registry_has_no_name_without_a_channel() -> None:
    assert set(HxEvent) == PAGE_EVENTS | LIVE_EVENTS | SCRIPT_EVENTS


def test_every_script_event_is_fired_by_a_script() -> None:
    scripts = "".join(path.read_text() for path in SCRIPTS)
    for name in SCRIPT_EVENTS:
        assert re.search(rf'htmx\.trigger\(document\.body,\s*"{name}"', scripts), name


def test_an_event_nobody_hears_cannot_be_sent() -> None:
    flask_app = Flask(__name__)
    with flask_app.test_request_context():
        with pytest.raises(ValueError, match="rewardChanged"):
            trigger(Response(), HxEvent.REWARD_CHANGED)  # heard as a live event only
        with pytest.raises(ValueError):
            trigger(Response(), "assignmentVerified")  # type: ignore[arg-type]
        sent = trigger(trigger(Response(), HxEvent.MEMBERS_CHANGED),
                       details={HxEvent.POINTS_CHANGED: {"points": 3}})
    assert json.loads(sent.headers["HX-Trigger"]) == {"membersChanged": None, "pointsChanged": {"points": 3}}
    with pytest.raises(ValueError, match="membersChanged"):
        publish_event(None, "membersChanged")  # type: ignore[arg-type]  # no page listens for it live


# --- one rule for swapping 4xx answers ---------------------------------------------------------------------------

def test_one_rule_swaps_4xx_answers() -> None:
    base = (ROOT / "templates" / "base.html").read_text()
    config = json.loads(re.search(r"""name="htmx-config" content='([^']*)'""", base).group(1))  # type: ignore[union-attr]
    handling = {rule["code"]: rule["swap"] for rule in config["responseHandling"]}
    assert handling["422"] is True and handling["[45].."] is False
    assert "js/htmx-rules.js" in base
    offenders = [str(path.relative_to(ROOT)) for path in [*TEMPLATES, *SCRIPTS]
                 if path.name != "htmx-rules.js" and re.search(r"before-swap|beforeSwap[^\n]*shouldSwap|shouldSwap"
                                                               r"|swap-on-error", path.read_text())]
    assert offenders == []
    assert "HX-Retarget" in (ROOT / "static" / "js" / "htmx-rules.js").read_text()


# --- HX-* headers only through app.htmx, with htmx-flask underneath ----------------------------------------------

def test_no_module_but_app_htmx_reads_or_writes_an_hx_header() -> None:
    offenders = []
    for path in APP_CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"HX-[\w-]+",
                                                                                             node.value):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert offenders == []


@pytest.mark.parametrize(("headers", "fragment", "any_htmx", "navigation"), [
    ({}, False, False, False),
    ({"HX-Request": "true"}, True, True, False),
    ({"HX-Request": "true", "HX-Boosted": "true"}, False, True, True),
    ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False, True, True),
    ({"HX-Boosted": "true"}, False, False, False),
])
def test_request_flags_come_from_htmx_flask(headers: dict[str, str], fragment: bool, any_htmx: bool,
                                            navigation: bool) -> None:
    flask_app = Flask(__name__)
    HousePointsHtmx().init_app(flask_app)
    with flask_app.test_request_context(headers=headers):
        assert (is_htmx(), is_htmx_request(), is_navigation()) == (fragment, any_htmx, navigation)


@pytest.mark.parametrize("swap", ["outerHTML", "innerHTML", "beforebegin", "afterbegin", "outerHTML scroll:top"])
def test_reswap_sets_every_valid_swap_despite_htmx_flasks_list(swap: str) -> None:
    with Flask(__name__).test_request_context():
        response = reswap(Response(), swap, "#card")
    assert (response.headers["HX-Reswap"], response.headers["HX-Retarget"]) == (swap, "#card")


def test_reswap_refuses_a_swap_htmx_does_not_know() -> None:
    with Flask(__name__).test_request_context(), pytest.raises(ValueError):
        reswap(Response(), "sideways")


def test_templates_see_the_registry() -> None:
    flask_app = Flask(__name__)
    HousePointsHtmx().init_app(flask_app)
    with flask_app.app_context():
        rendered = flask_app.jinja_env.from_string('hx-trigger="{{ HxEvent.MEMBERS_CHANGED }} from:body"').render()
    assert rendered == 'hx-trigger="membersChanged from:body"'
