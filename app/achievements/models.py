"""Family database table for badges earned (each at most once per member)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, UTCDateTime, UUIDPrimaryKey, utcnow


class MemberBadge(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A badge a member earned; the unique key makes awarding idempotent under concurrency."""

    __tablename__ = "member_badges"
    __table_args__ = (UniqueConstraint("family_id", "member_id", "badge"),)

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    badge: Mapped[str] = mapped_column(String(40))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bonus_points: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the kid saw the celebration
