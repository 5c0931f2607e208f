"""The points ledger: append-only, the only source of truth for every balance."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow


class LedgerKind(StrEnum):
    """Why a member's points moved."""

    CHORE = "chore"
    BONUS = "bonus"
    DEDUCTION = "deduction"
    PENALTY = "penalty"
    REDEMPTION = "redemption"
    REFUND = "refund"
    CONVERSION = "conversion"
    ADJUSTMENT = "adjustment"
    ACHIEVEMENT = "achievement"


# Kinds that count as earning (or losing) points, as opposed to spending them.
EARNING_KINDS = (LedgerKind.CHORE, LedgerKind.BONUS, LedgerKind.DEDUCTION, LedgerKind.PENALTY, LedgerKind.ADJUSTMENT,
                 LedgerKind.ACHIEVEMENT)


class PresetKind(StrEnum):
    """Whether a one-tap preset gives or takes points."""

    BONUS = "bonus"
    DEDUCTION = "deduction"


class LedgerEntry(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """One signed movement of a member's points; rows are never updated or deleted."""

    __tablename__ = "points_ledger"
    # reference_id has no key: it points at a redemption, a payout or a badge depending on kind.
    __table_args__ = (
        Index("ix_points_ledger_family_member_created", "family_id", "member_id", "created_at"),
        UniqueConstraint("family_id", "id"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["assignment_id", "family_id"], ["assignments.id", "assignments.family_id"]),
        ForeignKeyConstraint(["actor_id", "family_id"], ["members.id", "members.family_id"]),
        # A client's Idempotency-Key: a retried bonus or deduction finds its first row instead of posting twice.
        Index("uq_points_ledger_family_idempotency_key", "family_id", "idempotency_key", unique=True),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount: Mapped[int] = mapped_column()
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind, length=20, name="kind"))
    description: Mapped[str] = mapped_column(String(300))
    assignment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # who caused it (a parent, or the member)
    reference_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # a redemption, conversion… of later issues
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))


class PointPreset(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A one-tap bonus or deduction reason the family keeps ("Not listening", "Extra helpful")."""

    __tablename__ = "point_presets"

    kind: Mapped[PresetKind] = mapped_column(str_enum(PresetKind, length=20, name="kind"))
    label: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0)
