"""The access policy: every parent-only service refuses a kid (and SYSTEM unless it may act), every parent-only route
refuses a kid's session or token, and every service with an actor and every family route is classified here."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

import app as app_package
from app.domain import Forbidden
from app.members.models import Member
from app.policy import PARENTS_ONLY, SELF_OR_PARENT_ONLY, SYSTEM
from tests.tenancy.isolation_fixtures import (
    Credential,
    SeededFamily,
    bearer,
    client_with,
    cookie_credential,
    family_rows,
    fresh_session,
    member_session,
    row_changes,
    seed_family,
)

# --- services ----------------------------------------------------------------------------------------------------

# Parameter names that carry who is acting.
ACTOR_PARAMETERS = ("actor", "parent", "inviter", "viewer")

# Parent-only services: a kid, an inactive parent, None and SYSTEM are refused before anything else is touched.
PARENT_ONLY_SERVICES = {
    "app.allowance.services.record_payout", "app.allowance.services.record_allowance",
    "app.allowance.services.set_allowance_schedule",
    "app.assignments.services.verify_assignment", "app.assignments.services.undo_completion",
    "app.assignments.services.skip_assignment", "app.assignments.services.reopen_assignment",
    "app.assignments.services.create_assignment",
    "app.platform.deletion.delete_family",
    "app.auth.services.register_device", "app.auth.services.revoke_device",
    "app.chores.services.update_chore", "app.chores.services.archive_chore", "app.chores.starter.add_starter_chores",
    "app.members.services.update_member", "app.members.services.deactivate_member",
    "app.members.services.reactivate_member", "app.members.services.reset_pin", "app.members.services.reset_password",
    "app.members.services.transfer_ownership", "app.members.services.promote_to_parent",
    "app.notifications.services.update_notification_settings",
    "app.notifications.webhooks.create_webhook", "app.notifications.webhooks.update_webhook",
    "app.notifications.webhooks.rotate_secret", "app.notifications.webhooks.delete_webhook",
    "app.notifications.webhooks.list_deliveries", "app.notifications.webhooks.retry_delivery",
    "app.onboarding.services.save_progress", "app.onboarding.services.choose_starter_chores",
    "app.platform.services.create_invitation",
    "app.points.services.give_points", "app.points.services.save_preset",
    "app.presence.services.add_pattern", "app.presence.services.add_exception",
    "app.presence.services.delete_presence_rule",
    "app.rewards.services.create_reward", "app.rewards.services.update_reward", "app.rewards.services.archive_reward",
    "app.rewards.services.approve_redemption", "app.rewards.services.reject_redemption",
    "app.rewards.services.fulfil_redemption", "app.rewards.services.set_reward_photo",
    "app.settings.services.set_setting", "app.settings.services.save_settings",
}
# Parent-only, and the platform itself may call them too (sign-up, invitations, the demo seed).
SYSTEM_ALLOWED_SERVICES = {"app.members.services.create_member", "app.chores.services.create_chore"}
# A kid acting for themselves, or a parent for anyone: (the service, the parameter naming whom it is for).
SELF_OR_PARENT_SERVICES = {
    "app.rewards.services.set_savings_goal": "kid", "app.rewards.services.clear_savings_goal": "kid",
    "app.achievements.services.check_wall_access": "kid",
    "app.members.services.set_language": "member",
}
# Any member may call these; their own rules (object-level, in the service) are tested with their area.
MEMBER_SERVICES = {
    "app.assignments.services.claim_assignment",  # first claim wins; age limits
    "app.assignments.services.complete_assignment",  # a kid only their own assignment
    "app.assignments.services.complete_locked",  # the same rule, on a row the caller locked (the kid's tap)
    "app.notifications.services.update_preferences",  # only one's own
    # The family owner only (a narrower rule than "a parent"): tests/transfer/test_download.py, from every side.
    "app.transfer.archive.is_family_owner", "app.transfer.archive.require_family_owner",
    "app.transfer.archive.record_export",
}


class Touched(BaseException):
    """A service used an argument: it went past its access check (BaseException, so nothing swallows it)."""


class Untouchable:
    """Stands in for every argument but the actor: any use of it raises Touched."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def __getattr__(self, attribute: str) -> Any:
        raise Touched(f"{self._name}.{attribute}")

    def _touched(self, *_args: Any, **_kwargs: Any) -> Any:
        raise Touched(self._name)

    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _touched
    __iter__ = __len__ = __str__ = __int__ = __index__ = __call__ = __getitem__ = __contains__ = _touched
    __setattr__ = _touched


def service_functions() -> dict[str, Callable[..., Any]]:
    """Every public function under app/ (outside views and the API) that takes an acting member."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.walk_packages(app_package.__path__, "app."):
        if info.name.startswith("app.api") or info.name.endswith(".views") or info.name == "app.policy":
            continue
        module = importlib.import_module(info.name)
        for name, function in vars(module).items():
            if (inspect.isfunction(function) and function.__module__ == info.name and not name.startswith("_")
                    and set(ACTOR_PARAMETERS) & inspect.signature(function).parameters.keys()):
                found[f"{info.name}.{name}"] = function
    return found


def kid(**fields: Any) -> Member:
    return Member(id=uuid.uuid4(), username="kid", display_name="Kid", role="child", is_active=True, **fields)


def parent(**fields: Any) -> Member:
    return Member(id=uuid.uuid4(), username="parent", display_name="Parent", role="parent",
                  **{"is_active": True, **fields})


ACTORS: dict[str, Callable[[], Any]] = {
    "kid": kid, "inactive parent": lambda: parent(is_active=False), "None": lambda: None, "SYSTEM": lambda: SYSTEM,
    "parent": parent,
}


def call_as(path: str, actor: Any, **real: Any) -> None:
    """Call the service with `actor` and every other required argument Untouchable (or a real value given)."""
    function = service_functions()[path]
    parameters = inspect.signature(function).parameters
    actor_parameter = next(name for name in ACTOR_PARAMETERS if name in parameters)
    arguments = {name: real.get(name, Untouchable(name)) for name, p in parameters.items()
                 if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    arguments[actor_parameter] = actor
    positional = [arguments.pop(name) for name, p in parameters.items()
                  if p.kind is p.POSITIONAL_OR_KEYWORD and name in arguments]
    function(*positional, **arguments)


SERVICE_CASES = [
    pytest.param(path, who, id=f"{path.removeprefix('app.')} as {who}")
    for path in sorted(PARENT_ONLY_SERVICES | SYSTEM_ALLOWED_SERVICES) for who in ACTORS
] + [
    pytest.param(path, who, id=f"{path.removeprefix('app.')} as {who}")
    for path in sorted(SELF_OR_PARENT_SERVICES) for who in ("kid for another kid", "kid for themself", "parent",
                                                            "SYSTEM")
]


@pytest.mark.parametrize(("path", "who"), SERVICE_CASES)
def test_every_parent_only_service_refuses_everyone_but_a_parent(path: str, who: str) -> None:
    """A kid, an inactive parent, a missing actor and (unless allowed) SYSTEM get Forbidden before the service
    touches anything; a parent (and SYSTEM where allowed) get past the check."""
    if path in SELF_OR_PARENT_SERVICES:
        target_parameter = SELF_OR_PARENT_SERVICES[path]
        actor = {"kid for another kid": kid(), "kid for themself": kid(), "parent": parent(), "SYSTEM": SYSTEM}[who]
        target = actor if who == "kid for themself" else kid()
        allowed, message = who in ("kid for themself", "parent"), SELF_OR_PARENT_ONLY
        real = {target_parameter: target}
    else:
        actor = ACTORS[who]()
        allowed = who == "parent" or (who == "SYSTEM" and path in SYSTEM_ALLOWED_SERVICES)
        message, real = PARENTS_ONLY, {}
    if allowed:
        # Past the check, the service works on its (untouchable) arguments or refuses them on their own merits.
        try:
            call_as(path, actor, **real)
        except (Touched, Exception) as outcome:  # noqa: BLE001 - anything but the policy's refusal
            assert not isinstance(outcome, Forbidden), outcome.message
        return
    with pytest.raises(Forbidden) as refused:
        call_as(path, actor, **real)
    if path != "app.achievements.services.check_wall_access":  # the API's clients read its own words
        assert refused.value.message == message


def test_every_service_with_an_actor_is_classified() -> None:
    """A new service taking an actor must say here who may call it, so it joins the matrix above."""
    classified = PARENT_ONLY_SERVICES | SYSTEM_ALLOWED_SERVICES | SELF_OR_PARENT_SERVICES.keys() | MEMBER_SERVICES
    found = service_functions().keys()
    assert found - classified == set(), "classify these services in tests/test_policy.py"
    assert classified - found == set(), "these classified services no longer exist"


def test_only_the_platforms_services_take_system() -> None:
    """SYSTEM is accepted where the signature says so, and nowhere accepts None as an actor any more."""
    for path, function in service_functions().items():
        hints = " ".join(str(p.annotation) for name, p in inspect.signature(function).parameters.items()
                         if name in ACTOR_PARAMETERS)
        assert ("SystemActor" in hints) == (path in SYSTEM_ALLOWED_SERVICES), (path, hints)
        assert "None" not in hints, (path, hints)


# --- routes ------------------------------------------------------------------------------------------------------

# Every family-host route a kid may not use. Pages answer a kid 403 (a browser without a session is sent to sign in,
# htmx gets 401); the API answers a kid's token 403 with the route's message.
PARENT_ONLY_ROUTES = {
    "accounts.devices", "accounts.register_this_browser", "accounts.revoke",
    "allowance.card", "allowance.convert", "allowance.index", "allowance.pay", "allowance.schedule",
    "allowance.statement",
    "chores.archive", "chores.assignees", "chores.edit", "chores.index", "chores.new", "chores.restore",
    "chores.validate",
    "dashboard.approve", "dashboard.complete", "dashboard.index", "dashboard.kid_card", "dashboard.open_chores",
    "dashboard.points", "dashboard.reject", "dashboard.reopen", "dashboard.skip", "dashboard.summary",
    "dashboard.undo",
    "members.add_kid", "members.add_parent", "members.deactivate", "members.edit", "members.index",
    "members.make_owner", "members.make_parent", "members.new_kid", "members.new_parent", "members.password_form",
    "members.pin_form", "members.reactivate", "members.reset_password", "members.reset_pin", "members.show",
    "members.update",
    "notifications.create_webhook", "notifications.delete_webhook", "notifications.deliveries",
    "notifications.family_settings", "notifications.retry_delivery", "notifications.rotate_secret",
    "notifications.update_webhook", "notifications.webhook", "notifications.webhooks",
    "onboarding.add_chores", "onboarding.add_kid", "onboarding.advance", "onboarding.finish", "onboarding.send_invite",
    "onboarding.start", "onboarding.step",
    "presence.add_exception_view", "presence.add_pattern_view", "presence.calendar", "presence.delete_rule",
    "presence.pattern_form",
    "reports.export_assignments", "reports.export_ledger", "reports.index",
    "rewards.approve", "rewards.approve_and_fulfil", "rewards.archive", "rewards.edit", "rewards.fulfil", "rewards.new",
    "rewards.reject",
    "rewards.requests_panel", "rewards.restore",
    "settings.delete_family", "settings.delete_family_page", "settings.export_archive", "settings.index",
    "settings.save",
    "api.add_point_preset", "api.approve_family_redemption", "api.category_breakdown_report",
    "api.convert_user_points", "api.create_exception", "api.create_family_chore", "api.create_family_reward",
    "api.create_one_assignment", "api.create_pattern", "api.create_user", "api.delete_family_chore",
    "api.delete_family_reward", "api.delete_rule", "api.delete_user", "api.deliveries_list", "api.deliveries_retry",
    "api.fulfil_family_redemption", "api.give_bonus", "api.give_deduction", "api.notifications_get_settings",
    "api.notifications_put_settings", "api.performance_trends_report", "api.reject_family_redemption", "api.reopen",
    "api.set_user_allowance_schedule", "api.skip", "api.undo", "api.update_family_chore",
    "api.update_family_reward", "api.update_user", "api.verify", "api.webhooks_create", "api.webhooks_delete",
    "api.webhooks_deliveries", "api.webhooks_get", "api.webhooks_list", "api.webhooks_rotate_secret",
    "api.webhooks_update", "api.weekly_summary_report", "api.write_setting",
}
# Every other family-host route: open to anyone, to any signed-in member, or to the tablet (kids included). Their
# per-object rules (a kid sees only their own …) live in the loaders and are tested with each area.
KID_ROUTES = {
    "accounts.handoff", "accounts.login", "accounts.logout", "accounts.sign_out_everywhere", "accounts.switch_family",
    "accounts.switch_family_picker",
    "achievements.celebrate", "achievements.index", "achievements.mark_celebrated", "achievements.wall",
    "allowance.me",
    "members.language", "members.save_language",
    "api.alltime_leaderboard", "api.api_docs", "api.auth_me", "api.badge_catalogue", "api.child_performance_report",
    "api.claim", "api.clear_user_goal", "api.complete", "api.family_info", "api.get_family_chore", "api.get_me",
    "api.get_my_preferences", "api.get_one_assignment", "api.get_user", "api.list_assignments",
    "api.list_exceptions", "api.list_family_chores", "api.list_family_redemptions", "api.list_family_rewards",
    "api.list_patterns", "api.list_settings", "api.list_users", "api.login", "api.member_badge_wall",
    "api.my_assignments", "api.my_goal", "api.notifications_get_preferences", "api.notifications_list",
    "api.notifications_mark_all_read", "api.notifications_mark_read", "api.notifications_put_preferences",
    "api.openapi_document", "api.point_presets", "api.read_setting", "api.redeem_reward",
    "api.replace_my_preferences", "api.schedule", "api.set_user_goal", "api.update_me", "api.user_allowance_schedule",
    "api.user_conversions", "api.user_money_statement", "api.user_points", "api.user_redeemed_rewards",
    "api.user_stats", "api.user_transactions", "api.version", "api.weekly_leaderboard",
    "family_health.health", "family_health.health_detailed", "family_home.index", "live.events",
    "notifications.bell", "notifications.index", "notifications.mark_all_read", "notifications.mark_read",
    "notifications.open", "notifications.preferences",
    "offline.manifest", "offline.offline_page", "offline.service_worker",
    "onboarding.join",
    "reports.calendar_feed",
    "rewards.request_item", "rewards.reward_photo", "rewards.save_for", "rewards.stop_saving", "rewards.store",
    "rewards.store_panel",
    "settings.calendar", "settings.create_calendar", "settings.revoke_calendar",
    "static",
    "tablet.claim_chore", "tablet.complete_chore", "tablet.done", "tablet.family_wall", "tablet.keypad",
    "tablet.kid_chores", "tablet.kid_home", "tablet.kid_stats", "tablet.photo", "tablet.photo_thumb",
    "tablet.still_here", "tablet.unlock", "tablet.wall", "tablet.wall_board",
}
# Route variables filled with the seeded family's rows (a kid is refused before any of them is looked at).
ROW_VARIABLES = {"member_id": "kid", "user_id": "kid", "child_id": "kid", "chore_id": "chore",
                 "assignment_id": "waiting", "reward_id": "reward", "redemption_id": "redemption",
                 "notification_id": "notification", "webhook_id": "webhook", "delivery_id": "delivery",
                 "device_id": "device", "rule_id": "pattern"}
PLAIN_VARIABLES = {"step": "kids", "group": "general", "key": "week_start_day"}
LOGIN = "/login?next="


def family_rules(flask_app: Flask) -> list[Rule]:
    return sorted((r for r in flask_app.url_map.iter_rules() if r.subdomain == "<family>"), key=lambda r: r.rule)


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


@dataclass
class Household:
    """A family with a row in every table, a kid's page session and the kid's API token."""

    app: Flask
    family: SeededFamily
    kid_token: Credential

    def kid_browser(self) -> Credential:
        session = member_session(self.family, fresh_session(self.app, self.family, "kid"))
        return cookie_credential(self.app, "kid-cookie", self.family, session)

    def path(self, rule: Rule) -> str:
        values = {name: self.family.ids[ROW_VARIABLES[name]] if name in ROW_VARIABLES else PLAIN_VARIABLES[name]
                  for name in rule.arguments - {"family"}}
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), path)
        return path


@pytest.fixture(scope="module")
def household(app: Flask) -> Household:
    family = seed_family(app, "Policyfam")
    return Household(app=app, family=family, kid_token=bearer(app, "kid-jwt", family, family.kid_jwt))


def _send(household: Household, credential: Credential, method: str, path: str, headers: dict[str, str]
          ) -> tuple[int, str, str]:
    client = client_with(household.app, household.family.record, credential, "10.9.0.1")
    kwargs: dict[str, Any] = {"method": method, "headers": {**credential.headers, **headers}}
    if method != "GET":
        kwargs["headers"]["X-CSRFToken"] = credential.csrf
        if path.startswith("/api/"):
            kwargs["json"] = {}
        else:
            kwargs["data"] = {"csrf_token": credential.csrf}
    response = client.open(path, **kwargs)
    try:
        return response.status_code, response.headers.get("Location", ""), response.get_data(as_text=True)
    finally:
        response.close()


ROUTE_CASES = [pytest.param(endpoint, id=endpoint) for endpoint in sorted(PARENT_ONLY_ROUTES)]


@pytest.mark.parametrize("endpoint", ROUTE_CASES)
def test_every_parent_only_route_refuses_a_kid(household: Household, endpoint: str) -> None:
    """A kid's session (plain and htmx) or token gets 403 from every method of the route, and nothing changes; a
    browser without a session is sent to sign in, htmx without one gets 401."""
    rules = [rule for rule in family_rules(household.app) if rule.endpoint == endpoint]
    assert rules, f"{endpoint} is not a family route any more"
    kid = household.kid_browser()
    before = family_rows(household.app, household.family.record)
    problems = []
    for rule in rules:
        view = household.app.view_functions[endpoint]
        if not getattr(view, "parents_only", False):
            problems.append(f"{endpoint}: not behind @parent_required / @api_parent_required")
        path = household.path(rule)
        for method in methods_of(rule):
            if rule.rule.startswith("/api/"):
                status, _, body = _send(household, household.kid_token, method, path, {})
                if status != 403 or not re.fullmatch(r'\{"error":"Only parents can [^"]+"\}', body.strip()):
                    problems.append(f"kid token {method} {path}: {status} {body[:200]!r}")
                continue
            for headers in ({}, {"HX-Request": "true"}):
                status, _, body = _send(household, kid, method, path, headers)
                if status != 403 or "Only parents can open this page." not in body:
                    problems.append(f"kid {headers} {method} {path}: {status} {body[:200]!r}")
            anonymous = cookie_credential(household.app, "anonymous", household.family, {})
            status, location, _ = _send(household, anonymous, method, path, {})
            if status != 302 or not location.startswith(LOGIN):
                problems.append(f"anonymous {method} {path}: {status} → {location!r}")
            status, _, _ = _send(household, anonymous, method, path, {"HX-Request": "true"})
            if status != 401:
                problems.append(f"anonymous htmx {method} {path}: {status}")
    changed = row_changes(before, family_rows(household.app, household.family.record))
    assert not changed, f"a refused request changed rows: {changed}"
    assert not problems, "\n".join(problems)


def test_every_family_route_is_classified(app: Flask) -> None:
    """A route added without saying here whether kids may use it fails; so does a parent-only one without its
    decorator, and a kids' route carrying it."""
    endpoints = {rule.endpoint for rule in family_rules(app)}
    assert endpoints - PARENT_ONLY_ROUTES - KID_ROUTES == set(), "classify these routes in tests/test_policy.py"
    assert (PARENT_ONLY_ROUTES | KID_ROUTES) - endpoints == set(), "these classified routes no longer exist"
    assert PARENT_ONLY_ROUTES & KID_ROUTES == set()
    marked = {endpoint for endpoint in endpoints if getattr(app.view_functions[endpoint], "parents_only", False)}
    assert marked == PARENT_ONLY_ROUTES, {"undecorated": PARENT_ONLY_ROUTES - marked,
                                         "decorated kids' routes": marked - PARENT_ONLY_ROUTES}
