"""Request-level helpers shared by family pages and the API: the family's rules and clock for this request."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO

from flask import Response, current_app, g
from sqlalchemy.orm import Session

from app.family_rules import FamilyRules, load_family_rules
from app.db import get_session
from app.db.bases import utcnow
from app.notifications.routing import ROUTING_CACHE, Routing
from app.view_cache import cached_by_settings, wrote_settings


def current_rules() -> FamilyRules:
    """The current family's clock and approval rules (read once per request; from the database only when the
    family's settings changed since this process last read them)."""
    if "family_rules" not in g:
        session, family = get_session(), g.family
        rules = cached_by_settings("rules", family.id, family.timezone,
                                  lambda: load_family_rules(session, family.timezone))
        # Notifications written in this session read the family's language from here instead of asking again,
        # and who to tell from this process's copy at the family's settings version.
        session.info["family_language"] = rules.language
        session.info[ROUTING_CACHE] = _routing_cache(session, family.id)
        g.family_rules = rules
    cached: FamilyRules = g.family_rules
    return cached


def _routing_cache(session: Session, family_id: uuid.UUID) -> Callable[[Callable[[], Routing]], Routing]:
    """Keep the family's notification routing by settings version, except in a transaction that changed it."""
    def keep(load: Callable[[], Routing]) -> Routing:
        if wrote_settings(session):
            return load()  # the cached copy predates this transaction's own change
        return cached_by_settings("notification_routing", family_id, "", load)
    return keep


def request_now() -> datetime:
    """One 'now' per request, so every rule in a request sees the same instant."""
    if "request_now" not in g:
        g.request_now = utcnow()
    now: datetime = g.request_now
    return now


def family_today() -> date:
    """Today in the family's timezone."""
    return current_rules().clock.today(request_now())


def uploads_root() -> Path:
    """Where photos live: instance/uploads/ unless UPLOADS_DIR says otherwise (tests use a temporary folder)."""
    configured = current_app.config.get("UPLOADS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


DOWNLOAD_CHUNK_BYTES = 256 * 1024


def spooled_download(archive: IO[bytes], *, filename: str, mimetype: str = "application/zip") -> Response:
    """Stream a spooled temporary file from its start as an attachment, closing (deleting) it once sent or
    abandoned; never cached."""
    size = archive.tell()
    archive.seek(0)
    response = Response(_read_then_close(archive), mimetype=mimetype)
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _read_then_close(archive: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := archive.read(DOWNLOAD_CHUNK_BYTES):
            yield chunk
    finally:
        archive.close()
