"""Family database tables for daily assignments and the days already materialised."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from app.chores.models import Chore
from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UTCDateTime, UUIDPrimaryKey, str_enum
from app.members.models import Member


class AssignmentStatus(StrEnum):
    """Where an assignment is in its life: open → pending → pending_verification → verified, or missed/skipped."""

    OPEN = "open"
    PENDING = "pending"
    PENDING_VERIFICATION = "pending_verification"
    VERIFIED = "verified"
    MISSED = "missed"
    SKIPPED = "skipped"


# The statuses of work still to be done or checked.
ACTIVE_STATUSES = (AssignmentStatus.OPEN, AssignmentStatus.PENDING, AssignmentStatus.PENDING_VERIFICATION)


class Assignment(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """One chore to do on one day; its status walks open → pending → pending_verification → verified."""

    __tablename__ = "assignments"
    # Materialisation is idempotent: one row per (chore, day, slot); manual assignments have no key.
    __table_args__ = (
        UniqueConstraint("family_id", "schedule_key"),
        Index("ix_assignments_family_due_date", "family_id", "due_date"),
        Index("ix_assignments_family_assigned_to_due_date", "family_id", "assigned_to", "due_date"),
        UniqueConstraint("family_id", "id"),
        ForeignKeyConstraint(["chore_id", "family_id"], ["chores.id", "chores.family_id"], ondelete="CASCADE"),
        # Members are deactivated, never deleted: the people on an assignment stay (no ON DELETE action).
        ForeignKeyConstraint(["assigned_to", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["assigned_by", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["completed_by", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["verified_by", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["skipped_by", "family_id"], ["members.id", "members.family_id"]),
    )

    chore_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    schedule_key: Mapped[str | None] = mapped_column(String(120))
    due_date: Mapped[date] = mapped_column(Date)  # the family-local day
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the family-local due time, in UTC
    status: Mapped[AssignmentStatus] = mapped_column(str_enum(AssignmentStatus, length=24, name="status"),
                                                     default=AssignmentStatus.PENDING)
    points_offered: Mapped[int] = mapped_column(default=10)
    points_earned: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    completion_notes: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    verification_notes: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(String(300))
    photo_name: Mapped[str | None] = mapped_column(String(80))
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skipped_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    # Nothing loads by itself (lazy="raise"): each query names what it shows, e.g. .options(*WITH_CHORE_AND_ASSIGNEE).
    chore: Mapped[Chore] = relationship(lazy="raise", innerjoin=True, foreign_keys=[chore_id])
    assignee: Mapped[Member | None] = relationship(lazy="raise", foreign_keys=[assigned_to])

    @property
    def is_bonus(self) -> bool:
        return self.assigned_to is None or self.status == AssignmentStatus.OPEN


# An assignment as pages and the API show it: its chore (every assignment has one) and who it is for.
WITH_CHORE = (joinedload(Assignment.chore),)
WITH_CHORE_AND_ASSIGNEE = (joinedload(Assignment.chore), joinedload(Assignment.assignee))


class MaterialisedDay(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """Marks a family-local day whose assignments exist, so reads materialise a day once."""

    __tablename__ = "materialised_days"
    __table_args__ = (UniqueConstraint("family_id", "day"),)

    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
