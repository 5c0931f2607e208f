"""One unit of work per action, and reactions wired only by `create_app`: checked on the source and at run time."""
from __future__ import annotations

import ast
import subprocess
import sys
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.domain import ValidationFailed
from app.events import COMMITTED, RECORDED, PointsPosted, record, recorded
from app.members.models import Member
from app.notifications.models import Notification
from app.points.inputs import PointsAward
from app.points.services import give_points
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from app.uow import after_commit, transactional, unit_of_work
from tests.notifications.conftest import RULES

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)
InFamily = Callable[[FamilyRecord], AbstractContextManager[FamilyContext]]


def _view_modules() -> list[Path]:
    """Every module that answers requests: the areas' views (and the two view helpers) and the JSON API."""
    from app import VIEW_MODULES

    paths = {ROOT / (name.replace(".", "/") + ".py") for name in VIEW_MODULES}
    paths |= set((ROOT / "app").glob("*/views.py")) | set((ROOT / "app").glob("*/*_views.py"))
    paths |= set((ROOT / "app" / "api").glob("*.py"))
    return sorted(paths)


def transaction_calls(source: str) -> list[tuple[int, str]]:
    """`x.commit()` / `x.rollback()` calls in a module's source, with their line numbers."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("commit", "rollback"):
            found.append((node.lineno, node.func.attr))
    return found


def test_the_scan_finds_a_commit_and_a_rollback() -> None:
    """The scanner itself: it must see the calls it is there to forbid."""
    assert transaction_calls("def view():\n    get_session().commit()\n    session.rollback()\n") == [
        (2, "commit"), (3, "rollback")]


def test_views_and_api_modules_never_commit_or_roll_back() -> None:
    """Every transaction of a request is a unit of work (`app/uow.py`), never a view's own commit()."""
    modules = _view_modules()
    assert len(modules) > 30  # the areas' views and the API's resource modules were all found
    offenders = [f"{path.relative_to(ROOT)}:{line} {call}()" for path in modules
                 for line, call in transaction_calls(path.read_text())]
    assert offenders == []


def _registration_calls(source: str) -> list[int]:
    """Module-level statements that register a listener: `event.listen(...)` or an `@event.listens_for` def."""
    lines = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr in ("listen", "init_listeners"):
                lines.append(node.lineno)
            if isinstance(func, ast.Name) and func.id == "init_listeners":
                lines.append(node.lineno)
        if isinstance(node, ast.FunctionDef):
            lines += [node.lineno for d in node.decorator_list
                      if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "listens_for"]
    return lines


def test_no_reaction_is_registered_by_importing_a_module() -> None:
    """Only the database layer scopes sessions at import; every reaction to a change is named in `create_app`."""
    allowed = {ROOT / "app" / "db" / "session.py"}  # family scoping, not a reaction: it must never be forgotten
    offenders = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "app").rglob("*.py"))
                 if path not in allowed for line in _registration_calls(path.read_text())]
    assert offenders == []
    assert _registration_calls("from sqlalchemy import event\nevent.listen(S, 'after_flush', f)\ninit_listeners()\n"
                               ) == [2, 3]


def test_importing_every_module_binds_no_transaction_event_until_create_app() -> None:
    """In a fresh interpreter: all of app/ imported, no commit-time listener; `create_app` binds the dispatcher and the
    move guard."""
    script = """
import importlib, pkgutil, app
from app.db.session import TenantSession
for module in pkgutil.walk_packages(app.__path__, "app."):
    importlib.import_module(module.name)
EVENTS = ("after_flush", "after_flush_postexec", "before_commit", "after_commit", "after_soft_rollback")
def bound():
    session = TenantSession()
    return sorted(f"{name}:{listener.__module__}" for name in EVENTS for listener in getattr(session.dispatch, name))
print(bound())
from app import create_app
from config import TestConfig
create_app(TestConfig)
print(bound())
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
                            timeout=120)
    imported, created = result.stdout.strip().split("\n")[-2:]
    assert imported == "[]"
    # The dispatcher, the move guard (a frozen family's writes never commit; app/db/session.py), the memory of
    # materialised days (app/assignments/services.py) and the family version bump (app/view_cache.py).
    assert created == str(["after_commit:app.assignments.services", "after_commit:app.db.session",
                           "after_commit:app.events", "after_commit:app.view_cache", "after_flush:app.view_cache",
                           "after_soft_rollback:app.events", "before_commit:app.db.session",
                           "before_commit:app.events"])


# --- the unit of work at run time ---------------------------------------------------------------------------------

def _kid_and_parent(in_family: InFamily, family: FamilyRecord) -> tuple[uuid.UUID, uuid.UUID]:
    with in_family(family) as ctx:
        kid = Member(username=f"kid{uuid.uuid4().hex[:6]}", display_name="Maya", role="child")
        parent = Member(username=f"mum{uuid.uuid4().hex[:6]}", display_name="Mum", role="parent")
        ctx.session.add_all([kid, parent])
        ctx.session.commit()
        return kid.id, parent.id


def _bonus(session: Any, kid_id: uuid.UUID, parent_id: uuid.UUID, amount: int = 5) -> None:
    give_points(session, actor=session.get(Member, parent_id), member=session.get(Member, kid_id),
                data=PointsAward(kind="bonus", points=amount, reason="Helped"), clock=RULES.clock, now=NOW)


def test_a_refused_action_keeps_nothing_and_runs_no_after_commit_work(in_family: InFamily,
                                                                       family: FamilyRecord) -> None:
    kid_id, parent_id = _kid_and_parent(in_family, family)
    ran: list[str] = []
    with in_family(family) as ctx:
        with pytest.raises(ValidationFailed):
            with unit_of_work(ctx.session) as work:
                _bonus(ctx.session, kid_id, parent_id)
                work.after_commit(ran.append, "committed")
                work.after_rollback(ran.append, "rolled back")
                raise ValidationFailed("no")
        assert ran == ["rolled back"]
        assert ctx.session.get(Member, kid_id).available_points == 0
        assert COMMITTED not in ctx.session.info and RECORDED not in ctx.session.info  # the events are gone
        assert ctx.session.scalars(select(Notification)).all() == []


def test_after_commit_work_sees_the_committed_rows(in_family: InFamily, family: FamilyRecord) -> None:
    """After-commit work runs once, after the commit: another connection already sees the row and its reactions."""
    kid_id, parent_id = _kid_and_parent(in_family, family)
    seen: list[tuple[int, int]] = []

    def look() -> None:
        with in_family(family) as other:  # another session: it sees only committed rows
            notes = other.session.scalars(select(Notification).where(Notification.member_id == kid_id)).all()
            seen.append((other.session.get(Member, kid_id).available_points, len(notes)))

    with in_family(family) as ctx:
        with unit_of_work(ctx.session) as work:
            _bonus(ctx.session, kid_id, parent_id, amount=7)
            work.after_commit(look)
            assert seen == []
    assert seen == [(7, 1)]  # the bonus and its notification (a before-commit reaction) were committed together


def test_events_are_recorded_by_services_and_dispatched_once_at_the_commit(in_family: InFamily,
                                                                         family: FamilyRecord) -> None:
    kid_id, parent_id = _kid_and_parent(in_family, family)
    with in_family(family) as ctx:
        _bonus(ctx.session, kid_id, parent_id)
        [posted] = [e for e in recorded(ctx.session) if isinstance(e, PointsPosted)]
        assert (posted.member_id, posted.kind, posted.amount) == (kid_id, "bonus", 5)
        assert ctx.session.scalars(select(Notification)).all() == []  # reactions wait for the commit
        ctx.session.commit()
        assert recorded(ctx.session) == []
        ctx.session.commit()  # a second commit has nothing left to react to
        assert len(ctx.session.scalars(select(Notification).where(Notification.member_id == kid_id)).all()) == 1


def test_an_event_recorded_without_an_app_refuses_to_commit(in_family: InFamily, family: FamilyRecord,
                                                            app: Flask) -> None:
    """No dispatcher, no silent loss: the commit fails rather than dropping the reactions."""
    kid_id, _parent_id = _kid_and_parent(in_family, family)
    with in_family(family) as ctx:
        dispatcher = app.extensions.pop("domain_events")
        try:
            record(ctx.session, PointsPosted(uuid.uuid4(), kid_id, "bonus", 1, "x", NOW))
            with pytest.raises(RuntimeError, match="outside an app with a dispatcher"):
                ctx.session.commit()
            ctx.session.rollback()
        finally:
            app.extensions["domain_events"] = dispatcher


def test_a_transactional_view_commits_a_success_and_keeps_nothing_of_an_error_answer(
        app: Flask, in_family: InFamily, family: FamilyRecord) -> None:
    kid_id, parent_id = _kid_and_parent(in_family, family)
    ran: list[int] = []

    @transactional
    def view(amount: int, status: int) -> tuple[str, int]:
        from app.db import get_session

        _bonus(get_session(), kid_id, parent_id, amount=amount)
        after_commit(ran.append, amount)
        return "", status

    from flask import g

    for amount, status in ((3, 200), (4, 422)):
        with app.test_request_context():
            g.family = family
            assert view(amount, status).status_code == status
            g.pop("db_session").close()
    with in_family(family) as ctx:
        assert ctx.session.get(Member, kid_id).available_points == 3  # the 422 answer kept nothing
    assert ran == [3]


def test_after_commit_outside_a_unit_of_work_is_refused(app: Flask) -> None:
    with app.test_request_context(), pytest.raises(RuntimeError, match="outside a unit of work"):
        after_commit(print)


def test_a_connection_lost_after_the_answer_does_not_fail_the_teardown(app: Flask, family: FamilyRecord,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL crashing between a read's answer and the teardown's rollback: the teardown logs it and drops the
    broken connection instead of raising (gunicorn turned the finished answer into a 500; faults/ caught it)."""
    from sqlalchemy import text

    from app.db import close_session, get_session

    with app.test_request_context("/", base_url=f"http://{family.slug}.{app.config['BASE_DOMAIN']}"):
        app.preprocess_request()
        session = get_session()
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with session.get_bind().engine.connect() as other:  # type: ignore[union-attr]
            assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar_one()
        close_session()
    assert "database connection lost while closing" in caplog.text
