"""Test rig: real PostgreSQL and Redis, a fresh family per test, clients that speak to one family host."""
from __future__ import annotations

import os
import re
import smtplib
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade as upgrade_platform
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import create_app
from app.db import engines, platform_engine
from app.members.models import Member
from app.platform.models import Family
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.context import FamilyContext, family_context
from app.tenancy.databases import DatabaseOwner, create_database, database_owner, drop_database, \
    ensure_family_database, owner_url
from app.tenancy.provisioning import provision_family
from app.tenancy.registry import FamilyRecord
from config import Config, TestConfig
from tests.neighbour import changed_tables, forget_neighbour, neighbour_of, reseal, seeded_apps

pytest_plugins = ["tests.plugins.redis_audit", "tests.plugins.statement_audit"]

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_MIGRATIONS = str(ROOT / "migrations" / "platform")


class FamilyClient(FlaskClient):
    """A test client that sends every request to one host, so cookies stay host-only like a browser's."""

    host: str = "localhost:5000"

    def open(self, *args: Any, **kwargs: Any):  # noqa: ANN201
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().open(*args, **kwargs)

    def session_transaction(self, *args: Any, **kwargs: Any):  # noqa: ANN201
        # The cookie session lives on this client's host too (host-only cookies).
        kwargs.setdefault("base_url", f"http://{self.host}")
        return super().session_transaction(*args, **kwargs)


def _run_database_urls(config: Config) -> dict[str, str]:
    """Per-run database names (suffix = this process id), so concurrent test runs never share databases."""
    suffix = f"_r{os.getpid()}"
    platform = make_url(config.PLATFORM_DATABASE_URL)
    family = make_url(config.FAMILY_DATABASE_URL)
    dedicated = config.DEDICATED_DATABASE_URL_TEMPLATE.replace("{slug}", f"{suffix[1:]}_{{slug}}")
    return {
        "PLATFORM_DATABASE_URL": platform.set(database=platform.database + suffix).render_as_string(False),
        "FAMILY_DATABASE_URL": family.set(database=family.database + suffix).render_as_string(False),
        "DEDICATED_DATABASE_URL_TEMPLATE": dedicated,
    }


def _owner(config: Config) -> DatabaseOwner | None:
    """The role that owns the run's databases and migrates them (hp_owner); the app connects as hp_app."""
    return database_owner(vars(config))


def _drop_stale_run_databases(config: Config) -> None:
    """Drop databases left by test runs whose process is gone (a crashed or killed run)."""
    maintenance = make_url(owner_url(config.PLATFORM_DATABASE_URL, _owner(config))).set(database="postgres")
    engine = create_engine(maintenance, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = list(conn.scalars(text("SELECT datname FROM pg_database WHERE datname ~ '_r[0-9]+'")))
    engine.dispose()
    for name in names:
        match = re.search(r"_r(\d+)", name)
        if match and name.startswith("hp_test") and not _process_alive(int(match.group(1))):
            drop_database(maintenance.set(database=name).render_as_string(hide_password=False))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _create_run_databases(urls: dict[str, str], owner: DatabaseOwner | None) -> None:
    """The run's platform and pooled databases, owned by the owner role (the app role only gets grants)."""
    for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL"):
        drop_database(urls[key], owner)
        create_database(urls[key], owner)


def _drop_run_databases(urls: dict[str, str], owner: DatabaseOwner | None) -> None:
    maintenance = make_url(owner_url(urls["PLATFORM_DATABASE_URL"], owner)).set(database="postgres")
    engine = create_engine(maintenance, isolation_level="AUTOCOMMIT")
    prefix = make_url(urls["FAMILY_DATABASE_URL"]).database
    dedicated_prefix = make_url(urls["DEDICATED_DATABASE_URL_TEMPLATE"].replace("{slug}", "")).database
    with engine.connect() as conn:
        names = list(conn.scalars(text("SELECT datname FROM pg_database WHERE datname = :a OR datname = :b "
                                       "OR starts_with(datname, :c)"),
                                  {"a": make_url(urls["PLATFORM_DATABASE_URL"]).database, "b": prefix,
                                   "c": dedicated_prefix}))
    engine.dispose()
    for name in names:
        drop_database(maintenance.set(database=name).render_as_string(hide_password=False))


def build_migrated_app(config_class: type[Config] = TestConfig, **overrides: Any) -> Flask:
    """An app whose platform and pooled family databases are at head (migrated as the owner role)."""
    app = create_app(config_class, **overrides)
    app.test_client_class = FamilyClient
    with app.app_context():
        upgrade_platform(directory=PLATFORM_MIGRATIONS)
        ensure_family_database(app.config["FAMILY_DATABASE_URL"], database_owner(app.config))
    return app


@pytest.fixture(scope="session")
def postgres_app() -> Iterator[Flask]:
    """The app on the PostgreSQL test databases (the production engine) and a real Redis."""
    config = TestConfig()
    _drop_stale_run_databases(config)
    urls = _run_database_urls(config)
    _create_run_databases(urls, _owner(config))
    prefix = f"hptest{os.getpid()}"
    app = build_migrated_app(TestConfig, REDIS_KEY_PREFIX=prefix, **urls)
    yield app
    with app.app_context():
        engines().dispose_all()
    client = redis.Redis.from_url(config.REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    _drop_run_databases(urls, _owner(config))


@pytest.fixture(scope="session")
def app(postgres_app: Flask) -> Flask:
    """The app most tests run on: PostgreSQL (a suite's conftest may run it on SQLite too: `app_on_both_engines`)."""
    return postgres_app


def _sqlite_app(folder: Path) -> Flask:
    return build_migrated_app(
        TestConfig,
        PLATFORM_DATABASE_URL=f"sqlite:///{folder}/platform.db",
        FAMILY_DATABASE_URL=f"sqlite:///{folder}/families.db",
        FAMILY_PLACEMENT="pooled",
        DEDICATED_DATABASE_URL_TEMPLATE=f"sqlite:///{folder}/families/family_{{slug}}.db",
        REDIS_URL=None,
    )


def _dispose_checking_neighbour(flask_app: Flask) -> None:
    """Dispose an app's engines, after proving no test wrote into its neighbour family."""
    try:
        changed = changed_tables(flask_app)
        assert not changed, f"rows of the neighbour family changed in: {', '.join(changed)}"
    finally:
        forget_neighbour(flask_app)
        with flask_app.app_context():
            engines().dispose_all()


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """The app on SQLite files in a temporary instance folder, no Redis; pooled (one shared families.db) on purpose.

    The embedded default places each family in a file of its own; pooling here is the explicit choice that lets the
    SQLite runs prove the ORM's family scoping holds with no row-level security behind it.
    """
    app = _sqlite_app(tmp_path)
    yield app
    _dispose_checking_neighbour(app)


@pytest.fixture(scope="session")
def pooled_sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One SQLite app for the session: every family pooled in one file beside the neighbour, no Redis.

    SQLite has no row-level security, so here a statement the ORM fails to scope reads the neighbour's rows.
    """
    app = _sqlite_app(tmp_path_factory.mktemp("pooled-sqlite"))
    yield app
    _dispose_checking_neighbour(app)


ENGINES = ["postgresql", pytest.param("sqlite", marks=pytest.mark.sqlite)]


def app_on_both_engines() -> Any:
    """An `app` fixture for a suite's conftest: each of its tests runs on PostgreSQL and on pooled SQLite.

    Tests marked `postgresql_only("why")` are skipped on SQLite (row-level security, raw PostgreSQL, row locks).
    """
    @pytest.fixture(scope="session", params=ENGINES, name="app")
    def app_fixture(request: pytest.FixtureRequest, postgres_app: Flask) -> Flask:
        if request.param == "sqlite":
            return request.getfixturevalue("pooled_sqlite_app")
        return postgres_app
    return app_fixture


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only(reason): skipped when the suite runs it on SQLite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip `postgresql_only` tests in their SQLite run, saying why."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker("postgresql_only")
        if marker is not None and callspec is not None and callspec.params.get("app") == "sqlite":
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {marker.args[0]}"))


@pytest.fixture(params=["postgresql", pytest.param("sqlite", marks=pytest.mark.sqlite)])
def any_app(request: pytest.FixtureRequest) -> Flask:
    """The same test on PostgreSQL and on the SQLite embedded default."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_app")
    return request.getfixturevalue("postgres_app")


@pytest.fixture(scope="module", autouse=True)
def neighbour_untouched(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each module, the session apps' neighbour families hold exactly the rows they were seeded with."""
    yield
    for flask_app in seeded_apps():
        changed = changed_tables(flask_app)
        if changed:
            reseal(flask_app)  # report it once, in the module that did it
            pytest.fail(f"{request.module.__name__} wrote into the neighbour family: {', '.join(changed)}")


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


@pytest.fixture
def neighbour(app: Flask) -> FamilyRecord:
    """The neighbour family: rows in every family table, in the same pooled database as the family under test."""
    return neighbour_of(app, _provisioner(app)).record


@pytest.fixture
def make_family(app: Flask, neighbour: FamilyRecord) -> Callable[..., FamilyRecord]:
    """Factory: provision a family (fresh slug) on `app` and return its record."""
    return family_factory(app)


def family_factory(flask_app: Flask) -> Callable[..., FamilyRecord]:
    """Factory: provision families on `flask_app`, each beside the app's neighbour family."""
    provision = _provisioner(flask_app)

    def make(slug: str | None = None, **options: Any) -> FamilyRecord:
        neighbour_of(flask_app, provision)
        return provision(slug, **options)
    return make


def _provisioner(flask_app: Flask) -> Callable[..., FamilyRecord]:
    def make(slug: str | None = None, *, name: str | None = None, placement: str = "pooled",
             status: str = "active", timezone: str = "UTC", plan: str = "free") -> FamilyRecord:
        slug = slug or f"fam-{uuid.uuid4().hex[:10]}"
        with flask_app.app_context():
            with Session(platform_engine(), expire_on_commit=False) as session:
                family = provision_family(session, engines(), placement_config(), slug=slug,
                                          name=name or f"Family {slug}", placement=placement,
                                          timezone=timezone, plan=plan, status=status)
                return registry().record_for(family)
    return make


@pytest.fixture
def family(make_family: Callable[..., FamilyRecord], neighbour: FamilyRecord) -> FamilyRecord:
    """A fresh family for this test (the neighbour family sits beside it)."""
    return make_family()


@pytest.fixture
def client_for(app: Flask) -> Callable[[str | FamilyRecord | None], FamilyClient]:
    """Factory: a client bound to a family's host (or the apex for None)."""
    return lambda target=None: host_client(app, target)


def host_client(flask_app: Flask, target: str | FamilyRecord | None = None) -> FamilyClient:
    base = flask_app.config["BASE_DOMAIN"]
    slug = target.slug if isinstance(target, FamilyRecord) else target
    flask_app.test_client_class = FamilyClient
    client = flask_app.test_client()
    assert isinstance(client, FamilyClient)
    client.host = f"{slug}.{base}" if slug else base
    return client


@pytest.fixture
def client(client_for: Callable[..., FamilyClient], family: FamilyRecord) -> FamilyClient:
    """A client on this test's family host."""
    return client_for(family)


@pytest.fixture
def apex_client(client_for: Callable[..., FamilyClient]) -> FamilyClient:
    return client_for(None)


@pytest.fixture
def runner(app: Flask):  # noqa: ANN201
    return app.test_cli_runner()


@pytest.fixture
def in_family(app: Flask) -> Callable[[str | FamilyRecord], AbstractContextManager[FamilyContext]]:
    """Enter a family's context (session scoped to it), as CLI commands and jobs do."""
    def enter(target: str | FamilyRecord) -> AbstractContextManager[FamilyContext]:
        slug = target.slug if isinstance(target, FamilyRecord) else target
        return _pushed(app, slug)
    return enter


class _pushed(AbstractContextManager[FamilyContext]):  # noqa: N801 - read as a verb: `with in_family(...)`
    def __init__(self, flask_app: Flask, slug: str) -> None:
        self._app_ctx = flask_app.app_context()
        self._slug = slug
        self._family_ctx: Any = None

    def __enter__(self) -> FamilyContext:
        self._app_ctx.push()
        self._family_ctx = family_context(self._slug)
        return self._family_ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self._family_ctx.__exit__(*exc)
        finally:
            self._app_ctx.pop()


@pytest.fixture
def create_member(in_family: Callable[..., AbstractContextManager[FamilyContext]], family: FamilyRecord
                  ) -> Callable[..., Member]:
    """Factory: add a member to a family (this test's family unless `family=` is given)."""
    def create(*, family_record: FamilyRecord | None = None, **overrides: Any) -> Member:
        target = family_record or family
        fields: dict[str, Any] = {"username": f"kid{uuid.uuid4().hex[:6]}", "display_name": "Kid", "role": "child"}
        fields.update(overrides)
        with in_family(target) as ctx:
            member = Member(**fields)
            ctx.session.add(member)
            ctx.session.commit()
            return member
    return create


def set_family_status(app: Flask, family: FamilyRecord, **values: Any) -> None:
    """Change a family's platform row and drop it from the registry cache (as the operator console will)."""
    with app.app_context():
        with Session(platform_engine()) as session, session.begin():
            session.query(Family).filter(Family.id == family.id).update(values)
        registry().invalidate(family.slug)


@pytest.fixture(autouse=True)
def no_unexpected_smtp(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Fail any test that reaches an SMTP server without asking for the local one."""
    if "smtp_server" in request.fixturenames:
        return

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("this test tried to send email without the smtp_server fixture")

    monkeypatch.setattr(smtplib.SMTP, "connect", refuse)


# --- signing in, mail -------------------------------------------------------------------------------------------

class Auth:
    """Sign a test client in as a member, the way the login page does (a server-side session + host-only cookie)."""

    def __init__(self, flask_app: Flask) -> None:
        self.app = flask_app

    def sign_in(self, client: FamilyClient, member: Member, family: FamilyRecord) -> str:
        from app.auth.services import start_session
        from app.db.bases import utcnow

        with self.app.app_context(), family_context(family.slug) as ctx:
            started = start_session(ctx.session, ctx.session.get(Member, member.id), now=utcnow())
            ctx.session.commit()
        with client.session_transaction() as cookie_session:
            cookie_session["family_id"] = str(family.id)
            cookie_session["_user_id"] = started.token
            cookie_session["_fresh"] = True
        return started.token

    def api_token(self, member: Member, family: FamilyRecord, **overrides: Any) -> str:
        from datetime import timedelta

        from app.auth.tokens import issue_api_token
        from app.db.bases import utcnow

        lifetime = overrides.pop("lifetime", timedelta(hours=1))
        now = overrides.pop("now", utcnow())
        return issue_api_token(member, family.id, secret=self.app.config["JWT_SECRET"],
                               issuer=self.app.config["JWT_ISSUER"], lifetime=lifetime, now=now)

    def bearer(self, member: Member, family: FamilyRecord) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token(member, family)}"}


@pytest.fixture
def auth(app: Flask) -> Auth:
    return Auth(app)


class ReceivedMail:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def last_to(self, address: str) -> Any:
        matching = [m for m in self.messages if address in m["To"]]
        assert matching, f"no mail to {address}; got {[m['To'] for m in self.messages]}"
        return matching[-1]


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[ReceivedMail]:
    """A real SMTP server on loopback (aiosmtpd); the app sends to it for this test."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = ReceivedMail()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    previous = app.config.get("MAIL_SERVER"), app.config.get("MAIL_PORT")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield handler
    finally:
        app.config.update(MAIL_SERVER=previous[0], MAIL_PORT=previous[1])
        controller.stop()


@pytest.fixture(scope="session")
def race_app(app: Flask) -> Iterator[Flask]:
    """The same databases and Redis as `app`, with pools big enough that every racer holds a connection at once."""
    from tests.concurrency import MAX_RACERS

    shared = {key: app.config[key] for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL",
                                               "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_KEY_PREFIX")}
    racing = create_app(TestConfig, DB_POOL_SIZE=MAX_RACERS + 2, DB_MAX_OVERFLOW=2, **shared)
    racing.test_client_class = FamilyClient
    yield racing
    with racing.app_context():
        engines().dispose_all()
