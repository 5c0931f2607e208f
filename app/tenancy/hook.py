"""The one tenancy hook: first in line on every request, it decides which site and family the Host names."""
from __future__ import annotations

import uuid
from datetime import datetime

from flask import abort, current_app, g, redirect, request
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.db import platform_engine
from app.db.session import FamilyReadOnly
from app.languages import translatable
from app.redis_store import get_redis, platform_key
from app.tenancy.activity import note_activity
from app.tenancy.hosts import Site, resolve_host

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DELETED_MESSAGE = translatable("This family's account has been deleted. Its owner can cancel the deletion for a while "
                               "by signing in at %(apex)s.")


def resolve_family() -> BaseResponse | None:
    """Set g.site and g.family, or stop the request before any family data is touched."""
    target = resolve_host(request.host, current_app.config["BASE_DOMAIN"])
    g.site = target.site
    g.family = None
    if target.site is Site.NOT_OURS:
        abort(400, description=translatable("This address is not served here."))
    if target.site is Site.NO_FAMILY:
        abort(404, description=translatable("There is no family at this address."))
    if target.site is Site.WWW:
        return redirect(f"{request.scheme}://{current_app.config['BASE_DOMAIN']}{request.full_path.rstrip('?')}", 301)
    if target.site is not Site.FAMILY:
        if request.url_rule is not None and "family" in request.url_rule.arguments:
            abort(404)  # a family route reached from a non-family host
        return None
    assert target.slug is not None
    family = current_app.extensions["housepoints.registry"].lookup(target.slug)
    if family is None:
        abort(404, description=translatable("There is no family at this address."))
    if family.is_deleted:
        abort(410, description=_deleted_message(current_app.config["BASE_DOMAIN"]))
    if family.status in ("suspended", "cancelled"):
        abort(403, description=translatable("This family's account is not active. The family owner can contact "
                                            "support."))
    g.family = family
    if family.moving and request.method not in SAFE_METHODS:
        raise FamilyReadOnly("this family is being moved")  # reads go on; app/errors.py answers 503 + Retry-After
    _touch_activity(family.id)
    return None


def _deleted_message(apex: str) -> str:
    """The 410 text: in the page's language on pages, English in the API (its wire text)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return DELETED_MESSAGE % {"apex": apex}
    return str(gettext(DELETED_MESSAGE, apex=apex))


def _touch_activity(family_id: uuid.UUID) -> None:
    """Note activity in Redis (the tick writes it to the platform database in batches) at most every few minutes."""
    note_activity(family_id, _utcnow(), client=get_redis(), key=platform_key("activity"),
                  platform_engine=platform_engine())


def _utcnow() -> datetime:
    from app.db.bases import utcnow

    return utcnow()
