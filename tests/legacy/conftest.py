"""A real legacy database per test: the previous backend's schema and the invented Rivera family, in PostgreSQL."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app.tenancy.databases import create_database, database_owner, drop_database, owner_url

DATA = Path(__file__).parent / "data"  # copies of ../shared/legacy (schema.sql, sample_family.sql, README.md)


@pytest.fixture
def legacy_database(app: Flask) -> Iterator[Callable[..., str]]:
    """Factory: a new PostgreSQL database with the legacy schema, the sample family and then `sql` (a variant);
    returns its URL (the owner role, as an operator would connect). `schema=False` makes a non-legacy database."""
    made: list[str] = []
    owner = database_owner(app.config)
    # Named like the run's dedicated databases, so the run's clean-up drops any this test leaves behind.
    prefix = make_url(app.config["DEDICATED_DATABASE_URL_TEMPLATE"].replace("{slug}", "")).database

    def make(sql: str = "", *, schema: bool = True, sample: bool = True) -> str:
        name = f"{prefix}legacy_{uuid.uuid4().hex[:8]}"
        url = owner_url(make_url(app.config["FAMILY_DATABASE_URL"]).set(database=name)
                        .render_as_string(hide_password=False), owner)
        create_database(url, owner)
        made.append(url)
        scripts = ([(DATA / "schema.sql").read_text()] if schema else []) \
            + ([(DATA / "sample_family.sql").read_text()] if schema and sample else []) + ([sql] if sql else [])
        with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                             autocommit=True) as connection:
            for script in scripts:
                connection.execute(script)  # type: ignore[arg-type]  # whole files: the simple query protocol
        return url

    yield make
    for url in made:
        drop_database(url, owner)
