"""`flask families` and `flask seed`: provisioning succeeds whole or leaves nothing behind."""
from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.chores.models import Chore, ChoreSchedule
from app.db import platform_engine
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.members.models import FamilySetting, Member
from app.platform.models import Family
from app.tenancy.databases import database_exists
from app.tenancy.registry import family_database_url


def _family(app: Flask, slug: str) -> Family | None:
    with app.app_context(), Session(platform_engine()) as session:
        return session.scalar(select(Family).where(Family.slug == slug))


def _dedicated_url(app: Flask, slug: str) -> str:
    return app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=slug.replace("-", "_"))


@pytest.mark.postgresql_only("the listing shows the PostgreSQL URL with its role")
@pytest.mark.parametrize("placement", ["pooled", "dedicated"])
def test_create_provisions_and_lists(app: Flask, runner, in_family, placement: str) -> None:  # noqa: ANN001
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "create", slug, "--name", "CLI Family", "--placement", placement,
                                 "--timezone", "Europe/Berlin"])
    assert result.exit_code == 0, result.output
    assert f"Created family {slug} ({placement})" in result.output
    family = _family(app, slug)
    assert family is not None and family.placement == placement and family.timezone == "Europe/Berlin"
    if placement == "dedicated":
        assert database_exists(_dedicated_url(app, slug))
    with in_family(slug) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(FamilySetting)) > 0
    listing = runner.invoke(args=["families", "list"])
    line = next(line for line in listing.output.splitlines() if line.startswith(slug))
    assert "active" in line and placement in line and "hp_app:***@" in line


@pytest.mark.parametrize(("slug", "message"), [
    ("api", "reserved"), ("Bad_Slug", "lowercase"), ("ab", "3-50"), ("x--y", "two hyphens"),
])
def test_create_rejects_bad_slugs_and_creates_nothing(app: Flask, runner, slug: str, message: str) -> None:  # noqa: ANN001
    result = runner.invoke(args=["families", "create", slug, "--name", "X", "--placement", "dedicated"])
    assert result.exit_code != 0
    assert message in result.output
    assert _family(app, slug.lower()) is None
    assert not database_exists(_dedicated_url(app, slug.lower()))


def test_create_rejects_taken_slug_with_alternatives(app: Flask, runner, family) -> None:  # noqa: ANN001
    result = runner.invoke(args=["families", "create", family.slug, "--name", "Copycat", "--placement", "dedicated"])
    assert result.exit_code != 0
    assert "is taken" in result.output and f"{family.slug}-2" in result.output
    assert _family(app, family.slug).name == family.name
    assert not database_exists(_dedicated_url(app, family.slug))


def test_create_rejects_unknown_timezone(app: Flask, runner) -> None:  # noqa: ANN001
    slug = f"tz-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "create", slug, "--name", "X", "--timezone", "Mars/Olympus"])
    assert result.exit_code != 0 and "Unknown timezone" in result.output
    assert _family(app, slug) is None


def test_failed_dedicated_provisioning_drops_its_database(app: Flask, runner) -> None:  # noqa: ANN001
    """A failure after the database exists (here: a name too long for the column) leaves no database."""
    slug = f"fail-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "create", slug, "--name", "N" * 121, "--placement", "dedicated"])
    assert result.exit_code != 0 and "1-120" in result.output
    assert _family(app, slug) is None
    assert not database_exists(_dedicated_url(app, slug))


def test_upgrade_all_visits_each_database_once(app: Flask, runner, make_family) -> None:  # noqa: ANN001
    make_family(placement="dedicated")
    make_family()
    result = runner.invoke(args=["families", "upgrade", "--all"])
    assert result.exit_code == 0, result.output
    with app.app_context(), Session(platform_engine()) as session:
        families = session.scalars(select(Family).where(Family.deleted_at.is_(None))).all()
        urls = {family_database_url(f, pooled_url=app.config["FAMILY_DATABASE_URL"],
                                    dedicated_template=app.config["DEDICATED_DATABASE_URL_TEMPLATE"])
                for f in families}
    assert f"{len(urls | {app.config['FAMILY_DATABASE_URL']})} family database(s) at" in result.output


def test_upgrade_needs_a_slug_or_all(runner) -> None:  # noqa: ANN001
    assert runner.invoke(args=["families", "upgrade"]).exit_code != 0
    assert "no family" in runner.invoke(args=["families", "upgrade", "no-such-family"]).output


def test_seed_demo_is_idempotent(app: Flask, runner, in_family) -> None:  # noqa: ANN001
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "http://demo.localhost:5000/" in first.output and "alex / demo-parent-1" in first.output
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    with in_family("demo") as ctx:
        members = ctx.session.scalars(select(Member)).all()
        assert sorted(m.username for m in members) == ["alex", "jordan", "leo", "maya", "zoe"]
        assert sum(m.is_parent for m in members) == 2
        assert ctx.session.scalar(select(func.count()).select_from(Chore)) == 12
        assert all(m.password_hash.startswith("$argon2id$") for m in members if m.is_parent)
        # Schedules start on the family's today (New York), not the server's: for the first hours of every UTC day
        # the demo family used to have no chores at all.
        family_today = FamilyClock(ctx.family.timezone).today(utcnow())
        assert set(ctx.session.scalars(select(ChoreSchedule.start_date))) == {family_today}


def test_list_shows_a_family_on_a_cluster_this_process_does_not_know(app: Flask, runner, make_family) -> None:  # noqa: ANN001
    """Another process's cluster (or one removed from the configuration) is named, not a crash of the whole listing."""
    stray, after = make_family(), make_family()
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        session.execute(Family.__table__.update().where(Family.id == stray.id).values(cluster="elsewhere"))
    try:
        result = runner.invoke(args=["families", "list"])
        assert result.exit_code == 0, result.output
        [row] = [line for line in result.output.splitlines() if line.split()[:1] == [stray.slug]]
        assert "elsewhere" in row.split() and "not configured" in row
        assert any(line.split()[:1] == [after.slug] for line in result.output.splitlines())
    finally:
        with app.app_context(), Session(platform_engine()) as session, session.begin():
            session.execute(Family.__table__.update().where(Family.id == stray.id).values(cluster="default"))
