"""The ledger refuses to change history in both databases: no UPDATE, DELETE (SQLite, PostgreSQL) or TRUNCATE."""
from __future__ import annotations

import pytest
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.exc import DBAPIError

from app.db.scoping import FamilyScopeError, UnscopedReason, unscoped
from app.members.models import Member
from app.points.models import LedgerEntry
from app.tenancy.context import family_context
from tests.conftest import family_factory


# Plain TRUNCATE is refused even earlier (payouts reference the ledger); CASCADE reaches the append-only trigger.
@pytest.mark.parametrize("statement", ["UPDATE points_ledger SET amount = 1000", "DELETE FROM points_ledger",
                                       "TRUNCATE points_ledger CASCADE"])
@pytest.mark.expect_scope_refusals
def test_history_cannot_change(any_app, statement: str) -> None:  # noqa: ANN001
    if statement.startswith("TRUNCATE") and any_app.config["FAMILY_DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite has no TRUNCATE")
    family = family_factory(any_app)()
    with any_app.app_context(), family_context(family.slug) as ctx:
        kid = Member(username="kid", display_name="Kid", role="child")
        ctx.session.add(kid)
        ctx.session.flush()
        ctx.session.add(LedgerEntry(member_id=kid.id, amount=5, kind="bonus", description="seed"))
        ctx.session.commit()
        # The gate refuses an unpinned statement before it runs; behind it, the database refuses it on its own:
        # PostgreSQL's app role holds no UPDATE/DELETE/TRUNCATE on the ledger, and the triggers refuse the owner too.
        with pytest.raises(FamilyScopeError):
            ctx.session.execute(text(statement))
        ctx.session.rollback()
        with pytest.raises(DBAPIError, match="append-only|permission denied for table points_ledger"):
            ctx.session.execute(text(statement), execution_options=unscoped(UnscopedReason.WALL_TEST))
        ctx.session.rollback()
        # Raw SQL is not scoped on SQLite, and the pooled database also holds the neighbour family's ledger.
        ours = text("SELECT amount FROM points_ledger WHERE family_id = :family").bindparams(
            bindparam("family", type_=Uuid))
        assert ctx.session.execute(ours, {"family": family.id}).scalars().all() == [5]
