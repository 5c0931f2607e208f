"""Family database tables for the rewards store, redemptions and savings goals."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow


class Availability(StrEnum):
    """When a reward can be requested: always, between two dates, or on some weekdays."""

    ALWAYS = "always"
    DATE_RANGE = "date_range"
    WEEKDAYS = "weekdays"


class LegacyAvailability(StrEnum):
    """The previous service's availability words, kept to read back; `availability` holds what they map to."""

    LIMITED = "limited"  # stock and/or a date range
    SEASONAL = "seasonal"  # a date range (always open until a parent sets one, as the previous service did)


MAX_VALUE_IN_CENTS = 10_000_000

class RedemptionStatus(StrEnum):
    """Where a reward request stands: pending → approved or rejected (refunded) → fulfilled."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    FULFILLED = "fulfilled"


class Reward(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """Something a kid can spend points on, with its price, stock, limits and when it is available."""

    __tablename__ = "rewards"
    __table_args__ = (UniqueConstraint("family_id", "id"),
                      CheckConstraint(f"value_in_cents BETWEEN 0 AND {MAX_VALUE_IN_CENTS}", name="value_in_cents"))

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str] = mapped_column(String(16), default="🎁")
    photo_name: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(50), default="treat")
    cost: Mapped[int] = mapped_column()
    requires_approval: Mapped[bool] = mapped_column(default=True)
    stock: Mapped[int | None] = mapped_column()  # None = unlimited
    max_per_week: Mapped[int | None] = mapped_column()
    max_per_month: Mapped[int | None] = mapped_column()
    availability: Mapped[Availability] = mapped_column(str_enum(Availability, length=20, name="availability"),
                                                       default=Availability.ALWAYS)
    available_from: Mapped[date | None] = mapped_column(Date)
    available_until: Mapped[date | None] = mapped_column(Date)
    available_weekdays: Mapped[list[int] | None] = mapped_column(JSON)
    # The previous service's word ("limited", "seasonal") when a client sent one; None for this service's own kinds.
    legacy_availability: Mapped[LegacyAvailability | None] = mapped_column(
        str_enum(LegacyAvailability, length=20, name="legacy_availability"))
    value_in_cents: Mapped[int | None] = mapped_column()  # what a money reward is worth; None = not money
    active: Mapped[bool] = mapped_column(default=True)


class Redemption(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A kid's request for a reward: points held at once, then approved, rejected (refunded) or fulfilled."""

    __tablename__ = "redemptions"
    __table_args__ = (
        Index("ix_redemptions_family_member_requested", "family_id", "member_id", "requested_at"),
        ForeignKeyConstraint(["reward_id", "family_id"], ["rewards.id", "rewards.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["decided_by", "family_id"], ["members.id", "members.family_id"]),
    )

    reward_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    points_spent: Mapped[int] = mapped_column()
    status: Mapped[RedemptionStatus] = mapped_column(str_enum(RedemptionStatus, length=20, name="status"),
                                                     default=RedemptionStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)

    reward: Mapped[Reward] = relationship(lazy="raise", foreign_keys=[reward_id])


class SavingsGoal(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """The one reward a kid is saving for (progress bar on their view and the wall)."""

    __tablename__ = "savings_goals"
    __table_args__ = (
        UniqueConstraint("family_id", "member_id"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["reward_id", "family_id"], ["rewards.id", "rewards.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reward_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reward: Mapped[Reward] = relationship(lazy="raise", foreign_keys=[reward_id])
