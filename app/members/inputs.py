"""Members' typed inputs: a new member and changes to one, shared by the members pages, onboarding, sign-up and the
API."""
from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import StrictBool

from app.inputs import BlankIsNone, Input, LocalDate, Secret, Text, WholeNumber

# Username and PIN patterns, password strength, colours, a possible birth date and the plan's limits are the
# service's rules (with the messages the API contract fixes); these models settle types, lengths and characters.
Name = Text(80)
Username = Text(50)
OptionalText = Annotated[Text(1000, multiline=True) | None, BlankIsNone]  # type: ignore[valid-type]


class MemberInput(Input):
    """A new parent or kid."""

    username: Username  # type: ignore[valid-type]
    display_name: Name  # type: ignore[valid-type]
    role: Text(10) = "child"  # type: ignore[valid-type]
    password: Annotated[Secret(1024) | None, BlankIsNone] = None  # type: ignore[valid-type]
    pin: Annotated[Text(32) | None, BlankIsNone] = None  # type: ignore[valid-type]
    birthdate: Annotated[LocalDate | None, BlankIsNone] = None
    color: Annotated[Text(32) | None, BlankIsNone] = None  # type: ignore[valid-type]
    avatar: Annotated[Text(255) | None, BlankIsNone] = None  # type: ignore[valid-type]
    email: Annotated[Text(254) | None, BlankIsNone] = None  # type: ignore[valid-type]
    login_enabled: StrictBool = True
    user_id: uuid.UUID | None = None  # the platform account (sign-up, invitations)


class MemberChanges(Input):
    """Changes to a member (a parent's edit, or a member's own profile): only the fields given change."""

    username: Username | None = None  # type: ignore[valid-type]
    display_name: Name | None = None  # type: ignore[valid-type]
    role: Text(10) | None = None  # type: ignore[valid-type]
    color: Text(32) | None = None  # type: ignore[valid-type]
    birthdate: Annotated[LocalDate | None, BlankIsNone] = None
    email: Text(254) | None = None  # type: ignore[valid-type]
    login_enabled: StrictBool | None = None
    avatar: Text(255) | None = None  # type: ignore[valid-type]
    phone_number: Text(32) | None = None  # type: ignore[valid-type]
    school: Text(120) | None = None  # type: ignore[valid-type]
    notes: OptionalText = None  # type: ignore[valid-type]
    daily_goal: WholeNumber | None = None
    usually_eats_dinner: StrictBool | None = None
    availability_notifications: StrictBool | None = None
    auto_approve_work: StrictBool | None = None


class MemberPreferences(Input):
    """A member's preferences: a JSON object the clients own, stored whole (its size is bounded at the API)."""

    preferences: dict[str, Any]


class LanguageChoice(Input):
    """A member's language: a supported code, or blank to follow the family's default."""

    language: Annotated[Text(5) | None, BlankIsNone] = None  # type: ignore[valid-type]
