"""`flask families import-legacy` on a real legacy PostgreSQL database: the Rivera sample, then its variants."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.chores.models import Chore
from app.db import platform_engine
from app.legacy.importer import OPENING_DESCRIPTION
from app.members.models import FamilySetting, Member
from app.notifications.models import Notification
from app.platform.models import Family, Invitation
from app.points.models import LedgerEntry
from app.rewards.models import Redemption, Reward
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from app.transfer.archive import archive_bytes
from app.web import uploads_root
from tests.transfer.conftest import dedicated_database_exists

RIVERA = {  # legacy available_points, and what pending / approved requests now hold
    "elena": (0, 0), "marco": (0, 0), "sofia": (227, 0), "diego": (245, 80), "lucia": (234, 30),
}


def _slug() -> str:
    return f"rivera-{uuid.uuid4().hex[:8]}"


def _import(runner: FlaskCliRunner, slug: str, url: str, *extra: str, placement: str = "dedicated"):  # noqa: ANN202
    """Ids are kept, so each import of the one sample family gets a database of its own (one test pools it)."""
    return runner.invoke(args=["families", "import-legacy", slug, "--from", url, "--placement", placement, *extra])


def _family_id(app: Flask, slug: str) -> uuid.UUID | None:
    with app.app_context(), Session(platform_engine()) as session:
        return session.scalar(select(Family.id).where(Family.slug == slug))


def _counts(app: Flask, slug: str) -> dict[str, int]:
    with app.app_context(), family_context(slug) as ctx:
        return {model.__tablename__: ctx.session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Member, Chore, Assignment, LedgerEntry, Reward, Redemption, Notification,
                              FamilySetting)}


def test_the_sample_family_imports_clean_with_every_balance_exact(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    url, slug = legacy_database(), _slug()
    result = _import(runner, slug, url)
    assert result.exit_code == 0, result.output
    assert "Reconciliation: clean" in result.output
    assert "points_history                     8         0        8  8 mirrors of point_deductions" in result.output
    assert "hp_owner:***@" in result.output or "***" in result.output  # the password never printed
    assert "Invitation (owner) for elena@rivera.example.com: http://" in result.output
    assert "Invitation (admin) for marco@rivera.example.com: http://" in result.output

    counts = _counts(app, slug)
    assert counts["members"] == 5 and counts["chores"] == 25 and counts["rewards"] == 10
    assert counts["assignments"] == 129 + 3  # and the open chores still on offer or done (one expired: skipped)
    # 122 transactions + 8 deductions (their 8 history mirrors once) + 1 conversion + 2 completed + 2 held requests
    assert counts["points_ledger"] == 122 + 8 + 1 + 2 + 2
    assert counts["notifications"] == 12 and counts["redemptions"] == 5
    with app.app_context(), family_context(slug) as ctx:
        members = {m.username: m for m in ctx.session.scalars(select(Member))}
        assert set(members) == set(RIVERA)
        sums = dict(ctx.session.execute(select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
                                        .group_by(LedgerEntry.member_id)).all())
        for username, (available, held) in RIVERA.items():
            member = members[username]
            assert member.available_points + held == available, username
            assert (sums.get(member.id) or 0) == member.available_points, username
            assert member.password_hash is None and member.pin_hash is None and member.user_id is None
        assert members["sofia"].total_points == 627 and members["diego"].total_points == 295
        assert members["elena"].role == "parent" and members["lucia"].role == "child"
        assert members["sofia"].id == uuid.UUID("0d51b04f-c316-5ca1-91bc-eadb280e25f5")  # original ids kept
        assert not ctx.session.scalar(select(func.count()).select_from(LedgerEntry)
                                      .where(LedgerEntry.description == OPENING_DESCRIPTION))
        rewards = {r.name: r for r in ctx.session.scalars(select(Reward))}
        assert rewards["Sticker pack"].legacy_availability == "limited" and rewards["Sticker pack"].stock == 10
        assert rewards["Pool day with a friend"].legacy_availability == "seasonal"
        assert rewards["$5 cash"].value_in_cents == 500
        settings = {s.key: s.value for s in ctx.session.scalars(select(FamilySetting))}
        assert settings["week_start"] == "sunday" and settings["points_per_currency_unit"] == 10
        assert "authorized_emails" not in str(settings)
        chore = ctx.session.scalars(select(Chore).where(Chore.name == "Make bed")).one()
        assert chore.frequency == "daily"
        family = ctx.session.get(Family, ctx.family.id)
        assert family is not None and family.timezone == "America/New_York" and family.name == "Rivera Family"
        invitations = ctx.session.scalars(select(Invitation).where(Invitation.family_id == family.id)).all()
        assert sorted((i.email, i.role) for i in invitations) == [("elena@rivera.example.com", "owner"),
                                                                  ("marco@rivera.example.com", "admin")]


def test_a_second_run_changes_nothing_and_says_so(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    url, slug = legacy_database(), _slug()
    assert _import(runner, slug, url).exit_code == 0
    before = _counts(app, slug)
    again = _import(runner, slug, url)
    assert again.exit_code == 0, again.output
    assert "nothing was changed" in again.output and "Reconciliation: clean" in again.output
    assert _counts(app, slug) == before
    compare = runner.invoke(args=["families", "compare-legacy", slug, "--from", url])
    assert compare.exit_code == 0 and "Reconciliation: clean" in compare.output


def test_compare_finds_what_changed_in_the_old_service_since(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    url, slug = legacy_database(), _slug()
    assert _import(runner, slug, url).exit_code == 0
    import psycopg
    from sqlalchemy.engine import make_url

    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as connection:
        connection.execute("INSERT INTO point_transactions (user_id, points, transaction_type, description) "
                           "VALUES ('0f186859-131d-59aa-a2a3-ceb366e2320a', 5, 'bonus', 'After the import')")
        connection.execute("UPDATE users SET total_points = total_points + 5 WHERE username = 'lucia'")
    compare = runner.invoke(args=["families", "compare-legacy", slug, "--from", url])
    assert compare.exit_code == 1
    assert "point_transactions: 123 source rows, 122 imported" in compare.output
    assert "lucia: available 204 (+30 held) ≠ legacy 239" in compare.output


def test_dry_run_writes_nothing(app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str],
                                neighbour: FamilyRecord) -> None:
    url, slug = legacy_database(), _slug()
    result = _import(runner, slug, url, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was written" in result.output and "Reconciliation: clean" in result.output
    assert _family_id(app, slug) is None


def test_a_drifted_cache_gets_one_opening_adjustment(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    # A double credit in the old service's cache: available_points 7 above what its ledgers give.
    url, slug = legacy_database("UPDATE users SET available_points = available_points + 7 WHERE username = 'lucia'"), \
        _slug()
    result = _import(runner, slug, url)
    assert result.exit_code == 0, result.output
    assert "lucia: opening adjustment +7" in result.output and "Reconciliation: clean" in result.output
    with app.app_context(), family_context(slug) as ctx:
        lucia = ctx.session.scalars(select(Member).where(Member.username == "lucia")).one()
        openings = ctx.session.scalars(select(LedgerEntry).where(LedgerEntry.description == OPENING_DESCRIPTION)
                                       ).all()
        assert [(o.member_id, o.amount, o.kind) for o in openings] == [(lucia.id, 7, "adjustment")]
        assert lucia.available_points == 241 - 30


def test_secrets_of_the_old_database_never_arrive(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    url = legacy_database("""
        UPDATE users SET preferences = preferences || '{"google_oauth": {"access_token": "SECRET-TOKEN-1"},
                                                        "refresh_token": "SECRET-TOKEN-2"}'::jsonb
         WHERE username = 'elena';
        INSERT INTO system_settings (setting_key, setting_value, setting_type)
             VALUES ('google_calendar_token', 'SECRET-TOKEN-3', 'string'),
                    ('smtp_password', 'SECRET-TOKEN-4', 'string');
        INSERT INTO family_settings (key, value) VALUES ('ical_secret_url', '"https://x.example/SECRET-TOKEN-5"');
    """)
    slug = _slug()
    result = _import(runner, slug, url)
    assert result.exit_code == 0, result.output
    assert "elena: 2 preference key(s) not read" in result.output
    assert "2 not on the import list (integration tokens, links, SMTP): never read" in result.output
    assert "1 look like credentials: never read" in result.output
    with app.app_context(), family_context(slug) as ctx:
        everything = archive_bytes(ctx.session, ctx.family.id, uploads_root())
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(everything)) as archive:
            text = b"".join(archive.read(name) for name in archive.namelist())
    assert b"SECRET-TOKEN" not in text
    assert b'"account_type": "adult"' in text  # the listed preference keys did arrive


DROP_FOREIGN_KEYS = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT conrelid::regclass AS t, conname FROM pg_constraint WHERE contype = 'f' LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname);
  END LOOP;
END $$;
"""


@pytest.mark.parametrize(("variant", "message"), [
    ("UPDATE assignments SET chore_id = '00000000-0000-0000-0000-00000000c0de' "
     "WHERE id = '7b7fe916-1224-5d73-beca-e7256bf93c06'",
     "assignments 7b7fe916-1224-5d73-beca-e7256bf93c06: chore_id 00000000-0000-0000-0000-00000000c0de points at "
     "no imported row"),
    ("UPDATE point_transactions SET user_id = '00000000-0000-0000-0000-0000000000aa' "
     "WHERE id = '9a4ac119-f138-5819-862e-3031e3a4d8fd'",
     "point_transactions 9a4ac119-f138-5819-862e-3031e3a4d8fd: user_id 00000000-0000-0000-0000-0000000000aa"),
    ("UPDATE point_transactions SET points = 999999 WHERE id = '9a4ac119-f138-5819-862e-3031e3a4d8fd'",
     "points 999999 is not a possible number of points"),
    ("UPDATE rewards SET availability = 'sometimes' WHERE name = 'Sticker pack'",
     "availability 'sometimes' is not always, limited or seasonal"),
    ("UPDATE assignments SET status = 'teleported' WHERE id = '7b7fe916-1224-5d73-beca-e7256bf93c06'",
     "status 'teleported' is unknown"),
    ("UPDATE users SET username = 'Sofia' WHERE username = 'diego'", "username 'Sofia' is not unique"),
    ("UPDATE users SET color_theme = 'purple' WHERE username = 'diego'", "color_theme 'purple'"),
])
def test_broken_references_and_impossible_values_stop_the_import_before_anything_is_made(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord,
        variant: str, message: str) -> None:
    url, slug = legacy_database(DROP_FOREIGN_KEYS + variant + ";"), _slug()
    result = _import(runner, slug, url)
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing was imported" in result.output
    assert _family_id(app, slug) is None


def test_a_database_that_is_not_a_legacy_one_is_refused(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str]) -> None:
    empty = legacy_database(schema=False)
    result = _import(runner, "not-legacy", empty)
    assert result.exit_code != 0
    assert "not a legacy HousePoints database: it lacks the tables users, chores" in result.output
    missing = legacy_database("DROP TABLE point_deductions CASCADE")
    result = _import(runner, "not-legacy", missing)
    assert result.exit_code != 0 and "lacks the tables point_deductions" in result.output
    result = _import(runner, "not-legacy", "sqlite:///nowhere.db")
    assert result.exit_code != 0 and "must be a PostgreSQL database URL" in result.output
    result = _import(runner, "not-legacy", "postgresql://nobody:secret-pw@127.0.0.1:7299/none")
    assert result.exit_code != 0 and "Cannot read the legacy database" in result.output
    assert "secret-pw" not in result.output
    assert _family_id(app, "not-legacy") is None


def test_a_taken_slug_is_refused(runner: FlaskCliRunner, legacy_database: Callable[..., str],
                                 neighbour: FamilyRecord) -> None:
    result = _import(runner, neighbour.slug, legacy_database())
    assert result.exit_code != 0 and "is taken" in result.output


def test_a_family_that_fails_to_reconcile_leaves_nothing_behind(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The last check fails after every row was written: the family's rows, ledger and platform row all go."""
    from app.legacy import cli, importer

    def reconcile_with_a_difference(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        report = importer.reconcile(*args, **kwargs)
        report.problems.append("an injected difference")
        return report

    monkeypatch.setattr(cli, "reconcile", reconcile_with_a_difference)
    url, slug = legacy_database(), _slug()
    result = _import(runner, slug, url)
    assert result.exit_code != 0
    assert "PROBLEM: an injected difference" in result.output and "nothing was kept" in result.output
    assert _family_id(app, slug) is None
    assert not dedicated_database_exists(app, slug)  # the dedicated database made for it was dropped


def test_importing_the_same_legacy_family_twice_into_one_database_is_refused_cleanly(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    """The only test that pools the sample family: the ids it keeps are then taken in the pooled database."""
    url, first, second = legacy_database(), _slug(), _slug()
    result = _import(runner, first, url, placement="pooled")
    assert result.exit_code == 0 and "Reconciliation: clean" in result.output, result.output
    result = _import(runner, second, url, placement="pooled")
    assert result.exit_code != 0
    assert "already exist in the target database" in result.output and "nothing was kept" in result.output
    assert _family_id(app, second) is None



def test_schedules_and_presence_overrides_come_across(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], neighbour: FamilyRecord) -> None:
    from app.chores.models import ChoreSchedule
    from app.presence.models import PresenceException

    url = legacy_database("""
        INSERT INTO scheduled_chores (chore_id, next_post_date, frequency, days_of_week)
             VALUES ('93909c9f-e077-534a-83fb-2dd1ac2ff3bc', '2025-04-13', 'weekly', ARRAY[0, 6]);
        INSERT INTO rotation_presence_overrides (rotation_group_id, child_id, date, is_available, reason, created_by)
             VALUES ('fd40510f-18ce-50b5-ab7c-9a0bf5b36e87', '3032b868-81c0-5bf3-bcc0-7d1158c4d9ab', '2025-04-14',
                     false, 'At his dad''s', 'd3dbb56c-cc8b-52ec-aedb-a524821709b5');
    """)
    slug = _slug()
    result = _import(runner, slug, url)
    assert result.exit_code == 0, result.output
    assert "scheduled_chores                   1         1        0" in result.output
    assert "rotation_presence_overrides        1         1        0" in result.output
    with app.app_context(), family_context(slug) as ctx:
        make_bed = ctx.session.scalars(select(ChoreSchedule).where(
            ChoreSchedule.chore_id == uuid.UUID("93909c9f-e077-534a-83fb-2dd1ac2ff3bc"))).one()
        assert (make_bed.kind, make_bed.weekdays) == ("weekly", [5, 6])  # legacy Sunday 0, Saturday 6
        laundry = ctx.session.scalars(select(ChoreSchedule).where(
            ChoreSchedule.chore_id == uuid.UUID("c09a1526-59fd-51df-9717-9bea4b07759d"))).one()
        assert laundry.kind == "weekly"  # from the chore's free-text frequency
        away = ctx.session.scalars(select(PresenceException)).one()
        assert (away.member_id, away.present, away.note) == (
            uuid.UUID("3032b868-81c0-5bf3-bcc0-7d1158c4d9ab"), False, "At his dad's")
