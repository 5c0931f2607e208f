"""Moving a family to another database cluster or placement, online: reads go on, writes pause for the copy.

Like provisioning this spans databases, so it owns its transactions and compensates: until the registry flips, a
failure leaves the family where it was (the target's rows or database removed, the family writable again).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db.bases import utcnow
from app.db.clusters import Cluster
from app.db.engines import EngineRegistry, new_engine
from app.db.session import MOVE_LOCK_CLASS, open_session
from app.platform.models import Family, FamilyPlacement
from app.tenancy.copying import TableFingerprint, copy_family_rows, erase_family_rows, fingerprint_family
from app.tenancy.databases import create_database, database_exists, drop_database, ensure_family_database, \
    family_database_revision, family_heads, owner_url, upgrade_family_database
from app.tenancy.provisioning import Placement
from app.tenancy.registry import FamilyRegistry, family_database_url

LOCK_TIMEOUT = "30s"  # how long the move waits for the family's in-flight writes before giving up (nothing changed)


class MoveError(ValueError):
    """The move cannot be done as asked; the message says why. Unless it says otherwise, nothing changed."""


@dataclass
class MoveReport:
    """What a move did: where from and to, what was copied and verified, and how long each step took."""

    slug: str
    source: str
    target: str
    tables: list[TableFingerprint] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


@dataclass(frozen=True)
class _Plan:
    family_id: uuid.UUID
    source_url: str
    source_placement: str
    target: Cluster
    target_url: str
    target_placement: str
    target_key: str | None


def move_family(platform_session: Session, engines: EngineRegistry, placement_config: Placement,
                registry: FamilyRegistry, *, slug: str, to_cluster: str, placement: str | None = None,
                drain_seconds: float = 2.0, actor_user_id: uuid.UUID | None = None, offline: bool = False,
                progress: Callable[[str], None] | None = None) -> MoveReport:
    """Move family `slug` to cluster `to_cluster` (and `placement`, default: its current one); commits itself.

    Migrate the target, pause writes (registry flag + the PostgreSQL move lock), copy table by table, verify counts
    and checksums on both sides, flip the registry row in one UPDATE, tell every process, let in-flight requests
    drain, then delete the source rows (or drop the source's dedicated database). Without Redis no other process
    would hear of the move for FAMILY_CACHE_TTL, so it is refused unless `offline` (the web processes are stopped).
    """
    say = progress or (lambda _message: None)
    if not registry.broadcasts and not offline:
        raise MoveError("Moving a family needs Redis (REDIS_URL) to tell the running web processes where it went; "
                        "with every web process stopped, pass --offline.")
    plan = _plan(platform_session, placement_config, slug, to_cluster, placement)
    report = MoveReport(slug, _where(plan.source_placement, _cluster_of(platform_session, plan.family_id)),
                        _where(plan.target_placement, plan.target.name))
    clock = time.perf_counter()
    created = _prepare_target(plan, placement_config)
    report.seconds["prepare target"] = time.perf_counter() - clock
    try:
        _check_target_empty(platform_session, engines, plan)
    except BaseException:
        if created:
            engines.discard(plan.target_url)
            drop_database(plan.target_url, placement_config.owner)
        raise
    try:
        marked = _mark_moving(platform_session, plan.family_id)
        registry.invalidate(slug)
        say(f"{slug} is read-only; copying from {report.source} to {report.target}")
        with _writes_paused(plan.source_url, plan.family_id, placement_config) as lock:
            clock = time.perf_counter()
            report.tables = _copy(platform_session, engines, plan, say)
            report.seconds["copy"] = time.perf_counter() - clock
            clock = time.perf_counter()
            _verify(platform_session, engines, plan, report.tables)
            report.seconds["verify"] = time.perf_counter() - clock
            _flip(platform_session, plan, marked, report, actor_user_id)
            registry.invalidate(slug)
            say(f"{slug} now lives on {report.target}")
            time.sleep(drain_seconds)  # requests that resolved the old record before the flip finish there
            clock = time.perf_counter()
            _remove_source(engines, plan, placement_config, lock)
            report.seconds["remove source"] = time.perf_counter() - clock
    except BaseException:
        if not _flipped(platform_session, plan):
            _undo(platform_session, engines, plan, placement_config, created)
            registry.invalidate(slug)
        raise
    return report


def _where(placement: str, cluster: str) -> str:
    return f"{cluster} ({placement})"


def _cluster_of(session: Session, family_id: uuid.UUID) -> str:
    return str(session.scalar(select(Family.cluster).where(Family.id == family_id)))


def _plan(session: Session, config: Placement, slug: str, to_cluster: str, placement: str | None) -> _Plan:
    family = session.scalar(select(Family).where(Family.slug == slug))
    if family is None or family.purged_at is not None:
        raise MoveError(f"There is no family '{slug}'.")
    if family.deleted_at is not None:
        raise MoveError(f"Family '{slug}' is deleted; there is nothing to move.")
    if family.moving_since is not None:
        raise MoveError(f"Family '{slug}' is already being moved (since {family.moving_since:%Y-%m-%d %H:%M} UTC).")
    clusters = config.all_clusters()
    if to_cluster not in clusters:
        raise MoveError(f"There is no database cluster named '{to_cluster}' (configured: {', '.join(clusters)}).")
    target_placement = placement or family.placement
    if target_placement not in tuple(FamilyPlacement):
        raise MoveError(f"Placement must be one of {', '.join(FamilyPlacement)}.")
    if to_cluster == family.cluster and target_placement == family.placement:
        raise MoveError(f"Family '{slug}' is already on cluster '{to_cluster}' ({target_placement}).")
    target = clusters[to_cluster]
    if target_placement == FamilyPlacement.DEDICATED and not target.dedicated_template:
        raise MoveError(f"Cluster '{to_cluster}' has no dedicated database template.")
    key = slug.replace("-", "_") if target_placement == FamilyPlacement.DEDICATED else None
    source_url = family_database_url(family, pooled_url=config.pooled_url,
                                     dedicated_template=config.dedicated_template, clusters=clusters)
    target_url = target.url_for(target_placement, key)
    if target_url == source_url:
        raise MoveError(f"Cluster '{to_cluster}' ({target_placement}) is the database family '{slug}' is already in.")
    return _Plan(family.id, source_url, family.placement, target, target_url, target_placement, key)


def _prepare_target(plan: _Plan, config: Placement) -> bool:
    """Create (dedicated) and migrate the target as the owner; True when this move created its database."""
    try:
        revision = family_database_revision(owner_url(plan.source_url, config.owner))
        if revision not in family_heads():
            raise MoveError("The family's database is not at the latest migration; run `flask families upgrade "
                            "--all` first.")
        if plan.target_placement == FamilyPlacement.DEDICATED:
            if database_exists(owner_url(plan.target_url, config.owner)):
                raise MoveError(f"A database for this family already exists on cluster '{plan.target.name}'; "
                                "refusing to reuse it.")
            create_database(plan.target_url, config.owner)
            try:
                upgrade_family_database(plan.target_url, owner=config.owner)
            except BaseException:
                drop_database(plan.target_url, config.owner)
                raise
            return True
        ensure_family_database(plan.target_url, config.owner)
        return False
    except (OperationalError, DBAPIError, OSError) as error:
        raise MoveError(f"Cluster '{plan.target.name}' is unreachable: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _family_session(platform_session: Session, engines: EngineRegistry, url: str, family_id: uuid.UUID) -> Session:
    return open_session(platform_session.get_bind(Family), engines.get(url), family_id)


def _check_target_empty(platform_session: Session, engines: EngineRegistry, plan: _Plan) -> None:
    session = _family_session(platform_session, engines, plan.target_url, plan.family_id)
    try:
        leftovers = [t.table for t in fingerprint_family(session, plan.family_id) if t.rows]
    finally:
        session.close()
    if leftovers:
        raise MoveError(f"Cluster '{plan.target.name}' already holds rows of this family ({', '.join(leftovers)}); "
                        "refusing to mix them.")


def _mark_moving(session: Session, family_id: uuid.UUID) -> object:
    marked = utcnow()
    session.execute(update(Family).where(Family.id == family_id).values(moving_since=marked))
    session.commit()
    return marked


@contextmanager
def _writes_paused(source_url: str, family_id: uuid.UUID, config: Placement) -> Iterator[Connection | None]:
    """Hold the family's move lock on the source (PostgreSQL): waits for in-flight writes, refuses new ones."""
    if make_url(source_url).get_backend_name() != "postgresql":
        yield None  # SQLite (`make run`): one process; the registry flag alone pauses writes
        return
    engine = new_engine(owner_url(source_url, config.owner))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            try:
                connection.exec_driver_sql("SELECT pg_advisory_lock(%s, hashtext(%s))",
                                           (MOVE_LOCK_CLASS, str(family_id)))
            except OperationalError:
                raise MoveError("The family's writes did not finish in time; nothing was moved, try again.") from None
            connection.commit()
            try:
                yield connection
            finally:
                if not connection.closed and not connection.invalidated:
                    connection.exec_driver_sql("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                                               (MOVE_LOCK_CLASS, str(family_id)))
                    connection.commit()
    finally:
        engine.dispose()


def _copy(platform_session: Session, engines: EngineRegistry, plan: _Plan,
          say: Callable[[str], None]) -> list[TableFingerprint]:
    source = _family_session(platform_session, engines, plan.source_url, plan.family_id)
    target = _family_session(platform_session, engines, plan.target_url, plan.family_id)
    try:
        copied = copy_family_rows(source, target, plan.family_id,
                                  progress=lambda table, rows: say(f"  {table}: {rows} row(s)"))
        target.commit()
        return copied
    finally:
        source.close()
        target.close()


def _verify(platform_session: Session, engines: EngineRegistry, plan: _Plan, copied: list[TableFingerprint]) -> None:
    """The target, read back now, must match what was read from the source: same tables, counts and checksums.

    The source cannot change meanwhile on PostgreSQL (the move lock refuses every commit there); on SQLite the
    registry flag stops writes in the one process `make run` has, and re-reading the source proves it did.
    """
    sides = [(plan.target_url, "target")]
    if make_url(plan.source_url).get_backend_name() != "postgresql":
        sides.append((plan.source_url, "source"))
    for url, side in sides:
        session = _family_session(platform_session, engines, url, plan.family_id)
        try:
            found = fingerprint_family(session, plan.family_id)
        finally:
            session.close()
        differing = [f"{a.table} ({a.rows} copied, {b.rows} on the {side})"
                     for a, b in zip(copied, found, strict=True) if a != b]
        if differing:
            raise MoveError(f"Verification failed, nothing was moved: {', '.join(differing)}.")


def _flip(session: Session, plan: _Plan, marked: object, report: MoveReport, actor: uuid.UUID | None) -> None:
    """One UPDATE points the registry at the target and ends the read-only window."""
    flipped = session.execute(
        update(Family).where(Family.id == plan.family_id, Family.moving_since == marked)
        .values(cluster=plan.target.name, placement=plan.target_placement, database_key=plan.target_key,
                moving_since=None))
    if flipped.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        raise MoveError("The family's registry row changed during the move; nothing was moved.")
    record_audit(session, "family.moved", family_id=plan.family_id, actor_user_id=actor,
                 details={"from": report.source, "to": report.target, "rows": report.rows})
    session.commit()


def _flipped(session: Session, plan: _Plan) -> bool:
    session.rollback()
    family = session.get(Family, plan.family_id, populate_existing=True)
    return family is not None and family.cluster == plan.target.name and family.placement == plan.target_placement


def _remove_source(engines: EngineRegistry, plan: _Plan, config: Placement, lock: Connection | None) -> None:
    if plan.source_placement == FamilyPlacement.DEDICATED:
        if lock is not None:
            lock.close()  # DROP DATABASE … WITH (FORCE) would end this session anyway
        _wait_for_checkins(engines, plan.source_url)
        engines.discard(plan.source_url)
        drop_database(plan.source_url, config.owner)
    else:
        erase_family_rows(plan.source_url, plan.family_id, config.owner)


def _wait_for_checkins(engines: EngineRegistry, url: str, timeout: float = 10.0) -> None:
    """Let this process's requests still reading the old database give their connections back before it is dropped.

    A connection checked out while its engine is disposed goes back to an orphaned pool and is never closed.
    """
    pool = engines.get(url).pool
    deadline = time.monotonic() + timeout
    while getattr(pool, "checkedout", lambda: 0)() and time.monotonic() < deadline:
        time.sleep(0.05)


def _undo(session: Session, engines: EngineRegistry, plan: _Plan, config: Placement, created: bool) -> None:
    """Before the flip: remove what the move put on the target and make the family writable again."""
    if created:
        engines.discard(plan.target_url)
        drop_database(plan.target_url, config.owner)
    else:
        erase_family_rows(plan.target_url, plan.family_id, config.owner)
    session.execute(update(Family).where(Family.id == plan.family_id).values(moving_since=None))
    session.commit()
