"""Measuring families outside a request: each family is entered with `family_context`, once per family, for the
console's family page and the daily analytics the tick records."""
from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import engines, platform_engine
from app.operator.measure import FamilyMeasure, active_on, database_bytes, member_counts, row_counts
from app.operator.services import record_daily_analytics
from app.platform.models import Family
from app.tenancy.context import family_context


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC day `day` as [start, end)."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def measure_family(slug: str, day: date) -> FamilyMeasure:
    """One family's members, rows, database size and its activity on the UTC day `day`."""
    start, end = day_bounds(day)
    with family_context(slug) as ctx:
        rows = row_counts(ctx.session, ctx.family.id)
        members = member_counts(ctx.session)
        active, completed = active_on(ctx.session, ctx.family.id, start, end)
        ctx.session.rollback()
        size, estimated = database_bytes(engines().get(ctx.family.database_url),
                                         dedicated=ctx.family.placement == "dedicated", rows=rows)
    return FamilyMeasure(members=members, rows=rows, bytes=size, bytes_estimated=estimated,
                         active_members=active, chores_completed=completed)


def compute_daily_analytics(day: date, slugs: Collection[str] = ()) -> tuple[int, list[str]]:
    """Measure every family that is not deleted (or only `slugs`: re-measuring one after a failure) and replace
    their rows of `day`; returns (rows written, slugs that could not be measured). One family's broken database does
    not stop the others."""
    query = select(Family.id, Family.slug).where(Family.deleted_at.is_(None)).order_by(Family.slug)
    if slugs:
        query = query.where(Family.slug.in_(list(slugs)))
    with Session(platform_engine()) as session:
        families = list(session.execute(query))
    unknown = sorted(set(slugs) - {slug for _, slug in families})
    measures: dict[uuid.UUID, FamilyMeasure] = {}
    failed: list[str] = []
    for family_id, slug in families:
        try:
            measures[family_id] = measure_family(slug, day)
        except Exception:  # noqa: BLE001 - reported to the caller and logged; the other families still count
            current_app.logger.exception("analytics: could not measure family %s", slug)
            failed.append(slug)
    try:
        with Session(platform_engine()) as session, session.begin():
            written = record_daily_analytics(session, day, measures, only_these=bool(slugs))
    except IntegrityError:  # another run recorded the same day meanwhile (the partial unique index): theirs stands
        return 0, failed + unknown
    return written, failed + unknown
