"""Family database tables for the chore library (schedules and assignments join them later)."""
from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UUIDPrimaryKey


class Chore(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A job the family does, with the points it is worth and how it is checked."""

    __tablename__ = "chores"

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    instructions: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50), default="general")
    icon: Mapped[str] = mapped_column(String(16), default="🧹")
    base_points: Mapped[int] = mapped_column(default=10)
    estimated_minutes: Mapped[int | None] = mapped_column()
    difficulty: Mapped[str] = mapped_column(String(20), default="easy")
    min_age: Mapped[int] = mapped_column(default=0)
    requires_verification: Mapped[bool] = mapped_column(default=True)
    requires_photo: Mapped[bool] = mapped_column(default=False)
    penalty_points: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
