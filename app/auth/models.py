"""Server-side login state: browser sessions, registered family tablets and recent login failures."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.bases import FamilyBase, FamilyScoped, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow
from app.members.models import Member


class MemberSession(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """One signed-in browser (or a kid's turn on the tablet); deleting or revoking it signs that browser out."""

    __tablename__ = "member_sessions"
    __table_args__ = (
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["device_id", "family_id"], ["tablet_devices.id", "tablet_devices.family_id"],
                             ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie's token
    device_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship(lazy="raise", foreign_keys=[member_id])  # loaded by load_session


class TabletDevice(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A browser a parent marked as the family tablet; its long-lived cookie opens the avatar wall."""

    __tablename__ = "tablet_devices"
    # Members are deactivated, never deleted, so a device keeps who registered it (no ON DELETE action).
    __table_args__ = (UniqueConstraint("family_id", "id"),
                      ForeignKeyConstraint(["registered_by", "family_id"], ["members.id", "members.family_id"]))

    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registered_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginKind(StrEnum):
    """The secret a login failure was for; each kind locks separately."""

    PASSWORD = "password"
    PIN = "pin"


class LoginFailure(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A failed password or PIN try; five within the window lock that login."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_member_kind_at", "member_id", "kind", "failed_at"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[LoginKind] = mapped_column(str_enum(LoginKind, length=10, name="kind"))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
