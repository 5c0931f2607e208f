"""Who may sign in, how, and for how long: passwords, PINs, lockouts, sessions and tablet devices."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, func, select, update, CursorResult
from sqlalchemy.orm import joinedload, Session

from app.auth.lockout import (
    LOCKOUT_WINDOW, check_and_count_failure, clear_failures, locked_out, member_password_account,
    member_pin_account, user_account)
from app.auth.models import MemberSession, TabletDevice
from app.events import AccessRevoked, record
from app.domain import AuthenticationFailed, Forbidden, NotFound, ValidationFailed
from app.inputs import clean_text
from app.languages import phrase, translatable
from app.members.models import Member
from app.platform.models import FamilyMembership, User
from app.policy import require_parent
from app.security import hash_secret, verify_secret

SESSION_LIFETIME = timedelta(hours=12)
REMEMBERED_SESSION_LIFETIME = timedelta(days=30)
TABLET_TURN_LIFETIME = timedelta(minutes=30)  # a kid's turn on the tablet never lasts longer, however busy
# A turn's activity is written at most this often, so a turn ends between the family's idle time and this much
# later after its last activity (never sooner: activity in between may not have been written yet).
TURN_ACTIVITY_RESOLUTION = timedelta(seconds=5)
LAST_SEEN_RESOLUTION = timedelta(minutes=5)  # write last_seen_at at most this often
GENERIC_LOGIN_ERROR = translatable("Invalid username or password")
# Verifying against a real hash when the account does not exist keeps timing from revealing which names exist.
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def new_token() -> tuple[str, str]:
    """A fresh random token and the sha256 hex digest that is stored instead of it."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    """The stored form of a session or device token."""
    return hashlib.sha256(raw.encode()).hexdigest()


# --- finding the member ---------------------------------------------------------------------------------------

def find_member_by_login(session: Session, *, family_id: uuid.UUID, identifier: str) -> Member | None:
    """The member a login name points at: an email (a parent's platform account) or a username."""
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    if "@" in identifier:
        member_id = session.scalar(
            select(FamilyMembership.member_id).join(User, User.id == FamilyMembership.user_id)
            .where(func.lower(User.email) == identifier, FamilyMembership.family_id == family_id))
        return session.get(Member, member_id) if member_id else None
    return session.scalar(select(Member).where(Member.username_key == identifier))


# --- authentication -------------------------------------------------------------------------------------------

def password_account_of(session: Session, member: Member) -> tuple[str, str | None]:
    """The lockout account and the hash a member's password is checked against.

    Parents with a platform account use that account's password, so they share its lockout with the apex.
    """
    if member.user_id is not None:
        user = session.get(User, member.user_id)
        if user is not None and user.password_hash:
            return user_account(user.id), user.password_hash
    return member_password_account(member.id), member.password_hash


def authenticate_password(session: Session, *, family_id: uuid.UUID, identifier: str, password: str,
                          now: datetime) -> Member:
    """The member whose login name and password match; every try counts towards the account's lockout.

    The caller commits even when this raises, so the failure is remembered.
    """
    member = find_member_by_login(session, family_id=family_id, identifier=identifier)
    if member is None:
        verify_secret(_DUMMY_HASH, password)
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    account, password_hash = password_account_of(session, member)
    last_try = check_and_count_failure(session, account, now, member_id=str(member.id))
    if not verify_secret(password_hash, password):
        if last_try:
            raise locked_out(LOCKOUT_WINDOW, member_id=str(member.id))
        raise AuthenticationFailed(GENERIC_LOGIN_ERROR)
    clear_failures(session, account)
    if not member.can_log_in:
        # Only someone who knows the password learns the account is disabled.
        raise Forbidden("Login is disabled for this user")
    member.last_active_at = now
    return member


def authenticate_pin(session: Session, *, member: Member, pin: str, now: datetime) -> Member:
    """A kid's PIN on the family tablet; five wrong PINs lock the kid's tablet login."""
    if not member.is_active or member.pin_hash is None:
        raise AuthenticationFailed("That PIN didn't work. Try again.")
    account = member_pin_account(member.id)
    last_try = check_and_count_failure(session, account, now, member_id=str(member.id))
    if not verify_secret(member.pin_hash, pin):
        if last_try:
            raise locked_out(LOCKOUT_WINDOW, member_id=str(member.id))
        raise AuthenticationFailed("That PIN didn't work. Try again.")
    clear_failures(session, account)
    member.last_active_at = now
    return member


# --- sessions -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionStart:
    token: str
    record: MemberSession


def turn_expiry(*, started: datetime, last_activity: datetime, idle: timedelta) -> datetime:
    """When a kid's turn on the tablet ends: the family's idle time after its last recorded activity (plus the
    resolution that activity is written at), and never later than the longest turn."""
    return min(last_activity + idle + TURN_ACTIVITY_RESOLUTION, started + TABLET_TURN_LIFETIME)


def start_session(session: Session, member: Member, *, now: datetime, remember: bool = False,
                  device: TabletDevice | None = None, turn_idle: timedelta | None = None,
                  user_agent: str | None = None, ip_address: str | None = None) -> SessionStart:
    """Record a signed-in browser and return the token its cookie will carry.

    A turn on the family tablet (`device`) ends `turn_idle` (the family's setting) after its last activity; a turn
    started without one (seeded by tests or tools) lasts its longest until its first recorded activity.
    """
    raw, digest = new_token()
    if device is not None:
        expires_at = (now + TABLET_TURN_LIFETIME if turn_idle is None
                      else turn_expiry(started=now, last_activity=now, idle=turn_idle))
    else:
        expires_at = now + (REMEMBERED_SESSION_LIFETIME if remember else SESSION_LIFETIME)
    record = MemberSession(member_id=member.id, token_hash=digest, remember=remember,
                           device_id=device.id if device else None, user_agent=(user_agent or "")[:255],
                           ip_address=ip_address, created_at=now, last_seen_at=now, expires_at=expires_at)
    session.add(record)
    session.flush()
    return SessionStart(token=raw, record=record)


# Built once: every request runs it, and an immutable statement is walked by the family scoping and keyed for
# SQLAlchemy's compiled cache once per process instead of being rebuilt per request (a tenth of a cached kid view).
_SESSION_BY_TOKEN = (select(MemberSession).where(MemberSession.token_hash == bindparam("token_hash"))
                     .options(joinedload(MemberSession.member)))


@dataclass(frozen=True)
class SessionLookup:
    """What a cookie's token found: the live session, or why there is none that a person should hear about."""

    record: MemberSession | None
    turn_ended: bool = False  # a kid's turn on the tablet that ran out (idle, or its longest) since the last request


def load_session(session: Session, raw_token: str, now: datetime) -> SessionLookup:
    """The live session for a cookie token (its member active and allowed to log in).

    A kid's turn on the tablet has a sliding end (`record_turn_activity` moves it); browser sessions get their
    last-seen time refreshed here (the view commits it).
    """
    record = session.scalar(_SESSION_BY_TOKEN, {"token_hash": hash_token(raw_token)})
    if record is None or record.revoked_at is not None:
        return SessionLookup(None)
    if record.expires_at <= now:
        return SessionLookup(None, turn_ended=record.device_id is not None)
    member = record.member
    # A kid's turn on the family tablet needs only an active member (PIN); browser sessions need login enabled.
    if not member.is_active or (record.device_id is None and not member.login_enabled):
        return SessionLookup(None)
    if record.device_id is None and now - record.last_seen_at > LAST_SEEN_RESOLUTION:
        record.last_seen_at = now
    return SessionLookup(record)


def turn_activity_due(record: MemberSession, now: datetime) -> bool:
    """Whether this request's activity on a kid's tablet turn should be written (at most every few seconds)."""
    return record.device_id is not None and now - record.last_seen_at >= TURN_ACTIVITY_RESOLUTION


def record_turn_activity(record: MemberSession, now: datetime, idle: timedelta) -> None:
    """A kid did something on the tablet: their turn ends the family's idle time from now (the caller commits)."""
    record.last_seen_at = now
    record.expires_at = turn_expiry(started=record.created_at, last_activity=now, idle=idle)


def end_session(session: Session, raw_token: str, now: datetime) -> None:
    """Sign this browser out (its open live stream ends once this commits)."""
    ended = session.scalars(update(MemberSession).where(MemberSession.token_hash == hash_token(raw_token),
                                                        MemberSession.revoked_at.is_(None))
                            .values(revoked_at=now).returning(MemberSession.id)).all()
    if ended:
        record(session, AccessRevoked(session_ids=tuple(ended)))


def end_all_sessions(session: Session, member: Member, now: datetime) -> int:
    """Sign a member out of every browser, tablet turn and API token ("sign out everywhere", a password change,
    deactivation): sessions are revoked and the token version moves on, so every issued JWT stops matching."""
    member.token_version = Member.token_version + 1  # in SQL: two revocations at once both count
    result = session.execute(update(MemberSession).where(MemberSession.member_id == member.id,
                                                         MemberSession.revoked_at.is_(None))
                             .values(revoked_at=now))
    record(session, AccessRevoked(member_ids=(member.id,)))  # every open stream of theirs ends, token or cookie
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE answers with a cursor result


# --- tablet devices -------------------------------------------------------------------------------------------

def register_device(session: Session, actor: Member, *, name: str, now: datetime) -> tuple[TabletDevice, str]:
    """Mark a browser as the family tablet; returns the device and the token for its cookie."""
    require_parent(actor)
    try:
        name = clean_text(name) or "Family tablet"
    except ValueError as problem:
        raise ValidationFailed(phrase("Device name %(problem)s", problem=phrase(str(problem))),
                               fields={"name": "invalid"}) from None
    if len(name) > 80:
        raise ValidationFailed("Device name is too long (80 characters at most)", fields={"name": "too long"})
    raw, digest = new_token()
    device = TabletDevice(name=name, token_hash=digest, registered_by=actor.id, created_at=now, last_seen_at=now)
    session.add(device)
    session.flush()
    return device, raw


def load_device(session: Session, raw_token: str | None, now: datetime) -> TabletDevice | None:
    """The registered, unrevoked tablet a device cookie names."""
    if not raw_token:
        return None
    device = session.scalar(select(TabletDevice).where(TabletDevice.token_hash == hash_token(raw_token)))
    if device is None or device.revoked_at is not None:
        return None
    if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_RESOLUTION:
        device.last_seen_at = now
    return device


def list_devices(session: Session) -> list[TabletDevice]:
    """The family's registered tablets, newest first, revoked ones included for the record."""
    return list(session.scalars(select(TabletDevice).order_by(TabletDevice.created_at.desc())))


def revoke_device(session: Session, actor: Member, device_id: uuid.UUID, now: datetime) -> TabletDevice:
    """Stop a tablet working at once, ending any kid's turn on it."""
    require_parent(actor)
    device = session.get(TabletDevice, device_id)
    if device is None:
        raise NotFound("Device not found")
    if device.revoked_at is None:
        device.revoked_at = now
        session.execute(update(MemberSession).where(MemberSession.device_id == device.id,
                                                    MemberSession.revoked_at.is_(None)).values(revoked_at=now))
        record(session, AccessRevoked(device_ids=(device.id,)))
    return device
