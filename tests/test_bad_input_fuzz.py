"""Hypothesis drives hostile bodies into every mutating family route, pages and API: 4xx or fine, never 500."""
from __future__ import annotations

import inspect
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from app import create_app
from app.inputs import Input
import config
from tests.hostile import send_form, send_json
from tests.tenancy.isolation_fixtures import (
    Credential,
    SeededFamily,
    bearer,
    client_with,
    cookie_credential,
    family_rows,
    fresh_api_token,
    fresh_session,
    member_session,
    row_changes,
    seed_family,
)

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
# URL variables: a row of the seeded family (by its key in SeededFamily.ids), or a fixed valid value.
ID_VARIABLES = {"member_id": "kid", "user_id": "kid", "chore_id": "chore", "assignment_id": "assignment",
                "reward_id": "reward", "redemption_id": "redemption", "notification_id": "notification",
                "webhook_id": "webhook", "delivery_id": "delivery", "device_id": "device", "rule_id": "pattern"}
ALTERNATES = {"dashboard.approve": {"assignment_id": "waiting"}, "dashboard.reject": {"assignment_id": "waiting"},
              "api.verify": {"assignment_id": "waiting"}}
PLAIN_VARIABLES = {"step": "kids", "group": "general", "key": "week_start_day"}
# Routes that end the session they were sent with: each example gets a fresh one.
SESSION_ENDERS = {"accounts.logout", "accounts.sign_out_everywhere", "accounts.switch_family", "tablet.done",
                  "accounts.login", "members.reset_password", "members.reset_pin", "members.deactivate"}
# Sign-in routes record a wrong password or PIN (the lockout counts them): the one write a refusal may make.
RECORDS_FAILED_SIGN_IN = {"accounts.login", "tablet.unlock", "api.login", "onboarding.join"}
# Field names most routes without an input model read (and a few no route reads: extra keys).
COMMON_FIELDS = ["name", "title", "description", "notes", "note", "reason", "points", "amount", "cost",
                 "cost_points", "date", "start_date", "end_date", "due_date", "time", "due_time", "username",
                 "password", "pin", "display_name", "email", "url", "events", "value", "weekdays", "kind",
                 "member_id", "assigned_to", "assignees", "reward_id", "approved", "enabled", "active", "next",
                 "family_id", "id", "unknown_extra_key"]
# Text the request door refuses outright (a lone surrogate reaches a form as U+FFFD, so it matters for JSON).
DOOR_VALUES: list[Any] = ["a\x00b", "\ud800", "bell\x07", "esc\x1b[0m"]
# Values that pass the door and must be refused (or coped with) by each route's own input rules.
HOSTILE_VALUES: list[Any] = [
    "x" * 100_000, "", " ", [], ["a", 1], [None], {}, {"a": {"b": 1}}, 0, -1, 1.5, -(10**12), 10**30, 2**63,
    float("inf"), True, False, None, "2026-02-30", "2026-13-01", "99999-01-01", "0000-00-00", "14/03/2026", "25:61",
    "24:00", "-1", "1e309", "١٢٣", "٢٠٢٦-٠١-٠١", "not-a-uuid", "00000000-0000-0000-0000-000000000000",
    "<script>alert(1)</script>", "%00", "🍦" * 3,
]
ONE_MEGABYTE = "x" * 1_000_000


@dataclass
class Route:
    """One mutating rule of a family host and the field names its handler reads."""

    endpoint: str
    method: str
    rule: str
    arguments: tuple[str, ...]
    fields: list[str] = field(default_factory=list)
    model_fields: list[str] = field(default_factory=list)  # of the input models the view parses the request with

    @property
    def is_api(self) -> bool:
        return self.rule.startswith("/api/")

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def _input_models() -> dict[str, type[BaseModel]]:
    """Every input model by class name (subclasses too)."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [Input]
    while pending:
        model = pending.pop()
        for sub in model.__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


def _parsed_model_fields(view: Callable[..., Any]) -> list[str]:
    """The fields of the input models the view itself parses the request with (`parse_input(Model, …)`), the
    model resolved in the view's own module (two areas may name a model alike)."""
    function = inspect.unwrap(view)
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return []
    names: list[str] = []
    for model_name in re.findall(r"parse_(?:input|action)\(\s*([A-Z]\w+)", source):
        model = function.__globals__.get(model_name)
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += list(model.model_fields)
    return list(dict.fromkeys(names))


def _fields_read_by(view: Callable[..., Any], models: dict[str, type[BaseModel]]) -> list[str]:
    """The input models a view names and the literal keys it reads from a form or body (its known fields)."""
    try:
        source = inspect.getsource(inspect.unwrap(view))
    except (OSError, TypeError):
        return []
    names: list[str] = []
    for model_name, model in models.items():
        if re.search(rf"\b{model_name}\b", source):
            names += list(model.model_fields)
    names += re.findall(r"""(?:get|getlist|pop)\(\s*["']([a-z_]+)["']""", source)
    names += re.findall(r"""(?:form|body|data|payload|json)\[\s*["']([a-z_]+)["']\s*\]""", source)
    return list(dict.fromkeys(names))


def _routes() -> list[Route]:
    """Every mutating route of a family host, from the URL map of an app built for collection (no database)."""
    flask_app = create_app(config.TestConfig)
    models = _input_models()
    routes = []
    for rule in flask_app.url_map.iter_rules():
        if rule.subdomain != "<family>":
            continue
        for method in sorted(MUTATING & (rule.methods or set())):
            view = flask_app.view_functions[rule.endpoint]
            routes.append(Route(rule.endpoint, method, rule.rule, tuple(sorted(rule.arguments)),
                                _fields_read_by(view, models), _parsed_model_fields(view)))
    # Destructive routes last, so the rows the others act on are still there when they run.
    def order(route: Route) -> tuple[bool, str]:
        destructive = route.method == "DELETE" or any(
            word in route.endpoint for word in ("delete", "deactivate", "archive", "revoke", "sign_out", "logout"))
        return destructive, str(route)
    return sorted(routes, key=order)


ROUTES = _routes()


@dataclass
class Fuzz:
    """The seeded family the module fuzzes, its credentials and its rows as the last request left them."""

    app: Flask
    family: SeededFamily
    snapshot: dict[str, set[str]]
    credentials: dict[str, Credential]


@pytest.fixture(scope="module")
def fuzz(app: Flask) -> Fuzz:
    """A family of its own with a row in every table, so every URL variable names a real row."""
    family = seed_family(app, "Fuzzfam")
    credentials = _credentials(app, family)
    return Fuzz(app=app, family=family, snapshot=family_rows(app, family.record), credentials=credentials)


def _credentials(app: Flask, family: SeededFamily) -> dict[str, Credential]:
    parent = fresh_session(app, family, "parent")
    kid = fresh_session(app, family, "kid", on_tablet=True)
    # A fresh token too: "sign out everywhere" and password resets revoke the earlier ones.
    return {"page": cookie_credential(app, "parent-cookie", family, member_session(family, parent)),
            "tablet": cookie_credential(app, "kid-tablet", family, member_session(family, kid),
                                        device_token=family.device_token),
            "api": bearer(app, "parent-jwt", family, fresh_api_token(app, family, "parent"))}


_addresses = itertools.count(1)


def _path(route: Route, family: SeededFamily) -> str:
    path = route.rule
    for name in route.arguments:
        if name == "family":  # the subdomain, not in the path
            continue
        if name in ID_VARIABLES:
            value = str(family.ids[ALTERNATES.get(route.endpoint, {}).get(name, ID_VARIABLES[name])])
        elif name == "slug":
            value = family.record.slug
        elif name == "token":
            value = family.invite_token
        elif name in PLAIN_VARIABLES:
            value = PLAIN_VARIABLES[name]
        else:
            raise AssertionError(f"{route}: no filler for <{name}>; add one")
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
    return path


def _form_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A JSON-shaped body as a browser could send it: text values, a list as a repeated field, None left out."""
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if value is None:
            continue
        if isinstance(value, list):
            fields[name] = [json.dumps(item) if not isinstance(item, str) else item for item in value]
        elif isinstance(value, bool):
            fields[name] = "on" if value else "off"
        elif isinstance(value, str):
            fields[name] = value
        else:
            fields[name] = json.dumps(value)
    return fields


def _send(fuzz: Fuzz, route: Route, body: Any) -> Any:
    kind = "api" if route.is_api else "tablet" if route.endpoint.startswith("tablet.") else "page"
    credential = fuzz.credentials[kind]
    number = next(_addresses)  # each request from its own address, so sign-in limits never decide an answer
    client = client_with(fuzz.app, fuzz.family.record, credential, f"10.77.{number >> 8 & 255}.{number & 255}")
    path = _path(route, fuzz.family)
    if route.is_api:
        return send_json(client, route.method, path, body, {**credential.headers, "X-CSRFToken": credential.csrf})
    fields = _form_fields(body if isinstance(body, dict) else {"body": body})
    return send_form(fuzz.app, client, path, fields)


def plausible(name: str, family: SeededFamily) -> Any:
    """A value of the right shape for a field, so the hostile one beside it gets past the first missing key."""
    ids = family.ids
    references = {"member_id": "kid", "user_id": "kid", "assigned_to": "kid", "child_id": "kid", "chore_id": "chore",
                  "reward_id": "reward", "webhook_id": "webhook", "assignment_id": "assignment"}
    if name in references:
        return str(ids[references[name]])
    if name in ("assignees", "assignee_ids", "member_ids"):
        return [str(ids["kid"])]
    if "weekdays" in name:
        return [0, 2]
    if "date" in name or name in ("available_from", "available_until", "paid_on", "birthdate", "start", "end"):
        return "2030-01-01"
    if "time" in name:
        return "18:30"
    if name in ("events",):
        return ["chore_completed"]
    if name == "email":
        return "fuzz@example.test"
    if name == "url":
        return "http://127.0.0.1:9/fuzz"
    if name == "password" or name.endswith("_password"):
        return "correct horse battery staple"
    if name == "pin" or name.endswith("_pin"):
        return "1357"
    if name.startswith(("requires_", "is_", "allow")) or name in ("enabled", "active", "approved", "present"):
        return True
    if any(word in name for word in ("points", "amount", "cost", "cents", "stock", "limit", "max_", "payday",
                                     "count", "position", "interval")):
        return 5
    return "Fuzz text"


def bodies(route: Route, family: SeededFamily) -> st.SearchStrategy[Any]:
    """The route's fields, some missing, the rest plausible but for one or two hostile values (a known field's or an
    extra key's); for JSON, now and then a body that is not an object at all."""
    names = route.fields or COMMON_FIELDS
    # The door refuses a body with any door value in it, so they come rarely: most examples reach the route.
    hostile = st.one_of(*[st.sampled_from(HOSTILE_VALUES)] * 4, st.integers(),
                        st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12),
                        st.sampled_from(DOOR_VALUES))
    base = st.fixed_dictionaries({}, optional={name: st.just(plausible(name, family)) for name in names})
    spoilers = st.dictionaries(st.sampled_from([*names, "unknown_extra_key", "family_id", "id"]), hostile,
                               min_size=1, max_size=2)
    objects = st.builds(lambda fields, bad: {**fields, **bad}, base, spoilers)
    if not route.is_api:
        return objects
    return st.one_of(*[objects] * 7, st.sampled_from([[], ["name"], "text", 5, None, True]))


@pytest.mark.parametrize("route", ROUTES, ids=str)
@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_hostile_body_is_refused_cleanly(fuzz: Fuzz, route: Route, data: st.DataObject) -> None:
    """Any body on any write answers below 500, explains a 4xx, and a 4xx writes nothing."""
    body = data.draw(bodies(route, fuzz.family), label="body")
    _check(fuzz, route, body)


@pytest.mark.parametrize("route", [route for route in ROUTES if route.fields], ids=str)
def test_a_megabyte_in_every_known_field_is_refused_cleanly(fuzz: Fuzz, route: Route) -> None:
    """A 1 MB string in the first field the route reads: a clear refusal or a redirect."""
    _check(fuzz, route, {route.fields[0]: ONE_MEGABYTE})


def _check(fuzz: Fuzz, route: Route, body: Any) -> int:
    if route.endpoint in SESSION_ENDERS:
        fuzz.credentials = _credentials(fuzz.app, fuzz.family)
        fuzz.snapshot = family_rows(fuzz.app, fuzz.family.record)
    response = _send(fuzz, route, body)
    status, text = response.status_code, response.get_data(as_text=True)
    response.close()
    after = family_rows(fuzz.app, fuzz.family.record)
    before, fuzz.snapshot = fuzz.snapshot, after
    assert status < 500, (str(route), repr(body)[:300], text[:800])
    if 400 <= status < 500:
        if route.is_api and response.is_json:
            payload = json.loads(text)
            assert isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"], payload
        else:
            assert text.strip(), f"{route}: an empty {status}"
        changes = row_changes(before, after)
        if route.endpoint in RECORDS_FAILED_SIGN_IN:
            changes.pop("login_failures", None)
        assert changes == {}, (str(route), status, repr(body)[:300], changes)
    return status


# --- issue 12: odd values are refused, never cut down or read as something else -----------------------------------

# Each attack, by the kind of field it targets: a time or date with 90 characters more (once stored as its first
# eight or ten), Arabic-Indic, fullwidth and superscript digits (int() reads them as numbers), and names with a
# control character, a direction override or a line break.
STRICT_ATTACKS: dict[str, list[str]] = {
    "time": ["11:11:11" + "1" * 92, "١١:١١", "１１:１１", "11:11:11garbage"],
    "date": ["2030-01-01" + "x" * 90, "٢٠٣٠-٠١-٠١", "2030-01-01T00:00:00Z" + "0" * 80],
    "number": ["١٢", "۵", "５", "²", "1_000"],
    "name": ["Bob\x07", "Bob\x1b[31m", "Bob\u202eelgoog", "Bob\u2028Smith", "Bob\u2066x"],
}
NAME_FIELDS = {"name", "display_name", "title", "label", "username", "device_name", "family_name"}
NUMBER_WORDS = ("points", "amount", "cost", "cents", "stock", "limit", "max_", "count", "interval", "minutes",
                "age", "goal", "hour", "position", "days")


def attack_kind(name: str) -> str | None:
    """Which attack a field of this name gets (None: not a time, date, number or one-line name)."""
    if name in NAME_FIELDS:
        return "name"
    if "time" in name:
        return "time"
    if "date" in name or name in ("birthdate", "available_from", "available_until", "paid_on", "start", "end"):
        return "date"
    if any(word in name for word in NUMBER_WORDS):
        return "number"
    return None


STRICT_CASES = [pytest.param(route, name, value, id=f"{route}-{name}-{value[:12]!r}")
                for route in ROUTES if route.endpoint not in SESSION_ENDERS
                for name in route.model_fields if attack_kind(name)
                for value in STRICT_ATTACKS[attack_kind(name) or ""]]


@pytest.mark.parametrize(("route", "name", "value"), STRICT_CASES)
def test_odd_values_are_refused_not_truncated_or_reread(fuzz: Fuzz, route: Route, name: str, value: str) -> None:
    """Every form and API field of these kinds: the attack value beside plausible others is a clear 4xx."""
    body = {field_name: plausible(field_name, fuzz.family) for field_name in route.model_fields}
    body[name] = value
    response = _check(fuzz, route, body)
    assert 400 <= response < 500, (str(route), name, value, response)
