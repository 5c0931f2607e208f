"""Create, migrate and drop whole family databases (PostgreSQL databases or SQLite files)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

FAMILY_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "family"


def _maintenance_url(url: URL) -> URL:
    return url.set(database="postgres")


def database_exists(url: str) -> bool:
    """True when the database (or SQLite file) behind `url` exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return bool(parsed.database) and Path(parsed.database).exists()
    engine = create_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}) == 1
    finally:
        engine.dispose()


def create_database(url: str) -> None:
    """Create the database behind `url`; raises if it already exists."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.exists():
            raise FileExistsError(f"database file {path} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return
    engine = create_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    """Drop the database behind `url` if it exists (compensation for a failed provisioning, deletion)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(_maintenance_url(parsed), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote(parsed.database)
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


def upgrade_family_database(url: str, revision: str = "head") -> None:
    """Run the family chain on one database (idempotent at head)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = family_alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def family_database_revision(url: str) -> str | None:
    """The revision a family database is at (None when never migrated)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def ensure_family_database(url: str) -> None:
    """Create the database when missing, then bring it to head."""
    if not database_exists(url):
        create_database(url)
    upgrade_family_database(url)
