"""Family database tables for notifications, per-member preferences, webhooks and their deliveries, iCal feeds."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, UTCDateTime, UUIDPrimaryKey, str_enum, utcnow

NOTIFICATION_EVENTS = (
    "chore_waiting", "chore_approved", "chore_rejected", "chore_missed", "reward_requested", "reward_approved",
    "reward_rejected", "reward_fulfilled", "badge_earned", "points_bonus", "points_deduction", "coparent_joined",
    "chore_reminder", "chore_overdue", "daily_digest",
)


class Channel(StrEnum):
    """How a member is told: the bell, an email, or a webhook."""

    IN_APP = "in_app"
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    """Where an outbound message stands: queued → delivered, or retrying → dead (the dead-letter list)."""

    QUEUED = "queued"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    DEAD = "dead"


class Notification(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """One in-app notification for one member (the bell)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_family_member_created", "family_id", "member_id", "created_at"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationPreference(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """Whether a member wants an event on a channel (absent = the family default)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("family_id", "member_id", "event", "channel"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, length=20, name="channel"))
    enabled: Mapped[bool] = mapped_column(default=True)


class Webhook(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """An outbound webhook: events are POSTed to its URL, signed with HMAC-SHA256 of its secret."""

    __tablename__ = "webhooks"
    __table_args__ = (UniqueConstraint("family_id", "id"),
                      ForeignKeyConstraint(["created_by", "family_id"], ["members.id", "members.family_id"]))

    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = every event
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """One outbound message (email or webhook) and its attempts: the delivery log and the dead-letter list."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_family_status_next", "family_id", "status", "next_attempt_at"),
        ForeignKeyConstraint(["webhook_id", "family_id"], ["webhooks.id", "webhooks.family_id"], ondelete="CASCADE"),
    )

    channel: Mapped[Channel] = mapped_column(str_enum(Channel, length=20, name="channel"))
    event: Mapped[str] = mapped_column(String(40))
    webhook_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recipient: Mapped[str | None] = mapped_column(String(500))  # email address (webhooks use their URL)
    subject: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, length=20, name="status"),
                                                   default=DeliveryStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    response_code: Mapped[int | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A member's secret iCal URL (its token is stored hashed; revoking stops the feed at once)."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"],
                                           ondelete="CASCADE"),)

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
