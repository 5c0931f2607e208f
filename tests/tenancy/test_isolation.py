"""Family isolation from the attacker's side: another family's ids, hosts and raw SQL reach nothing."""
from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select, text, update
from sqlalchemy.exc import ProgrammingError

from app.db import platform_engine
from app.db.scoping import UnscopedReason, unscoped
from app.db.session import FamilyScopeError, open_session
from app.members.models import Member
from tests.accounts.helpers import HostAuth
from tests.conftest import family_factory, host_client


def _two_families_with_members(flask_app: Flask):  # noqa: ANN202
    make = family_factory(flask_app)
    a, b = make(name="Family A"), make(name="Family B")
    from app.tenancy.context import family_context

    ids = {}
    with flask_app.app_context():
        for record, name in ((a, "Alice-of-A"), (b, "Bob-of-B")):
            with family_context(record.slug) as ctx:
                member = Member(username=name.lower(), display_name=name, role="child")
                ctx.session.add(member)
                ctx.session.commit()
                ids[record.slug] = member.id
    return a, b, ids


def _signed_in_client(flask_app: Flask, family, member_id: uuid.UUID):  # noqa: ANN001, ANN202
    """A client on `family`'s host signed in as one of its members (the member list needs a session)."""
    client = host_client(flask_app, family)
    HostAuth(flask_app).sign_in(client, Member(id=member_id), family)
    return client


def test_host_of_a_never_shows_b(any_app: Flask) -> None:
    a, b, ids = _two_families_with_members(any_app)
    page_a = _signed_in_client(any_app, a, ids[a.slug]).get("/").data
    assert b"Alice-of-A" in page_a and b"Bob-of-B" not in page_a
    page_b = _signed_in_client(any_app, b, ids[b.slug]).get("/").data
    assert b"Bob-of-B" in page_b and b"Alice-of-A" not in page_b


def test_orm_in_a_cannot_load_b_even_by_id(any_app: Flask) -> None:
    a, b, ids = _two_families_with_members(any_app)
    from app.tenancy.context import family_context

    with any_app.app_context(), family_context(a.slug) as ctx:
        assert ctx.session.get(Member, ids[b.slug]) is None
        assert ctx.session.scalar(select(Member).where(Member.id == ids[b.slug])) is None
        assert [m.display_name for m in ctx.session.scalars(select(Member))] == ["Alice-of-A"]
        # Bulk updates are scoped too: B's row is untouched.
        ctx.session.execute(update(Member).values(display_name="hacked"))
        ctx.session.commit()
    with any_app.app_context(), family_context(b.slug) as ctx:
        assert ctx.session.get(Member, ids[b.slug]).display_name == "Bob-of-B"


def test_orm_refuses_to_write_into_another_family(any_app: Flask) -> None:
    a, b, _ = _two_families_with_members(any_app)
    from app.tenancy.context import family_context

    with any_app.app_context(), family_context(a.slug) as ctx:
        ctx.session.add(Member(username="mole", display_name="Mole", role="child", family_id=b.id))
        with pytest.raises(FamilyScopeError):
            ctx.session.flush()


def test_family_tables_outside_a_family_raise(any_app: Flask) -> None:
    with any_app.app_context():
        session = open_session(platform_engine())
        with pytest.raises(FamilyScopeError):
            session.scalars(select(Member)).all()
        session.close()


@pytest.mark.postgresql_only("row-level security")
def test_row_level_security_filters_raw_sql(app: Flask) -> None:
    """Raw SQL that forgets the family filter still sees only the current family (PostgreSQL RLS).

    The gate would refuse these statements first; the escape hatch lets them through to prove the wall behind it.
    """
    a, b, ids = _two_families_with_members(app)
    from app.tenancy.context import family_context

    hatch = unscoped(UnscopedReason.WALL_TEST)
    with app.app_context(), family_context(a.slug) as ctx:
        rows = ctx.session.execute(text("SELECT display_name, family_id FROM members"),
                                   execution_options=hatch).all()
        assert rows == [("Alice-of-A", a.id)]
        by_id = ctx.session.execute(text("SELECT 1 FROM members WHERE id = :id"), {"id": ids[b.slug]},
                                    execution_options=hatch).all()
        assert by_id == []
        changed = ctx.session.execute(text("UPDATE members SET display_name = 'x' WHERE id = :id"),
                                      {"id": ids[b.slug]}, execution_options=hatch)
        assert changed.rowcount == 0
        ctx.session.rollback()


@pytest.mark.postgresql_only("row-level security")
def test_row_level_security_rejects_foreign_inserts_and_hides_all_without_a_family(app: Flask) -> None:
    a, b, _ = _two_families_with_members(app)
    from app.db import engines
    from app.tenancy.context import family_context

    with app.app_context(), family_context(a.slug) as ctx:
        with pytest.raises(ProgrammingError, match="row-level security"):
            ctx.session.execute(
                text("INSERT INTO members (id, family_id, username, username_key, display_name, role, color, "
                     "is_active, login_enabled, auto_approve_work, preferences, total_points, available_points, "
                     "weekly_points, lifetime_points_earned, created_at, updated_at) VALUES (:id, :fid, 'x', 'x', "
                     "'X', 'child', '#000000', true, true, false, '{}', 0, 0, 0, 0, now(), now())"),
                {"id": uuid.uuid4(), "fid": b.id}, execution_options=unscoped(UnscopedReason.WALL_TEST))
        ctx.session.rollback()
        pooled_url = ctx.family.database_url
    # A connection that never entered a family (the app role, not a superuser) sees no family rows at all.
    with app.app_context(), engines().get(pooled_url).connect() as conn:
        conn.execution_options(**unscoped(UnscopedReason.WALL_TEST))
        assert conn.scalar(text("SELECT current_user")) == "hp_app"
        assert conn.scalar(text("SELECT count(*) FROM members")) == 0
