"""Turn a legacy family into HousePoints rows, write them through the family's session, and reconcile the two.

`plan_import` is pure: it maps every legacy row (or says why it is skipped) and collects every broken reference or
impossible value as a problem; a plan with problems is never written. `apply_plan` writes through the ORM (the
scoping gate sees every statement) and the ledger through `post_entry`, the points service's append path, in
chronological order; then one opening `adjustment` per member makes the balance the family last saw exact.
`reconcile` compares a family's rows and balances with the legacy data (after an import, or later: the parallel run).
"""
from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.allowance.models import Payout
from app.assignments.models import Assignment
from app.chores.models import Chore, ChoreSchedule
from app.events import forget
from app.family_time import FamilyClock
from app.legacy.reader import COUNTED_ONLY, LegacyData
from app.members.models import FamilySetting, Member
from app.notifications.models import Notification
from app.points.models import LedgerEntry, PointPreset
from app.points.descriptions import (LEGACY_ADJUSTMENT, LEGACY_CONVERTED, LEGACY_DEDUCTION, LEGACY_OPENING,
                                     LEGACY_REWARD, ledger_text)
from app.points.services import post_entry
from app.presence.models import PresenceException
from app.rewards.models import Redemption, Reward

LEGACY_NAMESPACE = uuid.UUID("5b7f2f0e-6c1a-4f0e-9a57-3c1d0a6f4b21")  # ids made for rows the old database lacked
MARKER_KEY = "legacy_import"  # a family setting: which legacy database the family came from, and when
OPENING_DESCRIPTION = LEGACY_OPENING
MAX_POINTS = 10_000
COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TRANSACTION_KINDS = {"chore_completion": "chore", "earned": "chore", "bonus": "bonus", "adjustment": "adjustment",
                     "deduction": "deduction"}
ASSIGNMENT_STATUSES = {"pending": "pending", "claimed": "pending", "in_progress": "pending",
                       "completed": "pending_verification", "verified": "verified", "rejected": "pending"}
REDEMPTION_STATUSES = {"pending": "pending", "approved": "approved", "rejected": "rejected", "completed": "fulfilled"}
REWARD_AVAILABILITY = {"always": None, "limited": "limited", "seasonal": "seasonal"}
DIFFICULTIES = ("easy", "medium", "hard")
STRATEGIES = {"both": "fixed", "routine": "fixed", "open": "open", "fixed": "fixed", "each": "each",
              "round_robin": "round_robin", "fair_share": "fair_share", "random": "random"}
FREQUENCY_SCHEDULES = {"daily": ("daily", 1, "days"), "weekly": ("weekly", 1, "weeks"),
                       "biweekly": ("interval", 2, "weeks"), "monthly": ("monthly_day", 1, "months")}


def legacy_id(kind: str, value: object) -> uuid.UUID:
    """A stable id for a row the legacy database had no uuid for (the same on every run)."""
    return uuid.uuid5(LEGACY_NAMESPACE, f"{kind}:{value}")


@dataclass
class Tally:
    """One legacy table: rows in the source, rows imported, rows skipped per reason."""

    source: int = 0
    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def accounted(self) -> bool:
        return self.source == self.imported + sum(self.skipped.values())


@dataclass
class Balance:
    """One member's balances: the legacy caches, what the ledger gives, and the opening adjustment between them."""

    member_id: uuid.UUID
    username: str
    old_total: int
    old_available: int
    old_converted: int
    ledger_available: int = 0  # the imported movements alone
    ledger_total: int = 0
    held: int = 0  # points held by pending / approved redemptions (HousePoints holds at request time)
    adjustment: int = 0
    new_available: int | None = None  # from the family's database, after writing
    new_total: int | None = None


@dataclass
class Posting:
    """One ledger row to append."""

    id: uuid.UUID
    member_id: uuid.UUID
    amount: int
    kind: str
    description: str
    created_at: datetime
    assignment_id: uuid.UUID | None = None
    actor_id: uuid.UUID | None = None
    reference_id: uuid.UUID | None = None


@dataclass
class LegacyReport:
    """The reconciliation report: per table, per member, and every problem."""

    tables: dict[str, Tally] = field(default_factory=dict)
    balances: list[Balance] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def tally(self, table: str) -> Tally:
        return self.tables.setdefault(table, Tally())

    def unexplained(self) -> list[str]:
        """Every difference the report cannot explain (a non-empty list means a non-zero exit)."""
        found = list(self.problems)
        for table, tally in self.tables.items():
            if not tally.accounted:
                found.append(f"{table}: {tally.source} source rows, {tally.imported} imported, "
                             f"{sum(tally.skipped.values())} skipped")
        for balance in self.balances:
            if balance.new_available is not None and balance.new_available + balance.held != balance.old_available:
                found.append(f"{balance.username}: available {balance.new_available} (+{balance.held} held) "
                             f"≠ legacy {balance.old_available}")
        return found

    def render(self) -> str:
        """The report as text, as the CLI prints it."""
        lines = [f"{'legacy table':<28}{'source':>8}{'imported':>10}{'skipped':>9}  reason"]
        for table, tally in self.tables.items():
            reasons = "; ".join(f"{count} {reason}" for reason, count in tally.skipped.items())
            lines.append(f"{table:<28}{tally.source:>8}{tally.imported:>10}{sum(tally.skipped.values()):>9}  "
                         f"{reasons}")
        lines += ["", f"{'member':<16}{'old total':>10}{'old avail':>10}{'converted':>10}{'ledger':>8}"
                      f"{'held':>6}{'adjust':>8}{'new avail':>10}{'new total':>10}"]
        for b in self.balances:
            lines.append(f"{b.username:<16}{b.old_total:>10}{b.old_available:>10}{b.old_converted:>10}"
                         f"{b.ledger_available:>8}{b.held:>6}{b.adjustment:>+8}"
                         f"{_shown(b.new_available):>10}{_shown(b.new_total):>10}")
        if self.notes:
            lines += ["", *[f"note: {note}" for note in self.notes]]
        unexplained = self.unexplained()
        lines += ["", *[f"PROBLEM: {problem}" for problem in unexplained]]
        lines.append("Reconciliation: clean" if not unexplained
                     else f"Reconciliation: {len(unexplained)} unexplained difference(s)")
        return "\n".join(lines)


def _shown(value: int | None) -> str:
    return "-" if value is None else str(value)


@dataclass
class ImportPlan:
    """Everything to write, in insertion order, plus the report as planned."""

    timezone: str
    week_start: int
    family_name: str | None
    rows: dict[type, list[dict[str, Any]]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    postings: list[Posting] = field(default_factory=list)
    member_extras: dict[uuid.UUID, dict[str, int]] = field(default_factory=dict)  # xp, streak after the ledger
    parents: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (member id, email) to invite, owner first
    report: LegacyReport = field(default_factory=LegacyReport)

    def add(self, model: type, values: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(values)


# --- planning ----------------------------------------------------------------------------------------------------


class _Planner:
    """Maps legacy rows one table at a time, noting every problem instead of stopping at the first."""

    def __init__(self, data: LegacyData) -> None:
        self.data = data
        self.zone = ZoneInfo(data.timezone)
        settings = {row["key"]: row["value"] for row in data.rows["family_settings"]}
        system = {row["setting_key"]: row["setting_value"] for row in data.rows["system_settings"]}
        week = str(system.get("week_starts_on") or "monday").lower()
        name = settings.get("family_name")
        self.plan = ImportPlan(timezone=data.timezone, week_start=WEEKDAYS.index(week) if week in WEEKDAYS else 0,
                               family_name=name if isinstance(name, str) and name.strip() else None)
        self.report = self.plan.report
        self.members: dict[uuid.UUID, dict[str, Any]] = {}
        self.chores: set[uuid.UUID] = set()
        self.assignments: set[uuid.UUID] = set()
        self.rewards: set[uuid.UUID] = set()

    def problem(self, table: str, row: dict[str, Any], message: str) -> None:
        self.report.problems.append(f"{table} {row.get('id', row.get('key', '?'))}: {message}")

    def ref(self, table: str, row: dict[str, Any], column: str, known: set[uuid.UUID] | dict[uuid.UUID, Any],
            *, required: bool = True) -> uuid.UUID | None:
        """A reference that must point at a row being imported (a broken one is a problem)."""
        value = row.get(column)
        if value is None:
            if required:
                self.problem(table, row, f"{column} is empty")
            return None
        if value not in known:
            self.problem(table, row, f"{column} {value} points at no imported row")
            return None
        return uuid.UUID(str(value))

    def text(self, table: str, row: dict[str, Any], column: str, limit: int, *, required: bool = False
             ) -> str | None:
        value = row.get(column)
        if value is None or (isinstance(value, str) and not value.strip() and not required):
            if required:
                self.problem(table, row, f"{column} is empty")
            return None
        value = str(value)
        if "\x00" in value or len(value) > limit or (required and not value.strip()):
            self.problem(table, row, f"{column} is empty, too long (>{limit}) or holds a NUL character")
            return None
        return value

    def points(self, table: str, row: dict[str, Any], column: str, *, negative: bool = False,
               default: int | None = None) -> int:
        value = row.get(column)
        if value is None and default is not None:
            return default
        if not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_POINTS \
                or (value < 0 and not negative):
            self.problem(table, row, f"{column} {value!r} is not a possible number of points")
            return 0
        return value

    def instant(self, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time(23, 59, 59), tzinfo=self.zone).astimezone(timezone.utc)

    # Each table in dependency order.

    def users(self) -> None:
        tally, seen = self.report.tally("users"), set()
        for row in self.data.rows["users"]:
            tally.source += 1
            username = self.text("users", row, "username", 50, required=True)
            display = self.text("users", row, "display_name", 80, required=True)
            if username is not None and username.lower() in seen:
                self.problem("users", row, f"username {username!r} is not unique")
            seen.add((username or "").lower())
            color = row.get("color_theme")
            if color is not None and not COLOR.match(str(color)):
                self.problem("users", row, f"color_theme {color!r} is not a #rrggbb colour")
            for column in ("total_points", "available_points", "total_points_converted"):
                value = row.get(column)
                if not isinstance(value, int) or abs(value) > 10_000_000:
                    self.problem("users", row, f"{column} {value!r} is impossible")
            goal = row.get("daily_goal")
            self.members[row["id"]] = row
            tally.imported += 1
            self.plan.add(Member, {
                "id": row["id"], "username": username or "", "display_name": display or "",
                "role": "parent" if row.get("is_parent") else "child", "color": color,
                "avatar": self.text("users", row, "avatar_url", 255), "birthdate": row.get("birthdate"),
                "email": self.text("users", row, "email", 254), "is_active": row.get("is_active") is not False,
                "login_enabled": row.get("login_enabled") is not False,
                "auto_approve_work": bool(row.get("auto_approve_work")),
                "availability_notifications": row.get("availability_notifications") is not False,
                "usually_eats_dinner": row.get("usually_eats_dinner") is not False,
                "daily_goal": goal if isinstance(goal, int) and 0 <= goal <= MAX_POINTS else None,
                "phone_number": self.text("users", row, "phone_number", 32),
                "school": self.text("users", row, "school", 120), "notes": self.text("users", row, "notes", 1000),
                "preferences": row.get("preferences") or {}, "last_active_at": row.get("last_active"),
                "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
                "_created_by": row.get("created_by"), "_updated_by": row.get("updated_by"),
            })
            self.plan.member_extras[row["id"]] = {"xp": _int(row.get("xp")),
                                                  "streak_days": _int(row.get("streak_days"))}
            self.report.balances.append(Balance(
                member_id=row["id"], username=username or "?", old_total=_int(row.get("total_points")),
                old_available=_int(row.get("available_points")), old_converted=_int(row.get("total_points_converted"))))
            left = int(row.get("preference_keys_left") or 0)
            if left:
                self.report.notes.append(f"{username}: {left} preference key(s) not read (tokens stay behind)")
        parents = sorted((row for row in self.data.rows["users"] if row.get("is_parent") and row.get("email")
                          and row.get("is_active") is not False),
                         key=lambda row: (row.get("created_at") or datetime.min.replace(tzinfo=timezone.utc),
                                          row["username"]))
        self.plan.parents = [(row["id"], str(row["email"])) for row in parents]

    def chores_(self) -> None:
        tally = self.report.tally("chores")
        for row in self.data.rows["chores"]:
            tally.source += 1
            difficulty = row.get("difficulty") or "easy"
            if difficulty not in DIFFICULTIES:
                self.problem("chores", row, f"difficulty {difficulty!r} is not easy, medium or hard")
            strategy = STRATEGIES.get(str(row.get("assignment_type") or "both"))
            if strategy is None:
                self.problem("chores", row, f"assignment_type {row.get('assignment_type')!r} is unknown")
            self.chores.add(row["id"])
            tally.imported += 1
            self.plan.add(Chore, {
                "id": row["id"], "name": self.text("chores", row, "name", 100, required=True) or "",
                "description": row.get("description"), "instructions": row.get("instructions"),
                "category": self.text("chores", row, "category", 50) or "general",
                "icon": _icon(row, "🧹"),
                "base_points": self.points("chores", row, "base_points"),
                "estimated_minutes": row.get("estimated_minutes"), "difficulty": difficulty,
                "min_age": _int(row.get("min_age")),
                "requires_verification": bool(row.get("requires_verification") or row.get("verification_required")),
                "requires_photo": bool(row.get("requires_photo") or row.get("photo_required")),
                "penalty_points": self.points("chores", row, "penalty_points", default=0),
                "active": row.get("active") is not False and row.get("is_active") is not False,
                "bonus_eligible": bool(row.get("bonus_eligible")),
                "rotation_eligible": bool(row.get("rotation_eligible")),
                "tags": list(row.get("tags") or []) or None, "assignment_type": strategy or "fixed",
                "open_bonus_points": self.points("chores", row, "open_points", default=0),
                "frequency": self.text("chores", row, "frequency", 50),
                "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
            })
        self._schedules()

    def _schedules(self) -> None:
        """A schedule per chore: from scheduled_chores when it has one, else from the free-text frequency."""
        tally = self.report.tally("scheduled_chores")
        explicit: dict[uuid.UUID, dict[str, Any]] = {}
        for source_row in self.data.rows["scheduled_chores"]:
            tally.source += 1
            chore_id = self.ref("scheduled_chores", source_row, "chore_id", self.chores)
            if chore_id is None:
                continue
            if chore_id in explicit:
                tally.skipped["a second schedule for the same chore (HousePoints keeps one)"] += 1
                continue
            explicit[chore_id] = source_row
        for chore in self.plan.rows.get(Chore, []):
            start = (chore["created_at"] or datetime.now(timezone.utc)).astimezone(self.zone).date()
            row: dict[str, Any] | None = explicit.get(chore["id"])
            frequency = str((row or {}).get("frequency") or chore.get("frequency") or "").lower()
            shape = FREQUENCY_SCHEDULES.get(frequency)
            if shape is None:
                if row is not None:
                    tally.skipped[f"frequency {frequency!r} has no schedule (kept as the chore's frequency text)"] += 1
                continue
            kind, interval, unit = shape
            values: dict[str, Any] = {"id": row["id"] if row else legacy_id("schedule", chore["id"]),
                                      "chore_id": chore["id"], "kind": kind, "interval": interval,
                                      "interval_unit": unit, "start_date": start}
            if row is not None:
                days = [int(d) for d in row.get("days_of_week") or [] if isinstance(d, int) and 0 <= d <= 6]
                if kind == "weekly" and days:
                    values["weekdays"] = sorted({(d - 1) % 7 for d in days})  # legacy 0 = Sunday; ours 0 = Monday
                if kind == "monthly_day" and isinstance(row.get("day_of_month"), int):
                    values["month_day"] = row["day_of_month"]
                tally.imported += 1
            if kind == "weekly" and "weekdays" not in values:
                values["weekdays"] = [start.weekday()]
            if kind == "monthly_day" and "month_day" not in values:
                values["month_day"] = start.day
            self.plan.add(ChoreSchedule, values)

    def assignments_(self) -> None:
        tally = self.report.tally("assignments")
        for row in self.data.rows["assignments"]:
            tally.source += 1
            status = ASSIGNMENT_STATUSES.get(str(row.get("status")))
            if status is None:
                self.problem("assignments", row, f"status {row.get('status')!r} is unknown")
                continue
            chore_id = self.ref("assignments", row, "chore_id", self.chores)
            assignee = self.ref("assignments", row, "assigned_to", self.members, required=False)
            due = row.get("due_date") or row.get("created_at")
            day = due.astimezone(self.zone).date() if due else date.today()
            earned = self.points("assignments", row, "points_earned", default=0)
            if status != "verified" and earned:
                self.problem("assignments", row, f"{row.get('status')} but {earned} points earned")
            rejected = row.get("status") == "rejected"
            self.assignments.add(row["id"])
            tally.imported += 1
            self.plan.add(Assignment, {
                "id": row["id"], "chore_id": chore_id, "assigned_to": assignee,
                "assigned_by": self.ref("assignments", row, "assigned_by", self.members, required=False),
                "schedule_key": f"legacy:{row['id']}", "due_date": day, "due_at": self.end_of_day(day),
                "status": status if assignee is not None or status != "pending" else "open",
                "points_offered": self.points("assignments", row, "points_offered"), "points_earned": earned,
                "claimed_at": row.get("claimed_at") or row.get("started_at"), "completed_at": row.get("completed_at"),
                "completed_by": assignee if row.get("completed_at") else None,
                "completion_notes": row.get("completion_notes") or row.get("notes"),
                "verified_at": row.get("verified_at"),
                "verified_by": self.ref("assignments", row, "verified_by", self.members, required=False),
                "verification_notes": None if rejected else row.get("verification_notes"),
                "rejection_reason": (self.text("assignments", row, "verification_notes", 300) or "Not accepted")
                if rejected else None,
                "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
            })
        tally = self.report.tally("open_chores")
        for row in self.data.rows["open_chores"]:
            tally.source += 1
            status = row.get("status")
            if status == "expired":
                tally.skipped["expired offers nobody took"] += 1
                continue
            if status not in ("available", "completed", "claimed"):
                self.problem("open_chores", row, f"status {status!r} is unknown")
                continue
            chore_id = self.ref("open_chores", row, "chore_id", self.chores)
            taker = self.ref("open_chores", row, "claimed_by", self.members, required=status != "available")
            expires = row["expires_at"]
            day = expires.astimezone(self.zone).date()
            points = self.points("open_chores", row, "points")
            self.assignments.add(row["id"])
            tally.imported += 1
            self.plan.add(Assignment, {
                "id": row["id"], "chore_id": chore_id, "assigned_to": taker, "schedule_key": f"legacy-open:{row['id']}",
                "due_date": day, "due_at": expires,
                "status": {"available": "open", "claimed": "pending", "completed": "verified"}[str(status)],
                "points_offered": points, "points_earned": points if status == "completed" else 0,
                "claimed_at": row.get("claimed_at"),
                "completed_at": row.get("claimed_at") if status == "completed" else None,
                "completed_by": taker if status == "completed" else None,
                "verified_at": row.get("updated_at") if status == "completed" else None,
                "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
            })

    def rewards_(self) -> None:
        tally = self.report.tally("rewards")
        for row in self.data.rows["rewards"]:
            tally.source += 1
            word = str(row.get("availability") or "always")
            if word not in REWARD_AVAILABILITY:
                self.problem("rewards", row, f"availability {word!r} is not always, limited or seasonal")
            cents = row.get("value_in_cents")
            if cents is not None and not (isinstance(cents, int) and 0 <= cents <= 10_000_000):
                self.problem("rewards", row, f"value_in_cents {cents!r} is impossible")
            stock = row.get("stock_remaining")
            if stock is not None and (not isinstance(stock, int) or stock < 0):
                self.problem("rewards", row, f"stock_remaining {stock!r} is impossible")
            self.rewards.add(row["id"])
            tally.imported += 1
            self.plan.add(Reward, {
                "id": row["id"], "name": self.text("rewards", row, "name", 100, required=True) or "",
                "description": row.get("description"), "category": self.text("rewards", row, "category", 50) or "treat",
                "icon": _icon(row, "🎁"),
                "cost": self.points("rewards", row, "cost_points"),
                "requires_approval": row.get("requires_parent_approval") is not False, "stock": stock,
                "max_per_week": row.get("max_per_week"), "availability": "always",
                "legacy_availability": REWARD_AVAILABILITY.get(word), "value_in_cents": cents,
                "active": row.get("active") is not False,
                "created_at": row.get("created_at"), "updated_at": row.get("updated_at") or row.get("created_at"),
            })

    def ledger(self) -> None:
        """Each legacy movement exactly once, oldest first."""
        postings = self.plan.postings
        tally = self.report.tally("point_transactions")
        for row in self.data.rows["point_transactions"]:
            tally.source += 1
            kind = TRANSACTION_KINDS.get(str(row.get("transaction_type")))
            member = self.ref("point_transactions", row, "user_id", self.members)
            amount = self.points("point_transactions", row, "points", negative=True)
            if kind is None:
                self.problem("point_transactions", row, f"transaction_type {row.get('transaction_type')!r} is unknown")
                continue
            assignment = self.ref("point_transactions", row, "related_assignment_id", self.assignments,
                                  required=False)
            if member is None:
                continue
            tally.imported += 1
            postings.append(Posting(id=row["id"], member_id=member, amount=amount, kind=kind,
                                    description=str(row.get("description") or kind)[:300],
                                    created_at=row["created_at"], assignment_id=assignment))
        deductions = {row["id"]: row for row in self.data.rows["point_deductions"]}
        tally = self.report.tally("point_deductions")
        for row in self.data.rows["point_deductions"]:
            tally.source += 1
            member = self.ref("point_deductions", row, "user_id", self.members)
            actor = self.ref("point_deductions", row, "deducted_by", self.members, required=False)
            amount = self.points("point_deductions", row, "points")
            if amount <= 0:
                self.problem("point_deductions", row, "points must be positive")
            if member is None:
                continue
            tally.imported += 1
            postings.append(Posting(id=row["id"], member_id=member, amount=-amount, kind="deduction",
                                    description=str(row.get("reason") or LEGACY_DEDUCTION)[:300],
                                    created_at=row["created_at"], actor_id=actor))
        tally = self.report.tally("points_history")
        for row in self.data.rows["points_history"]:
            tally.source += 1
            mirrored = deductions.get(row.get("reference")) if row.get("reference_type") == "deduction" else None
            if mirrored is not None:
                if row.get("points_change") != -_int(mirrored.get("points")) \
                        or row.get("user_id") != mirrored["user_id"]:
                    self.problem("points_history", row, "does not mirror the point_deductions row it references")
                tally.skipped["mirrors of point_deductions (each deduction counted once)"] += 1
                continue
            member = self.ref("points_history", row, "user_id", self.members)
            amount = self.points("points_history", row, "points_change", negative=True)
            if member is None:
                continue
            tally.imported += 1
            postings.append(Posting(id=row["id"], member_id=member, amount=amount, kind="adjustment",
                                    description=str(row.get("reason") or LEGACY_ADJUSTMENT)[:300],
                                    created_at=row["created_at"]))
        self._conversions()
        self._redemptions()
        postings.sort(key=lambda posting: (posting.created_at, str(posting.id)))

    def _conversions(self) -> None:
        tally = self.report.tally("point_conversions")
        currency = next((row["value"] for row in self.data.rows["family_settings"] if row["key"] == "currency"), "USD")
        for row in self.data.rows["point_conversions"]:
            tally.source += 1
            member = self.ref("point_conversions", row, "user_id", self.members)
            points = self.points("point_conversions", row, "points_converted")
            dollars = row.get("dollar_amount")
            if not isinstance(dollars, Decimal | int) or dollars < 0:
                self.problem("point_conversions", row, f"dollar_amount {dollars!r} is impossible")
                continue
            if member is None:
                continue
            moment = self.instant(row["created_at"])
            assert moment is not None
            tally.imported += 1
            self.plan.postings.append(Posting(id=row["id"], member_id=member, amount=-points, kind="conversion",
                                              description=ledger_text(LEGACY_CONVERTED, points=points),
                                              created_at=moment, reference_id=legacy_id("payout", row["id"])))
            self.plan.add(Payout, {
                "id": legacy_id("payout", row["id"]), "member_id": member, "kind": "conversion", "points": points,
                "amount_cents": int((Decimal(dollars) * 100).to_integral_value()),
                "currency": str(currency)[:3].upper(), "method": str(row.get("payment_method") or "cash")[:40],
                "note": (row.get("notes") or None), "ledger_entry_id": row["id"],
                "paid_by": self.ref("point_conversions", row, "converted_by", self.members, required=False),
                "paid_on": moment.astimezone(self.zone).date(), "created_at": moment,
            })

    def _redemptions(self) -> None:
        tally = self.report.tally("reward_redemptions")
        for row in self.data.rows["reward_redemptions"]:
            tally.source += 1
            status = REDEMPTION_STATUSES.get(str(row.get("status")))
            member = self.ref("reward_redemptions", row, "user_id", self.members)
            reward = self.ref("reward_redemptions", row, "reward_id", self.rewards)
            points = self.points("reward_redemptions", row, "points_spent")
            if status is None:
                self.problem("reward_redemptions", row, f"status {row.get('status')!r} is unknown")
                continue
            if member is None or reward is None:
                continue
            requested, decided = self.instant(row["created_at"]), self.instant(row.get("processed_at"))
            assert requested is not None
            tally.imported += 1
            self.plan.add(Redemption, {
                "id": row["id"], "reward_id": reward, "member_id": member, "points_spent": points, "status": status,
                "requested_at": requested, "decided_at": decided if status != "pending" else None,
                "decided_by": self.ref("reward_redemptions", row, "processed_by", self.members, required=False),
                "rejection_reason": (str(row.get("parent_notes") or "Not this time")[:300]
                                     if status == "rejected" else None),
                "fulfilled_at": decided if status == "fulfilled" else None,
                "notes": row.get("notes") or row.get("parent_notes"),
                "created_at": requested, "updated_at": decided or requested,
            })
            if status == "rejected" or not points:
                continue  # nothing was ever charged
            # Fulfilled: the legacy charge. Pending / approved: the hold HousePoints places at request time.
            self.plan.postings.append(Posting(
                id=legacy_id("redemption", row["id"]), member_id=member, amount=-points, kind="redemption",
                description=ledger_text(
                    LEGACY_REWARD, name=next(r["name"] for r in self.data.rows["rewards"] if r["id"] == reward))[:300],
                created_at=requested, reference_id=row["id"]))
            if status != "fulfilled":
                next(b for b in self.report.balances if b.member_id == member).held += points

    def rest(self) -> None:
        tally = self.report.tally("notifications")
        for row in self.data.rows["notifications"]:
            tally.source += 1
            member = self.ref("notifications", row, "user_id", self.members)
            event = self.text("notifications", row, "type", 40, required=True)
            if member is None or event is None:
                continue
            tally.imported += 1
            self.plan.add(Notification, {
                "id": row["id"], "member_id": member, "event": event,
                "title": self.text("notifications", row, "title", 200, required=True) or "",
                "body": row.get("message"), "link": self.text("notifications", row, "action_url", 300),
                "data": row.get("metadata") or {}, "created_at": row["created_at"],
                "read_at": (row.get("updated_at") or row["created_at"]) if row.get("read") else None,
            })
        tally = self.report.tally("common_deductions")
        for position, row in enumerate(self.data.rows["common_deductions"]):
            tally.source += 1
            if row.get("is_active") is False:
                tally.skipped["inactive presets"] += 1
                continue
            tally.imported += 1
            self.plan.add(PointPreset, {"id": legacy_id("preset", row["id"]), "kind": "deduction",
                                        "label": self.text("common_deductions", row, "name", 80, required=True) or "",
                                        "amount": self.points("common_deductions", row, "default_amount"),
                                        "position": position})
        tally = self.report.tally("rotation_presence_overrides")
        for row in self.data.rows["rotation_presence_overrides"]:
            tally.source += 1
            member = self.ref("rotation_presence_overrides", row, "child_id", self.members)
            if member is None:
                continue
            tally.imported += 1
            self.plan.add(PresenceException, {"id": row["id"], "member_id": member, "start_date": row["date"],
                                              "end_date": row["date"], "present": bool(row["is_available"]),
                                              "note": (row.get("reason") or None) and str(row["reason"])[:200],
                                              "created_at": row.get("created_at"), "updated_at": row.get("created_at")})
        self._settings()
        for table, reason in COUNTED_ONLY.items():
            if self.data.unread.get(table):
                self.report.tally(table).source = self.data.unread[table]
                self.report.tally(table).skipped[reason] = self.data.unread[table]

    def _settings(self) -> None:
        tally = self.report.tally("family_settings")
        for row in self.data.rows["family_settings"]:
            tally.source += 1
            key, value = row["key"], row["value"]
            if key == "authorized_emails":
                tally.skipped["the sign-in list: parents are invited by email instead"] += 1
            elif key in ("timezone", "family_name"):
                tally.imported += 1  # the family's own timezone and name, on its platform row
            elif key == "currency" and isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value):
                self.plan.settings["currency"] = value
                tally.imported += 1
            else:
                self.plan.settings[f"legacy.{key}"[:100]] = value
                tally.imported += 1
        secret = self.data.unread.get("family_settings", 0)
        if secret:
            tally.source += secret
            tally.skipped["look like credentials: never read"] += secret
        tally = self.report.tally("system_settings")
        for row in self.data.rows["system_settings"]:
            tally.source += 1
            key, value, kind = row["setting_key"], row["setting_value"], row["setting_type"]
            tally.imported += 1
            if key == "exchange_rate" and str(value).isdigit() and 0 < int(value) <= 10_000:
                self.plan.settings["points_per_currency_unit"] = int(value)
            elif key == "week_starts_on" and str(value).lower() in WEEKDAYS:
                self.plan.settings["week_start"] = str(value).lower()
            elif key == "auto_approve_chores" and value in ("true", "false"):
                self.plan.settings["auto_approve"] = value == "true"
            elif key == "timezone":
                pass  # the family's timezone (platform row)
            else:
                self.plan.settings[f"legacy.{key}"] = _typed(value, kind)
        unread = self.data.unread.get("system_settings", 0)
        if unread:
            tally.source += unread
            tally.skipped["not on the import list (integration tokens, links, SMTP): never read"] += unread

    def finish(self) -> ImportPlan:
        for balance in self.report.balances:
            movements = [p for p in self.plan.postings if p.member_id == balance.member_id]
            balance.ledger_available = sum(p.amount for p in movements)
            balance.ledger_total = sum(p.amount for p in movements if p.kind not in ("redemption", "conversion"))
            balance.adjustment = balance.old_available - balance.held - balance.ledger_available
            if abs(balance.adjustment) > MAX_POINTS:
                self.report.problems.append(f"{balance.username}: the opening adjustment {balance.adjustment} is "
                                            f"beyond ±{MAX_POINTS} points")
            if balance.adjustment:
                self.report.notes.append(
                    f"{balance.username}: opening adjustment {balance.adjustment:+d} (legacy available_points "
                    f"{balance.old_available} vs {balance.ledger_available + balance.held} from the ledgers)")
            expected_total = balance.old_converted + sum(
                -p.amount for p in movements if p.kind == "redemption") - balance.held + balance.old_available
            if expected_total != balance.old_total:
                self.report.notes.append(f"{balance.username}: legacy total_points {balance.old_total} disagrees "
                                         f"with its available + converted + redeemed ({expected_total})")
        return self.plan


def _icon(row: dict[str, Any], fallback: str) -> str:
    """The legacy icon when it fits (an emoji or a short name), else HousePoints' own."""
    icon = row.get("icon")
    return icon if isinstance(icon, str) and 0 < len(icon) <= 16 else fallback


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _typed(value: str | None, kind: str | None) -> Any:
    import json

    if value is None:
        return None
    try:
        if kind in ("integer", "number"):
            return int(value) if value.lstrip("-").isdigit() else float(value)
        if kind == "boolean":
            return value.lower() == "true"
        if kind == "json":
            return json.loads(value)
    except ValueError:
        return value
    return value


def plan_import(data: LegacyData) -> ImportPlan:
    """Map the legacy rows to HousePoints rows and ledger postings; problems are collected, nothing is written."""
    planner = _Planner(data)
    planner.users()
    planner.chores_()
    planner.assignments_()
    planner.rewards_()
    planner.ledger()
    planner.rest()
    return planner.finish()


# --- writing -----------------------------------------------------------------------------------------------------


def apply_plan(session: Session, plan: ImportPlan, *, source: str, now: datetime,
               progress: Callable[[int], None] = lambda _done: None) -> None:
    """Write the plan into the session's (new) family: rows through the ORM, points through the ledger's append path."""
    for pending in [obj for obj in session.new if isinstance(obj, FamilySetting)]:
        if pending.key in plan.settings:
            pending.value = plan.settings[pending.key]
    seeded = {obj.key for obj in session.new if isinstance(obj, FamilySetting)}
    for key, value in plan.settings.items():
        if key not in seeded:
            session.add(FamilySetting(key=key, value=value))
    session.add(FamilySetting(key=MARKER_KEY, value={"source": source, "imported_at": now.isoformat()},
                              is_private=True, description="Where this family's data came from"))
    members = plan.rows.get(Member, [])
    for values in members:
        session.add(Member(**{k: v for k, v in values.items() if not k.startswith("_")}))
    session.flush()
    progress(len(members))
    for values in members:  # who created whom, once every member exists
        member = session.get(Member, values["id"])
        assert member is not None
        known = {m["id"] for m in members}
        member.created_by = values["_created_by"] if values["_created_by"] in known else None
        member.updated_by = values["_updated_by"] if values["_updated_by"] in known else None
        member.updated_at = values["updated_at"]
    session.flush()
    for model in (Chore, ChoreSchedule, Assignment, Reward, Redemption, Notification, PointPreset, PresenceException):
        for values in plan.rows.get(model, []):
            session.add(model(**values))
        session.flush()
        progress(len(plan.rows.get(model, [])))
    clock = FamilyClock(plan.timezone, plan.week_start)
    for posting in plan.postings:
        post_entry(session, posting.member_id, amount=posting.amount, kind=posting.kind,
                   description=posting.description, clock=clock, now=posting.created_at, actor_id=posting.actor_id,
                   assignment_id=posting.assignment_id, reference_id=posting.reference_id, entry_id=posting.id,
                   allow_overdraft=True)
        progress(1)
    for values in plan.rows.get(Payout, []):
        session.add(Payout(**values))
    progress(len(plan.rows.get(Payout, [])))
    for balance in plan.report.balances:
        if balance.adjustment:
            post_entry(session, balance.member_id, amount=balance.adjustment, kind="adjustment",
                       description=OPENING_DESCRIPTION, clock=clock, now=now,
                       entry_id=legacy_id("opening", balance.member_id), allow_overdraft=True)
    for member_id, extras in plan.member_extras.items():
        member = session.get(Member, member_id)
        assert member is not None
        member.xp, member.streak_days = extras["xp"], extras["streak_days"]
        member.updated_at = next(v["updated_at"] for v in members if v["id"] == member_id) or now
    session.flush()
    forget(session)  # history, not news: no badges, bells or live events for what happened in the old service


# --- reconciling -------------------------------------------------------------------------------------------------

# Legacy table → the model its imported rows live in (counted by id in the family).
IMPORTED_AS: dict[str, Any] = {
    "users": Member, "chores": Chore, "scheduled_chores": ChoreSchedule, "assignments": Assignment,
    "open_chores": Assignment, "point_transactions": LedgerEntry, "point_deductions": LedgerEntry,
    "points_history": LedgerEntry, "point_conversions": LedgerEntry, "rewards": Reward,
    "reward_redemptions": Redemption, "notifications": Notification, "common_deductions": PointPreset,
    "rotation_presence_overrides": PresenceException,
}


def reconcile(session: Session, data: LegacyData, plan: ImportPlan) -> LegacyReport:
    """The plan's report with what the family actually holds: rows found by id, balances from the database."""
    report = plan.report
    planned_ids = _planned_ids(data, plan)
    for table, ids in planned_ids.items():
        model = IMPORTED_AS[table]
        found = 0
        for chunk in _chunks(sorted(ids, key=str), 500):
            found += session.scalar(select(func.count()).select_from(model).where(model.id.in_(chunk))) or 0
        report.tally(table).imported = found
    members = {m.id: m for m in session.scalars(select(Member))}
    sums = dict(session.execute(select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
                                .group_by(LedgerEntry.member_id)).all())
    for balance in report.balances:
        member = members.get(balance.member_id)
        if member is None:
            continue
        balance.new_available, balance.new_total = member.available_points, member.total_points
        if int(sums.get(balance.member_id) or 0) != member.available_points:
            report.problems.append(f"{balance.username}: cached available {member.available_points} ≠ ledger sum "
                                   f"{sums.get(balance.member_id)}")
    return report


def _planned_ids(data: LegacyData, plan: ImportPlan) -> dict[str, set[uuid.UUID]]:
    """Per legacy table, the ids its imported rows carry in the family."""
    ids: dict[str, set[uuid.UUID]] = {}
    by_model = {model: {values["id"] for values in rows} for model, rows in plan.rows.items()}
    posted = {posting.id for posting in plan.postings}
    for table, model in IMPORTED_AS.items():
        source = {row.get("id") for row in data.rows.get(table, [])}
        if table == "common_deductions":
            source = {legacy_id("preset", value) for value in source}
        known = posted if model is LedgerEntry else by_model.get(model, set())
        ids[table] = {uuid.UUID(str(value)) for value in source if value in known}
    return ids


def _chunks(values: list[uuid.UUID], size: int) -> list[list[uuid.UUID]]:
    return [values[i:i + size] for i in range(0, len(values), size)] or [[]]


def imported_from(session: Session) -> dict[str, Any] | None:
    """The family's legacy-import marker (its source and time), or None for a family made otherwise."""
    value = session.scalar(select(FamilySetting.value).where(FamilySetting.key == MARKER_KEY))
    return value if isinstance(value, dict) else None


def planned_days(plan: ImportPlan) -> timedelta:
    """How far back the imported history goes (for the CLI's summary)."""
    if not plan.postings:
        return timedelta(0)
    return plan.postings[-1].created_at - plan.postings[0].created_at
