"""Platform database tables: the registry of families and the accounts that reach them."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.bases import PlatformBase, Timestamps, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow


class FamilyStatus(StrEnum):
    """Whether a family's site answers: suspended and cancelled families get 403."""

    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class FamilyPlacement(StrEnum):
    """Where a family's rows live: the shared pooled database or one of its own."""

    POOLED = "pooled"
    DEDICATED = "dedicated"


class Plan(StrEnum):
    """What a family pays for (the free plan limits its members)."""

    FREE = "free"
    PREMIUM = "premium"


class MembershipRole(StrEnum):
    """A platform account's role in one family."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class SubscriptionStatus(StrEnum):
    """Where a family's subscription stands; the same words as the family's own status."""

    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


class Family(UUIDPrimaryKey, Timestamps, PlatformBase):
    """A family: its subdomain, plan, status and where its data lives."""

    __tablename__ = "families"

    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    plan: Mapped[Plan] = mapped_column(str_enum(Plan, length=20, name="plan"), default=Plan.FREE)
    status: Mapped[FamilyStatus] = mapped_column(str_enum(FamilyStatus, length=20, name="status"),
                                                 default=FamilyStatus.ACTIVE)
    placement: Mapped[FamilyPlacement] = mapped_column(str_enum(FamilyPlacement, length=20, name="placement"),
                                                       default=FamilyPlacement.POOLED)
    # Dedicated families: the key substituted into DEDICATED_DATABASE_URL_TEMPLATE (never a URL with credentials).
    database_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The database cluster (a name from DATABASE_CLUSTERS; URLs and credentials stay in configuration).
    cluster: Mapped[str] = mapped_column(String(64), default="default", server_default="default")
    # Set while the family's rows are copied to another database: the family is read-only until it is cleared.
    moving_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Deletion: `deleted_at` starts the grace period; `purged_at` says every row, file and database is gone.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[FamilyMembership]] = relationship(back_populates="family", lazy="raise")


class User(UUIDPrimaryKey, Timestamps, PlatformBase):
    """A global account, by email; it reaches families through memberships."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_operator: Mapped[bool] = mapped_column(default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A deleted account keeps its id (audit rows point at it) and loses its email, name, password and memberships.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[FamilyMembership]] = relationship(back_populates="user", lazy="raise")


class FamilyMembership(UUIDPrimaryKey, PlatformBase):
    """A user's role in one family, and the member record that represents them there."""

    __tablename__ = "family_memberships"
    __table_args__ = (UniqueConstraint("user_id", "family_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    role: Mapped[MembershipRole] = mapped_column(str_enum(MembershipRole, length=20, name="role"),
                                                 default=MembershipRole.MEMBER)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    family: Mapped[Family] = relationship(back_populates="memberships", lazy="raise")


class Subscription(UUIDPrimaryKey, Timestamps, PlatformBase):
    """A family's plan over time (billing provider ids live here later)."""

    __tablename__ = "subscriptions"

    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    plan: Mapped[Plan] = mapped_column(str_enum(Plan, length=20, name="plan"), default=Plan.FREE)
    status: Mapped[SubscriptionStatus] = mapped_column(str_enum(SubscriptionStatus, length=20, name="status"),
                                                       default=SubscriptionStatus.ACTIVE)
    current_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlatformAnalytics(UUIDPrimaryKey, PlatformBase):
    """One metric value per family (or platform-wide) per day, for the operator console."""

    __tablename__ = "platform_analytics"
    __table_args__ = (
        UniqueConstraint("family_id", "metric", "recorded_on"),
        # NULLs never collide in a unique constraint: platform-wide rows (no family) need their own unique index.
        Index("uq_platform_analytics_platform_metric_recorded_on", "metric", "recorded_on", unique=True,
              postgresql_where=text("family_id IS NULL"), sqlite_where=text("family_id IS NULL")),
    )

    family_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float, default=0.0)
    recorded_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(UUIDPrimaryKey, PlatformBase):
    """Who did what to which family; never holds secrets."""

    __tablename__ = "audit_logs"

    family_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Invitation(UUIDPrimaryKey, PlatformBase):
    """A co-parent invite: the email it was sent to, the role it grants, whether it was used."""

    __tablename__ = "invitations"

    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[MembershipRole] = mapped_column(str_enum(MembershipRole, length=20, name="role"),
                                                 default=MembershipRole.ADMIN)
    invited_by_member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsedToken(PlatformBase):
    """Single-use signed tokens (family hand-offs, password resets) that have been spent."""

    __tablename__ = "used_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginLockout(PlatformBase):
    """Failed sign-in tries per account (a platform user, a member's own password, a kid's PIN), shared by every
    way in: the apex, the family page, the API and the tablet count against the same row (app/auth/lockout.py)."""

    __tablename__ = "login_lockouts"

    account: Mapped[str] = mapped_column(String(80), primary_key=True)  # "user:<id>", "member:<id>:pin", …
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
