"""Family database tables for the family's people and its settings."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKeyConstraint, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.db.bases import FamilyBase, FamilyScoped, Timestamps, UTCDateTime, UUIDPrimaryKey, str_enum


class MemberRole(StrEnum):
    """A person's role in the family: parents run it, children do the chores."""

    PARENT = "parent"
    CHILD = "child"


class Member(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """A person in the family: a parent or a child, with login means and cached point balances."""

    __tablename__ = "members"
    # Usernames are unique per family regardless of case; username_key is the lower-cased copy that enforces it.
    __table_args__ = (
        UniqueConstraint("family_id", "username_key"),
        UniqueConstraint("family_id", "id"),  # the target of every composite (x_id, family_id) foreign key
        ForeignKeyConstraint(["created_by", "family_id"], ["members.id", "members.family_id"]),
        ForeignKeyConstraint(["updated_by", "family_id"], ["members.id", "members.family_id"]),
        CheckConstraint("language IN ('en', 'es')", name="language"),
    )

    username: Mapped[str] = mapped_column(String(50))
    username_key: Mapped[str] = mapped_column(String(50))
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[MemberRole] = mapped_column(str_enum(MemberRole, length=10, name="role"), default=MemberRole.CHILD)
    color: Mapped[str] = mapped_column(String(7), default="#3498db")
    avatar: Mapped[str | None] = mapped_column(String(255))
    birthdate: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str | None] = mapped_column(String(254))
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the platform account, for parents
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    # API tokens carry it (claim "tv"); bumped by a password change, deactivation and "sign out everywhere".
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(default=True)
    login_enabled: Mapped[bool] = mapped_column(default=True)
    auto_approve_work: Mapped[bool] = mapped_column(default=False)
    availability_notifications: Mapped[bool] = mapped_column(default=True)
    usually_eats_dinner: Mapped[bool] = mapped_column(default=True)
    daily_goal: Mapped[int] = mapped_column(default=0)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    school: Mapped[str | None] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(String(1000))
    xp: Mapped[int] = mapped_column(default=0)
    streak_days: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(5))  # the member's own choice; None = the family's default
    # Cached balances: the ledger is the truth, these are updated in the same transaction as each ledger row.
    total_points: Mapped[int] = mapped_column(default=0)
    available_points: Mapped[int] = mapped_column(default=0)
    weekly_points: Mapped[int] = mapped_column(default=0)
    weekly_points_week: Mapped[date | None] = mapped_column(Date)  # the family week weekly_points belongs to
    lifetime_points_earned: Mapped[int] = mapped_column(default=0)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @validates("username")
    def _keep_username_key(self, _key: str, username: str) -> str:
        self.username_key = username.strip().lower()
        return username.strip()

    @property
    def is_parent(self) -> bool:
        return self.role == MemberRole.PARENT

    @property
    def level(self) -> int:
        """Level from experience, as the previous service defined it."""
        return self.xp // 100 + 1

    def age_on(self, today: date) -> int | None:
        """Age in whole years on `today`, when the birthdate is known."""
        if self.birthdate is None:
            return None
        before_birthday = (today.month, today.day) < (self.birthdate.month, self.birthdate.day)
        return today.year - self.birthdate.year - before_birthday

    @property
    def can_log_in(self) -> bool:
        return self.is_active and self.login_enabled


class FamilySetting(UUIDPrimaryKey, FamilyScoped, Timestamps, FamilyBase):
    """One typed family setting (JSON value); private ones are hidden from children."""

    __tablename__ = "family_settings"
    __table_args__ = (UniqueConstraint("family_id", "key"),)

    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    is_private: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(String(255))
