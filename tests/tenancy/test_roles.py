"""The app's database role cannot switch the walls off: it owns nothing, so DDL, TRUNCATE and RLS bypasses fail."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.db.rls import APPEND_ONLY_TABLES, app_role_privileges, app_table_privileges
from app.members.models import Member
from app.points.models import LedgerEntry
from app.tenancy.context import family_context
from app.tenancy.databases import database_owner, owner_url
from app.tenancy.registry import FamilyRecord
from tests.conftest import family_factory

pytestmark = pytest.mark.postgresql_only("database roles, privileges and row-level security are PostgreSQL's")

Connect = Callable[[str], AbstractContextManager[Connection]]
MUST_OWN = "must be owner of"
NO_PRIVILEGE = "permission denied for table"


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    # A plain engine, not the app's registry: these statements are attacks, kept apart from the app's pools.
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.fixture
def as_app(app: Flask) -> Connect:
    """A connection to one of the run's databases as the app's runtime role (the URL the app itself uses)."""
    return lambda url: _connect(url)


@pytest.fixture
def as_owner(app: Flask) -> Connect:
    """A connection to the same database as the owner role (what migrations and provisioning use)."""
    owner = database_owner(app.config)
    assert owner is not None, "the test config must name an owner role (DATABASE_OWNER_USER)"
    return lambda url: _connect(owner_url(url, owner))


@pytest.fixture
def ledger_family(app: Flask) -> FamilyRecord:
    """A pooled family with one member and one ledger entry, so row triggers and policies have a row to act on."""
    family = family_factory(app)()
    with app.app_context(), family_context(family.slug) as ctx:
        kid = Member(username="kid", display_name="Kid", role="child")
        ctx.session.add(kid)
        ctx.session.flush()
        ctx.session.add(LedgerEntry(member_id=kid.id, amount=5, kind="bonus", description="seed"))
        ctx.session.commit()
    return family


def _enter(connection: Connection, family: FamilyRecord) -> None:
    connection.execute(text("SELECT set_config('app.family_id', :id, false)"), {"id": str(family.id)})


REFUSED = [
    ("ALTER TABLE points_ledger DISABLE TRIGGER ALL", MUST_OWN),
    ("ALTER TABLE points_ledger DISABLE TRIGGER points_ledger_append_only", MUST_OWN),
    ("ALTER TABLE members NO FORCE ROW LEVEL SECURITY", MUST_OWN),
    ("ALTER TABLE members DISABLE ROW LEVEL SECURITY", MUST_OWN),
    ("DROP POLICY family_isolation ON members", MUST_OWN),
    ("ALTER POLICY family_isolation ON members USING (true)", MUST_OWN),
    ("CREATE POLICY everything ON members USING (true)", MUST_OWN),
    ("ALTER TABLE members OWNER TO CURRENT_USER", MUST_OWN),
    ("CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger LANGUAGE plpgsql "
     "AS $$ BEGIN RETURN OLD; END $$", f"{MUST_OWN}|permission denied for schema"),
    ("DROP FUNCTION points_ledger_append_only() CASCADE", MUST_OWN),
    ("DROP TABLE points_ledger", MUST_OWN),
    ("DROP TABLE members", MUST_OWN),
    ("TRUNCATE points_ledger", NO_PRIVILEGE),
    ("TRUNCATE members", NO_PRIVILEGE),
    ("UPDATE points_ledger SET amount = 1000", NO_PRIVILEGE),
    ("DELETE FROM points_ledger", NO_PRIVILEGE),
    ("UPDATE alembic_version SET version_num = 'x'", NO_PRIVILEGE),
    ("CREATE TABLE shadow (id int)", "permission denied for schema"),
    ("SET session_replication_role = replica", "permission denied to set parameter"),
]


@pytest.mark.parametrize(("statement", "message"), REFUSED, ids=[s.split(" ON ")[0][:48] for s, _ in REFUSED])
def test_the_app_role_is_refused(app: Flask, as_app: Connect, ledger_family: FamilyRecord, statement: str,
                                 message: str) -> None:
    """Inside its own family, with rows in the way, the app role still cannot change the rules of the database."""
    with as_app(app.config["FAMILY_DATABASE_URL"]) as connection:
        _enter(connection, ledger_family)
        with pytest.raises(DBAPIError, match=message):
            connection.exec_driver_sql(statement)
        connection.rollback()
        _enter(connection, ledger_family)
        assert connection.scalar(text("SELECT count(*) FROM points_ledger")) == 1  # nothing changed


@pytest.mark.parametrize("in_family", [False, True], ids=["no-family", "own-family"])
def test_row_security_off_makes_queries_fail_instead_of_bypassing(app: Flask, as_app: Connect,
                                                                  ledger_family: FamilyRecord, in_family: bool) -> None:
    with as_app(app.config["FAMILY_DATABASE_URL"]) as connection:
        if in_family:
            _enter(connection, ledger_family)
        connection.exec_driver_sql("SET row_security = off")  # allowed to set, but it cannot bypass a policy
        for table in ("members", "points_ledger"):
            with pytest.raises(DBAPIError, match=f'would be affected by row-level security policy for table "{table}"'):
                connection.exec_driver_sql(f"SELECT count(*) FROM {table}")
            connection.rollback()
            connection.exec_driver_sql("SET row_security = off")
            if in_family:
                _enter(connection, ledger_family)


def test_the_platform_database_is_out_of_reach_too(app: Flask, as_app: Connect) -> None:
    with as_app(app.config["PLATFORM_DATABASE_URL"]) as connection:
        for statement in ("ALTER TABLE families ADD COLUMN x int", "DROP TABLE users", "TRUNCATE audit_logs",
                          "CREATE TABLE shadow (id int)"):
            with pytest.raises(DBAPIError, match="must be owner of|permission denied"):
                connection.exec_driver_sql(statement)
            connection.rollback()


def _owners(connection: Connection) -> set[str]:
    return set(connection.scalars(text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")))


def test_the_app_role_owns_nothing_and_holds_exactly_its_grants(app: Flask, as_app: Connect,
                                                                make_family: Callable[..., FamilyRecord]) -> None:
    """Platform, pooled and a provisioned dedicated database: owned by the owner role, row privileges only."""
    dedicated = make_family(placement="dedicated")
    app_role = make_url(app.config["FAMILY_DATABASE_URL"]).username
    owner = app.config["DATABASE_OWNER_USER"]
    assert app_role != owner
    urls = {"platform": app.config["PLATFORM_DATABASE_URL"], "pooled": app.config["FAMILY_DATABASE_URL"],
            "dedicated": dedicated.database_url}
    for name, url in urls.items():
        with as_app(url) as connection:
            assert connection.scalar(text("SELECT current_user")) == app_role
            assert connection.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
                                      ).one() == (False, False)
            assert connection.scalar(text("SELECT pg_get_userbyid(datdba) FROM pg_database "
                                          "WHERE datname = current_database()")) == owner, name
            assert _owners(connection) == {owner}, name
            held = app_role_privileges(connection, app_role)
            assert held and held == {table: app_table_privileges(table) for table in held}, name
            assert all("TRUNCATE" not in privileges for privileges in held.values()), name
            if name != "platform":
                for table in APPEND_ONLY_TABLES:
                    assert held[table] == {"SELECT", "INSERT"}


def test_the_ledger_triggers_still_refuse_the_owner(app: Flask, as_owner: Connect,
                                                    ledger_family: FamilyRecord) -> None:
    """Privileges are one wall; the append-only triggers stand on their own, even for the role that owns the table."""
    with as_owner(app.config["FAMILY_DATABASE_URL"]) as connection:
        _enter(connection, ledger_family)
        for statement in ("UPDATE points_ledger SET amount = 1000", "DELETE FROM points_ledger",
                          "TRUNCATE points_ledger CASCADE"):  # plain TRUNCATE: payouts reference the ledger
            with pytest.raises(DBAPIError, match="append-only"):
                connection.exec_driver_sql(statement)
            connection.rollback()
            _enter(connection, ledger_family)
        assert connection.scalar(text("SELECT sum(amount) FROM points_ledger")) == 5


def test_normal_app_work_still_succeeds(in_family: Callable[..., Any], ledger_family: FamilyRecord) -> None:
    """Insert, read, update and delete rows, and append to the ledger, as the app role through the ORM."""
    with in_family(ledger_family) as ctx:
        member = Member(username=f"m{uuid.uuid4().hex[:6]}", display_name="New", role="child")
        ctx.session.add(member)
        ctx.session.flush()
        member.display_name = "Renamed"
        ctx.session.add(LedgerEntry(member_id=member.id, amount=3, kind="bonus", description="ok"))
        passing = Member(username=f"p{uuid.uuid4().hex[:6]}", display_name="Visitor", role="child")
        ctx.session.add(passing)
        ctx.session.commit()
        ctx.session.delete(passing)
        ctx.session.commit()
        assert sorted(ctx.session.scalars(select(Member.display_name))) == ["Kid", "Renamed"]
        assert sorted(ctx.session.scalars(select(LedgerEntry.amount))) == [3, 5]
