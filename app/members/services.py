"""Rules about the family's members, shared by pages, API, CLI and jobs."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import Conflict, Forbidden, NotFound, PlanLimitReached, ValidationFailed
from app.inputs import ascii_date, clean_text
from app.languages import clean_language, phrase
from app.members.inputs import LanguageChoice, MemberChanges, MemberInput, MemberPreferences
from app.members.models import Member, MemberRole
from app.platform.models import FamilyMembership, MembershipRole
from app.policy import SystemActor, require_parent, require_parent_or_system, require_self_or_parent
from app.security import hash_secret

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,29}$")
PIN_PATTERN = re.compile(r"^[0-9]{4,6}$")
COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = frozenset({"password12", "password123", "1234567890", "qwertyuiop", "letmein123",
                              "iloveyou12", "housepoints", "0123456789", "abcdefghij"})
# Members a plan allows per role; None means unlimited.
PLAN_LIMITS: dict[str, dict[str, int] | None] = {"free": {"parent": 2, "child": 5}, "premium": None}
DEFAULT_COLOR = "#3498db"
# The colours the member forms offer; the first nobody in the family has yet comes preselected.
DEFAULT_PALETTE: tuple[str, ...] = ("#3498db", "#e84393", "#1e8449", "#d35400", "#8e44ad", "#c0392b", "#16a085",
                                    "#2c3e50")


# --- validation of single values (used by forms and the API alike) --------------------------------------------

def clean_display_name(name: str | None) -> str:
    """1-80 characters after trimming; emoji welcome, HTML is escaped on output."""
    if name is not None and not isinstance(name, str):
        raise ValidationFailed("Names are text", fields={"display_name": "invalid"})
    try:
        name = clean_text(name or "")  # NFC, trimmed; no control, direction-override or line-break character
    except ValueError as problem:
        raise ValidationFailed(phrase("Names %(problem)s", problem=phrase(str(problem))),
                               fields={"display_name": "invalid"}) from None
    if not name:
        raise ValidationFailed("Please enter a name", fields={"display_name": "required"})
    if len(name) > 80:
        raise ValidationFailed("Names can be at most 80 characters", fields={"display_name": "too long"})
    return name


def clean_username(username: str | None) -> str:
    """2-30 letters, digits, dots, dashes or underscores, starting with a letter or digit."""
    username = username.strip() if isinstance(username, str) else ""
    if not USERNAME_PATTERN.match(username):
        raise ValidationFailed("Usernames are 2-30 letters, digits, '.', '-' or '_', starting with a letter or digit",
                               fields={"username": "invalid"})
    return username


def check_password_strength(password: str | None) -> str:
    """At least 10 characters, not a well-known password, not one repeated character."""
    password = password if isinstance(password, str) else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(phrase("Passwords need at least %(least)s characters; a short phrase works well",
                                      least=MIN_PASSWORD_LENGTH), fields={"password": "too short"})
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(phrase("Passwords can be at most %(most)s characters", most=MAX_PASSWORD_LENGTH),
                               fields={"password": "too long"})
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 3:
        raise ValidationFailed("That password is too easy to guess", fields={"password": "too common"})
    return password


def check_pin(pin: str | None) -> str:
    """Four to six digits."""
    pin = pin.strip() if isinstance(pin, str) else ""
    if not PIN_PATTERN.match(pin):
        raise ValidationFailed("PINs are 4 to 6 digits", fields={"pin": "invalid"})
    return pin


def clean_member_email(email: object) -> str | None:
    """An optional contact email: lower-cased, plausible, at most 254 characters."""
    if email in (None, ""):
        return None
    if not isinstance(email, str) or len(email.strip()) > EMAIL_LIMIT or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                                                                    email.strip()):
        raise ValidationFailed("Please enter a valid email address", fields={"email": "invalid"})
    return email.strip().lower()


def clean_color(color: str | None) -> str:
    """A #rrggbb colour (the default blue when empty)."""
    color = (color.strip() if isinstance(color, str) else "") or DEFAULT_COLOR
    if not COLOR_PATTERN.match(color):
        raise ValidationFailed("Colours look like #3498db", fields={"color_theme": "invalid"})
    return color.lower()


def clean_birthdate(value: str | date | None, today: date) -> date | None:
    """A real date in the past 120 years."""
    if value in (None, ""):
        return None
    if not isinstance(value, (str, date)):
        raise ValidationFailed("Birth dates look like 2015-06-30", fields={"birthdate": "invalid"})
    if isinstance(value, str):
        try:
            value = ascii_date(value, midnight_instant=True)  # never cut down to fit
        except ValueError:
            raise ValidationFailed("Birth dates look like 2015-06-30", fields={"birthdate": "invalid"}) from None
    if not date(today.year - 120, 1, 1) <= value <= today:
        raise ValidationFailed("That birth date is not possible", fields={"birthdate": "out of range"})
    return value


# --- queries --------------------------------------------------------------------------------------------------

def list_members(session: Session, *, include_inactive: bool = False) -> list[Member]:
    """The current family's members, parents first, then by name."""
    query = select(Member).order_by(Member.role.desc(), Member.display_name)
    if not include_inactive:
        query = query.where(Member.is_active.is_(True))
    return list(session.scalars(query))


def list_children(session: Session) -> list[Member]:
    """Active kids, by name (the tablet's avatar wall)."""
    return list(session.scalars(select(Member).where(Member.is_active.is_(True), Member.role == "child")
                                .order_by(Member.display_name)))


def get_member_or_404(session: Session, member_id: uuid.UUID | str, *, include_inactive: bool = False) -> Member:
    """The member with this id in the current family, or NotFound (other families' ids are simply not found)."""
    try:
        key = member_id if isinstance(member_id, uuid.UUID) else uuid.UUID(str(member_id))
    except ValueError:
        raise NotFound("User not found") from None
    member = session.get(Member, key)
    if member is None or (not member.is_active and not include_inactive):
        raise NotFound("User not found")
    return member


def username_taken(session: Session, username: str, *, exclude: uuid.UUID | None = None) -> bool:
    """Usernames are unique per family regardless of case."""
    query = select(Member.id).where(Member.username_key == username.strip().lower())
    if exclude is not None:
        query = query.where(Member.id != exclude)
    return session.scalar(query) is not None


def count_active(session: Session, role: str) -> int:
    return session.scalar(select(func.count()).select_from(Member)
                          .where(Member.role == role, Member.is_active.is_(True))) or 0


def check_plan_allows(session: Session, plan: str, role: str) -> None:
    """Raise PlanLimitReached when one more active member of `role` would exceed the plan."""
    limits = PLAN_LIMITS.get(plan, PLAN_LIMITS["free"])
    if limits is None:
        return
    limit = limits[role]
    if count_active(session, role) >= limit:
        raise PlanLimitReached(
            phrase("The free plan includes up to %(limit)s parents. Upgrade to premium to add more.", limit=limit)
            if role == "parent" else
            phrase("The free plan includes up to %(limit)s kids. Upgrade to premium to add more.", limit=limit))


def suggested_colors(session: Session) -> list[str]:
    """The palette with the colours nobody in the family has yet first, so each new member stands apart."""
    used = set(session.scalars(select(Member.color)))
    return [c for c in DEFAULT_PALETTE if c not in used] + [c for c in DEFAULT_PALETTE if c in used]


# --- changes --------------------------------------------------------------------------------------------------

def create_member(session: Session, *, actor: Member | SystemActor, plan: str, today: date,
                  data: MemberInput) -> Member:
    """Add a parent or kid after checking every rule (SYSTEM: sign-up's first parent, an accepted invitation)."""
    parent = require_parent_or_system(actor)
    if data.role not in tuple(MemberRole):
        raise ValidationFailed("Role must be parent or child", fields={"role": "invalid"})
    username = clean_username(data.username)
    display_name = clean_display_name(data.display_name)
    if username_taken(session, username):
        raise Conflict("Username already exists", fields={"username": "taken"})
    check_plan_allows(session, plan, data.role)
    member = Member(username=username, display_name=display_name, role=data.role, color=clean_color(data.color),
                    avatar=data.avatar, birthdate=clean_birthdate(data.birthdate, today),
                    email=clean_member_email(data.email), login_enabled=data.login_enabled, user_id=data.user_id,
                    created_by=parent.id if parent else None)
    if data.password:
        member.password_hash = hash_secret(check_password_strength(data.password))
    if data.pin:
        member.pin_hash = hash_secret(check_pin(data.pin))
    session.add(member)
    session.flush()
    return member


PROFILE_FIELDS = ("phone_number", "school", "notes", "daily_goal", "usually_eats_dinner",
                  "availability_notifications", "auto_approve_work", "avatar")
EMAIL_LIMIT = 254


def _apply_profile(member: Member, changes: MemberChanges) -> None:
    """The profile fields given (None leaves one as it is); blank text clears it."""
    for key in PROFILE_FIELDS:
        value = getattr(changes, key)
        if value is None:
            continue
        if key == "daily_goal" and not 0 <= value <= 10_000:
            raise ValidationFailed(phrase("%(key)s must be a whole number from 0 to 10000", key=key),
                                   fields={key: "invalid"})
        setattr(member, key, (value or None) if isinstance(value, str) else value)


def update_member(session: Session, member: Member, *, actor: Member, today: date, plan: str | None = None,
                  changes: MemberChanges) -> Member:
    """A parent edits a member: names, colour, role (within the plan's limits), login flags and profile fields."""
    require_parent(actor)
    if changes.username is not None:
        username = clean_username(changes.username)
        if username_taken(session, username, exclude=member.id):
            raise Conflict("Username already exists", fields={"username": "taken"})
        member.username = username
    if changes.display_name is not None:
        member.display_name = clean_display_name(changes.display_name)
    if changes.color is not None:
        member.color = clean_color(changes.color)
    if "birthdate" in changes.model_fields_set:
        member.birthdate = clean_birthdate(changes.birthdate, today)
    if changes.email is not None:
        member.email = clean_member_email(changes.email)
    if changes.login_enabled is not None:
        if not changes.login_enabled and member.id == actor.id:
            raise Forbidden("You cannot turn off your own login")
        member.login_enabled = changes.login_enabled
    if changes.role is not None:
        role = changes.role
        if role not in tuple(MemberRole):
            raise ValidationFailed("Role must be parent or child", fields={"role": "invalid"})
        if role != member.role and member.id == actor.id:
            raise Forbidden("You cannot change your own role")
        if role != member.role and member.is_active and plan is not None:
            check_plan_allows(session, plan, role)
        member.role = role
    _apply_profile(member, changes)
    member.updated_by = actor.id
    session.flush()
    return member


def update_own_profile(session: Session, member: Member, *, today: date, changes: MemberChanges) -> list[str]:
    """A member edits their own profile; kids cannot grant themselves auto-approval. Returns the keys applied.

    A kid sending the value they already have, or false, asks for nothing a parent must grant: it is accepted.
    A kid asking to turn it on refuses the whole request (nothing saved), naming the field.
    """
    applied = [key for key in changes.model_fields_set if getattr(changes, key) is not None]
    if not member.is_parent and changes.auto_approve_work and not member.auto_approve_work:
        raise Forbidden("Only parents can change auto-approval", fields={"auto_approve_work": "parent_only"},
                        details="Nothing was saved: only a parent can turn on auto_approve_work. "
                                "Send the other fields without it.")
    if changes.display_name is not None:
        member.display_name = clean_display_name(changes.display_name)
    if changes.color is not None:
        member.color = clean_color(changes.color)
    if changes.email is not None:
        member.email = clean_member_email(changes.email)
    if changes.birthdate is not None:
        member.birthdate = clean_birthdate(changes.birthdate, today)
    _apply_profile(member, changes)
    member.updated_by = member.id
    session.flush()
    return applied


def set_preferences(member: Member, choice: MemberPreferences) -> None:
    """Replace a member's preferences object (the previous service replaced, never merged)."""
    member.preferences = choice.preferences


def set_language(member: Member, *, actor: Member, choice: LanguageChoice) -> None:
    """A member picks their own language (kids too); a parent may pick for anyone in the family."""
    require_self_or_parent(actor, member)
    member.language = clean_language(choice.language)
    member.updated_by = actor.id


def deactivate_member(session: Session, member: Member, *, actor: Member, now: datetime) -> Member:
    """Soft-delete: the member disappears from lists and every session of theirs ends at once."""
    from app.auth.services import end_all_sessions

    require_parent(actor)
    if member.id == actor.id:
        raise ValidationFailed("Cannot delete your own account")
    if member.is_parent and member.user_id is not None and _is_owner(session, member):
        raise Forbidden("Transfer ownership before removing the family owner")
    member.is_active = False
    member.login_enabled = False
    member.updated_by = actor.id
    end_all_sessions(session, member, now)
    session.flush()
    return member


def reactivate_member(session: Session, member: Member, *, actor: Member, plan: str) -> Member:
    """Bring a deactivated member back, within the plan's limits."""
    require_parent(actor)
    if member.is_active:
        return member
    check_plan_allows(session, plan, member.role)
    member.is_active = True
    member.login_enabled = True
    member.updated_by = actor.id
    session.flush()
    return member


def reset_pin(session: Session, member: Member, *, actor: Member, pin: str) -> None:
    """A parent sets a kid's tablet PIN."""
    require_parent(actor)
    member.pin_hash = hash_secret(check_pin(pin))
    member.updated_by = actor.id
    session.flush()


def reset_password(session: Session, member: Member, *, actor: Member, password: str, now: datetime) -> None:
    """A parent sets a kid's password (members with a platform account reset their own by email)."""
    from app.auth.services import end_all_sessions

    require_parent(actor)
    if member.user_id is not None:
        # Their password belongs to their platform account; it is reset by email from the sign-in page.
        raise Forbidden("Parents with an account reset their own password from the sign-in page")
    member.password_hash = hash_secret(check_password_strength(password))
    member.updated_by = actor.id
    end_all_sessions(session, member, now)
    session.flush()


def _is_owner(session: Session, member: Member) -> bool:
    role = session.scalar(select(FamilyMembership.role).where(FamilyMembership.member_id == member.id))
    return role == "owner"


def transfer_ownership(session: Session, *, family_id: uuid.UUID, actor: Member, new_owner: Member) -> None:
    """The owner hands the family to another parent with a platform account; the old owner becomes admin."""
    require_parent(actor)
    if not _is_owner(session, actor):
        raise Forbidden("Only the family owner can transfer ownership")
    if not new_owner.is_parent or new_owner.user_id is None or not new_owner.is_active:
        raise ValidationFailed("Ownership can only go to an active co-parent with an account")
    memberships = {m.member_id: m for m in session.scalars(
        select(FamilyMembership).where(FamilyMembership.family_id == family_id,
                                       FamilyMembership.member_id.in_([actor.id, new_owner.id])))}
    if new_owner.id not in memberships:
        raise ValidationFailed("That parent has no account in this family yet")
    memberships[actor.id].role = MembershipRole.ADMIN
    memberships[new_owner.id].role = MembershipRole.OWNER
    session.flush()


# --- helpers for the members pages and the onboarding wizard (appended) -----------------------------------------

MAX_KID_AGE = 25


def approximate_birthdate(age: int | str | None, today: date) -> date:
    """A birth date for someone `age` whole years old today (about half-way to their next birthday)."""
    from datetime import timedelta

    try:
        years = int(str(age).strip())
    except ValueError:
        raise ValidationFailed("Ages are whole numbers of years", fields={"age": "invalid"}) from None
    if not 0 <= years <= MAX_KID_AGE:
        raise ValidationFailed(phrase("Ages go from 0 to %(most)s years", most=MAX_KID_AGE),
                               fields={"age": "out of range"})
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - timedelta(days=182)


def unique_username(session: Session, display_name: str, *, fallback: str = "kid") -> str:
    """A free username derived from a display name ("Ana María" → "ana", then "ana-2", …; emoji-only → fallback)."""
    import unicodedata

    first_word = (display_name.split() or [""])[0]
    ascii_word = unicodedata.normalize("NFKD", first_word).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_word).strip("-")[:26]
    if not USERNAME_PATTERN.match(base):
        base = fallback
    username, n = base, 2
    while username_taken(session, username):
        username, n = f"{base}-{n}", n + 1
    return username


def promote_to_parent(session: Session, member: Member, *, actor: Member, plan: str, today: date) -> Member:
    """Make a member a parent, within the plan's parent limit and only if they can sign in with a password."""
    require_parent(actor)
    if member.is_parent:
        return member
    if not member.is_active:
        raise ValidationFailed("Reactivate this member before changing their role")
    if member.password_hash is None and member.user_id is None:
        raise ValidationFailed("Set a password for them first: parents sign in with a password",
                               fields={"password": "required"})
    check_plan_allows(session, plan, "parent")
    return update_member(session, member, actor=actor, today=today, changes=MemberChanges(role="parent"))


def membership_roles(session: Session, family_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Member id → platform membership role (owner/admin/member) for the family's parents with an account."""
    rows = session.execute(select(FamilyMembership.member_id, FamilyMembership.role)
                           .where(FamilyMembership.family_id == family_id, FamilyMembership.member_id.is_not(None)))
    return {member_id: role for member_id, role in rows if member_id is not None}
