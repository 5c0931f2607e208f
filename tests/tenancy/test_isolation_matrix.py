"""The isolation matrix: every route of the URL map × every way in from another family answers no and shows nothing."""
from __future__ import annotations

import io
import itertools
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from app.platform.services import issue_handoff

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

# --- every rule, classified --------------------------------------------------------------------------------------

PUBLIC = "public"  # a family host, open to anyone: answers pinned in ANONYMOUS below
PAGE = "family-page"  # a family host, sign-in needed: a browser without one is sent to /login?next=<path>
TABLET = "tablet"  # a family host, the family's registered tablet needed: 403 without it
API = "family-api"  # a family host, a bearer token needed: none → 401, another family's → 403
STREAM = "family-stream"  # /events (Server-Sent Events): 401 without a session
PLATFORM = "platform"  # the apex, open to anyone: answers pinned in ANONYMOUS
ACCOUNT = "platform-account"  # the apex, a platform sign-in needed: sent to /login
OPERATOR = "operator"  # admin.<base>
STATIC = "static"
HEALTH = "health"

ROUTE_CLASSES: dict[str, str] = {
    **dict.fromkeys([
        "family_home.index", "accounts.login", "accounts.logout", "accounts.handoff", "api.login", "api.api_docs",
        "api.openapi_document", "api.version", "api.family_info", "onboarding.join", "reports.calendar_feed",
        "tablet.done", "offline.manifest", "offline.service_worker", "offline.offline_page",
    ], PUBLIC),
    **dict.fromkeys([
        "accounts.devices", "accounts.register_this_browser", "accounts.revoke", "accounts.sign_out_everywhere",
        "accounts.switch_family", "accounts.switch_family_picker",
        "achievements.celebrate", "achievements.index", "achievements.mark_celebrated", "achievements.wall",
        "allowance.card", "allowance.convert", "allowance.index", "allowance.me", "allowance.pay",
        "allowance.schedule", "allowance.statement",
        "chores.archive", "chores.assignees", "chores.edit", "chores.index", "chores.new", "chores.restore",
        "chores.validate",
        "dashboard.approve", "dashboard.complete", "dashboard.index", "dashboard.kid_card", "dashboard.open_chores",
        "dashboard.points", "dashboard.reject", "dashboard.reopen", "dashboard.skip", "dashboard.summary",
        "dashboard.undo",
        "members.add_kid", "members.add_parent", "members.deactivate", "members.edit", "members.index",
        "members.make_owner", "members.make_parent", "members.new_kid", "members.new_parent", "members.password_form",
        "members.pin_form", "members.reactivate", "members.reset_password", "members.reset_pin", "members.show",
        "members.update",
        "notifications.bell", "notifications.create_webhook", "notifications.delete_webhook",
        "notifications.deliveries", "notifications.family_settings", "notifications.index",
        "notifications.mark_all_read", "notifications.mark_read", "notifications.open", "notifications.preferences",
        "notifications.retry_delivery", "notifications.rotate_secret", "notifications.update_webhook",
        "notifications.webhook", "notifications.webhooks",
        "onboarding.add_chores", "onboarding.add_kid", "onboarding.advance", "onboarding.finish",
        "onboarding.send_invite", "onboarding.start", "onboarding.step",
        "presence.add_exception_view", "presence.add_pattern_view", "presence.calendar", "presence.delete_rule",
        "presence.pattern_form",
        "reports.export_assignments", "reports.export_ledger", "reports.index",
        "rewards.approve", "rewards.approve_and_fulfil", "rewards.archive", "rewards.edit", "rewards.fulfil",
        "rewards.new", "rewards.reject",
        "rewards.request_item", "rewards.requests_panel", "rewards.restore", "rewards.reward_photo",
        "rewards.save_for", "rewards.stop_saving", "rewards.store", "rewards.store_panel",
        "settings.calendar", "settings.create_calendar", "settings.delete_family", "settings.delete_family_page",
        "settings.export_archive", "settings.index", "settings.revoke_calendar", "settings.save",
        "members.language", "members.save_language",
        # A kid's own pages: signed in on the tablet (or with a password), like any other page.
        "tablet.claim_chore", "tablet.complete_chore", "tablet.family_wall", "tablet.kid_chores", "tablet.kid_home",
        "tablet.kid_stats", "tablet.photo", "tablet.photo_thumb", "tablet.still_here", "tablet.wall_board",
    ], PAGE),
    **dict.fromkeys(["tablet.wall", "tablet.keypad", "tablet.unlock"], TABLET),
    **dict.fromkeys([
        "api.add_point_preset", "api.alltime_leaderboard", "api.approve_family_redemption", "api.auth_me",
        "api.badge_catalogue", "api.category_breakdown_report", "api.child_performance_report", "api.claim",
        "api.clear_user_goal", "api.complete", "api.convert_user_points", "api.create_exception",
        "api.create_family_chore", "api.create_family_reward", "api.create_one_assignment", "api.create_pattern",
        "api.create_user", "api.delete_family_chore", "api.delete_family_reward", "api.delete_rule",
        "api.delete_user", "api.deliveries_list", "api.deliveries_retry", "api.fulfil_family_redemption",
        "api.get_family_chore", "api.get_me", "api.get_my_preferences", "api.get_one_assignment", "api.get_user",
        "api.give_bonus", "api.give_deduction", "api.list_assignments", "api.list_exceptions",
        "api.list_family_chores", "api.list_family_redemptions", "api.list_family_rewards", "api.list_patterns",
        "api.list_settings", "api.list_users", "api.member_badge_wall", "api.my_assignments", "api.my_goal",
        "api.notifications_get_preferences", "api.notifications_get_settings", "api.notifications_list",
        "api.notifications_mark_all_read", "api.notifications_mark_read", "api.notifications_put_preferences",
        "api.notifications_put_settings", "api.performance_trends_report", "api.point_presets", "api.read_setting",
        "api.redeem_reward", "api.reject_family_redemption", "api.reopen", "api.replace_my_preferences",
        "api.schedule", "api.set_user_allowance_schedule", "api.set_user_goal", "api.skip", "api.undo",
        "api.update_family_chore", "api.update_family_reward", "api.update_me", "api.update_user",
        "api.user_allowance_schedule", "api.user_conversions", "api.user_money_statement", "api.user_points",
        "api.user_redeemed_rewards", "api.user_stats", "api.user_transactions", "api.verify", "api.webhooks_create",
        "api.webhooks_delete", "api.webhooks_deliveries", "api.webhooks_get", "api.webhooks_list",
        "api.webhooks_rotate_secret", "api.webhooks_update", "api.weekly_leaderboard", "api.weekly_summary_report",
        "api.write_setting",
    ], API),
    "live.events": STREAM,
    **dict.fromkeys([
        "platform.landing", "platform.login", "platform.logout", "platform.forgot_password",
        "platform.reset_password", "platform.verify_email", "platform_api.api_docs", "platform_api.openapi_document",
        "platform_api.version", "signup.check_slug", "signup.slug_field", "signup.start", "signup.submit",
    ], PLATFORM),
    **dict.fromkeys(["platform.families", "platform.open_family", "platform.cancel_deletion",
                     "platform.delete_account"], ACCOUNT),
    **dict.fromkeys(["operator.index", "operator.login", "operator.logout", "operator.families", "operator.family",
                     "operator.suspend", "operator.reactivate", "operator.plan", "operator.analytics",
                     "operator.audit", "operator.static", "operator.move", "operator.export", "operator.delete",
                     "operator.restore"], OPERATOR),
    "static": STATIC,
    **dict.fromkeys(["health.health", "health.health_detailed", "family_health.health",
                     "family_health.health_detailed", "metrics"], HEALTH),
}

LOGIN = "/login?next="  # where a family page sends a browser that is not signed in (to this family)
APEX_LOGIN = "/login"

# What anyone without this family's credentials gets from the open routes (the body is checked separately):
# a status, or (status, Location prefix). The request carries the other family's tokens, so links and passes fail.
ANONYMOUS: dict[tuple[str, str], int | tuple[int, str]] = {
    ("family_home.index", "GET"): 200,
    ("offline.manifest", "GET"): 200,  # the family's name only, as on its home page
    ("offline.service_worker", "GET"): 200,
    ("offline.offline_page", "GET"): 200,  # the family's name only: no member, points or form on it
    ("accounts.login", "GET"): 200,
    ("accounts.login", "POST"): 422,  # no login and password in the form
    ("accounts.logout", "POST"): (302, "/"),
    ("accounts.handoff", "GET"): 400,  # the other family's hand-off pass
    ("api.login", "POST"): 400,
    ("api.api_docs", "GET"): 200,
    ("api.openapi_document", "GET"): 200,
    ("api.version", "GET"): 200,
    ("api.family_info", "GET"): 200,
    ("onboarding.join", "GET"): 404,  # the other family's invitation
    ("onboarding.join", "POST"): 404,
    ("reports.calendar_feed", "GET"): 404,  # the other family's calendar token
    ("tablet.done", "POST"): (302, "/"),
    ("family_health.health", "GET"): 200,
    ("family_health.health_detailed", "GET"): 404,  # operator-only detail: not on family hosts
    ("static", "GET"): 200,
    ("platform.landing", "GET"): 200,
    ("platform.login", "GET"): 200,
    ("platform.login", "POST"): 422,
    ("platform.logout", "POST"): (303, "/"),
    ("platform.forgot_password", "GET"): 200,
    ("platform.forgot_password", "POST"): 422,
    ("platform.reset_password", "GET"): 400,
    ("platform.reset_password", "POST"): 400,
    ("platform.verify_email", "GET"): 400,
    ("platform_api.api_docs", "GET"): 200,
    ("platform_api.openapi_document", "GET"): 200,
    ("platform_api.version", "GET"): 200,
    ("signup.check_slug", "GET"): 200,
    ("signup.slug_field", "GET"): 200,
    ("signup.start", "GET"): 200,
    ("signup.submit", "POST"): 422,
    ("platform.families", "GET"): (302, APEX_LOGIN),
    ("platform.open_family", "POST"): (302, APEX_LOGIN),
    ("platform.cancel_deletion", "POST"): (302, APEX_LOGIN),
    ("platform.delete_account", "GET"): (302, APEX_LOGIN),
    ("platform.delete_account", "POST"): (302, APEX_LOGIN),
    # The console (admin host) knows no family session, token or platform sign-in: every page sends to its sign-in.
    ("operator.index", "GET"): (303, "/login?next="),
    ("operator.login", "GET"): 200,
    ("operator.login", "POST"): 422,  # no email or password in the form
    ("operator.logout", "POST"): (303, "/login"),
    ("operator.static", "GET"): 200,
    **{(endpoint, method): (303, "/login?next=") for endpoint, method in (
        ("operator.families", "GET"), ("operator.family", "GET"), ("operator.suspend", "POST"),
        ("operator.reactivate", "POST"), ("operator.plan", "POST"), ("operator.analytics", "GET"),
        ("operator.audit", "GET"), ("operator.move", "POST"), ("operator.export", "POST"),
        ("operator.delete", "POST"), ("operator.restore", "POST"))},
    ("health.health", "GET"): 200,
    # Without operator credentials only the public answer: no database names (forbidden_strings checks).
    ("health.health_detailed", "GET"): 200,
    ("metrics", "GET"): 403,  # Prometheus metrics: an operator token or network only
}

# --- filling a rule's variables with real rows of one family ----------------------------------------------------

ID_VARIABLES = {"member_id": "kid", "user_id": "kid", "child_id": "kid", "chore_id": "chore",
                "assignment_id": "assignment", "reward_id": "reward", "redemption_id": "redemption",
                "notification_id": "notification", "webhook_id": "webhook", "delivery_id": "delivery",
                "device_id": "device", "rule_id": "pattern"}
# Variables that are not a family's: fixed, valid values.
PLAIN_VARIABLES = {"step": "kids", "group": "general", "key": "week_start_day", "filename": "css/app.css"}
# Routes whose row the first choice cannot exercise get a second one (a waiting assignment to approve, …).
ALTERNATES = {"dashboard.approve": {"assignment_id": "waiting"}, "dashboard.reject": {"assignment_id": "waiting"},
              "api.verify": {"assignment_id": "waiting"}, "tablet.photo": {"assignment_id": "waiting"},
              "api.set_user_goal": {"user_id": "kid"}}
SECRET_VARIABLES = {"token", "slug"}


def fill(world: World, rule: Rule, owner: SeededFamily, secrets_of: SeededFamily) -> str:
    """The rule's path with its variables set to rows and the slug of `owner`, and links or passes (calendar
    token, invitation, hand-off) of `secrets_of` — the family that holds them, never the host's."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name in ID_VARIABLES:
            values[name] = owner.ids[ALTERNATES.get(rule.endpoint, {}).get(name, ID_VARIABLES[name])]
        elif name == "token":
            values[name] = secrets_of.calendar_token if rule.endpoint == "reports.calendar_feed" else (
                "not-a-real-token" if rule.endpoint.startswith("platform.") else secrets_of.invite_token)
        elif name == "slug":
            values[name] = owner.record.slug
        elif name in PLAIN_VARIABLES:
            values[name] = PLAIN_VARIABLES[name]
        elif name != "family":
            raise AssertionError(f"{rule.rule}: no filler for <{name}>; add one to the matrix")
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), path)
    if rule.endpoint == "accounts.handoff":
        # A fresh pass each time (they live a minute and work once), so the family check is what refuses it.
        path += "?token=" + issue_handoff(world.app.config["SECRET_KEY"], user_id=secrets_of.user_id,
                                          family_id=secrets_of.record.id)
    return path


def names_a_row(rule: Rule) -> bool:
    """Whether the URL itself names another family's row, token or slug (so the answer must be a refusal)."""
    return bool(set(rule.arguments) & (set(ID_VARIABLES) | SECRET_VARIABLES)) or rule.endpoint == "accounts.handoff"


def body_for(owner: SeededFamily) -> dict[str, Any]:
    """A plausible body for any write, every reference in it pointing at `owner`'s rows (the forged family_id too)."""
    ids = owner.ids
    return {"family_id": str(owner.record.id), "member_id": str(ids["kid"]), "user_id": str(ids["kid"]),
            "assigned_to": str(ids["kid"]), "assignees": [str(ids["kid"])], "assignee_ids": [str(ids["kid"])],
            "chore_id": str(ids["chore"]), "reward_id": str(ids["reward"]), "webhook_id": str(ids["webhook"]),
            "assignment_id": str(ids["assignment"]), "name": "Forged thing", "title": "Forged thing",
            "display_name": "Forged", "username": f"forged{uuid.uuid4().hex[:6]}", "points": 5, "amount": 5,
            "reason": "forged", "cost": 5, "url": "http://127.0.0.1:9/forged", "note": "forged", "pin": "2468",
            "weekdays": [0], "start_date": "2030-01-01", "end_date": "2030-01-02", "kind": "weekly", "approved": True}


# --- the two families --------------------------------------------------------------------------------------------

@dataclass
class World:
    """Family A (the one attacked), family B (the attacker), and B's and A's credentials."""

    app: Flask
    a: SeededFamily
    b: SeededFamily
    creds: dict[str, dict[str, Credential]]

    def family(self, key: str) -> SeededFamily:
        return self.a if key == "a" else self.b

    def other(self, family: SeededFamily) -> SeededFamily:
        return self.b if family is self.a else self.a


@pytest.fixture(scope="module")
def world(app: Flask) -> World:
    a, b = seed_family(app, "Quokkafam"), seed_family(app, "Wombatfam")
    creds: dict[str, dict[str, Credential]] = {}
    for key, fam in (("a", a), ("b", b)):
        creds[key] = {
            "parent-cookie": cookie_credential(app, "parent-cookie", fam, member_session(fam, fam.parent_session)),
            "platform-cookie": cookie_credential(app, "platform-cookie", None,
                                                 {"platform_user_id": str(fam.user_id)}),
            "device-cookie": cookie_credential(app, "device-cookie", fam, {}, device_token=fam.device_token),
            "kid-tablet": cookie_credential(app, "kid-tablet", fam, member_session(fam, fam.kid_tablet_session),
                                            device_token=fam.device_token),
            # An app's token, beside an anonymous browser session of its own (so a form's CSRF check passes and
            # the answer is about the token).
            "parent-jwt": bearer(app, "parent-jwt", fam, fam.parent_jwt),
            "kid-jwt": bearer(app, "kid-jwt", fam, fam.kid_jwt),
        }
    return World(app=app, a=a, b=b, creds=creds)


_addresses = itertools.count(1)


def next_address() -> str:
    """Each request from its own address, so per-address sign-in limits never decide an answer."""
    number = next(_addresses)
    return f"10.{100 + (number >> 16) % 100}.{(number >> 8) & 255}.{number & 255}"


# --- sending one request and judging it --------------------------------------------------------------------------

@dataclass
class Attempt:
    rule: Rule
    method: str
    path: str
    host: SeededFamily | None  # None: the apex (or admin for the operator console)
    credential: Credential
    body: dict[str, Any]
    headers: dict[str, str]
    environ: dict[str, str]
    base: SeededFamily | None = None  # the host whose cookie jar is used, when it differs from the Host header


def send(world: World, attempt: Attempt) -> tuple[int, str, str]:
    """Send it; return the status, the Location and the body (closed afterwards: files are streamed)."""
    headers = {**attempt.credential.headers, **attempt.headers}
    kwargs: dict[str, Any] = {"method": attempt.method, "headers": headers,
                              "environ_overrides": attempt.environ}
    if attempt.base is not None:
        # The client (SERVER_NAME) is B's host, the Host header names another. A test client sends the cookies
        # its jar holds for the Host header's name (and drops a Cookie header), so B's cookies are filed there.
        client = client_with(world.app, attempt.base.record, Credential("none", {}, {}), next_address())
        for name, value in attempt.credential.cookies.items():
            client.set_cookie(name, value, domain=attempt.environ["HTTP_HOST"].split(":")[0])
    else:
        host = attempt.host.record if attempt.host else None
        client = client_with(world.app, host, attempt.credential, next_address())
    if attempt.rule.subdomain == "admin" and attempt.base is None:
        client.host = f"admin.{world.app.config['BASE_DOMAIN']}"
        for name, value in attempt.credential.cookies.items():  # replayed on the console's host: the strongest try
            client.set_cookie(name, value, domain=client.host.split(":")[0])
    if attempt.method != "GET":
        headers["X-CSRFToken"] = attempt.credential.csrf
        if attempt.path.startswith("/api/"):
            kwargs["json"] = attempt.body
        else:
            kwargs["data"] = {**attempt.body, "csrf_token": attempt.credential.csrf}
    response = client.open(attempt.path, **kwargs)
    try:
        if response.mimetype == "text/event-stream":
            # A live stream runs for minutes; its first event says whose channel it is.
            first = next(iter(response.response), b"")
            return response.status_code, "", first.decode() if isinstance(first, bytes) else str(first)
        if response.mimetype == "application/zip":
            # The owner's export: what must not leak would be inside its documents, so read those.
            with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
                inside = "\n".join(archive.read(name).decode(errors="replace") for name in archive.namelist())
            return response.status_code, response.headers.get("Location", ""), inside
        return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)
    finally:
        response.close()


def forbidden_strings(world: World, attempt: Attempt, signed_in: SeededFamily | None) -> set[str]:
    """Strings of either family the answer must not contain: all of them, minus what the request itself carried,
    what the host's own sign-in page shows anyone (its name), and the signed-in family's own data."""
    strings = world.a.secrets() | world.b.secrets() | database_locators(world.app)
    if attempt.host is not None:
        strings -= {attempt.host.record.name, str(attempt.host.record.id), attempt.host.record.slug}
    if signed_in is not None:
        strings -= signed_in.secrets()
    carried = attempt.path + json.dumps(attempt.body) + json.dumps(attempt.credential.headers)
    return {s for s in strings if s not in carried}


def database_locators(flask_app: Flask) -> set[str]:
    """The databases' names: only an operator may read them (`app/operator_access.py`)."""
    return {(make_url(flask_app.config[key]).database or "").rsplit("/", 1)[-1]
            for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL")}


def leaks(body: str, location: str, forbidden: set[str]) -> list[str]:
    text = body + "\n" + location
    return sorted(s for s in forbidden if s in text)


def family_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.subdomain == "<family>"), key=lambda r: r.rule)


def site_rules(app: Flask) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.subdomain != "<family>"), key=lambda r: r.rule)


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def anonymous_answer(rule: Rule, method: str, *, foreign_bearer: bool) -> tuple[int, str | None]:
    """What a request without valid credentials for this host gets, by route class."""
    kind = ROUTE_CLASSES[rule.endpoint]
    if kind == PAGE:
        return 302, LOGIN
    if kind == TABLET:
        return 403, None
    if kind == API:
        return (403 if foreign_bearer else 401), None
    if kind == STREAM:
        return 401, None
    pinned = ANONYMOUS[(rule.endpoint, method)]
    return (pinned, None) if isinstance(pinned, int) else pinned


def judge(problems: list[str], attempt: Attempt, status: int, location: str, body: str,
          expected: set[int], location_prefix: str | None, forbidden: set[str]) -> None:
    """Record what is wrong with one answer (status, redirect target, leaked strings)."""
    host = attempt.host.marker if attempt.host else "apex"
    where = f"{attempt.credential.name} {attempt.method} {attempt.path} (host {host})"
    if status not in expected:
        problems.append(f"{where}: {status}, expected {sorted(expected)}: {body[:160]!r}")
    elif location_prefix is not None and not location.startswith(location_prefix):
        problems.append(f"{where}: redirected to {location!r}, expected {location_prefix!r}…")
    leaked = leaks(body, location, forbidden)
    if leaked:
        problems.append(f"{where}: the answer contains {leaked}")


# --- the vectors: another family's credentials on our host -------------------------------------------------------

# Each vector: (credential names of family B, how the request is dressed, does it carry B's bearer token).
FOREIGN_VECTORS = {
    "their-session-cookie": ("parent-cookie", "plain"),
    "their-platform-cookie": ("platform-cookie", "plain"),
    "their-parent-jwt": ("parent-jwt", "plain"),
    "their-kid-jwt": ("kid-jwt", "plain"),
    "their-tablet-device": ("device-cookie", "plain"),
    "their-kid-on-their-tablet": ("kid-tablet", "plain"),
    "forged-host-header": ("parent-cookie+jwt", "forged-host"),
    "forwarded-host": ("parent-cookie+jwt", "forwarded"),
    "apex": ("parent-cookie+jwt", "apex"),
}


def credential(world: World, family_key: str, name: str) -> Credential:
    if name == "parent-cookie+jwt":
        cookie, token = world.creds[family_key]["parent-cookie"], world.creds[family_key]["parent-jwt"]
        return Credential(name=name, cookies=cookie.cookies, headers=token.headers, csrf=cookie.csrf)
    return world.creds[family_key][name]


def foreign_attempts(world: World, vector: str) -> Iterator[tuple[Attempt, tuple[set[int], str | None]]]:
    """Family B's credential against every rule and method on A's host (or the site the rule lives on)."""
    cred_name, dress = FOREIGN_VECTORS[vector]
    cred = credential(world, "b", cred_name)
    base_domain = world.app.config["BASE_DOMAIN"]
    a_host, b_host = f"{world.a.record.slug}.{base_domain}", f"{world.b.record.slug}.{base_domain}"
    apex_adapter = world.app.url_map.bind(base_domain, subdomain="")
    for rule in family_rules(world.app) + site_rules(world.app):
        on_family_host = rule.subdomain == "<family>"
        if vector == "their-platform-cookie" and not on_family_host:
            continue  # B's own platform session at the apex is B's own business; `test_ids_of_the_other_family`
        for method in methods_of(rule):
            path = fill(world, rule, world.a, world.b)
            headers: dict[str, str] = {}
            environ: dict[str, str] = {}
            host: SeededFamily | None = world.a if on_family_host else None
            base = None
            if dress == "forged-host":
                # B's browser sends its own cookies and token, but names A (or the apex) in the Host header,
                # and puts its own host in an absolute request-target.
                base = world.b
                target = a_host if on_family_host else (
                    f"admin.{base_domain}" if rule.subdomain == "admin" else base_domain)
                environ = {"HTTP_HOST": target, "REQUEST_URI": f"http://{b_host}{path}",
                           "RAW_URI": f"http://{b_host}{path}"}
            elif dress == "forwarded":
                headers = {"X-Forwarded-Host": b_host, "Forwarded": f"host={b_host}", "X-Original-Host": b_host}
            elif dress == "apex":
                if not on_family_host:
                    continue  # the apex vector sends family paths to the apex; site rules are covered above
                host = None
            attempt = Attempt(rule=rule, method=method, path=path, host=host, credential=cred,
                              body=body_for(world.a), headers=headers, environ=environ, base=base)
            bearer_sent = "Authorization" in cred.headers
            if dress == "apex":
                try:
                    endpoint, _ = apex_adapter.match(path.split("?")[0], method=method)
                except NotFound:
                    yield attempt, ({404}, None)
                    continue
                except MethodNotAllowed:
                    yield attempt, ({405}, None)
                    continue
                site_rule = next(r for r in site_rules(world.app) if r.endpoint == endpoint)
                status, where = anonymous_answer(site_rule, method, foreign_bearer=bearer_sent)
                yield attempt, ({status}, where)
                continue
            status, where = anonymous_answer(rule, method, foreign_bearer=bearer_sent)
            if where == LOGIN:
                where = LOGIN + path.split("?")[0]
            yield attempt, ({status}, where)


@pytest.mark.parametrize("vector", list(FOREIGN_VECTORS))
def test_another_familys_credentials_open_nothing(world: World, vector: str) -> None:
    """B's session cookie, tokens, tablet and kid session, forged hosts and the apex: every route says no."""
    before = {key: family_rows(world.app, world.family(key).record) for key in ("a", "b")}
    problems: list[str] = []
    tried = 0
    for attempt, (expected, where) in foreign_attempts(world, vector):
        status, location, body = send(world, attempt)
        judge(problems, attempt, status, location, body, expected, where, forbidden_strings(world, attempt, None))
        tried += 1
    for key in ("a", "b"):
        changed = row_changes(before[key], family_rows(world.app, world.family(key).record))
        if changed:
            problems.append(f"family {key.upper()}'s rows changed: {changed}")
    assert tried > 200
    assert not problems, f"{len(problems)} of {tried} requests:\n" + "\n".join(problems)


# --- the vectors: our own credentials, the other family's ids ----------------------------------------------------

# Which of the signed-in family's own credentials try each class of route.
HOME_CREDENTIALS = {PAGE: ("parent-cookie", "kid-tablet"), TABLET: ("kid-tablet", "device-cookie"),
                    API: ("parent-jwt", "kid-jwt"), STREAM: ("parent-cookie",), PUBLIC: ("parent-cookie",),
                    STATIC: ("parent-cookie",), HEALTH: ("parent-cookie",), PLATFORM: ("platform-cookie",),
                    ACCOUNT: ("platform-cookie",), OPERATOR: ("platform-cookie",)}


def home_attempts(world: World, home_key: str) -> Iterator[tuple[Attempt, bool]]:
    """The home family, signed in on its own host, sends the other family's ids (URL and body) to every rule."""
    home = world.family(home_key)
    foreign = world.other(home)
    for rule in family_rules(world.app) + site_rules(world.app):
        kind = ROUTE_CLASSES[rule.endpoint]
        on_family_host = rule.subdomain == "<family>"
        for method in methods_of(rule):
            for cred_name in HOME_CREDENTIALS[kind]:
                cred = world.creds[home_key][cred_name]
                # An earlier write may have signed the member out (logout, "sign out everywhere", the tablet's
                # Done): each request gets a session (and API token) of its own.
                if cred_name == "parent-cookie":
                    token = fresh_session(world.app, home, "parent")
                    cred = cookie_credential(world.app, cred_name, home, member_session(home, token))
                elif cred_name == "kid-tablet":
                    token = fresh_session(world.app, home, "kid", on_tablet=True)
                    cred = cookie_credential(world.app, cred_name, home, member_session(home, token),
                                             device_token=home.device_token)
                elif cred_name in ("parent-jwt", "kid-jwt"):
                    cred = bearer(world.app, cred_name, home, fresh_api_token(world.app, home, cred_name[:-4]))
                yield Attempt(rule=rule, method=method, path=fill(world, rule, foreign, foreign),
                              host=home if on_family_host else None, credential=cred, body=body_for(foreign),
                              headers={}, environ={}), names_a_row(rule)


@pytest.mark.parametrize("home_key", ["a", "b"], ids=["their-ids-in-our-host", "our-ids-in-their-host"])
def test_ids_of_the_other_family(world: World, home_key: str) -> None:
    """Signed in at home, the other family's ids in the URL or body reach none of its rows."""
    home = world.family(home_key)
    foreign = world.other(home)
    foreign_before = family_rows(world.app, foreign.record)
    problems: list[str] = []
    tried = 0
    for attempt, refused in home_attempts(world, home_key):
        status, location, body = send(world, attempt)
        expected = REFUSALS.get(attempt.rule.endpoint, {403, 404}) if refused else set(range(200, 500))
        judge(problems, attempt, status, location, body, expected, None, forbidden_strings(world, attempt, home))
        tried += 1
    changed = row_changes(foreign_before, family_rows(world.app, foreign.record))
    if changed:
        problems.append(f"the other family's rows changed: {changed}")
    # Nothing the home family now stores points at the other family's rows (a forged reference that stuck).
    home_rows = json.dumps({table: sorted(rows) for table, rows in family_rows(world.app, home.record).items()})
    linked = sorted(str(value) for value in foreign.ids.values() if str(value) in home_rows)
    if linked or str(foreign.record.id) in home_rows:
        problems.append(f"the home family's rows reference the other family: {linked}")
    assert tried > 250
    assert not problems, f"{len(problems)} of {tried} requests:\n" + "\n".join(problems)


# How a route refuses a link or pass of another family, where that is not 403/404.
REFUSALS = {"accounts.handoff": {400},  # the hand-off page explains "That sign-in link didn't work"
            # Platform links are nobody's rows: a made-up token is a bad link.
            "platform.reset_password": {400}, "platform.verify_email": {400},
            # The console names families by slug, for operators only: anyone else is sent to its sign-in.
            **dict.fromkeys(["operator.family", "operator.suspend", "operator.reactivate", "operator.plan",
                             "operator.move", "operator.export", "operator.delete", "operator.restore"], {303})}


# --- the table itself --------------------------------------------------------------------------------------------

def test_every_route_is_classified(app: Flask) -> None:
    """A route added without a class (and its expected answer) fails here, so the matrix never silently skips it."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ROUTE_CLASSES.keys() == set(), "classify these routes in ROUTE_CLASSES"
    assert ROUTE_CLASSES.keys() - endpoints == set(), "these classified routes no longer exist"
    open_routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in methods_of(rule)
                   if ROUTE_CLASSES[rule.endpoint] in (PUBLIC, PLATFORM, ACCOUNT, OPERATOR, STATIC, HEALTH)}
    assert open_routes - ANONYMOUS.keys() == set(), "pin the anonymous answer of these open routes in ANONYMOUS"
    assert ANONYMOUS.keys() - open_routes == set()
    for rule in app.url_map.iter_rules():
        for name in rule.arguments - {"family"}:
            assert name in ID_VARIABLES or name in PLAIN_VARIABLES or name in SECRET_VARIABLES, (rule.rule, name)


# --- bad input: a forged family_id (and the other family's member ids) in a body ---------------------------------

# (method, path, body, who sends it): {a_*} are A's ids, {b_*} B's; A's parent (or kid) sends it on A's host.
FORGED_BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/api/chores", {"name": "Forged chore", "family_id": "{b_family}", "base_points": 5,
                             "schedule": {"kind": "daily", "start_date": "2030-01-01"},
                             "assignees": ["{a_kid}"]}, "parent-jwt"),
    ("POST", "/api/chores", {"name": "Forged chore for their kid", "family_id": "{b_family}",
                             "schedule": {"kind": "daily", "start_date": "2030-01-01"},
                             "assignees": ["{b_kid}"]}, "parent-jwt"),
    ("PUT", "/api/chores/{a_chore}", {"family_id": "{b_family}", "assignees": ["{b_kid}"]}, "parent-jwt"),
    ("POST", "/api/rewards", {"name": "Forged reward", "cost_points": 5, "category": "treat",
                              "family_id": "{b_family}"}, "parent-jwt"),
    ("POST", "/api/users", {"username": "forgedkid", "display_name": "Forged kid", "family_id": "{b_family}"},
     "parent-jwt"),
    ("POST", "/api/assignments", {"chore_id": "{b_chore}", "assigned_to": "{b_kid}", "family_id": "{b_family}"},
     "parent-jwt"),
    ("POST", "/api/assignments", {"chore_id": "{a_chore}", "assigned_to": "{b_kid}"}, "parent-jwt"),
    ("POST", "/api/presence/patterns", {"user_id": "{b_kid}", "kind": "weekly", "weekdays": [1],
                                        "anchor_date": "2030-01-07", "present": False, "family_id": "{b_family}"},
     "parent-jwt"),
    ("PUT", "/api/users/{a_kid}/goal", {"reward_id": "{b_reward}"}, "parent-jwt"),
    ("POST", "/api/users/{a_kid}/bonus", {"points": 5, "reason": "Forged", "family_id": "{b_family}",
                                          "user_id": "{b_kid}"}, "parent-jwt"),
    ("POST", "/api/webhooks", {"url": "http://127.0.0.1:9/forged", "family_id": "{b_family}"}, "parent-jwt"),
    ("POST", "/api/rewards/{a_reward}/redeem", {"family_id": "{b_family}", "member_id": "{b_kid}",
                                                "user_id": "{b_kid}"}, "kid-jwt"),
    ("POST", "/chores/new", {"name": "Forged form chore", "family_id": "{b_family}", "assignees": ["{b_kid}"],
                             "kind": "daily", "start_date": "2030-01-01", "base_points": "5"}, "parent-cookie"),
    ("POST", "/members/kids", {"display_name": "Forged form kid", "username": "forgedformkid",
                               "family_id": "{b_family}"}, "parent-cookie"),
    ("POST", "/today/kids/{b_kid}/points", {"amount": "5", "reason": "Forged", "family_id": "{b_family}"},
     "parent-cookie"),
]


def _forge(value: Any, world: World) -> Any:
    """Put real ids into a body template."""
    if isinstance(value, dict):
        return {key: _forge(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [_forge(item, world) for item in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        family = world.a if value[1] == "a" else world.b
        what = value[3:-1]
        return str(family.record.id) if what == "family" else str(family.ids[what])
    return value


@pytest.mark.parametrize(("method", "path", "body", "who"), FORGED_BODIES,
                         ids=[f"{m} {p} {sorted(b)}" for m, p, b, _ in FORGED_BODIES])
def test_a_forged_family_id_never_reaches_the_other_family(world: World, method: str, path: str,
                                                           body: dict[str, Any], who: str) -> None:
    """A's parent (or kid) names B's family or B's rows in a body: 4xx or ignored, and B's rows stay as they were."""
    b_before = family_rows(world.app, world.b.record)
    a_before = family_rows(world.app, world.a.record)
    cred = world.creds["a"][who]
    if who == "parent-cookie":
        cred = cookie_credential(world.app, who, world.a,
                                 member_session(world.a, fresh_session(world.app, world.a, "parent")))
    url = re.sub(r"\{(a|b)_(\w+)\}", lambda m: _forge("{" + m.group(0)[1:-1] + "}", world), path)
    attempt = Attempt(rule=Rule("/"), method=method, path=url, host=world.a, credential=cred,
                      body=_forge(body, world), headers={}, environ={})
    status, location, text = send(world, attempt)
    assert status < 500, text[:500]
    carried = url + json.dumps(attempt.body)
    assert not leaks(text, location, {s for s in world.b.private_secrets() if s not in carried})
    # B's rows: not one added, changed or removed.
    assert row_changes(b_before, family_rows(world.app, world.b.record)) == {}
    # What A's request created, if anything, is A's and points at nothing of B's.
    a_after = family_rows(world.app, world.a.record)
    added = json.dumps(row_changes(a_before, a_after))
    assert not [str(v) for v in world.b.ids.values() if str(v) in added]
    assert str(world.b.record.id) not in added
    for key in ("name", "display_name"):
        if status < 400 and method == "POST" and key in body:
            assert body[key] in added, f"{status}: answered as created, but no row in A: {text[:300]}"

