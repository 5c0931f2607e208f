"""A seeded family for report tests (Los Angeles time, weeks from Sunday) and the numbers worked out by hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.reports.helpers import add_assignment, add_chore, add_ledger, put_setting

ZONE = "America/Los_Angeles"
WEEK = (date(2026, 3, 1), date(2026, 3, 7))  # a family week: Sunday 1 March to Saturday 7 March


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


@dataclass
class Seeded:
    family: FamilyRecord
    parent: Member
    maya: Member
    leo: Member
    zoe: Member
    ids: dict[str, Any]


def seed(in_family, family: FamilyRecord, create_member) -> Seeded:  # noqa: ANN001
    """Maya, Leo and Zoe's week of 1-7 March (and its edges) with the ledger rows their chores really got.

    By hand, for 1-7 March (skipped, parents' and unclaimed chores are out of scope):
      Maya: 5 assignments (A1 A2 A3 A5 A6), 2 verified, points 12 + (10 - 10 + 8) = 20, overdue: A3 missed and A6
            (to do, long past due) = 2, rate 2/5 = 40.0
      Leo:  3 assignments, 2 verified, points 5 + 5 = 10, rate 2/3 = 66.7, overdue 0
      Zoe:  nothing
      Family: 8 assignments, 4 completed, 30 points, 2 active children, rate 50.0
    """
    parent = create_member(role="parent", username="mum", display_name="Mum")
    maya = create_member(username="maya", display_name="Maya", color="#aa3366")
    leo = create_member(username="leo", display_name="Leo", color="#3366aa")
    zoe = create_member(username="zoe", display_name="Zoe", color="#33aa66")
    ids: dict[str, Any] = {}
    with in_family(family) as ctx:
        s = ctx.session
        put_setting(s, "week_start", "sunday")
        dishes = add_chore(s, "Dishes", category="kitchen", base_points=10)
        beds = add_chore(s, "Beds", category="bedroom", base_points=5)
        add_chore(s, "Windows", category="outdoor", base_points=20)  # active, never due: a category with zeros

        def make(key: str, chore, member, day: date, status: str,  # noqa: ANN001, ANN202
                 *credits: int, at: datetime | None = None):
            assignment = add_assignment(s, chore, member, day, status=status, zone=ZONE)
            ids[key] = assignment.id
            for amount in credits:
                add_ledger(s, member, amount, "chore", at or utc(day.year, day.month, day.day, 20),
                           assignment=assignment)
            return assignment

        make("A1", dishes, maya, date(2026, 3, 1), "verified", 12)
        make("A2", dishes, maya, date(2026, 3, 2), "verified", 10, -10, 8)
        a3 = make("A3", dishes, maya, date(2026, 3, 3), "missed")
        add_ledger(s, maya, -2, "penalty", utc(2026, 3, 4, 9), assignment=a3)
        make("A4", dishes, maya, date(2026, 3, 4), "skipped")
        make("A5", beds, maya, date(2026, 3, 5), "pending_verification")
        make("A6", beds, maya, date(2026, 3, 7), "pending")
        make("A7", dishes, maya, date(2026, 3, 8), "verified", 10)  # next family week (Sunday 8 March)
        make("A8", dishes, maya, date(2026, 2, 28), "verified", 10)  # the week before (Saturday 28 February)
        make("B1", beds, leo, date(2026, 3, 1), "verified", 5)
        make("B2", beds, leo, date(2026, 3, 2), "verified", 5)
        make("B3", dishes, leo, date(2026, 3, 6), "pending_verification")
        make("P1", dishes, parent, date(2026, 3, 1), "verified", 10)
        make("O1", dishes, None, date(2026, 3, 1), "open")
        # Spending: a redemption and its refund cancel out, a conversion stays spent.
        add_ledger(s, maya, -30, "redemption", utc(2026, 3, 3, 18))
        add_ledger(s, maya, 30, "refund", utc(2026, 3, 4, 18))
        add_ledger(s, leo, -7, "conversion", utc(2026, 3, 5, 18))
        # Saturday 7 March 23:30 in Los Angeles is already Sunday in UTC: it belongs to the week of 1 March.
        add_ledger(s, leo, 3, "bonus", utc(2026, 3, 8, 7, 30), description="Late, but this week")
        add_ledger(s, leo, 4, "bonus", utc(2026, 3, 8, 8, 30), description="Sunday: next week")
        s.commit()
    return Seeded(family, parent, maya, leo, zoe, ids)


__all__ = ["WEEK", "ZONE", "Seeded", "seed", "utc"]
