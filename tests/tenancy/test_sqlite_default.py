"""The embedded default (SQLite, no row-level security) gives every family a database file of its own."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.db import engines
from app.tenancy.cli import default_placement
import config
from tests.html import field_value
from tests.conftest import FamilyClient
from tests.platform.apex import PASSWORD, client_on, csrf_token, find_family, follow_handoff

pytestmark = pytest.mark.sqlite


@pytest.fixture
def embedded_app(tmp_path: Path) -> Iterator[Flask]:
    """`make run` in a temporary instance folder: SQLite URLs, no FAMILY_PLACEMENT, no Redis; set up by the CLI."""
    app = create_app(config.TestConfig, PLATFORM_DATABASE_URL=f"sqlite:///{tmp_path}/platform.db",
                     FAMILY_DATABASE_URL=f"sqlite:///{tmp_path}/families.db",
                     DEDICATED_DATABASE_URL_TEMPLATE=f"sqlite:///{tmp_path}/families/family_{{slug}}.db",
                     FAMILY_PLACEMENT=None, REDIS_URL=None)
    app.test_client_class = FamilyClient
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["families", "upgrade", "--all"], ["seed", "demo"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, (command, result.output)
    yield app
    with app.app_context():
        engines().dispose_all()


def _sign_up(app: Flask, family_name: str) -> tuple[str, str, object]:
    """Sign a new family up through the apex form, as a browser would; (slug, email, response)."""
    apex = client_on(app)
    tag = uuid.uuid4().hex[:6]
    slug, email = f"{family_name.lower()}-{tag}", f"parent-{tag}@example.com"
    page = apex.get("/signup").get_data(as_text=True)
    response = apex.post("/signup", data={
        "csrf_token": field_value(page, "csrf_token"), "nonce": field_value(page, "nonce"),
        "display_name": f"Parent {family_name}", "email": email, "password": PASSWORD,
        "family_name": f"The {family_name}", "slug": slug, "timezone": "Europe/Paris", "city": ""})
    return slug, email, response


def _members_in_file(path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(text("SELECT display_name FROM members")))
    finally:
        engine.dispose()


def _sign_in(app: Flask, slug: str, login: str, password: str) -> FamilyClient:
    client = client_on(app, slug)
    response = client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "login": login,
                                           "password": password})
    assert response.status_code == 302, (slug, response.status_code)
    assert client.get("/auth/switch").status_code == 200  # a signed-in page, not the login redirect
    return client


def test_placement_defaults_to_dedicated_only_on_sqlite() -> None:
    sqlite, postgres = "sqlite:///x/families.db", "postgresql+psycopg://u:p@h/db"
    assert default_placement({"FAMILY_PLACEMENT": None, "FAMILY_DATABASE_URL": sqlite}) == "dedicated"
    assert default_placement({"FAMILY_PLACEMENT": None, "FAMILY_DATABASE_URL": postgres}) == "pooled"
    assert default_placement({"FAMILY_PLACEMENT": "pooled", "FAMILY_DATABASE_URL": sqlite}) == "pooled"


def test_the_demo_and_two_signed_up_families_each_get_a_file_and_can_sign_in(embedded_app: Flask,
                                                                            tmp_path: Path) -> None:
    signed_up = []
    for name in ("Riveras", "Okafors"):
        slug, email, response = _sign_up(embedded_app, name)
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        client, landed = follow_handoff(embedded_app, response.headers["Location"])
        assert landed.status_code == 302 and landed.headers["Location"] == "/welcome"
        assert client.get("/auth/switch").status_code == 200
        signed_up.append((slug, email, f"Parent {name}"))

    files = {path.name for path in (tmp_path / "families").glob("*.db")}
    assert files == {"family_demo.db", *(f"family_{slug.replace('-', '_')}.db" for slug, _, _ in signed_up)}
    assert not (tmp_path / "families.db").exists()  # nothing pooled: no shared file was ever made
    assert _members_in_file(tmp_path / "families" / "family_demo.db") == ["Alex", "Jordan", "Leo", "Maya", "Zoe"]
    for slug, email, parent in signed_up:
        family = find_family(embedded_app, slug)
        assert family.placement == "dedicated"
        url = embedded_app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=family.database_key)
        database = make_url(url).database
        assert _members_in_file(Path(database)) == [parent]  # its file holds its own people, nobody else's
        _sign_in(embedded_app, slug, email, PASSWORD)
    _sign_in(embedded_app, "demo", "alex", "demo-parent-1")
