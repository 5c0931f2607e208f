"""Family database tables for recurring presence patterns and date-range exceptions."""
from __future__ import annotations

import uuid
from datetime import date, time
from enum import StrEnum

from sqlalchemy import JSON, Date, ForeignKeyConstraint, String, Time, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UUIDPrimaryKey, str_enum


class PatternKind(StrEnum):
    """How often a presence pattern repeats."""

    WEEKLY = "weekly"
    ALTERNATE_WEEKS = "alternate_weeks"


class PresencePattern(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A recurring rule: on these weekdays (every week, or every other week from an anchor) the member is home/away."""

    __tablename__ = "presence_patterns"
    __table_args__ = (ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"],
                                           ondelete="CASCADE"),)

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    kind: Mapped[PatternKind] = mapped_column(str_enum(PatternKind, length=20, name="kind"), default=PatternKind.WEEKLY)
    weekdays: Mapped[list[int]] = mapped_column(JSON)  # 0 = Monday … 6 = Sunday
    anchor_date: Mapped[date] = mapped_column(Date)  # for alternate weeks: a day inside an "on" week
    present: Mapped[bool] = mapped_column(default=True)
    transition_time: Mapped[time | None] = mapped_column(Time)
    label: Mapped[str | None] = mapped_column(String(80))


class PresenceException(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A date range (one day for an override) when the member is home or away regardless of patterns."""

    __tablename__ = "presence_exceptions"
    __table_args__ = (ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"],
                                           ondelete="CASCADE"),)

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    present: Mapped[bool] = mapped_column(default=False)
    transition_time: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str | None] = mapped_column(String(200))
