"""Two Alembic chains: each has one head, and the models match what the migrations build."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine

import app.models  # noqa: F401
from app.db import engines, platform_engine
from app.db.bases import FamilyBase, PlatformBase
from app.tenancy.databases import FAMILY_MIGRATIONS, family_alembic_config, upgrade_family_database

PLATFORM_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "platform"


def _platform_script() -> ScriptDirectory:
    config = AlembicConfig(str(PLATFORM_MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(PLATFORM_MIGRATIONS))
    return ScriptDirectory.from_config(config)


@pytest.mark.parametrize("script", [_platform_script, lambda: ScriptDirectory.from_config(family_alembic_config())])
def test_each_chain_has_one_head(script) -> None:  # noqa: ANN001
    assert len(script().get_heads()) == 1


@pytest.mark.parametrize("folder", [PLATFORM_MIGRATIONS, FAMILY_MIGRATIONS])
def test_revision_files_are_date_prefixed(folder: Path) -> None:
    names = [p.name for p in (folder / "versions").glob("*.py")]
    assert names and all(name[:8].isdigit() and name[8] == "_" for name in names)


def _diff(url: str, metadata) -> list:  # noqa: ANN001
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_models_match_migrations(any_app: Flask) -> None:
    """The app fixtures migrate fresh databases to head; autogenerate must then find nothing to do."""
    with any_app.app_context():
        platform_url = platform_engine().url.render_as_string(hide_password=False)
        family_url = engines().get(any_app.config["FAMILY_DATABASE_URL"]).url.render_as_string(hide_password=False)
    assert _diff(platform_url, PlatformBase.metadata) == []
    assert _diff(family_url, FamilyBase.metadata) == []


@pytest.mark.sqlite
def test_family_chain_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/family.db"
    upgrade_family_database(url)
    from alembic import command

    engine = create_engine(url)
    with engine.begin() as connection:
        config = family_alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    engine.dispose()
    upgrade_family_database(url)
    assert _diff(url, FamilyBase.metadata) == []
