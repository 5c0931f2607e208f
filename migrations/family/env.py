"""Alembic environment of the family chain: one schema for the pooled database and every dedicated one."""
from alembic import context

import app.models  # noqa: F401  (every model registers on its metadata)
from app.db.bases import FamilyBase

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("the family chain needs a database: pass -x url=... or use `flask families upgrade`")
    from app.db.engines import new_engine

    engine = new_engine(url)
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=FamilyBase.metadata,
                      compare_type=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations()
