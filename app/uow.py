"""One unit of work per action: commit what the action did or roll all of it back, then the after-commit work.

Views and API modules never call `commit()` or `rollback()`. A view is decorated with `@transactional` (or wraps
its action in `with unit_of_work():`): it commits when the view answers with a success (status < 400), and rolls
back when it raises — a `DomainError` or anything else — or answers with an error status, so a refused action
keeps nothing. The dispatcher's in-transaction reactions (badges, notification rows) run inside that commit. Work
registered with `after_commit` (live events, publishing a staged upload, invalidating a cache) runs only once the
commit succeeded; `after_rollback` work (discarding a staged upload) only when it did not.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

from flask import current_app, g, has_app_context
from sqlalchemy.orm import Session

P = ParamSpec("P")
R = TypeVar("R")
STACK = "units_of_work"  # g: the units of work in progress, innermost last
KEEP_ON_ERROR = "uow.keep_on_error"


class Staged(Protocol):
    """A file written beside its final place: published after the commit, discarded when the action fails."""

    def publish(self) -> None: ...

    def discard(self) -> None: ...


class UnitOfWork:
    """The session of one action, with the work to run after it commits (or after it is rolled back)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._after_commit: list[Callable[[], Any]] = []
        self._after_rollback: list[Callable[[], Any]] = []

    def after_commit(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `work(*args, **kwargs)` once the commit succeeded (never when the action fails)."""
        self._after_commit.append(functools.partial(work, *args, **kwargs))

    def after_rollback(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run `work(*args, **kwargs)` when the action fails and nothing of it is kept."""
        self._after_rollback.append(functools.partial(work, *args, **kwargs))

    def stage(self, staged: Staged | None) -> None:
        """A staged upload: published after the commit, discarded on failure."""
        if staged is not None:
            self.after_commit(staged.publish)
            self.after_rollback(staged.discard)

    def commit(self) -> None:
        """Keep the action: commit (reactions run inside), then the after-commit work in order."""
        try:
            self.session.commit()
        except BaseException:
            self.rollback()
            raise
        work, self._after_commit, self._after_rollback = self._after_commit, [], []
        for item in work:
            item()

    def rollback(self) -> None:
        """Keep nothing of the action, then the rollback work."""
        self.session.rollback()
        work, self._after_commit, self._after_rollback = self._after_rollback, [], []
        for item in work:
            item()


def _request_session() -> Session:
    from app.db import get_session

    return get_session()


def _stack() -> list[UnitOfWork]:
    if STACK not in g:
        setattr(g, STACK, [])
    stack: list[UnitOfWork] = getattr(g, STACK)
    return stack


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[UnitOfWork]:
    """Commit on a normal exit, roll back on any exception (re-raised), then run the after-commit work."""
    work = UnitOfWork(session if session is not None else _request_session())
    stack = _stack() if has_app_context() else []
    stack.append(work)
    try:
        yield work
    except BaseException:
        stack.remove(work)
        work.rollback()
        raise
    stack.remove(work)
    work.commit()


def transactional(view: Callable[P, R]) -> Callable[P, R]:
    """A view as one unit of work: committed when it answers < 400, rolled back when it raises or answers >= 400."""
    @functools.wraps(view)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        work = UnitOfWork(_request_session())
        stack = _stack()
        stack.append(work)
        try:
            answer = current_app.make_response(view(*args, **kwargs))  # type: ignore[arg-type]
        except BaseException:
            stack.remove(work)
            work.rollback()
            raise
        stack.remove(work)
        if answer.status_code >= 400:
            work.rollback()  # a refused action keeps nothing (units it committed on purpose stand)
        else:
            work.commit()
        return answer  # type: ignore[return-value]
    return run


def current() -> UnitOfWork:
    """The innermost unit of work in progress (a view's, or a block's)."""
    stack = _stack()
    if not stack:
        raise RuntimeError("after-commit work outside a unit of work would never run; use @transactional")
    return stack[-1]


def after_commit(work: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run `work(*args, **kwargs)` once the current unit of work has committed (live events, cache invalidation)."""
    current().after_commit(work, *args, **kwargs)


def stage(staged: Staged | None) -> None:
    """Publish a staged upload when the current unit of work commits; discard it when it does not."""
    current().stage(staged)


def commit_now(session: Session | None = None) -> None:
    """Keep what was already flushed (a day materialised on a read, a last-seen time) before answering."""
    with unit_of_work(session):
        pass


@contextmanager
def rolled_back(session: Session | None = None) -> Iterator[Session]:
    """Try an action to see what it would do (a preview, a check), then keep nothing of it."""
    session = session if session is not None else _request_session()
    try:
        yield session
    finally:
        session.rollback()

