"""Family database tables for the chore library: what a chore is worth, when it recurs and who may do it."""
from __future__ import annotations

import uuid
from datetime import date, time
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKeyConstraint, String, Text, Time, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UUIDPrimaryKey, str_enum


class AssignmentStrategy(StrEnum):
    """Who gets a chore each day it is due."""

    FIXED = "fixed"
    EACH = "each"
    ROUND_ROBIN = "round_robin"
    FAIR_SHARE = "fair_share"
    RANDOM = "random"
    OPEN = "open"


class ScheduleKind(StrEnum):
    """The shape of a chore's recurrence."""

    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    INTERVAL = "interval"
    MONTHLY_DAY = "monthly_day"
    MONTHLY_WEEKDAY = "monthly_weekday"
    YEARLY = "yearly"


class IntervalUnit(StrEnum):
    """The unit of an "every N …" schedule."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


class Difficulty(StrEnum):
    """How hard a chore is, as shown to the kids."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Chore(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A job the family does, with the points it is worth and how it is checked."""

    __tablename__ = "chores"
    __table_args__ = (UniqueConstraint("family_id", "id"),)

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50), default="general")
    icon: Mapped[str] = mapped_column(String(16), default="🧹")
    base_points: Mapped[int] = mapped_column(default=10)
    estimated_minutes: Mapped[int | None] = mapped_column()
    difficulty: Mapped[Difficulty] = mapped_column(str_enum(Difficulty, length=20, name="difficulty"),
                                                   default=Difficulty.EASY)
    min_age: Mapped[int] = mapped_column(default=0)
    requires_verification: Mapped[bool] = mapped_column(default=True)
    requires_photo: Mapped[bool] = mapped_column(default=False)
    penalty_points: Mapped[int] = mapped_column(default=0)
    # Archiving is the one soft-delete flag: every read hides inactive chores.
    active: Mapped[bool] = mapped_column(default=True)
    bonus_eligible: Mapped[bool] = mapped_column(default=False)
    rotation_eligible: Mapped[bool] = mapped_column(default=False)
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    assignment_type: Mapped[AssignmentStrategy] = mapped_column(
        str_enum(AssignmentStrategy, length=20, name="assignment_type"), default=AssignmentStrategy.FIXED)
    due_time: Mapped[time | None] = mapped_column(Time)  # family-local; None = end of day
    not_before_time: Mapped[time | None] = mapped_column(Time)
    open_bonus_points: Mapped[int] = mapped_column(default=0)  # extra for claiming an open chore
    # The previous service's free-text frequency (daily, weekly, monthly, as_needed, ...): kept, shown, and the
    # schedule form's starting point; the schedule, not this text, decides when the chore recurs.
    frequency: Mapped[str | None] = mapped_column(String(50))

    # Joins stay on the id alone (family_id is stamped by the session); the composite key guards the family.
    schedule: Mapped[ChoreSchedule | None] = relationship(back_populates="chore", uselist=False, lazy="raise",
                                                          foreign_keys="ChoreSchedule.chore_id",
                                                          cascade="all, delete-orphan")
    assignees: Mapped[list[ChoreAssignee]] = relationship(back_populates="chore", lazy="raise",
                                                          foreign_keys="ChoreAssignee.chore_id",
                                                          order_by="ChoreAssignee.position",
                                                          cascade="all, delete-orphan")


class ChoreSchedule(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """When a chore recurs, as the parts of a dateutil rrule, plus vacation pauses."""

    __tablename__ = "chore_schedules"
    __table_args__ = (ForeignKeyConstraint(["chore_id", "family_id"], ["chores.id", "chores.family_id"],
                                           ondelete="CASCADE"),)

    chore_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    kind: Mapped[ScheduleKind] = mapped_column(str_enum(ScheduleKind, length=20, name="kind"),
                                               default=ScheduleKind.DAILY)
    interval: Mapped[int] = mapped_column(default=1)
    interval_unit: Mapped[IntervalUnit] = mapped_column(str_enum(IntervalUnit, length=10, name="interval_unit"),
                                                        default=IntervalUnit.DAYS)
    weekdays: Mapped[list[int] | None] = mapped_column(JSON)  # 0 = Monday … 6 = Sunday
    month_day: Mapped[int | None] = mapped_column()
    week_of_month: Mapped[int | None] = mapped_column()  # 1-4, or -1 for "last"
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    rolling: Mapped[bool] = mapped_column(default=False)  # next counted from the last completion
    paused_from: Mapped[date | None] = mapped_column(Date)
    paused_until: Mapped[date | None] = mapped_column(Date)

    chore: Mapped[Chore] = relationship(back_populates="schedule", lazy="raise", foreign_keys=[chore_id])


class ChoreAssignee(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A member eligible for a chore, in the parent-set rotation order (the first is the fixed assignee)."""

    __tablename__ = "chore_assignees"
    __table_args__ = (
        UniqueConstraint("chore_id", "member_id"),
        ForeignKeyConstraint(["chore_id", "family_id"], ["chores.id", "chores.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    chore_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    position: Mapped[int] = mapped_column(default=0)

    chore: Mapped[Chore] = relationship(back_populates="assignees", lazy="raise", foreign_keys=[chore_id])


# A chore with its recurrence and rotation, for the pages, the API and materialisation (nothing loads by itself).
WITH_SCHEDULE_AND_ASSIGNEES = (selectinload(Chore.schedule), selectinload(Chore.assignees))
