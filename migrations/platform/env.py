"""Alembic environment of the platform chain: the platform metadata on PLATFORM_DATABASE_URL."""
from alembic import context

import app.models  # noqa: F401  (every model registers on its metadata)
from app.db.bases import PlatformBase

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from app.db import platform_engine

    with platform_engine().connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=PlatformBase.metadata,
                      compare_type=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
