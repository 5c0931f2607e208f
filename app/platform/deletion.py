"""Deleting a family (soft at once, purged after a grace period) and deleting a platform account.

`delete_family` and `cancel_deletion` are ordinary services (flush, never commit: the caller's unit of work does).
`purge_families` spans databases and files, so like provisioning and moves it commits itself, family by family.
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.assignments.photos import family_folder
from app.audit import record_audit
from app.auth.models import MemberSession, TabletDevice
from app.db.engines import EngineRegistry
from app.domain import AuthenticationFailed, Conflict, Forbidden, NotFound
from app.events import AccessRevoked, record
from app.languages import phrase, translatable
from app.platform.models import AuditLog, Family, FamilyMembership, FamilyPlacement, Invitation, MembershipRole, \
    PlatformAnalytics, Subscription, User
from app.policy import Actor, require_parent
from app.security import verify_secret
from app.tenancy.copying import erase_family_rows
from app.tenancy.databases import drop_database
from app.tenancy.provisioning import Placement
from app.tenancy.registry import family_database_url

GRACE_DAYS = 30
WRONG_PASSWORD = translatable("That password is not right.")
ONLY_OWNER = translatable("Only the family's owner can delete the family or cancel its deletion.")


class PurgeRefused(ValueError):
    """A family cannot be purged now (still in its grace period, not deleted, already purged)."""


@dataclass(frozen=True)
class PurgeResult:
    """One purged family: what was removed."""

    slug: str
    rows: int
    dropped_database: bool
    removed_files: bool


def purge_due(deleted_at: datetime, grace_days: int = GRACE_DAYS) -> datetime:
    """When a family deleted at `deleted_at` is purged."""
    return deleted_at + timedelta(days=grace_days)


def _owner_membership(platform: Session, family_id: uuid.UUID, *, member_id: uuid.UUID | None = None,
                      user_id: uuid.UUID | None = None) -> FamilyMembership | None:
    query = select(FamilyMembership).where(FamilyMembership.family_id == family_id,
                                           FamilyMembership.role == MembershipRole.OWNER)
    if member_id is not None:
        query = query.where(FamilyMembership.member_id == member_id)
    if user_id is not None:
        query = query.where(FamilyMembership.user_id == user_id)
    return platform.scalars(query).first()


def delete_family(session: Session, actor: Actor, *, family_id: uuid.UUID, password: str, now: datetime,
                  ip_address: str | None = None) -> Family:
    """The owner, re-entering their password, deletes the family: 410 everywhere at once, purged after the grace.

    Every page session and tablet is signed out in the same transaction (`session` spans both databases).
    """
    member = require_parent(actor)
    membership = _owner_membership(session, family_id, member_id=member.id)
    if membership is None:
        raise Forbidden(ONLY_OWNER)
    user = session.get(User, membership.user_id)
    if user is None or user.deleted_at is not None or not verify_secret(user.password_hash, password):
        raise AuthenticationFailed(WRONG_PASSWORD, fields={"password": WRONG_PASSWORD})
    family = session.get(Family, family_id)
    if family is None or family.deleted_at is not None:
        raise NotFound("This family is already scheduled for deletion.")
    family.deleted_at = now
    session.execute(update(MemberSession).where(MemberSession.revoked_at.is_(None)).values(revoked_at=now))
    session.execute(update(TabletDevice).where(TabletDevice.revoked_at.is_(None)).values(revoked_at=now))
    record(session, AccessRevoked(whole_family=True))  # the family's open streams end with its sign-ins
    record_audit(session, "family.deletion_requested", family_id=family_id, actor_user_id=user.id,
                 actor_member_id=member.id, target_type="family", target_id=family_id, ip_address=ip_address)
    session.flush()
    return family


def delete_family_by_operator(session: Session, operator: User, *, family_id: uuid.UUID, now: datetime,
                              ip_address: str | None = None) -> Family:
    """An operator deletes a family (the console): the same 410 and grace as the owner's deletion, audited.

    The operator's session is a platform one, so the family's page sessions are not revoked here: the 410 stops them,
    and a cancelled deletion lets them on again.
    """
    if not operator.is_operator or operator.deleted_at is not None:
        raise Forbidden("Only operators can delete another family.")
    family = session.get(Family, family_id)
    if family is None or family.purged_at is not None:
        raise NotFound("There is no such family.")
    if family.deleted_at is not None:
        raise Conflict(phrase("%(name)s is already scheduled for deletion.", name=family.name))
    family.deleted_at = now
    record_audit(session, "family.deletion_requested", family_id=family_id, actor_user_id=operator.id,
                 target_type="family", target_id=family_id, ip_address=ip_address, details={"by": "operator"})
    session.flush()
    return family


def scheduled_deletions_of(session: Session, user_id: uuid.UUID, grace_days: int = GRACE_DAYS
                           ) -> list[tuple[Family, datetime]]:
    """Families this user owns that are deleted but not yet purged, with their purge date (the apex's cancel list)."""
    families = session.scalars(
        select(Family).join(FamilyMembership, FamilyMembership.family_id == Family.id)
        .where(FamilyMembership.user_id == user_id, FamilyMembership.role == MembershipRole.OWNER,
               Family.deleted_at.is_not(None), Family.purged_at.is_(None))
        .order_by(Family.name))
    return [(family, purge_due(family.deleted_at, grace_days)) for family in families if family.deleted_at]


def cancel_deletion(session: Session, user: User, *, slug: str, now: datetime, grace_days: int = GRACE_DAYS,
                    ip_address: str | None = None) -> Family:
    """The owner (signed in at the apex), or an operator, takes the deletion back during the grace period."""
    family = session.scalars(select(Family).where(Family.slug == slug)).first()
    allowed = user.deleted_at is None and (user.is_operator or (
        family is not None and _owner_membership(session, family.id, user_id=user.id) is not None))
    if family is None or family.purged_at is not None or not allowed:
        # Not the owner looks the same as no such family: the apex does not confirm who owns what.
        raise Forbidden(ONLY_OWNER)
    if family.deleted_at is None:
        raise Conflict(phrase("%(name)s is not scheduled for deletion.", name=family.name))
    if purge_due(family.deleted_at, grace_days) <= now:
        raise Conflict(phrase("The grace period for %(name)s has ended; it can no longer be restored.",
                              name=family.name))
    family.deleted_at = None
    record_audit(session, "family.deletion_cancelled", family_id=family.id, actor_user_id=user.id,
                 target_type="family", target_id=family.id, ip_address=ip_address)
    session.flush()
    return family


def purge_families(platform: Session, engines: EngineRegistry, placement: Placement, *, now: datetime,
                   uploads_root: Path, slug: str | None = None, grace_days: int = GRACE_DAYS,
                   forget: Callable[[str], None] | None = None) -> list[PurgeResult]:
    """Purge every family past its grace (or just `slug`, refused while in grace): rows, files, database, platform.

    The platform row stays as a tombstone (id, slug, dates) so audit rows keep pointing at something; its name and
    everything personal around it go. Commits per family.
    """
    if slug is not None:
        family = platform.scalars(select(Family).where(Family.slug == slug)).first()
        if family is None:
            raise PurgeRefused(f"There is no family '{slug}'.")
        if family.purged_at is not None:
            raise PurgeRefused(f"Family '{slug}' was already purged on {family.purged_at:%Y-%m-%d}.")
        if family.deleted_at is None:
            raise PurgeRefused(f"Family '{slug}' is not deleted; delete it first (the owner, from its settings).")
        due = purge_due(family.deleted_at, grace_days)
        if due > now:
            raise PurgeRefused(f"Family '{slug}' is in its grace period until {due:%Y-%m-%d %H:%M} UTC; "
                               "the owner can still cancel, so it cannot be purged yet.")
        families = [family]
    else:
        families = list(platform.scalars(select(Family).where(
            Family.deleted_at.is_not(None), Family.deleted_at <= now - timedelta(days=grace_days),
            Family.purged_at.is_(None), Family.moving_since.is_(None)).order_by(Family.deleted_at)))
    results = []
    for family in families:
        results.append(_purge(platform, engines, placement, family, now, uploads_root))
        if forget is not None:
            forget(family.slug)
    return results


def _purge(platform: Session, engines: EngineRegistry, placement: Placement, family: Family, now: datetime,
           uploads_root: Path) -> PurgeResult:
    url = family_database_url(family, pooled_url=placement.pooled_url, dedicated_template=placement.dedicated_template,
                              clusters=placement.all_clusters())
    dedicated = family.placement == FamilyPlacement.DEDICATED
    rows = 0
    if dedicated:
        engines.discard(url)
        drop_database(url, placement.owner)
    else:
        rows = erase_family_rows(url, family.id, placement.owner)
    folder = family_folder(uploads_root, family.id)
    removed_files = folder.exists()
    shutil.rmtree(folder, ignore_errors=True)
    for model in (FamilyMembership, Invitation, Subscription, PlatformAnalytics):
        platform.execute(delete(model).where(model.family_id == family.id))
    # Audit rows keep who (ids) did what (action) to which family, and nothing else.
    platform.execute(update(AuditLog).where(AuditLog.family_id == family.id)
                     .values(details={}, message=None, ip_address=None))
    family.name = "Deleted family"
    family.database_key = None
    family.purged_at = now
    record_audit(platform, "family.purged", family_id=family.id, target_type="family", target_id=family.id)
    platform.commit()
    return PurgeResult(family.slug, rows, dedicated, removed_files)


def delete_account(session: Session, user: User, *, password: str, now: datetime) -> None:
    """A person deletes their platform account: memberships and personal fields go, the id stays for the audit."""
    if user.deleted_at is not None or not verify_secret(user.password_hash, password):
        raise AuthenticationFailed(WRONG_PASSWORD, fields={"password": WRONG_PASSWORD})
    owned = session.scalars(
        select(Family.name).join(FamilyMembership, FamilyMembership.family_id == Family.id)
        .where(FamilyMembership.user_id == user.id, FamilyMembership.role == MembershipRole.OWNER,
               Family.deleted_at.is_(None))).all()
    if owned:
        raise Conflict(phrase("You own %(families)s: delete the family (or hand it over) before your account.",
                              families=", ".join(owned)))
    session.execute(delete(FamilyMembership).where(FamilyMembership.user_id == user.id))
    # Audit rows keep ids and actions only: what they said about this person (failed sign-ins name the email) goes.
    session.execute(update(AuditLog).where(AuditLog.details["email"].as_string() == user.email.lower())
                    .values(details={}, message=None, ip_address=None))
    user.email = f"deleted-{user.id.hex}@deleted.invalid"
    user.display_name = "Deleted account"
    user.password_hash = None
    user.email_verified_at = None
    user.last_login_at = None
    user.is_operator = False
    user.deleted_at = now
    session.execute(update(AuditLog).where(AuditLog.actor_user_id == user.id)
                    .values(details={}, message=None, ip_address=None))
    record_audit(session, "user.deleted", actor_user_id=user.id, target_type="user", target_id=user.id)
    session.flush()
