"""Operator rules: who is an operator, signing in with a lockout, the families and audit lists, and the actions an
operator takes on a family (suspend, reactivate, change plan), each written to the audit log."""
from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.audit import SECRET_WORDS, record_audit
from app.domain import AuthenticationFailed, Conflict, Forbidden, NotFound, ValidationFailed
from app.events import AccessRevoked, record
from app.inputs import text_problem
from app.members.services import check_password_strength
from app.auth.models import MemberSession, TabletDevice
from app.operator.inputs import DELETED, AuditQuery, DeleteInput, FamilyQuery, PlanInput, SuspendInput
from app.operator.measure import FamilyMeasure
from app.platform.models import AuditLog, Family, FamilyMembership, FamilyStatus, Plan, PlatformAnalytics, \
    Subscription, User
from app.platform.deletion import purge_due
from app.platform.services import check_password_of, clean_email, find_user_by_email
from app.security import hash_secret, verify_secret

FAMILIES_PER_PAGE = 25
AUDIT_PER_PAGE = 50
SIGN_IN_ERROR = "Invalid email or password"
SIGN_IN_FAILED = "operator.sign_in_failed"
_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))

# Daily metrics: platform-wide rows have no family; per-family rows feed the families list.
PLATFORM_METRICS = ("families", "signups", "active_members", "chores_completed")
FAMILY_METRICS = ("members", "active_members", "chores_completed", "rows", "database_bytes")


# --- operators and signing in ----------------------------------------------------------------------------------

def require_operator(user: User | None) -> User:
    """Refuse anyone who is not (or no longer) an operator."""
    if user is None or not user.is_operator:
        raise Forbidden("Only operators can do that")
    return user


def create_operator(session: Session, *, email: str, display_name: str | None, password: str | None) -> User:
    """Make the account with this email an operator (creating it when new); no password means it must be set
    through a one-time link."""
    if text_problem(email or ""):  # a NUL or control character: no address, and no database could store it
        raise ValidationFailed("Please enter a valid email address", fields={"email": "invalid"})
    email = clean_email(email)
    if password is not None:
        check_password_strength(password)
    user = find_user_by_email(session, email)
    if user is None:
        user = User(email=email, display_name=(display_name or email.split("@")[0])[:80])
        session.add(user)
    elif user.is_operator and password is None:
        raise Conflict(f"{email} is already an operator")
    user.is_operator = True
    if password is not None:
        user.password_hash = hash_secret(password)
    session.flush()
    record_audit(session, "operator.created", actor_user_id=None, target_type="user", target_id=user.id,
                 details={"email": email, "with_password": password is not None})
    return user


def authenticate_operator(session: Session, *, email: str, password: str, now: datetime,
                          ip_address: str | None = None) -> User:
    """The operator with this email and password. Every try counts towards the account's one lockout (shared with
    the apex and its families' sign-in); failures are audited. The caller commits even when this raises."""
    user = find_user_by_email(session, email)
    if user is None or not user.password_hash:
        verify_secret(_DUMMY_HASH, password)
        record_audit(session, SIGN_IN_FAILED, ip_address=ip_address, details={"email": email.lower()[:254]})
        raise AuthenticationFailed(SIGN_IN_ERROR)
    try:
        check_password_of(session, user, password, now)  # LockedOut once the account is locked
        if not user.is_operator:  # the same words: the console never confirms who is an operator
            raise AuthenticationFailed(SIGN_IN_ERROR)
    except AuthenticationFailed:
        record_audit(session, SIGN_IN_FAILED, actor_user_id=user.id, target_type="user", target_id=user.id,
                     ip_address=ip_address)
        raise
    user.last_login_at = now
    return user


def operator_session_fingerprint(user: User) -> str:
    """Part of the password hash: a console session ends when the operator's password changes."""
    return (user.password_hash or "")[-16:]


# --- the families list and one family --------------------------------------------------------------------------

@dataclass(frozen=True)
class FamilyRow:
    """One line of the families list: the registry row and its latest daily numbers (None before the first run)."""

    family: Family
    members: int | None
    rows: int | None
    database_bytes: int | None
    measured_on: date | None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    pages: int
    total: int


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page_bounds(total: int, page: int, per_page: int) -> int:
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise NotFound(f"There is no page {page}: the list has {pages} page{'s' * (pages != 1)}.")
    return pages


def list_families(session: Session, query: FamilyQuery) -> Page[FamilyRow]:
    """Families matching the filters, newest first, with their latest measured members, rows and size."""
    statement = select(Family)
    if query.q:
        pattern = _like(query.q)
        statement = statement.where(or_(func.lower(Family.slug).like(pattern, escape="\\"),
                                        func.lower(Family.name).like(pattern, escape="\\")))
    if query.status == DELETED:
        statement = statement.where(Family.deleted_at.is_not(None))
    elif query.status:
        statement = statement.where(Family.status == query.status, Family.deleted_at.is_(None))
    if query.plan:
        statement = statement.where(Family.plan == query.plan)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = _page_bounds(total, query.page, FAMILIES_PER_PAGE)
    families = list(session.scalars(statement.order_by(Family.created_at.desc(), Family.id)
                                    .limit(FAMILIES_PER_PAGE).offset((query.page - 1) * FAMILIES_PER_PAGE)))
    latest = latest_family_metrics(session, [family.id for family in families])
    rows = []
    for family in families:
        numbers = latest.get(family.id, {})
        measured = [day for day, _ in numbers.values()]
        rows.append(FamilyRow(family=family, members=_int(numbers.get("members")), rows=_int(numbers.get("rows")),
                              database_bytes=_int(numbers.get("database_bytes")),
                              measured_on=max(measured) if measured else None))
    return Page(rows, query.page, pages, total)


def _int(entry: tuple[date, float] | None) -> int | None:
    return None if entry is None else int(entry[1])


def latest_family_metrics(session: Session, family_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, tuple[date,
                                                                                                              float]]]:
    """For each family, each metric's most recent (day, value)."""
    if not family_ids:
        return {}
    newest = (select(PlatformAnalytics.family_id, PlatformAnalytics.metric,
                     func.max(PlatformAnalytics.recorded_on).label("day"))
              .where(PlatformAnalytics.family_id.in_(family_ids), PlatformAnalytics.metric.in_(FAMILY_METRICS))
              .group_by(PlatformAnalytics.family_id, PlatformAnalytics.metric).subquery())
    found: dict[uuid.UUID, dict[str, tuple[date, float]]] = {}
    for family_id, metric, day, value in session.execute(
            select(PlatformAnalytics.family_id, PlatformAnalytics.metric, PlatformAnalytics.recorded_on,
                   PlatformAnalytics.value)
            .join(newest, (newest.c.family_id == PlatformAnalytics.family_id)
                  & (newest.c.metric == PlatformAnalytics.metric) & (newest.c.day == PlatformAnalytics.recorded_on))):
        if family_id is not None:
            found.setdefault(family_id, {})[metric] = (day, value)
    return found


def get_family(session: Session, slug: str, *, for_update: bool = False) -> Family:
    """The family with this slug (deleted ones too), or NotFound."""
    statement = select(Family).where(Family.slug == slug.strip().lower())
    family = session.scalar(statement.with_for_update() if for_update else statement)
    if family is None:
        raise NotFound("There is no family with that address.")
    return family


@dataclass(frozen=True)
class Owner:
    """A platform account with a role in the family: what support needs to reach them, nothing secret."""

    email: str
    display_name: str
    role: str


def family_accounts(session: Session, family_id: uuid.UUID) -> list[Owner]:
    """The family's platform accounts (owners first)."""
    rows = session.execute(select(User.email, User.display_name, FamilyMembership.role)
                           .join(FamilyMembership, FamilyMembership.user_id == User.id)
                           .where(FamilyMembership.family_id == family_id)
                           .order_by(FamilyMembership.role.desc(), User.email))
    return [Owner(email, name, str(role)) for email, name, role in rows]


# --- actions on a family ----------------------------------------------------------------------------------------

def _live_family(session: Session, slug: str) -> Family:
    family = get_family(session, slug, for_update=True)
    if family.deleted_at is not None:
        raise Conflict("This family has been deleted; its status can no longer change.")
    return family


def _audit_family(session: Session, operator: User, action: str, family: Family, ip_address: str | None,
                  **details: Any) -> None:
    record_audit(session, action, family_id=family.id, actor_user_id=operator.id, target_type="family",
                 target_id=family.id, ip_address=ip_address, details={"slug": family.slug, **details})


def suspend_family(session: Session, operator: User, slug: str, data: SuspendInput, *, now: datetime,
                   ip_address: str | None = None) -> Family:
    """Suspend a family: its site answers 403 at once (the caller invalidates the registry after commit)."""
    require_operator(operator)
    family = _live_family(session, slug)
    if family.status == FamilyStatus.SUSPENDED:
        raise Conflict("This family is already suspended.")
    previous = family.status
    family.status = FamilyStatus.SUSPENDED
    family.updated_at = now
    _audit_family(session, operator, "operator.family_suspended", family, ip_address, previous_status=str(previous),
                  reason=data.reason)
    return family


def reactivate_family(session: Session, operator: User, slug: str, *, now: datetime,
                      ip_address: str | None = None) -> Family:
    """Lift a suspension: the family's site answers again."""
    require_operator(operator)
    family = _live_family(session, slug)
    if family.status != FamilyStatus.SUSPENDED:
        raise Conflict("Only a suspended family can be reactivated.")
    family.status = FamilyStatus.ACTIVE
    family.updated_at = now
    _audit_family(session, operator, "operator.family_reactivated", family, ip_address)
    return family


def change_plan(session: Session, operator: User, slug: str, data: PlanInput, *, now: datetime,
                ip_address: str | None = None) -> Family:
    """Move a family to another plan (its subscriptions follow); members over a smaller plan's limit stay, new
    ones are refused."""
    require_operator(operator)
    family = _live_family(session, slug)
    plan = Plan(data.plan)
    if family.plan == plan:
        raise Conflict(f"This family is already on the {plan.value} plan.")
    previous = family.plan
    family.plan = plan
    family.updated_at = now
    for subscription in session.scalars(select(Subscription).where(Subscription.family_id == family.id)):
        subscription.plan = plan
    _audit_family(session, operator, "operator.plan_changed", family, ip_address, previous_plan=str(previous),
                  plan=plan.value)
    return family


def delete_family_for_operator(session: Session, operator: User, slug: str, data: DeleteInput, *, now: datetime,
                               ip_address: str | None = None) -> Family:
    """Delete a family for its owner or for abuse: 410 everywhere at once, purged by the tick after the same grace
    as an owner's deletion; every page session and tablet is signed out. `session` is scoped to the family (it
    spans both databases, as the owner's deletion does)."""
    require_operator(operator)
    family = _live_family(session, slug)
    if data.confirm.strip().lower() != family.slug:
        raise ValidationFailed("Type the family's address to confirm.", fields={"confirm": "does not match"})
    family.deleted_at = now
    family.updated_at = now
    session.execute(update(MemberSession).where(MemberSession.revoked_at.is_(None)).values(revoked_at=now))
    session.execute(update(TabletDevice).where(TabletDevice.revoked_at.is_(None)).values(revoked_at=now))
    record(session, AccessRevoked(whole_family=True))  # the family's open streams end with its sign-ins
    _audit_family(session, operator, "operator.family_deleted", family, ip_address,
                  purge_due=purge_due(now).isoformat())
    return family


def restore_family(session: Session, operator: User, slug: str, *, now: datetime,
                   ip_address: str | None = None) -> Family:
    """Take a deletion back during the grace period (the owner can do the same from the apex)."""
    require_operator(operator)
    family = get_family(session, slug, for_update=True)
    if family.deleted_at is None:
        raise Conflict("This family is not scheduled for deletion.")
    if family.purged_at is not None or purge_due(family.deleted_at) <= now:
        raise Conflict("The grace period has ended; this family can no longer be restored.")
    family.deleted_at = None
    family.updated_at = now
    _audit_family(session, operator, "operator.family_restored", family, ip_address)
    return family


def record_operator_export(session: Session, operator: User, family: Family, rows: int,
                           ip_address: str | None = None) -> None:
    """An operator downloaded a family's archive (without its photos): who, which family, how many rows."""
    require_operator(operator)
    _audit_family(session, operator, "operator.family_exported", family, ip_address, rows=rows, photos=0)


# --- the audit log ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditEntry:
    """One audit row as the console shows it: who (by email), which family (by slug), never a secret."""

    created_at: datetime
    action: str
    family_slug: str | None
    actor_email: str | None
    actor_member_id: uuid.UUID | None
    target: str | None
    ip_address: str | None
    details: dict[str, Any]


def operators(session: Session) -> list[User]:
    """Every operator account, by email (the audit filter's choices)."""
    return list(session.scalars(select(User).where(User.is_operator.is_(True)).order_by(User.email)))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def audit_page(session: Session, query: AuditQuery) -> Page[AuditEntry]:
    """Audit rows matching the filters, newest first; an unknown family or operator is a refusal, not an empty
    list (a typo must not look like "nothing happened")."""
    statement = select(AuditLog)
    if query.family:
        family = session.scalar(select(Family).where(Family.slug == query.family.lower()))
        if family is None:
            raise ValidationFailed("There is no family with that address.", fields={"family": "unknown"})
        statement = statement.where(AuditLog.family_id == family.id)
    if query.operator:
        operator = find_user_by_email(session, query.operator)
        if operator is None or not operator.is_operator:
            raise ValidationFailed("There is no operator with that email.", fields={"operator": "unknown"})
        statement = statement.where(AuditLog.actor_user_id == operator.id)
    if query.action:
        prefix = query.action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(AuditLog.action.like(f"{prefix}%", escape="\\"))
    if query.since and query.until and query.since > query.until:
        raise ValidationFailed("The start date is after the end date.", fields={"since": "after until"})
    if query.since:
        statement = statement.where(AuditLog.created_at >= _day_start(query.since))
    if query.until:
        statement = statement.where(AuditLog.created_at < _day_start(query.until + timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = _page_bounds(total, query.page, AUDIT_PER_PAGE)
    rows = list(session.scalars(statement.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                                .limit(AUDIT_PER_PAGE).offset((query.page - 1) * AUDIT_PER_PAGE)))
    slugs = {family_id: slug for family_id, slug in session.execute(select(Family.id, Family.slug).where(
        Family.id.in_({row.family_id for row in rows if row.family_id})))}
    emails = {user_id: email for user_id, email in session.execute(select(User.id, User.email).where(
        User.id.in_({row.actor_user_id for row in rows if row.actor_user_id})))}
    entries = [AuditEntry(
        created_at=row.created_at, action=row.action, family_slug=slugs.get(row.family_id) if row.family_id else None,
        actor_email=emails.get(row.actor_user_id) if row.actor_user_id else None,
        actor_member_id=row.actor_member_id, target=f"{row.target_type}:{row.target_id}" if row.target_type else None,
        ip_address=row.ip_address, details=shown_details(row.details)) for row in rows]
    return Page(entries, query.page, pages, total)


def shown_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Audit details as operators may see them: anything that looks secret is left out (again)."""
    return {key: value for key, value in (details or {}).items()
            if not any(word in key.lower() for word in SECRET_WORDS)}


# --- platform analytics -----------------------------------------------------------------------------------------

def analytics_recorded(session: Session, day: date) -> bool:
    """Whether the platform-wide numbers for `day` are in."""
    return session.scalar(select(func.count()).select_from(PlatformAnalytics).where(
        PlatformAnalytics.family_id.is_(None), PlatformAnalytics.recorded_on == day)) != 0


def platform_counts(session: Session, day: date) -> dict[str, int]:
    """Families alive at the end of `day` and families signed up on it."""
    start, end = _day_start(day), _day_start(day + timedelta(days=1))
    alive = session.scalar(select(func.count()).select_from(Family).where(
        Family.created_at < end, or_(Family.deleted_at.is_(None), Family.deleted_at >= end))) or 0
    signups = session.scalar(select(func.count()).select_from(Family).where(
        Family.created_at >= start, Family.created_at < end)) or 0
    return {"families": int(alive), "signups": int(signups)}


def record_daily_analytics(session: Session, day: date, measures: Mapping[uuid.UUID, FamilyMeasure], *,
                           only_these: bool = False) -> int:
    """Replace `day`'s rows of the measured families (every family's unless `only_these`), then the platform-wide
    rows, summed from the day's stored family rows so a re-measured family updates the totals; returns rows written."""
    replaced = delete(PlatformAnalytics).where(PlatformAnalytics.recorded_on == day)
    if only_these:
        replaced = replaced.where(or_(PlatformAnalytics.family_id.in_(list(measures)),
                                      PlatformAnalytics.family_id.is_(None)))
    session.execute(replaced)
    rows: list[PlatformAnalytics] = []
    for family_id, measure in measures.items():
        values: dict[str, float | None] = {
            "members": measure.member_total, "active_members": measure.active_members,
            "chores_completed": measure.chores_completed, "rows": measure.row_total,
            "database_bytes": measure.bytes}
        rows.extend(PlatformAnalytics(family_id=family_id, metric=metric, value=float(value), recorded_on=day)
                    for metric, value in values.items() if value is not None)
    session.add_all(rows)
    session.flush()
    summed: dict[str, float] = {metric: total for metric, total in session.execute(
        select(PlatformAnalytics.metric, func.sum(PlatformAnalytics.value))
        .where(PlatformAnalytics.recorded_on == day, PlatformAnalytics.family_id.is_not(None),
               PlatformAnalytics.metric.in_(("active_members", "chores_completed")))
        .group_by(PlatformAnalytics.metric))}
    totals: dict[str, float] = {**platform_counts(session, day), "active_members": summed.get("active_members") or 0,
                                "chores_completed": summed.get("chores_completed") or 0}
    platform_rows = [PlatformAnalytics(family_id=None, metric=metric, value=float(totals[metric]), recorded_on=day)
                     for metric in PLATFORM_METRICS]
    session.add_all(platform_rows)
    session.flush()
    return len(rows) + len(platform_rows)


def analytics_series(session: Session, *, until: date, days: int) -> tuple[list[date], dict[str, list[float | None]]]:
    """The platform-wide metrics for the `days` days up to `until` (None where a day was not computed)."""
    first = until - timedelta(days=days - 1)
    dates = [first + timedelta(days=offset) for offset in range(days)]
    index = {day: position for position, day in enumerate(dates)}
    series: dict[str, list[float | None]] = {metric: [None] * days for metric in PLATFORM_METRICS}
    for metric, day, value in session.execute(
            select(PlatformAnalytics.metric, PlatformAnalytics.recorded_on, PlatformAnalytics.value)
            .where(PlatformAnalytics.family_id.is_(None), PlatformAnalytics.recorded_on >= first,
                   PlatformAnalytics.recorded_on <= until, PlatformAnalytics.metric.in_(PLATFORM_METRICS))):
        series[metric][index[day]] = value
    return dates, series
