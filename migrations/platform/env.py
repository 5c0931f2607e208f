"""Alembic environment of the platform chain: the platform metadata on PLATFORM_DATABASE_URL, as the owner role."""
from alembic import context
from sqlalchemy.engine import make_url

import app.models  # noqa: F401  (every model registers on its metadata)
from app.db.bases import PlatformBase

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from flask import current_app

    from app.db.engines import build_engine
    from app.db.rls import grant_app_role
    from app.tenancy.databases import database_owner, owner_url

    # Not the app's engine: the app's role owns nothing, so the schema is built (and owned) by the owner role.
    app_url = current_app.config["PLATFORM_DATABASE_URL"]
    engine = build_engine(owner_url(app_url, database_owner(current_app.config)), pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # build_engine turns SQLite's foreign keys on; a batch rebuild drops and re-creates a table, and with
                # them on dropping `families` would cascade-delete its memberships. The pragma only acts outside a
                # transaction, hence before the migration's.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            _run(connection)
            grant_app_role(connection, make_url(app_url).username)
            connection.commit()
    finally:
        engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=PlatformBase.metadata,
                      compare_type=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
