"""Fixtures for archives and legacy imports: a family with rows in every table, its owner, its photos."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.members.models import Member
from app.platform.models import Family, FamilyMembership, User
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from app.web import uploads_root
from tests.conftest import app_on_both_engines
from tests.neighbour import _no_side_effects, seed_family

app = app_on_both_engines()  # archives are plain ORM reads and writes: proved on pooled SQLite too

PHOTO = bytes.fromhex("ffd8ffe000104a464946") + b"\x00" * 64 + bytes.fromhex("ffd9")


@pytest.fixture
def full_family(app: Flask, family: FamilyRecord) -> FamilyRecord:
    """This test's family with rows in every family table, an owner account and a stored photo."""
    with app.app_context(), family_context(family.slug) as ctx:
        seed_family(ctx.session, family)
        _no_side_effects(ctx.session)
        parent = ctx.session.scalars(select(Member).where(Member.role == "parent").order_by(Member.username)).first()
        assert parent is not None
        user = User(email=f"owner-{uuid.uuid4().hex[:8]}@example.com", display_name="Owner")
        ctx.session.add(user)
        ctx.session.flush()
        ctx.session.add(FamilyMembership(user_id=user.id, family_id=family.id, role="owner", member_id=parent.id))
        parent.user_id = user.id
        ctx.session.commit()
        folder = uploads_root() / str(family.id)
        folder.mkdir(parents=True, exist_ok=True)
        photo_id = uuid.uuid4()
        (folder / f"{photo_id}.jpg").write_bytes(PHOTO)
        (folder / f"{photo_id}_thumb.jpg").write_bytes(PHOTO[:40] + PHOTO[-2:])
    return family


@pytest.fixture
def family_exists(app: Flask) -> Callable[[str], bool]:
    """Whether a platform row (live or deleted) holds that slug."""
    def exists(slug: str) -> bool:
        with app.app_context(), Session(platform_engine()) as session:
            return session.scalar(select(Family.id).where(Family.slug == slug)) is not None
    return exists


def dedicated_database_exists(app: Flask, slug: str) -> bool:
    """Whether the dedicated database a family with this slug would get exists (a PostgreSQL database, a file)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=slug.replace("-", "_")))
    if url.get_backend_name() == "sqlite":
        return Path(str(url.database)).exists()
    engine = create_engine(url.set(database="postgres"))
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": url.database}) is not None
    finally:
        engine.dispose()


@pytest.fixture
def uploads(app: Flask) -> Path:
    with app.app_context():
        return uploads_root()
