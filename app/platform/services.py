"""Platform account rules: sign-up, apex sign-in, email checks, password resets, invites and family hand-offs."""
from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.languages import translatable
from app.auth.lockout import LOCKOUT_WINDOW, check_and_count_failure, clear_failures, locked_out, user_account
from app.auth.tokens import read_link, sign_link
from app.db.engines import EngineRegistry
from app.domain import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from app.members.inputs import MemberInput
from app.events import record, CoparentJoined
from app.members.models import Member
from app.members.services import check_password_strength, clean_display_name, create_member, username_taken
from app.platform.models import Family, FamilyMembership, Invitation, UsedToken, User
from app.policy import SYSTEM, require_parent
from app.tenancy.slugs import slugify
from app.security import hash_secret, verify_secret
from app.tenancy.provisioning import Placement, ProvisioningError, check_slug_available, provision_family

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
INVITE_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
VERIFY_LIFETIME = timedelta(days=3)
HANDOFF_LIFETIME = timedelta(seconds=60)
GENERIC_SIGN_IN_ERROR = translatable("Invalid email or password")
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


def clean_email(email: str | None) -> str:
    """A lower-cased, plausible email address."""
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise ValidationFailed("Please enter a valid email address", fields={"email": "invalid"})
    return email


def find_user_by_email(session: Session, email: str) -> User | None:
    """The platform account for an email address."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


# --- sign-up --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignUp:
    family: Family
    user: User
    member_id: uuid.UUID


def parent_username(display_name: str) -> str:
    """A username proposal for the first parent ("Ana María" → "ana-maria")."""
    candidate = slugify(display_name.split()[0] if display_name.split() else "parent")[:30]
    return candidate if re.match(r"^[a-z0-9][a-z0-9._-]{1,29}$", candidate) else "parent"


def sign_up_family(platform_session: Session, engines: EngineRegistry, placement: Placement, *, email: str,
                   password: str, display_name: str, family_name: str, slug: str, timezone: str, now: datetime,
                   ip_address: str | None = None, placement_kind: str | None = None) -> SignUp:
    """Create the account, the family, the owner membership and the parent member, all or nothing.

    `placement_kind` defaults to the configured placement (`placement.default_kind`: dedicated on SQLite).
    """
    email = clean_email(email)
    check_password_strength(password)
    display_name = clean_display_name(display_name)
    family_name = (family_name or "").strip()
    if not 1 <= len(family_name) <= 120:
        raise ValidationFailed("Please give your family a name (up to 120 characters)",
                               fields={"family_name": "invalid"})
    slug = (slug or "").strip().lower()
    try:
        check_slug_available(platform_session, slug)
    except ProvisioningError as error:
        raise ValidationFailed(error.said, fields={"slug": "unavailable"}, alternatives=error.alternatives) from None
    if find_user_by_email(platform_session, email) is not None:
        # Same words whether or not the address exists elsewhere: sign-up never confirms an account.
        raise Conflict("We couldn't create an account with that email. If you already have one, sign in instead.",
                       fields={"email": "unavailable"})
    user = User(email=email, display_name=display_name, password_hash=hash_secret(password))
    platform_session.add(user)
    created: dict[str, uuid.UUID] = {}

    def populate(family_session: Session, family: Family) -> None:
        member = create_member(family_session, actor=SYSTEM, plan=family.plan, today=now.date(), data=MemberInput(
            username=parent_username(display_name), display_name=display_name, role="parent", email=email,
            user_id=user.id))
        platform_session.add(FamilyMembership(user_id=user.id, family_id=family.id, role="owner",
                                              member_id=member.id))
        record_audit(platform_session, "family.signed_up", family_id=family.id, actor_user_id=user.id,
                     actor_member_id=member.id, target_type="family", target_id=family.id, ip_address=ip_address,
                     details={"slug": family.slug, "placement": family.placement})
        created["member_id"] = member.id

    try:
        family = provision_family(platform_session, engines, placement, slug=slug, name=family_name,
                                  placement=placement_kind, timezone=timezone, populate=populate)
    except ProvisioningError as error:
        raise ValidationFailed(error.said, alternatives=error.alternatives) from None
    except IntegrityError:
        # A double-submitted form or a race for the same slug or email: the loser gets a clear answer.
        raise Conflict("That family address or email was just taken. Please check and try again.") from None
    return SignUp(family=family, user=user, member_id=created["member_id"])


# --- apex sign-in and the family picker ------------------------------------------------------------------------

def authenticate_user(session: Session, *, email: str, password: str, now: datetime) -> User:
    """The platform account for an email and password; one message for every failure, and the account's lockout
    (shared with its families' sign-in pages and the API) counts every try. The caller commits even on failure."""
    user = find_user_by_email(session, email or "")
    if user is None or not user.password_hash:
        verify_secret(_DUMMY_HASH, password or "")
        raise AuthenticationFailed(GENERIC_SIGN_IN_ERROR)
    check_password_of(session, user, password or "", now)
    user.last_login_at = now
    return user


def check_password_of(session: Session, user: User, password: str, now: datetime) -> None:
    """Refuse a wrong password for this account (LockedOut once it is locked); every try counts."""
    account = user_account(user.id)
    last_try = check_and_count_failure(session, account, now, user_id=str(user.id))
    if not verify_secret(user.password_hash, password):
        if last_try:
            raise locked_out(LOCKOUT_WINDOW, user_id=str(user.id))
        raise AuthenticationFailed(GENERIC_SIGN_IN_ERROR)
    clear_failures(session, account)


def families_of(session: Session, user_id: uuid.UUID) -> list[tuple[Family, FamilyMembership]]:
    """The live families a user belongs to, by name."""
    rows = session.execute(
        select(Family, FamilyMembership).join(FamilyMembership, FamilyMembership.family_id == Family.id)
        .where(FamilyMembership.user_id == user_id, Family.deleted_at.is_(None))
        .order_by(Family.name))
    return [(family, membership) for family, membership in rows]


def issue_handoff(secret: str, *, user_id: uuid.UUID, family_id: uuid.UUID) -> str:
    """A one-minute, single-use pass that signs a user into one of their families without a password."""
    return sign_link(secret, "handoff", {"u": str(user_id), "f": str(family_id), "n": secrets.token_hex(16)})


def consume_handoff(session: Session, secret: str, token: str, *, family_id: uuid.UUID) -> FamilyMembership:
    """The membership a hand-off admits to this family; each pass works once."""
    payload = read_link(secret, "handoff", token, max_age=int(HANDOFF_LIFETIME.total_seconds()))
    if payload.get("f") != str(family_id):
        raise AuthenticationFailed("This link is not valid.")
    membership = session.scalar(select(FamilyMembership).where(FamilyMembership.user_id == uuid.UUID(payload["u"]),
                                                              FamilyMembership.family_id == family_id))
    if membership is None or membership.member_id is None:
        raise AuthenticationFailed("This link is not valid.")
    _spend_token(session, f"handoff:{payload['n']}", "handoff")
    return membership


def _spend_token(session: Session, token_id: str, purpose: str) -> None:
    if session.get(UsedToken, token_id) is not None:
        raise AuthenticationFailed("This link has already been used.")
    session.add(UsedToken(token_id=token_id, purpose=purpose))
    try:
        session.flush()
    except IntegrityError:
        raise AuthenticationFailed("This link has already been used.") from None


# --- email verification and password reset ---------------------------------------------------------------------

def email_verification_token(secret: str, user: User) -> str:
    """The link token that proves the user reads this mailbox."""
    return sign_link(secret, "verify", {"u": str(user.id), "e": user.email})


def verify_email(session: Session, secret: str, token: str, *, now: datetime) -> User:
    """Mark the address verified (idempotent)."""
    payload = read_link(secret, "verify", token, max_age=int(VERIFY_LIFETIME.total_seconds()))
    user = session.get(User, uuid.UUID(payload["u"]))
    if user is None or user.email != payload.get("e"):
        raise AuthenticationFailed("This link is not valid.")
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user


def _password_fingerprint(user: User) -> str:
    # Part of the current hash: once the password changes, every older reset link stops working.
    return (user.password_hash or "")[-16:]


def password_reset_token(session: Session, secret: str, email: str) -> tuple[User, str] | None:
    """A reset link token for the account with this email, or None (the caller says the same either way)."""
    user = find_user_by_email(session, email or "")
    if user is None:
        return None
    return user, sign_link(secret, "reset", {"u": str(user.id), "p": _password_fingerprint(user)})


def check_password_reset_token(session: Session, secret: str, token: str) -> User:
    """The account a reset link is for, if the link is valid and unused (nothing is changed)."""
    payload = read_link(secret, "reset", token, max_age=int(RESET_LIFETIME.total_seconds()))
    user = session.get(User, uuid.UUID(payload["u"]))
    if user is None or payload.get("p") != _password_fingerprint(user):
        raise AuthenticationFailed("This link has already been used or is no longer valid.")
    return user


def reset_password_with_token(session: Session, secret: str, token: str, *, password: str, now: datetime) -> User:
    """Set a new password from a valid, unused reset link."""
    user = check_password_reset_token(session, secret, token)
    user.password_hash = hash_secret(check_password_strength(password))
    user.updated_at = now
    clear_failures(session, user_account(user.id))  # whoever reads the account's email may sign in again
    record_audit(session, "user.password_reset", actor_user_id=user.id, target_type="user", target_id=user.id)
    return user


# --- co-parent invitations --------------------------------------------------------------------------------------

def create_invitation(session: Session, secret: str, *, family_id: uuid.UUID, inviter: Member, email: str,
                      now: datetime) -> tuple[Invitation, str]:
    """A parent invites a co-parent by email; returns the invitation and its link token."""
    require_parent(inviter)
    email = clean_email(email)
    already = session.scalar(select(FamilyMembership.id).join(User, User.id == FamilyMembership.user_id)
                             .where(FamilyMembership.family_id == family_id, func.lower(User.email) == email))
    if already is not None:
        raise Conflict("That person is already a parent in this family", fields={"email": "member"})
    invitation = Invitation(family_id=family_id, email=email, role="admin", invited_by_member_id=inviter.id,
                            created_at=now, expires_at=now + INVITE_LIFETIME)
    session.add(invitation)
    session.flush()
    record_audit(session, "invitation.created", family_id=family_id, actor_member_id=inviter.id,
                 target_type="invitation", target_id=invitation.id, details={"email": email})
    return invitation, sign_link(secret, "invite", {"i": str(invitation.id)})


def read_invitation(session: Session, secret: str, token: str, *, family_id: uuid.UUID, now: datetime) -> Invitation:
    """The open invitation a link names, for this family only."""
    payload = read_link(secret, "invite", token, max_age=int(INVITE_LIFETIME.total_seconds()))
    invitation = session.get(Invitation, uuid.UUID(payload["i"]))
    if invitation is None or invitation.family_id != family_id:
        raise NotFound("This invitation is not valid.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used.")
    if invitation.revoked_at is not None or invitation.expires_at <= now:
        raise AuthenticationFailed("This invitation has expired. Ask for a new one.")
    return invitation


def _parent_waiting_for_an_account(session: Session, email: str) -> Member | None:
    """An active parent of this family with the invited address and no account yet (imported families' parents)."""
    return session.scalars(select(Member).where(func.lower(Member.email) == email.lower(), Member.role == "parent",
                                                Member.is_active.is_(True), Member.user_id.is_(None))).first()


def accept_invitation(session: Session, invitation: Invitation, *, plan: str, display_name: str,
                      password: str, now: datetime, ip_address: str | None = None) -> Member:
    """The invitee joins as a parent: a new account (or their existing one, password checked) and a member."""
    user = find_user_by_email(session, invitation.email)
    if user is None:
        check_password_strength(password)
        user = User(email=invitation.email, display_name=clean_display_name(display_name),
                    password_hash=hash_secret(password), email_verified_at=now)
        session.add(user)
        session.flush()
    else:
        check_password_of(session, user, password, now)
    member = _parent_waiting_for_an_account(session, invitation.email)
    if member is not None:
        member.user_id = user.id  # a family imported from the previous service: the parent is already a member
    else:
        name = clean_display_name(display_name or user.display_name)
        base = parent_username(name)
        username, n = base, 2
        while username_taken(session, username):
            username, n = f"{base[:27]}-{n}", n + 1
        member = create_member(session, actor=SYSTEM, plan=plan, today=now.date(), data=MemberInput(
            username=username, display_name=name, role="parent", email=user.email, user_id=user.id))
    session.add(FamilyMembership(user_id=user.id, family_id=invitation.family_id, role=invitation.role,
                                 member_id=member.id))
    invitation.accepted_at = now
    try:
        session.flush()
    except IntegrityError:
        # A double-submitted join form: the first one made the membership.
        raise Conflict("You have already joined this family. Sign in instead.") from None
    record_audit(session, "invitation.accepted", family_id=invitation.family_id, actor_user_id=user.id,
                 actor_member_id=member.id, target_type="member", target_id=member.id, ip_address=ip_address)
    record(session, CoparentJoined(member_id=member.id))
    return member
