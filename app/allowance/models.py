"""Family database tables for allowance: money paid out (from points or fixed) and weekly schedules."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKeyConstraint, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow


class PayoutKind(StrEnum):
    """Where a payout's money came from: points converted, or a fixed allowance."""

    CONVERSION = "conversion"
    ALLOWANCE = "allowance"


class AllowanceMode(StrEnum):
    """What a weekly allowance pays: a fixed amount, or the week's points converted."""

    FIXED_AMOUNT = "fixed_amount"
    CONVERT_WEEK = "convert_week"


class Payout(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """Money given to a kid: points converted (with its ledger row) or a fixed allowance."""

    __tablename__ = "payouts"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[PayoutKind] = mapped_column(str_enum(PayoutKind, length=20, name="kind"))
    points: Mapped[int] = mapped_column(default=0)
    amount_cents: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(40), default="cash")
    note: Mapped[str | None] = mapped_column(String(300))
    ledger_entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    paid_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    paid_on: Mapped[date] = mapped_column(Date)  # family-local payday (unique per schedule run)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("family_id", "schedule_id", "paid_on"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["ledger_entry_id", "family_id"], ["points_ledger.id", "points_ledger.family_id"]),
        ForeignKeyConstraint(["paid_by", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["schedule_id", "family_id"], ["allowance_schedules.id", "allowance_schedules.family_id"]),
    )


class AllowanceSchedule(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A kid's weekly allowance: on payday pay a fixed amount or convert the week's points."""

    __tablename__ = "allowance_schedules"
    __table_args__ = (
        UniqueConstraint("family_id", "member_id"),
        UniqueConstraint("family_id", "id"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    mode: Mapped[AllowanceMode] = mapped_column(str_enum(AllowanceMode, length=20, name="mode"),
                                                default=AllowanceMode.FIXED_AMOUNT)
    payday: Mapped[int] = mapped_column(default=5)  # 0 = Monday … 6 = Sunday
    amount_cents: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    last_paid_on: Mapped[date | None] = mapped_column(Date)
