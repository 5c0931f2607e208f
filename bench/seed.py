"""Seed the benchmark fleet fast: one template family made through the real services, cloned by SQL.

Every clone n is the template with each uuid column replaced by md5(uuid || ':' || n)::uuid (the same function on
every id and every reference, so keys and composite foreign keys stay consistent within the clone) and each token
hash by sha256(hash || ':' || n) (so the bench can compute every clone's cookie tokens without storing them).
Pooled clones are one `INSERT … SELECT … generate_series` per table; each dedicated clone is a `CREATE DATABASE …
TEMPLATE` of a migrated empty database plus one COPY per table. Both run as the PostgreSQL superuser over the local
socket (COPY and bulk inserts are refused under row-level security) with `session_replication_role = replica`
(no per-row foreign-key triggers while cloning rows that are consistent by construction).

    .venv/bin/python -m bench.seed            # seed once (reused afterwards), then refresh today's rows
    .venv/bin/python -m bench.seed --fresh    # drop the fleet's databases and seed again

`refresh()` (every `bench/run.py`) re-makes only what the mix consumes: the template's today and tap assignments
and the sessions, cloned again to every family, so each run starts from the same state on the day it runs. A fleet
seeded by an older template (`template_version` in instance/bench-fleet.json) is patched first (`upgrade_fleet`).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql

from bench import fleet

# Tables the mix writes to (taps, sessions' last_seen, the bell): refreshed every run, the rest is seeded once.
VOLATILE = ("assignments", "materialised_days", "member_sessions", "notifications", "deliveries")
CHUNK = 1000  # families per INSERT … SELECT
# What the template holds; a reused fleet made at an older version is patched (`upgrade_fleet`), not seeded again.
# 2: the default point presets, which a family otherwise writes on its first dashboard read (a version bump).
TEMPLATE_VERSION = 2


def superuser(db: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A superuser connection to `db` over the local socket."""
    return psycopg.connect(fleet.SUPERUSER_DSN.format(db=db), autocommit=autocommit)


def say(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the databases --------------------------------------------------------------------------------------------

def _db_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def pooled_db() -> str:
    return _db_name(fleet.ENV["FAMILY_DATABASE_URL"])


def platform_db() -> str:
    return _db_name(fleet.ENV["PLATFORM_DATABASE_URL"])


def dedicated_db(n: int) -> str:
    key = fleet.database_key(n)
    assert key is not None
    return fleet.ENV["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=key).rsplit("/", 1)[-1]


def existing_databases() -> set[str]:
    with superuser("postgres") as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'hp_fleet%'")}


def drop_fleet() -> None:
    """Drop every database of the fleet (only names starting with hp_fleet)."""
    names = sorted(existing_databases())
    say(f"dropping {len(names)} fleet databases")
    with superuser("postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    fleet.STATE_FILE.unlink(missing_ok=True)


def migrate() -> None:
    """Create the platform, pooled and dedicated-template databases as the owner and bring both chains to head."""
    from app.tenancy.databases import DatabaseOwner, create_database, database_exists, upgrade_family_database

    owner = DatabaseOwner(fleet.ENV["DATABASE_OWNER_USER"], fleet.ENV["DATABASE_OWNER_PASSWORD"])
    template_url = fleet.ENV["FAMILY_DATABASE_URL"].rsplit("/", 1)[0] + "/" + fleet.DEDICATED_TEMPLATE_DB
    for url in (fleet.ENV["PLATFORM_DATABASE_URL"], fleet.ENV["FAMILY_DATABASE_URL"], template_url):
        if not database_exists(url):
            create_database(url, owner)
    result = subprocess.run([str(fleet.BIN / "flask"), "db", "upgrade"], cwd=fleet.ROOT, capture_output=True,
                            text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"flask db upgrade failed:\n{result.stdout}{result.stderr}")
    upgrade_family_database(fleet.ENV["FAMILY_DATABASE_URL"], owner=owner)
    upgrade_family_database(template_url, owner=owner)


# --- the template family (real services) ----------------------------------------------------------------------

def make_app() -> Any:
    from app import create_app
    from config import config_from_env

    return create_app(config_from_env())


def build_template(app: Any) -> None:
    """The template family: a used demo household (2 parents, 3 kids, 12 chores), a tablet, sessions, some points."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.auth.services import register_device, start_session
    from app.db import engines, platform_engine
    from app.db.bases import utcnow
    from app.family_rules import load_family_rules
    from app.members.models import Member
    from app.platform.models import Family
    from app.points.services import list_presets, post_entry
    from app.seed import seed_demo_family
    from app.tenancy.cli import placement_config
    from app.tenancy.context import family_context
    from app.tenancy.provisioning import provision_family

    now = utcnow()
    with app.app_context():
        with Session(platform_engine(), expire_on_commit=False) as platform:
            if platform.scalar(select(Family).where(Family.slug == fleet.TEMPLATE_SLUG)) is None:
                provision_family(platform, engines(), placement_config(), slug=fleet.TEMPLATE_SLUG,
                                 name="Fleet Template", timezone="UTC", placement="pooled")
        with family_context(fleet.TEMPLATE_SLUG) as ctx:
            session = ctx.session
            rules = load_family_rules(session, ctx.family.timezone)
            seed_demo_family(session, today=rules.clock.today(now))
            parent = session.scalar(select(Member).where(Member.username_key == "alex"))
            kid = session.scalar(select(Member).where(Member.username_key == "maya"))
            assert parent is not None and kid is not None
            register_device(session, parent, name="Kitchen tablet", now=now)
            start_session(session, parent, now=now, remember=True)
            start_session(session, kid, now=now, remember=True)
            for amount in (25, 10, 5):
                post_entry(session, kid.id, amount=amount, kind="bonus", description="Seeded bonus",
                           clock=rules.clock, now=now, actor_id=parent.id)
            list_presets(session)  # the defaults a family makes on its first dashboard read: clones start used
            session.commit()
        engines().dispose_all()


def refresh_template_day(app: Any) -> None:
    """The template's rows the mix consumes, made again for today: the day's assignments and the tap chores."""
    from sqlalchemy import select

    from app.assignments.inputs import AssignmentInput
    from app.assignments.services import create_assignment, materialise_day
    from app.chores.inputs import ChoreInput
    from app.chores.models import Chore
    from app.chores.services import create_chore
    from app.db import engines
    from app.db.bases import utcnow
    from app.family_rules import load_family_rules
    from app.members.models import Member
    from app.tenancy.context import family_context

    template_id = template_family_id()
    with superuser(pooled_db()) as conn:
        conn.execute("SET session_replication_role = replica")
        for table in VOLATILE:
            if table != "member_sessions":
                conn.execute(sql.SQL("DELETE FROM {} WHERE family_id = %s").format(sql.Identifier(table)),
                             (template_id,))
        # Sessions outlive any run: the clones' cookies stay valid for the next month.
        conn.execute("UPDATE member_sessions SET expires_at = now() + interval '30 days', last_seen_at = now() "
                     "WHERE family_id = %s", (template_id,))
    now = utcnow()
    with app.app_context():
        with family_context(fleet.TEMPLATE_SLUG) as ctx:
            session = ctx.session
            rules = load_family_rules(session, ctx.family.timezone)
            today = rules.clock.today(now)
            materialise_day(session, rules, today, now)
            materialise_day(session, rules, today + timedelta(days=1), now)
            parent = session.scalar(select(Member).where(Member.username_key == "alex"))
            kid = session.scalar(select(Member).where(Member.username_key == "maya"))
            assert parent is not None and kid is not None
            chore = session.scalar(select(Chore).where(Chore.name == "Tap done"))
            if chore is None:
                chore = create_chore(session, actor=parent, today=today, data=ChoreInput(
                    name="Tap done", icon="⏱️", base_points=5, requires_verification=True))
            for _ in range(fleet.TAPS_PER_FAMILY):
                create_assignment(session, actor=parent, rules=rules, now=now, data=AssignmentInput(
                    chore_id=chore.id, assigned_to=kid.id, points_offered=5, due_date=today))
            session.commit()
        engines().dispose_all()


def make_template_presets(app: Any) -> None:
    """The template's default point presets, made as the dashboard makes them (a no-op when it has them)."""
    from app.db import engines
    from app.points.services import list_presets
    from app.tenancy.context import family_context

    with app.app_context():
        with family_context(fleet.TEMPLATE_SLUG) as ctx:
            list_presets(ctx.session)
            ctx.session.commit()
        engines().dispose_all()


def template_family_id() -> uuid.UUID:
    with superuser(platform_db()) as conn:
        row = conn.execute("SELECT id FROM families WHERE slug = %s", (fleet.TEMPLATE_SLUG,)).fetchone()
    if row is None:
        raise SystemExit("the fleet has no template family: run `python -m bench.seed` first")
    return uuid.UUID(str(row[0]))


# --- cloning ------------------------------------------------------------------------------------------------

def family_tables() -> list[str]:
    """Family tables in dependency order."""
    from app.db.bases import FamilyBase
    import app.models  # noqa: F401  # every model registered

    return [table.name for table in FamilyBase.metadata.sorted_tables if "family_id" in table.columns]


def columns(conn: psycopg.Connection[Any], table: str) -> list[tuple[str, str]]:
    """(name, data type) of the table's columns, skipping generated and identity ones."""
    return [(name, kind) for name, kind in conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s AND is_generated = 'NEVER' AND is_identity = 'NO' "
        "AND coalesce(column_default, '') NOT LIKE 'nextval%%' ORDER BY ordinal_position", (table,))]


def clone_select(cols: list[tuple[str, str]], n: str, overrides: dict[str, str] | None = None) -> sql.Composed:
    """The select list that turns a template row into clone `n` (a SQL expression)."""
    parts: list[sql.Composable] = []
    for name, kind in cols:
        column = sql.Identifier(name)
        if overrides and name in overrides:
            parts.append(sql.SQL(overrides[name]))
        elif kind == "uuid":
            parts.append(sql.SQL("md5({}::text || ':' || {})::uuid").format(column, sql.SQL(n)))
        elif name == "token_hash":
            parts.append(sql.SQL("encode(sha256(convert_to({} || ':' || {}, 'UTF8')), 'hex')").format(
                column, sql.SQL(n)))
        else:
            parts.append(column)
    return sql.SQL(", ").join(parts)


def clone_pooled(tables: Iterable[str], template_id: uuid.UUID, first: int, last: int) -> None:
    """Insert clones first..last of the template's rows in `tables` into the pooled database."""
    with superuser(pooled_db()) as conn:
        conn.execute("SET session_replication_role = replica")
        for table in tables:
            cols = columns(conn, table)
            names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in cols)
            started = time.perf_counter()
            for low in range(first, last + 1, CHUNK):
                high = min(last, low + CHUNK - 1)
                conn.execute(sql.SQL("INSERT INTO {t} ({names}) SELECT {select} FROM {t}, "
                                     "generate_series(%s::int, %s::int) n WHERE {t}.family_id = %s").format(
                    t=sql.Identifier(table), names=names, select=clone_select(cols, "n")), (low, high, template_id))
            conn.commit()
            say(f"  pooled {table}: {time.perf_counter() - started:.1f}s")


def clone_dedicated(tables: list[str], template_id: uuid.UUID, n: int, *, truncate: bool) -> None:
    """Copy clone n of the template's rows in `tables` into its own database."""
    with superuser(pooled_db()) as source, superuser(dedicated_db(n)) as target:
        target.execute("SET session_replication_role = replica")
        if truncate:
            for table in tables:  # DELETE, not TRUNCATE: with replica role no foreign key stops a partial wipe
                target.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        for table in tables:
            cols = columns(source, table)
            names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in cols)
            select = sql.SQL("SELECT {select} FROM {t} WHERE family_id = {tid}").format(
                select=clone_select(cols, str(n)), t=sql.Identifier(table), tid=sql.Literal(str(template_id)))
            with source.cursor().copy(sql.SQL("COPY ({}) TO STDOUT").format(select)) as out, \
                    target.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                                                   names)) as into:
                for data in out:
                    into.write(data)
        target.commit()


def create_dedicated_database(n: int) -> None:
    with superuser("postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER hp_owner").format(
            sql.Identifier(dedicated_db(n)), sql.Identifier(fleet.DEDICATED_TEMPLATE_DB)))


def in_parallel(work: Callable[[int], None], numbers: list[int], label: str, threads: int = 3) -> None:
    started = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(work, numbers):
            done += 1
            if done % 50 == 0 or done == len(numbers):
                say(f"  {label}: {done}/{len(numbers)} ({time.perf_counter() - started:.0f}s)")


def insert_platform_rows(template_id: uuid.UUID) -> None:
    """The clones' family rows (and subscriptions): pooled f00001…, then dedicated ones with a database key."""
    with superuser(platform_db()) as conn:
        conn.execute("SET session_replication_role = replica")
        cols = columns(conn, "families")
        overrides = {
            "slug": "'f' || lpad(n::text, 5, '0')",
            "name": "'Family ' || n",
            "placement": f"CASE WHEN n > {fleet.POOLED} THEN 'dedicated' ELSE 'pooled' END",
            "database_key": f"CASE WHEN n > {fleet.POOLED} THEN 'd' || lpad(n::text, 5, '0') END",
        }
        names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in cols)
        conn.execute(sql.SQL("INSERT INTO families ({names}) SELECT {select} FROM families, "
                             "generate_series(1, %s::int) n WHERE families.id = %s").format(
                         names=names, select=clone_select(cols, "n", overrides)),
                     (fleet.POOLED + fleet.DEDICATED, template_id))
        sub_cols = columns(conn, "subscriptions")
        sub_names = sql.SQL(", ").join(sql.Identifier(name) for name, _ in sub_cols)
        conn.execute(sql.SQL("INSERT INTO subscriptions ({names}) SELECT {select} FROM subscriptions, "
                             "generate_series(1, %s::int) n WHERE family_id = %s").format(
            names=sub_names, select=clone_select(sub_cols, "n")), (fleet.POOLED + fleet.DEDICATED, template_id))
        conn.commit()


# --- the two entry points -----------------------------------------------------------------------------------

def seed() -> dict[str, Any]:
    """Make the whole fleet (minutes); afterwards `refresh` is all a run needs."""
    started = time.perf_counter()
    say("migrating the fleet's platform, pooled and template databases")
    migrate()
    app = make_app()
    say("building the template family through the services")
    build_template(app)
    refresh_template_day(app)
    template_id = template_family_id()
    tables = family_tables()
    say(f"cloning {fleet.POOLED} pooled families ({len(tables)} tables)")
    clone_pooled(tables, template_id, 1, fleet.POOLED)
    say(f"platform rows for {fleet.POOLED + fleet.DEDICATED} families")
    insert_platform_rows(template_id)
    dedicated = list(range(fleet.POOLED + 1, fleet.POOLED + fleet.DEDICATED + 1))
    have = existing_databases()
    missing = [n for n in dedicated if dedicated_db(n) not in have]
    say(f"creating {len(missing)} dedicated databases from {fleet.DEDICATED_TEMPLATE_DB}")
    in_parallel(create_dedicated_database, missing, "created", threads=2)
    in_parallel(lambda n: clone_dedicated(tables, template_id, n, truncate=True), dedicated, "copied")
    for db in (pooled_db(), platform_db()):
        with superuser(db, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    state = {"template_id": str(template_id), "pooled": fleet.POOLED, "dedicated": fleet.DEDICATED,
             "heads": schema_heads(), "template_version": TEMPLATE_VERSION,
             "seed_seconds": round(time.perf_counter() - started, 1), "seeded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                                    time.gmtime())}
    fleet.STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    fleet.STATE_FILE.write_text(json.dumps(state, indent=2))
    say(f"seeded in {state['seed_seconds']}s")
    return state


def forget_cached_views(app: Any) -> None:
    """The refresh wrote rows behind the app's back (no version bump): drop every family-versioned view entry."""
    client = app.extensions.get("housepoints.redis")
    if client is None:
        return
    pattern = f"{app.config['REDIS_KEY_PREFIX']}:family:*:view:*"
    batch: list[bytes] = []
    for key in client.scan_iter(pattern, count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)


def upgrade_fleet(app: Any) -> None:
    """Patch a reused fleet seeded by an older template up to TEMPLATE_VERSION (seconds, not a new seed)."""
    state = json.loads(fleet.STATE_FILE.read_text())
    version = int(state.get("template_version", 1))
    if version >= TEMPLATE_VERSION:
        return
    started = time.perf_counter()
    template_id = template_family_id()
    if version < 2:
        # Every clone gets the template's presets, replacing any a clone made itself on a dashboard read.
        say("patching the fleet: the default point presets in the template and every clone")
        make_template_presets(app)
        with superuser(pooled_db()) as conn:
            conn.execute("DELETE FROM point_presets WHERE family_id <> %s", (template_id,))
            conn.commit()
        clone_pooled(["point_presets"], template_id, 1, fleet.POOLED)
        dedicated = list(range(fleet.POOLED + 1, fleet.POOLED + fleet.DEDICATED + 1))
        in_parallel(lambda n: clone_dedicated(["point_presets"], template_id, n, truncate=True), dedicated,
                    "patched")
    state["template_version"] = TEMPLATE_VERSION
    fleet.STATE_FILE.write_text(json.dumps(state, indent=2))
    say(f"fleet patched to template version {TEMPLATE_VERSION} in {time.perf_counter() - started:.1f}s")


def refresh(app: Any | None = None) -> float:
    """Patch an older fleet, today's template rows again, then every clone's volatile rows; returns the seconds."""
    started = time.perf_counter()
    app = app or make_app()
    upgrade_fleet(app)
    refresh_template_day(app)
    template_id = template_family_id()
    with superuser(pooled_db()) as conn:
        conn.execute("SET session_replication_role = replica")
        for table in VOLATILE:
            conn.execute(sql.SQL("DELETE FROM {} WHERE family_id <> %s").format(sql.Identifier(table)),
                         (template_id,))
        conn.commit()
    clone_pooled(VOLATILE, template_id, 1, fleet.POOLED)
    dedicated = list(range(fleet.POOLED + 1, fleet.POOLED + fleet.DEDICATED + 1))
    in_parallel(lambda n: clone_dedicated(list(VOLATILE), template_id, n, truncate=True), dedicated, "refreshed")
    with superuser(pooled_db(), autocommit=True) as conn:
        for table in VOLATILE:
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))
    forget_cached_views(app)
    seconds = time.perf_counter() - started
    say(f"refreshed today's rows in {seconds:.1f}s")
    return seconds


def schema_heads() -> dict[str, list[str]]:
    """The head revisions of both migration chains (a fleet made at other heads is made again)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from app.tenancy.databases import family_heads

    platform = AlembicConfig()
    platform.set_main_option("script_location", str(fleet.ROOT / "migrations" / "platform"))
    return {"family": sorted(family_heads()), "platform": sorted(ScriptDirectory.from_config(platform).get_heads())}


def is_seeded() -> bool:
    """The state file matches the requested fleet and its databases exist."""
    if not fleet.STATE_FILE.exists():
        return False
    state = json.loads(fleet.STATE_FILE.read_text())
    if (state.get("pooled"), state.get("dedicated")) != (fleet.POOLED, fleet.DEDICATED):
        return False
    if state.get("heads") != schema_heads():
        return False  # the migrations moved on since the fleet was made: seeding again is faster than migrating it
    have = existing_databases()
    return {pooled_db(), platform_db()} <= have and all(
        dedicated_db(n) in have for n in range(fleet.POOLED + 1, fleet.POOLED + fleet.DEDICATED + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="drop the fleet's databases and seed again")
    args = parser.parse_args()
    fleet.apply_env()
    sys.path.insert(0, str(fleet.ROOT))
    if args.fresh:
        drop_fleet()
    if not is_seeded():
        if fleet.STATE_FILE.exists() or existing_databases():
            drop_fleet()  # a half-made or differently-sized fleet: start clean
        seed()
    else:
        refresh()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
