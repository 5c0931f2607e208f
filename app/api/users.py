"""The users resource: the family's members as the previous service's clients see them."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import cast, Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.api import bp
from app.api.serializers import created_user, updated_user, user_detail, user_list_item
from app.audit import record_audit
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.db.bases import utcnow
from app.domain import Conflict, ValidationFailed
from app.inputs import Input, parse_input
from app.members.inputs import MemberChanges, MemberInput, MemberPreferences
from app.members.models import Member
from app.members.services import (
    check_plan_allows,
    create_member,
    deactivate_member,
    get_member_or_404,
    list_members,
    reactivate_member,
    reset_password,
    reset_pin,
    set_preferences,
    update_member,
    update_own_profile,
)
from app.policy import acts_for
from app.uow import transactional

# Request keys: (JSON type, longest accepted text). Longer text than a column holds would otherwise reach the
# database as an error; the services' own messages cover the finer rules (username shape, colours, dates).
Spec = dict[str, tuple[type, int]]
LONG_TEXT = 1000
CREATE_FIELDS: Spec = {
    "username": (str, LONG_TEXT), "display_name": (str, LONG_TEXT), "is_parent": (bool, 0), "email": (str, 254),
    "color_theme": (str, LONG_TEXT), "login_enabled": (bool, 0), "password": (str, LONG_TEXT),
    "pin": (str, LONG_TEXT), "birthdate": (str, LONG_TEXT),
}
OWN_PROFILE_FIELDS: Spec = {
    "display_name": (str, LONG_TEXT), "email": (str, 254), "phone_number": (str, 32), "color_theme": (str, LONG_TEXT),
    "avatar_url": (str, 255), "birthdate": (str, LONG_TEXT), "daily_goal": (int, 0), "usually_eats_dinner": (bool, 0),
    "auto_approve_work": (bool, 0), "availability_notifications": (bool, 0),
}
UPDATE_FIELDS: Spec = {
    "username": (str, LONG_TEXT), "display_name": (str, LONG_TEXT), "email": (str, 254),
    "color_theme": (str, LONG_TEXT), "is_parent": (bool, 0), "login_enabled": (bool, 0),
    "availability_notifications": (bool, 0), "auto_approve_work": (bool, 0), "phone_number": (str, 32),
    "school": (str, 120), "notes": (str, 1000), "daily_goal": (int, 0), "usually_eats_dinner": (bool, 0),
    "is_active": (bool, 0), "password": (str, LONG_TEXT), "pin": (str, LONG_TEXT),
}
# API names of member columns that the services call by their own names.
RENAMED = {"color_theme": "color", "avatar_url": "avatar"}
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PREFERENCES_BYTES = 64 * 1024
JSON_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number"}
InputT = TypeVar("InputT", bound=Input)


# --- helpers --------------------------------------------------------------------------------------------------

def family_today() -> date:
    """Today's date where the family lives (ages and birth dates are family-local)."""
    return datetime.now(ZoneInfo(g.family.timezone)).date()


def _error(message: str, status: int, **extra: Any) -> tuple[Response, int]:
    return jsonify(error=message, **extra), status


def _parse_user_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def _read_body(spec: Spec) -> dict[str, Any]:
    """The known keys of a JSON object body, type-checked; `null` counts as absent, unknown keys are ignored."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed("Invalid request body", details="The request body must be a JSON object")
    values: dict[str, Any] = {}
    for key, (kind, longest) in spec.items():
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValidationFailed("Invalid request body", details=f"{key} must be {JSON_TYPE_NAMES[kind]}",
                                   fields={key: "invalid"})
        if kind is str and len(cast(str, value)) > longest:
            raise ValidationFailed(f"{key} can be at most {longest} characters", fields={key: "too long"})
        values[key] = value
    email = values.get("email")
    if email and not EMAIL_PATTERN.match(email.strip()):
        raise ValidationFailed("That email address doesn't look right", fields={"email": "invalid"})
    return values


def _renamed(values: dict[str, Any]) -> dict[str, Any]:
    return {RENAMED.get(key, key): value for key, value in values.items()}


def _typed(model: type[InputT], values: dict[str, Any]) -> InputT:
    """The service's typed input from the body's renamed keys; a refusal names the keys as the client sent them."""
    try:
        return parse_input(model, values)
    except ValidationFailed as error:
        wire = {service: key for key, service in RENAMED.items()}
        error.fields = {wire.get(key, key): message for key, message in error.fields.items()}
        raise


def _flush_conflicts_as_409(action: Callable[[], Any]) -> Any:
    """Run a service; a unique violation from a concurrent request becomes the same 409 the check gives."""
    try:
        return action()
    except IntegrityError:
        raise Conflict("Username already exists", fields={"username": "taken"}) from None


def _audit(action: str, member: Member, **details: Any) -> None:
    record_audit(get_session(), action, family_id=g.family.id, actor_member_id=g.member.id, target_type="member",
                 target_id=member.id, ip_address=request.remote_addr, details=details)


# --- the signed-in member -------------------------------------------------------------------------------------

@bp.get("/users/me")
@api_auth_required
def get_me() -> Response:
    """The token's member in full."""
    return jsonify(user_detail(g.member, today=family_today()))


@bp.patch("/users/me")
@api_auth_required
@transactional
def update_me() -> Response | tuple[Response, int]:
    """A member edits their own profile; kids cannot grant themselves auto-approval."""
    changes = _read_body(OWN_PROFILE_FIELDS)
    if not changes:
        return _error("No fields to update", 400)
    applied = update_own_profile(get_session(), g.member, today=family_today(),
                                 changes=_typed(MemberChanges, _renamed(changes)))
    return jsonify(message="Profile updated successfully", updated_fields=len(applied))


@bp.get("/users/me/preferences")
@api_auth_required
def get_my_preferences() -> Response:
    """Read back what the client stored (the previous service could only write them)."""
    return jsonify(preferences=g.member.preferences or {})


@bp.put("/users/me/preferences")
@api_auth_required
@transactional
def replace_my_preferences() -> Response | tuple[Response, int]:
    """Replace the member's preferences object as a whole."""
    body = request.get_json(silent=True)
    preferences = body.get("preferences") if isinstance(body, dict) else None
    if not isinstance(preferences, dict):
        return _error("Invalid request body", 400, details="preferences is required and must be a JSON object")
    if len(json.dumps(preferences)) > MAX_PREFERENCES_BYTES:
        return _error(f"Preferences can be at most {MAX_PREFERENCES_BYTES // 1024} KB", 400)
    set_preferences(g.member, MemberPreferences(preferences=preferences))
    return jsonify(message="Preferences updated successfully")


# --- the family's members -------------------------------------------------------------------------------------

@bp.get("/users")
@api_auth_required
def list_users() -> Response:
    """Active members, parents first, then by name."""
    today = family_today()
    members = list_members(get_session())
    return jsonify(count=len(members), family_id=str(g.family.id), family_name=g.family.name,
                   users=[user_list_item(member, today=today) for member in members])


@bp.post("/users")
@api_parent_required("Only parents can create users")
@transactional
def create_user() -> tuple[Response, int]:
    """A parent adds a member (a kid unless is_parent), within the plan's limits."""
    values = _read_body(CREATE_FIELDS)
    missing = [key for key in ("username", "display_name") if not values.get(key)]
    if missing:
        return _error("Invalid request body", 400, details=f"{' and '.join(missing)} required",
                      fields={key: "required" for key in missing})
    data = _typed(MemberInput, {
        "username": values["username"], "display_name": values["display_name"],
        "role": "parent" if values.get("is_parent") else "child", "password": values.get("password"),
        "pin": values.get("pin"), "birthdate": values.get("birthdate"), "color": values.get("color_theme"),
        "email": values.get("email"), "login_enabled": values.get("login_enabled", False)})
    session = get_session()
    member = _flush_conflicts_as_409(lambda: create_member(session, actor=g.member, plan=g.family.plan,
                                                           today=family_today(), data=data))
    _audit("member.added", member, role=member.role, username=member.username)
    return jsonify(created_user(member)), 201


@bp.get("/users/<user_id>")
@api_auth_required
def get_user(user_id: str) -> Response | tuple[Response, int]:
    """One member in full; kids may only read themselves."""
    member_id = _parse_user_id(user_id)
    if member_id is None:
        return _error("Invalid user ID format", 400)
    if not acts_for(g.member, member_id):
        return _error("Children can only view their own profile", 403)
    member = get_member_or_404(get_session(), member_id)
    return jsonify(user_detail(member, today=family_today()))


@bp.put("/users/<user_id>")
@api_parent_required("Only parents can update users")
@transactional
def update_user(user_id: str) -> Response | tuple[Response, int]:
    """A parent edits a member: profile, role, login, active state, password and PIN."""
    member_id = _parse_user_id(user_id)
    if member_id is None:
        return _error("Invalid user ID format", 400)
    values = _read_body(UPDATE_FIELDS)
    session = get_session()
    member = get_member_or_404(session, member_id, include_inactive=True)
    if not values:
        return _error("No fields to update", 400)
    actor, plan, now = g.member, g.family.plan, utcnow()
    is_active = values.pop("is_active", None)
    password = values.pop("password", None)
    pin = values.pop("pin", None)
    changes = _renamed(values)
    old_role = member.role
    if "is_parent" in changes:
        changes["role"] = "parent" if changes.pop("is_parent") else "child"
    typed_changes = _typed(MemberChanges, changes)

    def apply() -> None:
        if is_active is True:
            reactivate_member(session, member, actor=actor, plan=plan)
        if changes.get("role", old_role) != old_role and member.is_active and is_active is not False:
            # The plan counts members per role, so a promotion or demotion must fit the new role's limit.
            check_plan_allows(session, plan, changes["role"])
        update_member(session, member, actor=actor, today=family_today(), changes=typed_changes)
        if is_active is False:
            deactivate_member(session, member, actor=actor, now=now)
        if password is not None:
            reset_password(session, member, actor=actor, password=password, now=now)
        if pin is not None:
            reset_pin(session, member, actor=actor, pin=pin)

    was_active = member.is_active
    _flush_conflicts_as_409(apply)
    if member.role != old_role:
        _audit("member.role_changed", member, old_role=old_role, new_role=member.role)
    if member.is_active != was_active:
        _audit("member.reactivated" if member.is_active else "member.removed", member)
    if password is not None or pin is not None:
        # Which credentials changed, never their values.
        _audit("member.credentials_reset", member,
               changed=[name for name, value in (("password", password), ("pin", pin)) if value is not None])
    return jsonify(message="User updated successfully", user=updated_user(member))


@bp.delete("/users/<user_id>")
@api_parent_required("Only parents can delete users")
@transactional
def delete_user(user_id: str) -> Response | tuple[Response, int]:
    """A parent removes a member (soft delete); their sessions and tokens stop working at once."""
    member_id = _parse_user_id(user_id)
    if member_id is None:
        return _error("Invalid user ID format", 400)
    if member_id == g.member.id:
        return _error("Cannot delete your own account", 400)
    session = get_session()
    member = get_member_or_404(session, member_id, include_inactive=True)
    was_active = member.is_active
    deactivate_member(session, member, actor=g.member, now=utcnow())
    if was_active:
        _audit("member.removed", member, username=member.username)
    return jsonify(message="User deleted successfully")

