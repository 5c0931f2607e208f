"""Create, migrate and drop whole family databases (PostgreSQL databases or SQLite files), as the owner role."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from app.db.engines import new_engine
from app.db.rls import grant_app_role

FAMILY_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "family"


@dataclass(frozen=True)
class DatabaseOwner:
    """The role that owns the schema: migrations and CREATE/DROP DATABASE connect as it, the app never does.

    One credential, swapped into any app URL (platform, pooled, a dedicated family's), so the owner reaches exactly
    the database the app uses, on the same server.
    """

    user: str
    password: str | None = None

    def url_for(self, app_url: str) -> str:
        """`app_url` with the owner's credentials (SQLite has no roles: unchanged)."""
        parsed = make_url(app_url)
        if parsed.get_backend_name() == "sqlite":
            return app_url
        return parsed.set(username=self.user, password=self.password).render_as_string(hide_password=False)


def database_owner(config: Mapping[str, Any]) -> DatabaseOwner | None:
    """The owner from DATABASE_OWNER_USER / DATABASE_OWNER_PASSWORD; None means the app's own role migrates."""
    user = config.get("DATABASE_OWNER_USER")
    return DatabaseOwner(user, config.get("DATABASE_OWNER_PASSWORD")) if user else None


def owner_url(app_url: str, owner: DatabaseOwner | None) -> str:
    """The URL that migrations and provisioning use for the database behind `app_url`."""
    return owner.url_for(app_url) if owner is not None else app_url


def _maintenance_url(url: URL) -> URL:
    return url.set(database="postgres")


def database_exists(url: str) -> bool:
    """True when the database (or SQLite file) behind `url` exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database is not None and parsed.database != "" and Path(parsed.database).exists()
    engine = new_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}) == 1)
    finally:
        engine.dispose()


def create_database(url: str, owner: DatabaseOwner | None = None) -> None:
    """Create the database behind `url`, owned by `owner` (or `url`'s role); raises if it already exists."""
    parsed = make_url(owner_url(url, owner))
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.exists():
            raise FileExistsError(f"database file {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return
    engine = new_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database or "")
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        engine.dispose()


def drop_database(url: str, owner: DatabaseOwner | None = None) -> None:
    """Drop the database behind `url` if it exists (compensation for a failed provisioning, deletion)."""
    parsed = make_url(owner_url(url, owner))
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = new_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database or "")
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        engine.dispose()


def family_alembic_config() -> AlembicConfig:
    """Alembic config for the family chain (one chain for every family database)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(FAMILY_MIGRATIONS))
    return config


def family_heads() -> set[str]:
    """The head revision(s) of the family chain."""
    return set(ScriptDirectory.from_config(family_alembic_config()).get_heads())


def upgrade_family_database(url: str, revision: str = "head", owner: DatabaseOwner | None = None) -> None:
    """Run the family chain on the database behind app URL `url` as `owner`, then re-grant the app role its share."""
    engine = new_engine(owner_url(url, owner))
    try:
        with engine.begin() as connection:
            config = family_alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            # In the same transaction: a new table is never visible to the app without its grants, or vice versa.
            grant_app_role(connection, make_url(url).username)
    finally:
        engine.dispose()


def family_database_revision(url: str) -> str | None:
    """The revision a family database is at (None when never migrated)."""
    engine = new_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def ensure_family_database(url: str, owner: DatabaseOwner | None = None) -> None:
    """Create the database when missing, then bring it to head (both as `owner`)."""
    if not database_exists(url):
        create_database(url, owner)
    upgrade_family_database(url, owner=owner)
