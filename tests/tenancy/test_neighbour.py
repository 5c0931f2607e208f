"""The neighbour family the rig keeps beside every family under test has rows in every family table."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from flask import Flask
from sqlalchemy import select

from app.db.bases import FamilyBase
from app.members.models import Member
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.neighbour import changed_tables, reseal, row_counts


def test_every_family_table_has_neighbour_rows(app: Flask, neighbour: FamilyRecord) -> None:
    counts = row_counts(app, neighbour)
    assert set(counts) == {table.name for table in FamilyBase.metadata.sorted_tables}
    empty = sorted(name for name, count in counts.items() if count == 0)
    assert not empty, f"family tables without neighbour rows (seed them in tests/neighbour.py): {empty}"


def test_the_neighbour_shares_the_pooled_database(app: Flask, family: FamilyRecord, neighbour: FamilyRecord) -> None:
    assert family.id != neighbour.id
    assert family.database_url == neighbour.database_url == app.config["FAMILY_DATABASE_URL"]


@pytest.mark.parametrize(("table", "minimum"), [("members", 8), ("assignments", 6), ("points_ledger", 9),
                                                ("redemptions", 4), ("deliveries", 4)])
def test_the_neighbour_has_enough_to_change_counts(app: Flask, neighbour: FamilyRecord, table: str,
                                                   minimum: int) -> None:
    # 3+ parents and several kids, an assignment and a redemption in every status, every ledger kind…
    assert row_counts(app, neighbour)[table] >= minimum


def test_a_write_into_the_neighbour_is_noticed(
        app: Flask, neighbour: FamilyRecord,
        in_family: Callable[[FamilyRecord], AbstractContextManager[FamilyContext]]) -> None:
    # The rig checks this after every module: a test that writes into another family fails there.
    assert changed_tables(app) == []
    with in_family(neighbour) as ctx:
        kid = ctx.session.scalars(select(Member).where(Member.username == "maya")).one()
        kid.notes = "written by a test"
        ctx.session.commit()
    try:
        assert changed_tables(app) == ["members"]
    finally:
        reseal(app)
