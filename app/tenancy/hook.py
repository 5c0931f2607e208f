"""The one tenancy hook: first in line on every request, it decides which site and family the Host names."""
from __future__ import annotations

import time
import uuid
from datetime import datetime

from flask import abort, current_app, g, redirect, request
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app.db import platform_engine
from app.db.session import FamilyReadOnly
from app.platform.models import Family
from app.tenancy.hosts import Site, resolve_host

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACTIVITY_INTERVAL = 300.0  # seconds between last_activity_at writes per family and process
_last_activity: dict[str, float] = {}


def resolve_family() -> BaseResponse | None:
    """Set g.site and g.family, or stop the request before any family data is touched."""
    target = resolve_host(request.host, current_app.config["BASE_DOMAIN"])
    g.site = target.site
    g.family = None
    if target.site is Site.NOT_OURS:
        abort(400, description="This address is not served here.")
    if target.site is Site.NO_FAMILY:
        abort(404, description="There is no family at this address.")
    if target.site is Site.WWW:
        return redirect(f"{request.scheme}://{current_app.config['BASE_DOMAIN']}{request.full_path.rstrip('?')}", 301)
    if target.site is not Site.FAMILY:
        if request.url_rule is not None and "family" in request.url_rule.arguments:
            abort(404)  # a family route reached from a non-family host
        return None
    assert target.slug is not None
    family = current_app.extensions["housepoints.registry"].lookup(target.slug)
    if family is None:
        abort(404, description="There is no family at this address.")
    if family.is_deleted:
        abort(410, description="This family's account has been deleted. Its owner can cancel the deletion for a "
                               f"while by signing in at {current_app.config['BASE_DOMAIN']}.")
    if family.status in ("suspended", "cancelled"):
        abort(403, description="This family's account is not active. The family owner can contact support.")
    g.family = family
    if family.moving and request.method not in SAFE_METHODS:
        raise FamilyReadOnly("this family is being moved")  # reads go on; app/errors.py answers 503 + Retry-After
    _touch_activity(family.slug, family.id)
    return None


def _touch_activity(slug: str, family_id: uuid.UUID) -> None:
    """Record activity at most every few minutes per process, so reads do not become writes."""
    now = time.monotonic()
    if now - _last_activity.get(slug, -ACTIVITY_INTERVAL) < ACTIVITY_INTERVAL:
        return
    _last_activity[slug] = now
    with Session(platform_engine()) as session, session.begin():
        session.execute(update(Family).where(Family.id == family_id).values(last_activity_at=_utcnow()))


def _utcnow() -> datetime:
    from app.db.bases import utcnow

    return utcnow()
