"""Database wiring: the engine registry, the request session and its teardown."""
from __future__ import annotations

import logging

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.db.clusters import pooled_cluster_urls
from app.db.engines import EngineRegistry
from app.db.session import TenantSession, install_move_guard, open_session

log = logging.getLogger(__name__)

EXTENSION_KEY = "housepoints.engines"


def init_app(app: Flask) -> None:
    """Create the (empty) engine registry; engines themselves appear lazily after fork."""
    app.extensions[EXTENSION_KEY] = EngineRegistry(
        max_engines=app.config["ENGINE_CACHE_SIZE"],
        pool_size=app.config["DB_POOL_SIZE"],
        max_overflow=app.config["DB_MAX_OVERFLOW"],
        unpinned_pool_size=app.config["DEDICATED_POOL_SIZE"],
        unpinned_max_overflow=app.config["DEDICATED_MAX_OVERFLOW"],
        pinned=(app.config["PLATFORM_DATABASE_URL"], app.config["FAMILY_DATABASE_URL"],
                *pooled_cluster_urls(app.config)),
    )
    app.teardown_appcontext(close_session)
    install_move_guard()


def engines() -> EngineRegistry:
    """This app's engine registry."""
    registry: EngineRegistry = current_app.extensions[EXTENSION_KEY]
    return registry


def platform_engine() -> Engine:
    """The platform database's engine."""
    return engines().get(current_app.config["PLATFORM_DATABASE_URL"])


def get_session() -> TenantSession:
    """The request's one session: platform tables always, the current family's tables when in a family."""
    if "db_session" not in g:
        family = g.get("family")
        if family is None:
            g.db_session = open_session(platform_engine())
        else:
            g.db_session = open_session(platform_engine(), engines().get(family.database_url), family.id)
    session: TenantSession = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Teardown: anything the view did not commit is rolled back here."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        session.close()
    except DBAPIError:
        # The server went away after the answer was made (a crash or restart): a lost connection keeps nothing
        # uncommitted, so the answer stands (it was a 500 from the teardown); the pool drops the broken connection.
        log.warning("database connection lost while closing the request's session")
        session.invalidate()
