"""Engines per process and per database URL: created lazily after fork, kept in a bounded LRU."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from app.db.scoping import install_gate


def new_engine(url: str | URL, **options: Any) -> Engine:
    """Every engine of the app, its migrations and provisioning: statement parameters (password and PIN hashes,
    token digests) never appear in logged errors. `tests/test_log_secrets.py` refuses any other create_engine."""
    return create_engine(url, hide_parameters=True, **options)


def build_engine(url: str, *, pool_size: int, max_overflow: int) -> Engine:
    """One engine with a small pool and the family-scope gate; SQLite gets foreign keys, WAL and a busy timeout."""
    engine = _create_engine(url, pool_size=pool_size, max_overflow=max_overflow)
    install_gate(engine)
    return engine


def _create_engine(url: str, *, pool_size: int, max_overflow: int) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = new_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    return new_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
        pool_timeout=10,
        # Fail fast when the server is unreachable (a refused connection fails at once; this bounds a silent one).
        connect_args={"connect_timeout": 3},
        query_cache_size=2000,  # shared by every engine of the server (below): room for all their statements
    )


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class EngineRegistry:
    """Hands out one engine per database URL; pinned URLs are never evicted, others live in an LRU."""

    def __init__(self, *, max_engines: int, pool_size: int, max_overflow: int, pinned: tuple[str, ...] = (),
                 unpinned_pool_size: int | None = None, unpinned_max_overflow: int | None = None) -> None:
        self.max_engines = max_engines
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        # Pinned engines (platform, pooled families) serve every thread; a dedicated family's engine rarely sees
        # more than one request at a time, so its pool stays small and the connection cap stays computable.
        self.unpinned_pool_size = pool_size if unpinned_pool_size is None else unpinned_pool_size
        self.unpinned_max_overflow = max_overflow if unpinned_max_overflow is None else unpinned_max_overflow
        self.pinned = set(pinned)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # Per server, the engine whose dialect and statement cache the others share (kept after eviction: only
        # its pool is disposed, its cache lives on).
        self._donors: dict[tuple[str, str | None, int | None, str | None], Engine] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def get(self, url: str) -> Engine:
        """The engine for `url`, creating it on first use in this process."""
        self._forget_parent_engines()
        with self._lock:
            engine = self._engines.get(url)
            if engine is not None:
                self._engines.move_to_end(url)
                return engine
            pinned = url in self.pinned
            engine = build_engine(url, pool_size=self.pool_size if pinned else self.unpinned_pool_size,
                                  max_overflow=self.max_overflow if pinned else self.unpinned_max_overflow)
            self._share_compiled_statements(url, engine)
            self._engines[url] = engine
            self._evict_over_limit()
            return engine

    def _share_compiled_statements(self, url: str, engine: Engine) -> None:
        """Engines of one PostgreSQL server share one dialect and one compiled-statement cache.

        SQLAlchemy keys its statement cache by dialect object, so each new engine (a dedicated family seen for the
        first time in this process, or again after the LRU evicted it) would compile every statement afresh. The
        databases on one server have the same schema and server version, so the first engine's dialect (initialized
        on its first connection) and cache serve them all; only the pool — the connections — is per database.
        """
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return
        server = (parsed.drivername, parsed.host, parsed.port, parsed.username)
        donor = self._donors.get(server)
        if donor is None:
            self._donors[server] = engine
        elif donor is not engine and donor.dialect.server_version_info is not None:
            engine.dialect = donor.dialect
            engine.pool._dialect = donor.dialect  # noqa: SLF001 - the pool pings and resets through the dialect
            engine._compiled_cache = donor._compiled_cache  # noqa: SLF001 - SQLAlchemy's per-engine statement cache

    def _evict_over_limit(self) -> None:
        unpinned = [url for url in self._engines if url not in self.pinned]
        while len(unpinned) > self.max_engines:
            oldest = unpinned.pop(0)
            self._engines.pop(oldest).dispose()

    def _forget_parent_engines(self) -> None:
        # Pooled connections must not cross a fork: the child drops them without closing the parent's sockets.
        if os.getpid() == self._pid:
            return
        with self._lock:
            if os.getpid() != self._pid:
                for engine in self._engines.values():
                    engine.dispose(close=False)
                self._engines.clear()
                self._donors.clear()
                self._pid = os.getpid()

    def discard(self, url: str) -> None:
        """Dispose and forget the engine for `url` (before its database is dropped)."""
        with self._lock:
            engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()

    def stats(self) -> dict[str, dict[str, int | str]]:
        """Pool numbers per engine, keyed by database name only (no user, host or password)."""
        out: dict[str, dict[str, int | str]] = {}
        with self._lock:
            for url, engine in self._engines.items():
                pool = engine.pool
                entry: dict[str, int | str] = {"pool": type(pool).__name__}
                for name in ("size", "checkedin", "checkedout", "overflow"):
                    method = getattr(pool, name, None)
                    if callable(method):
                        entry[name] = method()
                database = make_url(url).database or url
                out[database.rsplit("/", 1)[-1]] = entry
        return out

    def dispose_all(self) -> None:
        """Close every pool (tests and shutdown)."""
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
            self._donors.clear()

    def connection_cap(self) -> int:
        """The most connections this process can hold: pinned pools in full plus a full LRU of small ones."""
        return (len(self.pinned) * (self.pool_size + self.max_overflow)
                + self.max_engines * (self.unpinned_pool_size + self.unpinned_max_overflow))

    def __len__(self) -> int:
        return len(self._engines)
