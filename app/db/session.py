"""The session type that routes each base to its engine and keeps family data inside its family."""
from __future__ import annotations

import threading
import uuid
import weakref
from typing import Any, cast

from sqlalchemy import ClauseElement, Connection, Delete, Engine, Insert, Select, Table, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, with_loader_criteria
from sqlalchemy.orm.session import _SessionBind, _SessionBindKey
from sqlalchemy.sql.util import find_tables
from sqlalchemy.sql.visitors import replacement_traverse

from app.db.bases import FamilyBase, FamilyScoped, PlatformBase
from app.db.scoping import FAMILY_OPTION, FamilyScopeError, family_tables

__all__ = ["FamilyScopeError", "TenantSession", "open_session"]

# Advisory-lock class of "this family's rows are being moved" (PostgreSQL, two-int form: class, hashtext(family)).
# Every family transaction tries to take it shared; `move_family` holds it exclusively while it copies, so a write
# that started before the move finishes before the copy begins, and one that starts during it cannot commit.
MOVE_LOCK_CLASS = 0x4850
FROZEN = "family_frozen"  # session.info: this transaction could not take the shared move lock
WROTE = "family_wrote"  # session.info: this transaction changed family rows


class FamilyReadOnly(RuntimeError):
    """The family is being moved to another database: its rows cannot change until the move ends."""


class TenantSession(Session):
    """A session bound to the platform engine and, inside a family, to that family's engine."""


def open_session(platform_engine: Engine | Connection, family_engine: Engine | None = None,
                 family_id: uuid.UUID | None = None) -> TenantSession:
    """A new session; family tables route to `family_engine` and are filtered to `family_id`."""
    binds: dict[_SessionBindKey, _SessionBind] = {PlatformBase: platform_engine}
    if family_engine is not None:
        binds[FamilyBase] = family_engine
    # Raw SQL (text()) has no mapper to route by: inside a family it goes to the family's database.
    default_bind = family_engine if family_engine is not None else platform_engine
    return TenantSession(bind=default_bind, binds=binds, expire_on_commit=False,
                         info={"family_id": family_id, "family_engine": family_engine})


# Statements are immutable, so the family tables one names never change: a statement built once and run often (the
# tick's probe, 13 subqueries) is walked once per process instead of on every execution.
_tables_by_statement: weakref.WeakKeyDictionary[object, list[Table]] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def _family_tables_in(statement: object) -> list[Table]:
    """Every family table the statement names anywhere: FROM, joins, subqueries, CTEs, EXISTS, DML targets."""
    try:
        with _tables_lock:
            known = _tables_by_statement.get(statement)
    except TypeError:  # an element without weak references: walk it every time
        known = None
    if known is not None:
        return known
    names = family_tables()
    found = [table for table in find_tables(cast(ClauseElement, statement), include_aliases=True, include_joins=True,
                                            include_crud=True)
             if isinstance(table, Table) and table.name in names]
    try:
        with _tables_lock:
            _tables_by_statement[statement] = found
    except TypeError:
        pass
    return found


def _pin_insert_source(statement: Insert, source: Select[Any], family_id: uuid.UUID) -> Insert:
    """INSERT … SELECT: the SELECT reads only the family's rows of the tables in its FROM."""
    pinned = source
    for table in find_tables(source, include_joins=True):
        if isinstance(table, Table) and table.name in family_tables():
            pinned = pinned.where(table.c.family_id == family_id)
    return cast(Insert, replacement_traverse(statement, {},
                                             lambda element, **_kw: pinned if element is source else None))


@event.listens_for(TenantSession, "do_orm_execute")
def _scope_to_family(state: ORMExecuteState) -> None:
    """Every statement naming a family table gets `family_id = <current family>` wherever the table appears.

    ORM entities anywhere in the statement (columns, select_from, joins, subqueries, CTEs, unions, aliases) get
    the criteria from `with_loader_criteria`; a Core UPDATE/DELETE of a family table gets it in its WHERE, and
    an INSERT … SELECT in its SELECT. Whatever this cannot reach (a Core SELECT written against a `Table`, raw
    text), the gate in `app/db/scoping.py` refuses before it runs. Refreshes and lazy loads by primary key get
    the criteria too: the gate cannot know the key came from a scoped query.
    """
    tables = _family_tables_in(state.statement)
    if not tables:
        return
    if not state.is_select:
        state.session.info[WROTE] = True
    family_id = state.session.info.get("family_id")
    if family_id is None:
        raise FamilyScopeError("family tables queried outside a family context")
    statement = state.statement
    if isinstance(statement, (Update, Delete)) and isinstance(statement.table, Table) \
            and statement.table.name in family_tables():
        statement = statement.where(statement.table.c.family_id == family_id)
    if isinstance(statement, Insert) and isinstance(statement.select, Select):
        statement = _pin_insert_source(statement, statement.select, family_id)
    mapper = state.bind_mapper
    if state.is_column_load and mapper is not None and issubclass(mapper.class_, FamilyScoped):
        # with_loader_criteria leaves a refresh's own entity alone (SQLAlchemy keeps refreshes unfiltered).
        statement = cast(Select[Any], statement).where(mapper.class_.family_id == family_id)  # a column load
    if state.is_select or state.is_update or state.is_delete:
        statement = statement.options(
            with_loader_criteria(FamilyScoped, lambda cls: cls.family_id == family_id, include_aliases=True)
        )
    state.statement = statement


@event.listens_for(TenantSession, "before_flush")
def _stamp_family_id(session: Session, _flush_context: UOWTransaction, _instances: object) -> None:
    """New family rows get the current family; a row of another family is never written."""
    family_id = session.info.get("family_id")
    if any(isinstance(obj, FamilyScoped) for obj in session.deleted):
        session.info[WROTE] = True
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, FamilyScoped):
            continue
        session.info[WROTE] = True
        if family_id is None:
            raise FamilyScopeError("family rows written outside a family context")
        if obj.family_id is None:
            obj.family_id = family_id
        elif obj.family_id != family_id:
            raise FamilyScopeError("refusing to write a row that belongs to another family")


@event.listens_for(TenantSession, "after_begin")
def _set_row_level_security_family(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    """The gate and PostgreSQL RLS both learn the transaction's family here (RLS: SET LOCAL `app.family_id`)."""
    family_id = session.info.get("family_id")
    connection.execution_options(**{FAMILY_OPTION: family_id})
    if family_id is None or connection.dialect.name != "postgresql":
        return
    if connection.engine is not session.info.get("family_engine"):
        connection.exec_driver_sql("SELECT set_config('app.family_id', %s, true)", (str(family_id),))
        return
    # The same round trip also tries the shared move lock (see MOVE_LOCK_CLASS); reads go on without it.
    session.info[FROZEN] = not connection.exec_driver_sql(
        "SELECT set_config('app.family_id', %s, true) IS NOT NULL "
        "AND pg_try_advisory_xact_lock_shared(%s, hashtext(%s))",
        (str(family_id), MOVE_LOCK_CLASS, str(family_id))).scalar()


def _refuse_writes_while_moving(session: Session) -> None:
    """A transaction that changed family rows while the family is being moved must not commit (they would be lost)."""
    if session.info.get(FROZEN) and session.info.get(WROTE):
        raise FamilyReadOnly("this family is being moved; its data is read-only for a moment")


def _forget_transaction_flags(session: Session) -> None:
    session.info.pop(FROZEN, None)
    session.info.pop(WROTE, None)


def install_move_guard() -> None:
    """Bound by `create_app` (importing binds no commit-time listener): a frozen family's writes never commit."""
    if not event.contains(TenantSession, "before_commit", _refuse_writes_while_moving):
        event.listen(TenantSession, "before_commit", _refuse_writes_while_moving)
        event.listen(TenantSession, "after_commit", _forget_transaction_flags)
        event.listen(TenantSession, "after_rollback", _forget_transaction_flags)
