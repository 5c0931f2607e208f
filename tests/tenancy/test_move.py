"""Moving a family between two PostgreSQL clusters while other threads keep writing and reading through the app."""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.db import engines, platform_engine
from app.db.bases import FamilyBase
from app.db.session import open_session
from app.members.models import Member
from app.platform.models import AuditLog, Family
from app.points.models import LedgerEntry
from app.tenancy import registry
from app.tenancy.cli import placement_config
from app.tenancy.databases import create_database, database_exists, database_owner, drop_database, \
    ensure_family_database
from app.tenancy.provisioning import provision_family
from app.tenancy.registry import FamilyRecord
import config
from tests.conftest import Auth, build_migrated_app, host_client
from tests.neighbour import fingerprint, seed_family

pytestmark = pytest.mark.postgresql_only("two PostgreSQL databases as two clusters; the move lock is PostgreSQL's")

UNREACHABLE = "postgresql+psycopg://hp_app:hp_app@127.0.0.1:7399/nowhere"  # helper 3's port range: nothing listens


def _east_urls(base: Flask) -> tuple[str, str]:
    pooled = make_url(base.config["FAMILY_DATABASE_URL"])
    east = pooled.set(database=f"{pooled.database}_east").render_as_string(hide_password=False)
    template = east.replace(f"{pooled.database}_east", f"{pooled.database}_east_{{slug}}")
    return east, template


@pytest.fixture(scope="module")
def move_app(postgres_app: Flask) -> Iterator[Flask]:
    """The suite's databases as cluster `default`, plus cluster `east` (another database on the local server)."""
    east, template = _east_urls(postgres_app)
    owner = database_owner(postgres_app.config)
    drop_database(east, owner)
    create_database(east, owner)
    ensure_family_database(east, owner)  # as `flask families upgrade --all` does for every cluster's pooled database
    clusters = {"east": {"pooled": east, "dedicated": template},
                "gone": {"pooled": UNREACHABLE, "dedicated": UNREACHABLE.replace("nowhere", "nowhere_{slug}")}}
    keys = ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL", "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_KEY_PREFIX")
    app = build_migrated_app(config.TestConfig, DATABASE_CLUSTERS=json.dumps(clusters), MOVE_DRAIN_SECONDS=0.3,
                             **{key: postgres_app.config[key] for key in keys})
    yield app
    with app.app_context():
        engines().dispose_all()
    drop_database(east, owner)


def _provision(flask_app: Flask, *, cluster: str, placement: str = "pooled", seed: bool = True) -> FamilyRecord:
    from app.tenancy.context import family_context

    slug = f"mv-{uuid.uuid4().hex[:8]}"
    with flask_app.app_context():
        with Session(platform_engine(), expire_on_commit=False) as session:
            family = provision_family(session, engines(), placement_config(), slug=slug, name=f"Family {slug}",
                                      placement=placement, cluster=cluster)
            record = registry().record_for(family)
        if seed:
            with family_context(slug) as ctx:
                seed_family(ctx.session, record)
                ctx.session.commit()
    return record


def _family_row_counts(flask_app: Flask, url: str, family_id: uuid.UUID) -> dict[str, int]:
    with flask_app.app_context():
        session = open_session(platform_engine(), engines().get(url), family_id)
        try:
            return {table.name: session.execute(select(func.count()).select_from(table)
                                                .where(table.c.family_id == family_id)).scalar_one()
                    for table in FamilyBase.metadata.sorted_tables}
        finally:
            session.close()


def _move(flask_app: Flask, slug: str, to: str, placement: str | None = None) -> Any:
    result = flask_app.test_cli_runner().invoke(args=["families", "move", slug, "--to", to,
                                                      *(["--placement", placement] if placement else [])])
    return result


@dataclass
class Traffic:
    """What the writer and reader threads saw."""

    acknowledged: list[str] = field(default_factory=list)
    paused: int = 0
    reads: int = 0
    problems: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def _writer(flask_app: Flask, family: FamilyRecord, kid: uuid.UUID, headers: dict[str, str], traffic: Traffic,
            name: str) -> None:
    client = host_client(flask_app, family)
    n = 0
    while not traffic.stop.is_set():
        n += 1
        response = client.post(f"/api/users/{kid}/bonus", json={"points": 1, "reason": f"{name}-{n}"},
                               headers=headers)
        if response.status_code == 201:
            traffic.acknowledged.append(response.get_json()["transaction"]["id"])
        elif response.status_code == 503:
            traffic.paused += 1
            if response.headers.get("Retry-After") is None or "error" not in response.get_json():
                traffic.problems.append("503 without Retry-After or JSON error")
            time.sleep(0.02)
        else:
            traffic.problems.append(f"write answered {response.status_code}: {response.get_data(as_text=True)[:200]}")


def _reader(flask_app: Flask, family: FamilyRecord, kid: uuid.UUID, members: set[str], headers: dict[str, str],
            traffic: Traffic) -> None:
    client = host_client(flask_app, family)
    page = host_client(flask_app, family)
    while not traffic.stop.is_set():
        users = client.get("/api/users", headers=headers)
        history = client.get(f"/api/users/{kid}/transactions?limit=5", headers=headers)
        for response in (users, history):
            if response.status_code != 200:
                traffic.problems.append(f"read answered {response.status_code}")
        if users.status_code == 200:
            seen = {user["id"] for user in users.get_json()["users"]}
            if not seen <= members:
                traffic.problems.append(f"members of another family: {seen - members}")
        if history.status_code == 200:
            for entry in history.get_json()["transactions"]:
                if entry["user_id"] != str(kid):
                    traffic.problems.append("a transaction of someone else")
        if page.get("/").status_code >= 500:
            traffic.problems.append("home page 5xx")
        traffic.reads += 1


def test_move_pooled_dedicated_other_cluster_pooled_under_traffic(move_app: Flask, neighbour: FamilyRecord) -> None:
    """Four moves while two writers and two readers hammer the family; nothing acknowledged is lost or duplicated."""
    east_neighbour = _provision(move_app, cluster="east")
    east_seal = fingerprint(move_app, east_neighbour)
    family = _provision(move_app, cluster="default")
    from app.tenancy.context import family_context

    with move_app.app_context(), family_context(family.slug) as ctx:
        parent = ctx.session.scalars(select(Member).where(Member.role == "parent")).first()
        kid = ctx.session.scalars(select(Member).where(Member.role == "child", Member.is_active)).first()
        members = {str(m) for m in ctx.session.scalars(select(Member.id))}
        seeded_ledger = ctx.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert parent is not None and kid is not None
    headers = Auth(move_app).bearer(parent, family)
    traffic = Traffic()
    threads = [threading.Thread(target=_writer, args=(move_app, family, kid.id, headers, traffic, f"w{i}"))
               for i in range(2)]
    threads += [threading.Thread(target=_reader, args=(move_app, family, kid.id, members, headers, traffic))
                for _ in range(2)]
    for thread in threads:
        thread.start()
    steps = [("default", "dedicated"), ("east", None), ("east", "pooled"), ("default", None)]
    try:
        time.sleep(0.3)
        for cluster, placement in steps:
            before = len(traffic.acknowledged)
            result = _move(move_app, family.slug, cluster, placement)
            assert result.exit_code == 0, result.output
            assert "rows verified" in result.output
            deadline = time.monotonic() + 10  # writes resume on the new home
            while len(traffic.acknowledged) <= before + 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        traffic.stop.set()
        for thread in threads:
            thread.join()

    assert traffic.problems == []
    # Writes were paused (503 + Retry-After) during the copies and acknowledged around them; reads never stopped.
    assert traffic.reads > 0 and traffic.paused > 0 and len(traffic.acknowledged) > len(steps)
    with move_app.app_context():
        with Session(platform_engine()) as session:
            row = session.scalars(select(Family).where(Family.id == family.id)).one()
            assert (row.cluster, row.placement, row.database_key, row.moving_since) == ("default", "pooled", None, None)
            assert session.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.family_id == family.id, AuditLog.action == "family.moved")) == len(steps)
        with family_context(family.slug) as ctx:
            stored = [str(i) for i in ctx.session.scalars(select(LedgerEntry.id).where(
                LedgerEntry.description.like("w%-%")))]
            total = ctx.session.scalar(select(func.count()).select_from(LedgerEntry))
    assert sorted(stored) == sorted(traffic.acknowledged)  # every acknowledged write, and nothing else, arrived
    assert total == seeded_ledger + len(traffic.acknowledged)
    # The old homes hold nothing of the family; the dedicated databases are gone; the neighbours are untouched.
    east_url, template = _east_urls(move_app)
    assert set(_family_row_counts(move_app, east_url, family.id).values()) == {0}
    key = family.slug.replace("-", "_")
    for dedicated in (move_app.config["DEDICATED_DATABASE_URL_TEMPLATE"], template):
        assert not database_exists(dedicated.format(slug=key))
    assert fingerprint(move_app, east_neighbour) == east_seal


def test_a_round_trip_brings_back_the_same_rows(move_app: Flask) -> None:
    from app.family_time import FamilyClock
    from app.points.services import reconcile_balances
    from app.tenancy.context import family_context

    family = _provision(move_app, cluster="default")
    with move_app.app_context(), family_context(family.slug) as ctx:
        balances_before = reconcile_balances(ctx.session, FamilyClock("UTC"), _now())
    before = fingerprint(move_app, family)
    for cluster, placement in (("east", "dedicated"), ("default", "pooled")):
        result = _move(move_app, family.slug, cluster, placement)
        assert result.exit_code == 0, result.output
    assert fingerprint(move_app, family) == before  # byte for byte the same rows, back where they started
    with move_app.app_context(), family_context(family.slug) as ctx:
        # The seed's old weeks leave weekly totals behind on purpose; the move changes none of it.
        assert reconcile_balances(ctx.session, FamilyClock("UTC"), _now()) == balances_before


def _now() -> Any:
    from app.db.bases import utcnow

    return utcnow()


@pytest.mark.parametrize("args, message", [
    (["--to", "default"], "is already on cluster 'default' (pooled)"),
    (["--to", "default", "--placement", "pooled"], "is already on cluster 'default' (pooled)"),
    (["--to", "mars"], "There is no database cluster named 'mars' (configured: default, east, gone)"),
    (["--to", "gone"], "Cluster 'gone' is unreachable"),
    (["--to", "gone", "--placement", "dedicated"], "Cluster 'gone' is unreachable"),
    (["--to", "east", "--placement", "sideways"], "Invalid value for '--placement'"),
])
def test_bad_moves_change_nothing(move_app: Flask, args: list[str], message: str) -> None:
    family = _provision(move_app, cluster="default", seed=False)
    before = _family_row_counts(move_app, move_app.config["FAMILY_DATABASE_URL"], family.id)
    result = move_app.test_cli_runner().invoke(args=["families", "move", family.slug, *args])
    assert result.exit_code != 0
    assert message in result.output
    with move_app.app_context(), Session(platform_engine()) as session:
        row = session.scalars(select(Family).where(Family.id == family.id)).one()
        assert (row.cluster, row.placement, row.moving_since) == ("default", "pooled", None)
    assert _family_row_counts(move_app, move_app.config["FAMILY_DATABASE_URL"], family.id) == before
    east_url, template = _east_urls(move_app)
    assert set(_family_row_counts(move_app, east_url, family.id).values()) == {0}
    assert not database_exists(template.format(slug=family.slug.replace("-", "_")))


def test_unknown_and_deleted_families_cannot_move(move_app: Flask) -> None:
    runner = move_app.test_cli_runner()
    result = runner.invoke(args=["families", "move", "no-such-family", "--to", "east"])
    assert result.exit_code != 0 and "There is no family 'no-such-family'" in result.output
    family = _provision(move_app, cluster="default", seed=False)
    with move_app.app_context(), Session(platform_engine()) as session, session.begin():
        session.get(Family, family.id).deleted_at = _now()  # type: ignore[union-attr]
    result = runner.invoke(args=["families", "move", family.slug, "--to", "east"])
    assert result.exit_code != 0 and "is deleted; there is nothing to move" in result.output


def test_new_families_go_to_the_least_loaded_cluster_unless_named(move_app: Flask) -> None:
    from dataclasses import replace

    from app.tenancy.provisioning import choose_cluster

    for cluster in ("default", "east"):  # so `gone`, with no family, is strictly the emptiest
        _provision(move_app, cluster=cluster, seed=False)
    with move_app.app_context(), Session(platform_engine()) as session:
        counts = dict(session.execute(select(Family.cluster, func.count()).where(Family.deleted_at.is_(None))
                                      .group_by(Family.cluster)).all())
        reachable = replace(placement_config(), clusters={name: cluster for name, cluster
                                                          in placement_config().all_clusters().items()
                                                          if name != "gone"})
        emptier = "east" if counts.get("east", 0) < counts.get("default", 0) else "default"
        assert choose_cluster(session, reachable, None).name == emptier
        assert choose_cluster(session, placement_config(), None).name == "gone"  # no family there yet
    runner = move_app.test_cli_runner()
    # The emptiest configured cluster is down: a clear message, and no family half-made.
    slug = f"mv-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "create", slug, "--name", "Auto"])
    assert result.exit_code != 0 and "Database cluster 'gone' is unreachable" in result.output
    assert slug not in runner.invoke(args=["families", "list"]).output
    named = f"mv-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "create", named, "--name", "Named", "--cluster", "east"])
    assert result.exit_code == 0 and "on cluster east" in result.output, result.output
    result = runner.invoke(args=["families", "create", f"mv-{uuid.uuid4().hex[:8]}", "--name", "X",
                                 "--cluster", "mars"])
    assert result.exit_code != 0 and "There is no database cluster named 'mars'" in result.output
    listing = runner.invoke(args=["families", "list"]).output
    [row] = [line.split() for line in listing.splitlines() if named in line.split()]
    assert "east" in row, listing
    assert "hp_app:hp_app@" not in listing  # URLs are shown without their passwords


def _hold_move_lock(flask_app: Flask, family: FamilyRecord) -> Any:
    from sqlalchemy import create_engine

    from app.db.session import MOVE_LOCK_CLASS
    from app.tenancy.databases import owner_url

    engine = create_engine(owner_url(family.database_url, database_owner(flask_app.config)))
    connection = engine.connect()
    connection.exec_driver_sql("SELECT pg_advisory_lock(%s, hashtext(%s))", (MOVE_LOCK_CLASS, str(family.id)))
    return engine, connection


def test_a_process_that_missed_the_news_still_cannot_write_during_the_copy(move_app: Flask) -> None:
    """The registry says nothing of a move (a stale cache), but the database lock refuses the commit: 503, no row."""
    family = _provision(move_app, cluster="default", seed=False)
    from app.tenancy.context import family_context

    with move_app.app_context(), family_context(family.slug) as ctx:
        parent = Member(username="mum", display_name="Mum", role="parent")
        kid = Member(username="kit", display_name="Kit")
        ctx.session.add_all([parent, kid])
        ctx.session.commit()
    headers = Auth(move_app).bearer(parent, family)
    client = host_client(move_app, family)
    engine, lock = _hold_move_lock(move_app, family)
    try:
        refused = client.post(f"/api/users/{kid.id}/bonus", json={"points": 3, "reason": "during"}, headers=headers)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert "being moved" in refused.get_json()["error"]
        assert client.get(f"/api/users/{kid.id}/transactions", headers=headers).status_code == 200
    finally:
        lock.close()
        engine.dispose()
    with move_app.app_context(), family_context(family.slug) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    assert client.post(f"/api/users/{kid.id}/bonus", json={"points": 3, "reason": "after"},
                       headers=headers).status_code == 201


def test_a_family_marked_moving_answers_writes_503_and_reads_200(move_app: Flask) -> None:
    from app.tenancy.context import family_context

    family = _provision(move_app, cluster="default", seed=False)
    with move_app.app_context(), family_context(family.slug) as ctx:
        parent = Member(username="mum", display_name="Mum", role="parent")
        ctx.session.add(parent)
        ctx.session.commit()
    headers = Auth(move_app).bearer(parent, family)
    with move_app.app_context():
        with Session(platform_engine()) as session, session.begin():
            session.get(Family, family.id).moving_since = _now()  # type: ignore[union-attr]
        registry().invalidate(family.slug)
    client = host_client(move_app, family)
    api = client.post("/api/users", json={"username": "newkid", "display_name": "New", "role": "child"},
                      headers=headers)
    assert api.status_code == 503 and api.headers["Retry-After"].isdigit()
    assert api.get_json() == {"error": "This family's data is being moved; changes are paused. Try again shortly."}
    page = client.post("/login", data={"username": "mum", "password": "x"})
    assert page.status_code == 503 and "being moved to a new home" in page.get_data(as_text=True)
    assert client.get("/api/users", headers=headers).status_code == 200
    with move_app.app_context(), family_context(family.slug) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Member)) == 1


def test_without_redis_a_move_needs_the_web_processes_stopped(move_app: Flask) -> None:
    """No pub/sub: other processes would keep the old location for FAMILY_CACHE_TTL, so the move says so and stops."""
    from app.platform.moves import MoveError, move_family
    from app.tenancy.registry import FamilyRegistry

    family = _provision(move_app, cluster="default", seed=False)
    with move_app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
        deaf = FamilyRegistry(platform_engine, pooled_url=move_app.config["FAMILY_DATABASE_URL"],
                              dedicated_template=move_app.config["DEDICATED_DATABASE_URL_TEMPLATE"], ttl=60,
                              redis_client=None, channel="unused", clusters=registry().clusters)
        with pytest.raises(MoveError, match="needs Redis"):
            move_family(session, engines(), placement_config(), deaf, slug=family.slug, to_cluster="east")
        row = session.scalars(select(Family).where(Family.id == family.id)).one()
        assert (row.cluster, row.moving_since) == ("default", None)
        report = move_family(session, engines(), placement_config(), deaf, slug=family.slug, to_cluster="east",
                             drain_seconds=0, offline=True)
        assert report.target == "east (pooled)"
