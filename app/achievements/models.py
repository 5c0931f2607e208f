"""Family database table for badges earned (each at most once per member)."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db.bases import FamilyBase, FamilyScoped, UTCDateTime, UUIDPrimaryKey, utcnow


class MemberBadge(UUIDPrimaryKey, FamilyScoped, FamilyBase):
    """A badge a member earned; the unique key makes awarding idempotent under concurrency."""

    __tablename__ = "member_badges"
    __table_args__ = (
        UniqueConstraint("family_id", "member_id", "badge"),
        ForeignKeyConstraint(["member_id", "family_id"], ["members.id", "members.family_id"], ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    badge: Mapped[str] = mapped_column(String(40))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bonus_points: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the kid saw the celebration
