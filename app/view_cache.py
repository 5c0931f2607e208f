"""Family-versioned caching: every commit that changed a family's rows bumps its version; views are cached under it.

The version is a Redis counter per family (`family_key(id, "version")`), bumped after every commit that wrote
family rows (the session's `WROTE` flag, set by the scoping events for flushes and DML alike), so the tick, jobs
and CLI commands invalidate exactly like pages and the API; a write to `family_settings` also bumps the settings
version (`family_key(id, "version", "settings")`), under which the family's rules stay cached while chores change.
Right behind the tenancy hook each family request reads both versions in one `MGET`, before the session lookup or
any other read; writers bump after their commit. So an entry stored at version N holds data read after N was
current: it can be newer than N says, never older. A cached view is stored under a key in the family's own
keyspace with the version it was rendered at, and served only at that version.

Without Redis (none configured, or down) nothing is read from the cache: every request renders from the
database. A bump that fails is owed by its process and paid before that process reads the cache again; entries
also expire (`VIEW_CACHE_SECONDS`), which bounds what another process could serve after an outage. Rows written
behind the app's back (SQL by hand, the bench's refresh) bump nothing: drop the family's `view` keys after them.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import redis
from cachetools import LRUCache
from flask import Flask, current_app, g, has_app_context, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session
from werkzeug.wrappers import Response as BaseResponse

from app.db.session import WROTE, TenantSession
from app.live.etag import CACHE_TAG, fragment_etag
from app.metrics import VIEW_CACHE
from app.redis_store import family_key, get_redis, redis_up

log = logging.getLogger("housepoints.view_cache")

P = ParamSpec("P")
R = TypeVar("R")
VIEW_CACHE_SECONDS = 600  # an entry's life; a poller's next miss after a write comes from the version, not this
CSRF_PLACEHOLDER = b"\x00csrf\x00"  # the page's CSRF token, put back per request (it is signed with the time)
CACHED_TYPES = ("text/html", "application/json")
SKIPPED_HEADERS = {"content-length", "set-cookie", "etag"}
_MEMO = "family_version"  # g: (family id, row version, settings version) read in this request

# Bumps this process could not make (Redis down), with whether the settings changed: paid before its next cache read.
_owed: dict[uuid.UUID, bool] = {}
_owed_lock = threading.Lock()


def _version_keys(family_id: uuid.UUID) -> list[str]:
    """The family's row version (every write) and its settings version (writes to `family_settings` only)."""
    return [family_key(family_id, "version"), family_key(family_id, "version", "settings")]


def _client() -> redis.Redis | None:
    """Redis when configured and answering lately (the probe keeps a dead Redis from costing a timeout each time)."""
    client = get_redis()
    return client if client is not None and redis_up() else None


def _pay_owed(client: redis.Redis) -> bool:
    """Make the bumps this process owes; False while Redis still refuses (then nothing is read from the cache)."""
    with _owed_lock:
        if not _owed:
            return True
        try:
            pipe = client.pipeline(transaction=False)
            for family_id, settings in _owed.items():
                _queue_bump(pipe, family_id, settings=settings)
            pipe.execute()
        except redis.RedisError:
            return False
        _owed.clear()
        return True


def _fresh_base() -> int:
    """Where a missing counter starts: a random number, so a Redis that lost its keys (a restart) never hands out
    a version a process already cached something under."""
    return secrets.randbits(48)


def _queue_bump(pipe: Any, family_id: uuid.UUID, *, settings: bool) -> None:
    rows_key, settings_key = _version_keys(family_id)
    for key in (rows_key, settings_key) if settings else (rows_key,):
        pipe.set(key, _fresh_base(), nx=True)
        pipe.incr(key)


def bump_family_version(family_id: uuid.UUID, *, settings: bool = True) -> None:
    """After a commit that changed the family's rows: every cached view of the family is out of date (and the
    family's rules too when `settings`)."""
    if has_app_context():
        g.pop(_MEMO, None)
    client = get_redis() if has_app_context() else None
    if client is None:
        return
    try:
        pipe = client.pipeline(transaction=False)
        _queue_bump(pipe, family_id, settings=settings)
        pipe.execute()
    except redis.RedisError:
        log.warning("family version bump failed; owed until Redis answers", extra={"family_id": str(family_id)})
        with _owed_lock:
            _owed[family_id] = _owed.get(family_id, False) or settings


def _versions(family_id: uuid.UUID) -> tuple[int, int] | None:
    """The family's row and settings versions for this request (one round trip, once), or None: no cache."""
    memo = g.get(_MEMO)
    if memo is not None and memo[0] == family_id:
        return memo[1], memo[2]
    client = _client()
    if client is None or not _pay_owed(client):
        return None
    keys = _version_keys(family_id)
    try:
        values = client.mget(keys)
        if None in values:  # first use, or Redis lost its keys: start both counters somewhere new
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.set(key, _fresh_base(), nx=True)
            pipe.mget(keys)
            values = pipe.execute()[-1]
    except redis.RedisError:
        return None
    if values[0] is None or values[1] is None:
        return None  # deleted again meanwhile: render from the database this once
    found = (int(values[0]), int(values[1]))
    setattr(g, _MEMO, (family_id, *found))
    return found


def family_version(family_id: uuid.UUID) -> int | None:
    """The family's version for this request (read once), or None when the cache must not be used."""
    found = _versions(family_id)
    return None if found is None else found[0]


def settings_version(family_id: uuid.UUID) -> int | None:
    """The version of the family's settings rows (their own counter: a tap-done leaves the rules cached)."""
    found = _versions(family_id)
    return None if found is None else found[1]


def _note_version_first() -> None:
    """Before anything of the request reads the database (the session lookup too): take the family's version.

    An entry stored at this version then holds data read after it was taken: never older than the version says.
    """
    family = g.get("family")
    if family is not None:
        family_version(family.id)


# --- bumping on commit -------------------------------------------------------------------------------------------

WRITTEN = "view_cache.tables"  # session.info: the family tables this transaction wrote (None: some unknown ones)
# Writes that move the settings version: the family's rules, and who the bell tells and how (the parents, their
# choices and addresses, the webhooks: `app/notifications/routing.py` keeps them by this version).
SETTINGS_TABLES = frozenset({"family_settings", "notification_preferences", "webhooks", "members.routing"})
# A member row changes often (points, streaks, last seen): only these columns, an insert or a delete move routing.
ROUTING_MEMBER_COLUMNS = ("role", "is_active", "email", "language")
# Written on their own, these change no cached view: a tablet turn's activity (every few seconds while a kid taps) or a
# sign-in/out would otherwise empty the family's cache. Signed-out requests never reach it (auth runs first).
VIEWLESS_TABLES = frozenset({"member_sessions"})


def _written_names(session: Session) -> set[str]:
    """The tables the session's pending changes write, with "members.routing" when a member's routing changes."""
    names = {getattr(obj, "__tablename__", "") for obj in (*session.new, *session.dirty, *session.deleted)}
    if "members" in names and any(_changes_routing(obj, new=obj in session.new or obj in session.deleted)
                                  for obj in (*session.new, *session.dirty, *session.deleted)
                                  if getattr(obj, "__tablename__", "") == "members"):
        names.add("members.routing")
    return names


def _changes_routing(member: Any, *, new: bool) -> bool:
    if new:
        return True
    attrs = inspect(member).attrs
    return any(attrs[column].history.has_changes() for column in ROUTING_MEMBER_COLUMNS)


def _note_flushed_tables(session: Session, _context: Any) -> None:
    """After a flush (its objects and their history still pre-flush): which tables it wrote."""
    _note_tables(session, _written_names(session))


def _note_executed_tables(state: ORMExecuteState) -> None:
    """An UPDATE/DELETE/INSERT statement run through the session: its target table (unknown: assume settings)."""
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if not isinstance(table, Table):
        _note_tables(state.session, None)
        return
    # Which member columns a statement sets is not worth guessing: any DML on members may change routing.
    _note_tables(state.session, {table.name, "members.routing"} if table.name == "members" else {table.name})


def wrote_settings(session: Session) -> bool:
    """Whether this transaction changed (or is about to flush) rows kept by settings version: a value cached at
    the request's version would be older than the transaction's own view."""
    written = session.info.get(WRITTEN, set())
    return written is None or bool((written | _written_names(session)) & SETTINGS_TABLES)


def _note_tables(session: Session, tables: set[str] | None) -> None:
    known = session.info.get(WRITTEN, set())
    session.info[WRITTEN] = None if tables is None or known is None else known | tables


def _bump_after_commit(session: Session) -> None:
    """Runs first among after-commit listeners (before the move guard forgets the transaction's WROTE flag)."""
    family_id = session.info.get("family_id")
    written = session.info.pop(WRITTEN, set())
    if written is not None and written and written <= VIEWLESS_TABLES:
        return
    if family_id is not None and session.info.get(WROTE):
        bump_family_version(family_id, settings=written is None or bool(written & SETTINGS_TABLES))


def _forget_tables(session: Session) -> None:
    session.info.pop(WRITTEN, None)


def install(app: Flask) -> None:
    """Bound by `create_app` after the tenancy hook and the move guard: commits bump, requests read the version
    right after the hook (ahead of every other before-request function, Flask-Login's lookups included)."""
    if not event.contains(TenantSession, "after_commit", _bump_after_commit):
        event.listen(TenantSession, "after_commit", _bump_after_commit, insert=True)
        event.listen(TenantSession, "after_rollback", _forget_tables)
        event.listen(TenantSession, "after_flush", _note_flushed_tables)
        event.listen(TenantSession, "do_orm_execute", _note_executed_tables)
    funcs = app.before_request_funcs.setdefault(None, [])
    funcs.insert(1 if funcs else 0, _note_version_first)


# --- per-family values cached by version (the family's rules) ----------------------------------------------------

_values: LRUCache[tuple[str, uuid.UUID, int, str], Any] = LRUCache(maxsize=20_000)
_values_lock = threading.Lock()


def cached_by_settings(name: str, family_id: uuid.UUID, extra: str, load: Callable[[], R]) -> R:
    """A value derived from the family's settings rows, kept in this process until their version moves on."""
    version = settings_version(family_id)
    if version is None:
        return load()
    key = (name, family_id, version, extra)
    with _values_lock:
        if key in _values:
            value: R = _values[key]
            return value
    value = load()
    with _values_lock:
        _values[key] = value
    return value


# --- cached views -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One cached answer: what the view said, as it said it (the JSON wire format byte for byte)."""

    version: int
    status: int
    headers: list[tuple[str, str]]
    etag: str
    body: bytes

    def dump(self) -> bytes:
        meta = {"v": self.version, "s": self.status, "h": self.headers, "e": self.etag}
        return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def load(cls, raw: bytes) -> Entry | None:
        head, _, body = raw.partition(b"\n")
        try:
            meta = json.loads(head)
            return cls(version=int(meta["v"]), status=int(meta["s"]), headers=[tuple(h) for h in meta["h"]],
                       etag=str(meta["e"]), body=body)
        except (ValueError, KeyError, TypeError):
            return None


def _viewer_parts() -> list[str]:
    """Everything besides the rows that changes what a view shows: who asks, how, in which language, on which day."""
    from app.auth import current_member
    from app.family_time import FamilyClock
    from app.tablet.devices import is_tablet_turn
    from app.web import request_now

    member = current_member()
    device = g.get("tablet_device")
    family = g.family
    hx = sorted((name.lower(), value) for name, value in request.headers.items() if name.lower().startswith("hx-"))
    return [request.endpoint or "", request.full_path, str(member.id if member else ""),
            str(member.role if member else ""), str(device.id if device else ""), str(is_tablet_turn()),
            str(get_locale()), "sse" if redis_up() else "poll", family.name, family.timezone,
            FamilyClock(family.timezone).today(request_now()).isoformat(), json.dumps(hx)]


def _entry_key(family_id: uuid.UUID, parts: list[str]) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()
    return family_key(family_id, "view", digest)


def _read(client: redis.Redis, key: str, version: int) -> Entry | None:
    """The entry at `key` if it was rendered at `version`."""
    try:
        raw = client.get(key)
    except redis.RedisError:
        return None
    entry = Entry.load(raw) if isinstance(raw, bytes) else None
    return entry if entry is not None and entry.version == version else None


def _serve(entry: Entry) -> BaseResponse:
    body = entry.body
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, generate_csrf().encode())
    response = current_app.response_class(body, status=entry.status, headers=entry.headers)
    response.headers["X-View-Cache"] = "hit"
    setattr(g, CACHE_TAG, entry.etag)
    return response


def _store(client: redis.Redis, key: str, version: int, response: BaseResponse) -> None:
    if (response.status_code != 200 or response.is_streamed or response.direct_passthrough
            or response.mimetype not in CACHED_TYPES or "Set-Cookie" in response.headers):
        return
    body = response.get_data()
    token = g.get("csrf_token")
    if token:
        body = body.replace(str(token).encode(), CSRF_PLACEHOLDER)
    etag = fragment_etag(body)
    headers = [(name, value) for name, value in response.headers.items() if name.lower() not in SKIPPED_HEADERS]
    entry = Entry(version=version, status=200, headers=headers, etag=etag, body=body)
    try:
        client.set(key, entry.dump(), ex=VIEW_CACHE_SECONDS)
    except redis.RedisError:
        return
    response.headers["X-View-Cache"] = "miss"
    setattr(g, CACHE_TAG, etag)


def cached_view(view: Callable[P, R]) -> Callable[P, R]:
    """Serve the view from the family's cache at its current version; render and store it on a miss.

    Put it under the access decorators (they decide who may see the view; the cache only remembers what it said).
    Only 200 answers in HTML or JSON are kept. A hit still stamps what the session lookup marked (last seen).
    """
    return _cached(view, clocked=False)


def cached_view_by_minute(view: Callable[P, R]) -> Callable[P, R]:
    """`cached_view` for a view whose words also change with the clock alone ("overdue"): kept a minute at most."""
    return _cached(view, clocked=True)


def _cached(view: Callable[P, R], *, clocked: bool) -> Callable[P, R]:
    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        family = g.get("family")
        client = _client()
        version = family_version(family.id) if family is not None and client is not None else None
        if client is None or family is None or version is None or request.method != "GET":
            VIEW_CACHE.labels("bypass").inc()
            return view(*args, **kwargs)
        parts = _viewer_parts()
        if clocked:
            from app.web import request_now
            parts.append(now_bucket(request_now()))
        key = _entry_key(family.id, parts)
        entry = _read(client, key, version)
        VIEW_CACHE.labels("miss" if entry is None else "hit").inc()
        if entry is not None:
            _commit_session_stamps()
            return _serve(entry)  # type: ignore[return-value]
        response = current_app.make_response(view(*args, **kwargs))  # type: ignore[arg-type]
        _store(client, key, version, response)
        return response  # type: ignore[return-value]
    return wrapped


def _commit_session_stamps() -> None:
    """A hit skips the view, and with it the commit of a session's last-seen time: commit it here when pending."""
    from app.db import get_session
    from app.uow import commit_now

    session = get_session()
    if session.dirty:
        commit_now(session)


def now_bucket(now: datetime, seconds: int = 60) -> str:
    """A time bucket for views whose words change with the clock alone (overdue), not with a write."""
    return str(int(now.timestamp()) // seconds)
