"""What the Today page shows, prepared in Python: each kid's card, its items with their buttons, its week chart.

The page repeats the same few phrases and URLs for every item, day and kid, and Jinja pays for each `_()`, `url_for`
and macro call again: so the phrases are translated once per page (`Words`), the URLs are built from one `url_for`
per endpoint (`url_pattern`), and the templates only write out what is prepared here.
"""
from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext
from markupsafe import Markup

from app.assignments.services import DayAssignment
from app.family_time import END_OF_DAY, FamilyClock
from app.i18n import format_day
from app.members.models import Member

ASSIGNMENT_ACTIONS = ("approve", "reject", "complete", "undo", "skip", "reopen")
BUCKETS = ("waiting", "overdue", "todo", "done", "skipped")  # the order of a card's lists
CHART_TOP, CHART_HEIGHT = 6, 44  # the week chart's bar area inside its 76-pixel-high SVG


def _t(text: str) -> Markup:
    """A phrase in the page's language, trusted as Jinja's `_()` trusts it (what is put into it gets escaped)."""
    return Markup(gettext(text))


class Words:
    """The card phrases, translated once per page (a `%(...)s` in one is filled per kid or item)."""

    def __init__(self) -> None:
        # the card
        self.done, self.waiting, self.to_do, self.overdue = _t("done"), _t("waiting"), _t("to do"), _t("overdue")
        self.headings = {"waiting": _t("Waiting for approval"), "overdue": _t("Overdue"), "todo": _t("To do"),
                         "done": _t("Done"), "skipped": _t("Skipped")}
        self.nothing_today = _t("Nothing for today.")
        self.points_this_week = _t("points · %(weekly_points)s this week")
        self.streak = _t("· %(streak_days)s-day streak")
        self.kid_today = _t("%(name)s today")
        self.bonus_or_deduction, self.bonus, self.deduction = _t("Bonus or deduction"), _t("Bonus"), _t("Deduction")
        self.points, self.why, self.give = _t("Points"), _t("Why"), _t("Give")
        self.why_example = _t("Helped a neighbour")
        # an item
        self.points_due = _t("%(points)s pts · due %(when)s")
        self.due_today = str(gettext("today"))
        self.missed, self.photo = _t("missed"), _t("· 📷 photo")
        self.sent_back = _t("Sent back: %(rejection_reason)s")
        self.approve, self.reject, self.reject_named = _t("Approve"), _t("Reject…"), _t("Reject: %(name)s")
        self.what_needs_fixing, self.fix_example = _t("What needs fixing?"), _t("Still crumbs on the table")
        self.send_back = _t("Send back")
        self.undo, self.undo_named = _t("Undo"), _t("Undo completion: %(chore)s")
        self.reopen, self.skip = _t("Re-open"), _t("Skip")
        self.mark_done, self.mark_done_named = _t("Done"), _t("Mark done for %(name)s: %(chore)s")
        # the week chart
        self.this_week = _t("This week: %(week_done)s of %(week_total)s done")
        self.kids_week = _t("%(name)s's week")
        self.not_yet, self.nothing_assigned = _t("not yet"), _t("nothing assigned")
        self.done_of = _t("%(done)s of %(total)s done")


def url_pattern(endpoint: str, key: str) -> Callable[[object], str]:
    """The endpoint's URL for any id from one `url_for`: the id goes where a placeholder was built in."""
    slot = "__id__"
    values: dict[str, Any] = {key: slot}
    head, tail = url_for(endpoint, **values).split(slot)
    return lambda value: f"{head}{value}{tail}"


@dataclass(frozen=True, slots=True)
class Action:
    """A button on an item: its own small form (the reject one opens a reason field first)."""

    url: str
    label: Markup
    css: str
    aria: Markup
    is_reject: bool = False


@dataclass(frozen=True, slots=True)
class Item:
    """An assignment on a kid's card with its line of points and due time and the buttons its state allows."""

    a: DayAssignment
    meta: Markup
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One of a card's lists (waiting, overdue, to do, done, skipped) under its heading."""

    bucket: str
    heading: Markup
    items: list[Item]


@dataclass(frozen=True, slots=True)
class Day:
    """A day of the week chart as every kid's chart labels it."""

    day: date
    weekday: str  # "Monday", for the chart's description
    short: str  # "Mon 30 Nov", for a bar's title
    letters: str  # "Mo", under the bar
    is_today: bool
    is_future: bool


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a kid's week chart, positioned: grey for assigned, colour for done."""

    day: Day
    done: int
    total: int
    x: int
    total_y: float
    total_height: float
    done_y: float
    done_height: float
    state: Markup  # "1 of 2 done", "not yet"
    described: Markup  # the same for the chart's description, "nothing assigned" on an empty day


@dataclass
class KidCard:
    """One kid's day sorted into what the parent acts on, and their week."""

    kid: Member
    waiting: list[DayAssignment] = field(default_factory=list)
    overdue: list[DayAssignment] = field(default_factory=list)
    todo: list[DayAssignment] = field(default_factory=list)
    done: list[DayAssignment] = field(default_factory=list)
    skipped: list[DayAssignment] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    weekly_points: int = 0
    error: str | None = None  # a refused action, shown at the top of the card
    notice: str | None = None  # calm news: the card was out of date, here it is as it is now
    error_item: uuid.UUID | None = None  # the item a form error belongs to (its reject form stays open)

    @property
    def week_done(self) -> int:
        return sum(bar.done for bar in self.bars)

    @property
    def week_total(self) -> int:
        return sum(bar.total for bar in self.bars)


class Page:
    """What every card of one page shares: the phrases, the URL patterns, the family's clock and week."""

    def __init__(self, clock: FamilyClock, today: date, now: datetime) -> None:
        self.words = Words()
        self.clock, self.now = clock, now
        self.urls = {action: url_pattern(f"dashboard.{action}", "assignment_id") for action in ASSIGNMENT_ACTIONS}
        first = clock.week_start_date(today)
        self.week = [Day(day, format_day(day, "weekday_long"), format_day(day, "short"),
                         format_day(day, "weekday")[:2], day == today, day > today)
                     for day in (first + timedelta(days=offset) for offset in range(7))]

    def due_label(self, assignment: DayAssignment) -> str:
        """"today" for a chore due by the day's end, else its local time."""
        local = self.clock.local(assignment.due_at)
        return self.words.due_today if local.time().replace(microsecond=0) == END_OF_DAY else local.strftime("%H:%M")

    def card(self, kid: Member, assignments: Iterable[DayAssignment],
             summary: dict[tuple[uuid.UUID, date], dict[str, int]], weekly_points: int) -> KidCard:
        """The kid's assignments sorted into lists with their items, and their week's bars."""
        card = KidCard(kid, weekly_points=weekly_points)
        for assignment in assignments:
            status = assignment.status
            if status == "verified":
                card.done.append(assignment)
            elif status == "pending_verification":
                card.waiting.append(assignment)
            elif status == "skipped":
                card.skipped.append(assignment)
            elif status == "missed" or assignment.due_at < self.now:
                card.overdue.append(assignment)
            else:
                card.todo.append(assignment)
        headings = self.words.headings
        card.sections = [Section(bucket, headings[bucket], [self.item(a, kid) for a in found])
                         for bucket, found in zip(BUCKETS, (card.waiting, card.overdue, card.todo, card.done,
                                                            card.skipped), strict=True) if found]
        card.bars = self.bars(kid.id, summary)
        return card

    def item(self, a: DayAssignment, kid: Member) -> Item:
        """An item's line and the buttons its state allows."""
        words, urls, name = self.words, self.urls, a.chore.name
        points = a.points_earned if a.status == "verified" else a.points_offered
        meta = words.points_due % {"points": points, "when": self.due_label(a)}

        def button(action: str, label: Markup, css: str = "secondary", aria: Markup | None = None) -> Action:
            return Action(urls[action](a.id), label, css, aria or Markup("%s: %s") % (label, name))

        actions: tuple[Action, ...] = ()
        if a.status in ("pending_verification", "verified"):
            undo = button("undo", words.undo, aria=words.undo_named % {"chore": name})
        if a.status == "pending_verification":
            reject = Action(urls["reject"](a.id), words.reject, "secondary", words.reject_named % {"name": name},
                            is_reject=True)
            actions = (button("approve", words.approve, "approve"), reject, undo)
        elif a.status == "missed":
            actions = (button("reopen", words.reopen), button("skip", words.skip))
        elif a.status == "pending":
            done = words.mark_done_named % {"name": kid.display_name, "chore": name}
            actions = (button("complete", words.mark_done, "approve", done), button("skip", words.skip))
        elif a.status == "verified":
            actions = (undo,)
        return Item(a, meta, actions)

    def bars(self, kid_id: uuid.UUID, summary: dict[tuple[uuid.UUID, date], dict[str, int]]) -> list[Bar]:
        """The week's bars, scaled to the busiest day (at least one chore high); an empty day is a 2-pixel stub."""
        words, counts = self.words, []
        for day in self.week:
            entry = summary.get((kid_id, day.day))
            counts.append((entry["verified"], entry["total"]) if entry else (0, 0))
        most = max([total for _done, total in counts] + [1])
        bars = []
        for index, (day, (done, total)) in enumerate(zip(self.week, counts, strict=True)):
            total_height = round(total / most * CHART_HEIGHT, 1) if total else 2
            done_height = round(done / most * CHART_HEIGHT, 1)
            state = words.not_yet if day.is_future else words.done_of % {"done": done, "total": total}
            described = state if day.is_future or total else words.nothing_assigned
            bars.append(Bar(day, done, total, index * 30 + 5, CHART_TOP + CHART_HEIGHT - total_height,
                            total_height, CHART_TOP + CHART_HEIGHT - done_height, done_height, state, described))
        return bars


def by_kid(assignments: Iterable[DayAssignment]) -> dict[uuid.UUID, list[DayAssignment]]:
    """The day's assignments grouped by who they are for (open ones are nobody's)."""
    grouped: dict[uuid.UUID, list[DayAssignment]] = defaultdict(list)
    for assignment in assignments:
        if assignment.assigned_to is not None:
            grouped[assignment.assigned_to].append(assignment)
    return grouped
