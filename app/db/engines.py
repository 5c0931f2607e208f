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
    )


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class EngineRegistry:
    """Hands out one engine per database URL; pinned URLs are never evicted, others live in an LRU."""

    def __init__(self, *, max_engines: int, pool_size: int, max_overflow: int, pinned: tuple[str, ...] = ()) -> None:
        self.max_engines = max_engines
        self.pool_size = pool_size
        self.max_overflow = max_overflow
        self.pinned = set(pinned)
        self._engines: OrderedDict[str, Engine] = OrderedDict()
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
            engine = build_engine(url, pool_size=self.pool_size, max_overflow=self.max_overflow)
            self._engines[url] = engine
            self._evict_over_limit()
            return engine

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

    def __len__(self) -> int:
        return len(self._engines)
