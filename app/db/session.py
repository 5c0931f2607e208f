"""The session type that routes each base to its engine and keeps family data inside its family."""
from __future__ import annotations

import uuid

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.db.bases import FamilyBase, FamilyScoped, PlatformBase


class FamilyScopeError(RuntimeError):
    """Family data was touched outside a family, or written into another family."""


class TenantSession(Session):
    """A session bound to the platform engine and, inside a family, to that family's engine."""


def open_session(platform_engine: Engine, family_engine: Engine | None = None,
                 family_id: uuid.UUID | None = None) -> TenantSession:
    """A new session; family tables route to `family_engine` and are filtered to `family_id`."""
    binds: dict[type, Engine] = {PlatformBase: platform_engine}
    if family_engine is not None:
        binds[FamilyBase] = family_engine
    # Raw SQL (text()) has no mapper to route by: inside a family it goes to the family's database.
    default_bind = family_engine if family_engine is not None else platform_engine
    return TenantSession(bind=default_bind, binds=binds, expire_on_commit=False, info={"family_id": family_id})


def _touches_family_tables(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, FamilyScoped) for mapper in state.all_mappers)


@event.listens_for(TenantSession, "do_orm_execute")
def _scope_to_family(state: ORMExecuteState) -> None:
    """Every ORM read, update and delete of a family table gets `family_id = <current family>`."""
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria already travel with the parent query
    if not _touches_family_tables(state):
        return
    family_id = state.session.info.get("family_id")
    if family_id is None:
        raise FamilyScopeError("family tables queried outside a family context")
    state.statement = state.statement.options(
        with_loader_criteria(FamilyScoped, lambda cls: cls.family_id == family_id, include_aliases=True)
    )


@event.listens_for(TenantSession, "before_flush")
def _stamp_family_id(session: Session, _flush_context, _instances) -> None:  # noqa: ANN001
    """New family rows get the current family; a row of another family is never written."""
    family_id = session.info.get("family_id")
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, FamilyScoped):
            continue
        if family_id is None:
            raise FamilyScopeError("family rows written outside a family context")
        if obj.family_id is None:
            obj.family_id = family_id
        elif obj.family_id != family_id:
            raise FamilyScopeError("refusing to write a row that belongs to another family")


@event.listens_for(TenantSession, "after_begin")
def _set_row_level_security_family(session: Session, _transaction, connection) -> None:  # noqa: ANN001
    """PostgreSQL RLS reads `app.family_id`, set for this transaction only (SET LOCAL)."""
    family_id = session.info.get("family_id")
    if family_id is not None and connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT set_config('app.family_id', %s, true)", (str(family_id),))
