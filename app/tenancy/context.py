"""Entering a family outside a request: CLI commands, background jobs and tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g

from app.db import close_session, get_session
from app.db.session import TenantSession
from app.tenancy.registry import FamilyRecord


class FamilyNotFound(LookupError):
    """No live family has that slug."""


@dataclass
class FamilyContext:
    family: FamilyRecord
    session: TenantSession


@contextmanager
def family_context(slug: str, record: FamilyRecord | None = None) -> Iterator[FamilyContext]:
    """Enter family `slug`: a fresh app context whose session is scoped to that family.

    `record` is the family as just read from the platform database (the tick reads a batch at once); without it
    the family is read here.
    """
    if record is None:
        record = current_app.extensions["housepoints.registry"].load(slug)
    if record is None or record.is_deleted:
        raise FamilyNotFound(f"no family with slug {slug!r}")
    with current_app.app_context():
        g.family = record
        try:
            yield FamilyContext(family=record, session=get_session())
        finally:
            close_session()
