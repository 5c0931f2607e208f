"""Reading the member forms (add kid/parent, edit, PIN, password) into service arguments, with per-field messages."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import g
from sqlalchemy.orm import Session

from app.i18n import refusal_text
from app.db.bases import utcnow
from app.domain import DomainError, ValidationFailed
from app.members.models import Member
from app.members.services import (
    approximate_birthdate,
    check_password_strength,
    check_pin,
    clean_birthdate,
    clean_color,
    clean_display_name,
    clean_username,
    unique_username,
)

# The avatar picker: animals and things kids like; the demo family's avatars are among them.
AVATAR_CHOICES: tuple[str, ...] = (
    "🦊", "🐻", "🦄", "🦖", "🐼", "🐱", "🐶", "🐸", "🐵", "🦁", "🐯", "🐨",
    "🐰", "🐙", "🦋", "🐢", "🦉", "🐧", "🚀", "⚽", "🎨", "🎸", "🌟", "🌈",
)
# Services name some inputs after the API's keys; the forms' field names differ.
SERVICE_FIELD_NAMES = {"color_theme": "color"}


def family_today() -> date:
    """Today in the family's timezone (ages and birth dates are family-local)."""
    try:
        zone = ZoneInfo(g.family.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return utcnow().astimezone(zone).date()


def now() -> datetime:
    """The instant services stamp (UTC)."""
    return utcnow()


@dataclass
class FormState:
    """What the person typed (never secrets), the message for each field, and one message for the whole form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    notice: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.message is None

    def check(self, name: str, clean: Callable[..., Any], *args: Any) -> Any:
        """Run one validator; remember its message under `name` when it refuses."""
        try:
            return clean(*args)
        except ValidationFailed as error:
            self.errors.setdefault(name, refusal_text(error))
            return None

    def refuse(self, error: DomainError) -> None:
        """A service said no: put its message on the fields it names, or on the form."""
        names = [SERVICE_FIELD_NAMES.get(key, key) for key in error.fields]
        known = [name for name in names if name in self.values or name in ("password", "pin")]
        if known:
            for name in known:
                self.errors.setdefault(name, refusal_text(error))
        else:
            self.message = refusal_text(error)


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _avatar(state: FormState, value: str, current: str | None = None) -> str | None:
    if not value:
        return None
    if value not in AVATAR_CHOICES and value != current:
        state.errors["avatar"] = "Please pick one of the avatars"
        return None
    return value


def _birthdate(state: FormState, today: date) -> date | None:
    """A birth date, or one worked out from an age in years (the birth date wins when both are given)."""
    if state.values.get("birthdate"):
        return cast("date | None", state.check("birthdate", clean_birthdate, state.values["birthdate"], today))
    if state.values.get("age"):
        return cast("date | None", state.check("age", approximate_birthdate, state.values["age"], today))
    return None


def read_kid_form(form: Mapping[str, str], session: Session, today: date) -> tuple[FormState, dict[str, Any]]:
    """Add-a-kid: name, birth date or age, avatar, colour, PIN, and optionally a username and password."""
    state = FormState(values={key: _text(form, key) for key in
                              ("display_name", "birthdate", "age", "avatar", "color", "username")})
    name = state.check("display_name", clean_display_name, state.values["display_name"])
    birthdate = _birthdate(state, today)
    avatar = _avatar(state, state.values["avatar"])
    color = state.check("color", clean_color, state.values["color"])
    pin = state.check("pin", check_pin, form.get("pin"))
    username = state.values["username"]
    if username:
        username = state.check("username", clean_username, username)
    elif name:
        username = unique_username(session, name)
    password = form.get("password") or None
    if password:
        password = state.check("password", check_password_strength, password)
    return state, {"display_name": name, "username": username, "birthdate": birthdate, "avatar": avatar,
                   "color": color, "pin": pin, "password": password, "role": "child"}


def read_parent_form(form: Mapping[str, str]) -> tuple[FormState, dict[str, Any]]:
    """Add a parent who has no platform account: name, username, password, avatar, colour."""
    state = FormState(values={key: _text(form, key) for key in ("display_name", "username", "avatar", "color")})
    name = state.check("display_name", clean_display_name, state.values["display_name"])
    username = state.check("username", clean_username, state.values["username"])
    password = state.check("password", check_password_strength, form.get("password"))
    avatar = _avatar(state, state.values["avatar"])
    color = state.check("color", clean_color, state.values["color"])
    return state, {"display_name": name, "username": username, "password": password, "avatar": avatar,
                   "color": color, "role": "parent"}


def edit_values(member: Member) -> dict[str, Any]:
    """The edit form filled from a member."""
    return {"display_name": member.display_name, "username": member.username, "color": member.color,
            "avatar": member.avatar or "", "birthdate": member.birthdate.isoformat() if member.birthdate else "",
            "login_enabled": member.login_enabled, "auto_approve_work": member.auto_approve_work}


def read_edit_form(form: Mapping[str, str], member: Member, today: date) -> tuple[FormState, dict[str, Any]]:
    """Edit: name, username, colour, avatar, birth date and the two switches (an unticked box means off)."""
    state = FormState(values={key: _text(form, key) for key in
                              ("display_name", "username", "color", "avatar", "birthdate")})
    state.values["login_enabled"] = form.get("login_enabled") == "on"
    state.values["auto_approve_work"] = form.get("auto_approve_work") == "on"
    changes: dict[str, Any] = {
        "display_name": state.check("display_name", clean_display_name, state.values["display_name"]),
        "username": state.check("username", clean_username, state.values["username"]),
        "color": state.check("color", clean_color, state.values["color"]),
        "birthdate": state.check("birthdate", clean_birthdate, state.values["birthdate"], today),
        "login_enabled": state.values["login_enabled"],
        "auto_approve_work": state.values["auto_approve_work"],
    }
    avatar = _avatar(state, state.values["avatar"], current=member.avatar)
    if avatar is not None:
        changes["avatar"] = avatar
    return state, changes


def read_pin_form(form: Mapping[str, str]) -> tuple[FormState, str | None]:
    """A new 4-6 digit PIN."""
    state = FormState()
    return state, state.check("pin", check_pin, form.get("pin"))


def read_password_form(form: Mapping[str, str]) -> tuple[FormState, str | None]:
    """A new password that passes the strength rules."""
    state = FormState()
    return state, state.check("password", check_password_strength, form.get("password"))


def login_means(member: Member) -> list[str]:
    """How a member signs in: their platform account, a password, a tablet PIN."""
    means = []
    if member.user_id is not None:
        means.append("account")
    if member.password_hash:
        means.append("password")
    if member.pin_hash:
        means.append("PIN")
    return means
