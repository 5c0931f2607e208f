"""Rules about the family's members, shared by pages, API, CLI and jobs."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.members.models import Member


def list_members(session: Session, *, include_inactive: bool = False) -> list[Member]:
    """The current family's members, parents first, then by name."""
    query = select(Member).order_by(Member.role.desc(), Member.display_name)
    if not include_inactive:
        query = query.where(Member.is_active.is_(True))
    return list(session.scalars(query))
