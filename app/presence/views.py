"""Presence calendar pages: a month of who is home, and each kid's patterns and exceptions to add or delete."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import Response, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import refusal_text, translate_message
from app.languages import translatable
from app.auth import signed_in_member
from app.auth.decorators import parent_required
from app.db import get_session
from app.domain import DomainError
from app.htmx import HxEvent, is_htmx, trigger, vary_on_htmx
from app.inputs import ascii_month, parse_action
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.presence import bp
from app.presence.inputs import PresenceExceptionInput, PresencePatternInput
from app.presence.models import PresenceException, PresencePattern
from app.presence.services import add_exception, add_pattern, delete_presence_rule, pattern_matches, presence_map
from app.uow import transactional, unit_of_work
from app.web import current_rules, family_today

PRESENCE_CHANGED = HxEvent.PRESENCE_CHANGED  # the month grid reloads itself on this event
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


# --- what the page shows ---------------------------------------------------------------------------------------

@dataclass
class DayCell:
    """One square of the month grid."""

    day: date
    in_month: bool
    is_today: bool
    home: list[Member]
    changes: list[tuple[Member, str, time | None]]  # (kid, "arrives" | "leaves", transition time)


@dataclass
class KidRules:
    """One kid's patterns and exceptions, and the two add forms (values and errors)."""

    kid: Member
    patterns: list[PresencePattern]
    exceptions: list[PresenceException]
    pattern_form: dict[str, Any]
    exception_form: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)  # "pattern" / "exception" → message
    error_fields: dict[str, str] = field(default_factory=dict)  # "<form>-<field>" → message


PRESETS: dict[str, dict[str, Any]] = {
    # Days away are the nights at the other home: leaving Friday 18:00 and back Sunday 18:00 means away Fri + Sat,
    # so the calendar shows "leaves 18:00" on Friday and "arrives 18:00" on Sunday.
    "weekend": {"kind": "alternate_weeks", "weekdays": ["4", "5"], "presence": "away", "transition_time": "18:00",
                "label": translatable("Every other weekend, Fri 18:00 → Sun 18:00")},
    "alternate_weeks": {"kind": "alternate_weeks", "weekdays": [str(d) for d in range(7)], "presence": "away",
                        "transition_time": "", "label": translatable("Alternate weeks")},
}


def _month_arg() -> date:
    """?month=2026-12 → its first day; the family's current month when absent."""
    raw = request.args.get("month", "").strip()
    if not raw:
        return family_today().replace(day=1)
    try:
        first = ascii_month(raw)
    except ValueError:
        abort(400, description=gettext("Months look like 2026-12."))
    if not EARLIEST_YEAR <= first.year <= LATEST_YEAR:
        abort(400, description=gettext("Pick a month between %(first)d and %(last)d.", first=EARLIEST_YEAR,
                                       last=LATEST_YEAR))
    return first


def _rules_by_kid(kid_ids: list[uuid.UUID], since: date
                  ) -> tuple[dict[uuid.UUID, list[PresencePattern]], dict[uuid.UUID, list[PresenceException]]]:
    """Every pattern, and the exceptions still running on or after `since`, per kid (two queries).

    The presence service has no listing of rules, so the page reads them here.
    """
    session = get_session()
    patterns: dict[uuid.UUID, list[PresencePattern]] = defaultdict(list)
    exceptions: dict[uuid.UUID, list[PresenceException]] = defaultdict(list)
    if not kid_ids:
        return patterns, exceptions
    for pattern in session.scalars(select(PresencePattern).where(PresencePattern.member_id.in_(kid_ids))
                                   .order_by(PresencePattern.created_at)):
        patterns[pattern.member_id].append(pattern)
    for exception in session.scalars(select(PresenceException).where(PresenceException.member_id.in_(kid_ids),
                                                                      PresenceException.end_date >= since)
                                     .order_by(PresenceException.start_date, PresenceException.created_at)):
        exceptions[exception.member_id].append(exception)
    return patterns, exceptions


def _transition_time(patterns: list[PresencePattern], exceptions: list[PresenceException], day: date
                     ) -> time | None:
    """When a kid arrives or leaves on `day`: the time of the rule that changed their presence.

    The rule that decides `day` (a departure) or the one that decided the day before (an arrival once it ends),
    exceptions before patterns, newest first.
    """
    for moment in (day, day - timedelta(days=1)):
        covering = [e for e in exceptions if e.start_date <= moment <= e.end_date and e.transition_time]
        if covering:
            return max(covering, key=lambda e: e.created_at).transition_time
    for moment in (day, day - timedelta(days=1)):
        matching = [p for p in patterns if p.transition_time and pattern_matches(p, moment)]
        if matching:
            return max(matching, key=lambda p: p.created_at).transition_time
    return None


def _month_context(month: date, kids: list[Member], patterns: dict[uuid.UUID, list[PresencePattern]],
                   exceptions: dict[uuid.UUID, list[PresenceException]]) -> dict[str, Any]:
    clock = current_rules().clock
    today = family_today()
    last = month + relativedelta(months=1) - timedelta(days=1)
    start = clock.week_start_date(month)
    end = clock.week_start_date(last) + timedelta(days=6)
    home = presence_map(get_session(), [k.id for k in kids], start - timedelta(days=1), end)
    weeks: list[list[DayCell]] = []
    day = start
    while day <= end:
        changes = []
        for kid in kids:
            before, now = home[(kid.id, day - timedelta(days=1))], home[(kid.id, day)]
            if before != now:
                changes.append((kid, "arrives" if now else "leaves",
                                _transition_time(patterns[kid.id], exceptions[kid.id], day)))
        cell = DayCell(day=day, in_month=day.month == month.month, is_today=day == today,
                       home=[kid for kid in kids if home[(kid.id, day)]], changes=changes)
        if not weeks or len(weeks[-1]) == 7:
            weeks.append([])
        weeks[-1].append(cell)
        day += timedelta(days=1)
    weekday_order = [(clock.week_start + i) % 7 for i in range(7)]
    return {"month": month, "month_key": month.strftime("%Y-%m"), "weeks": weeks, "kids": kids,
            "weekday_names": [WEEKDAY_NAMES[i] for i in weekday_order],
            "prev_month": (month - relativedelta(months=1)).strftime("%Y-%m"),
            "next_month": (month + relativedelta(months=1)).strftime("%Y-%m"),
            "this_month": today.replace(day=1).strftime("%Y-%m")}


def _blank_pattern_form(today: date) -> dict[str, Any]:
    return {"kind": "weekly", "weekdays": [], "anchor_date": today.isoformat(), "presence": "away",
            "transition_time": "", "label": ""}


def _blank_exception_form(today: date) -> dict[str, Any]:
    return {"start_date": today.isoformat(), "end_date": "", "presence": "away", "transition_time": "", "note": ""}


def _preset_form(name: str, today: date) -> dict[str, Any]:
    """A preset's values for the pattern form; its anchor is the coming week (Friday for weekends)."""
    values = {**_blank_pattern_form(today), **PRESETS[name]}
    values["label"] = translate_message(values["label"])  # the label the parent saves, in their language
    monday = today - timedelta(days=today.weekday())
    values["anchor_date"] = (monday + timedelta(days=4 if name == "weekend" else 7)).isoformat()
    if name == "weekend" and today.weekday() > 4:
        values["anchor_date"] = (monday + timedelta(days=11)).isoformat()
    return values


def _panels(kids: list[Member], patterns: dict[uuid.UUID, list[PresencePattern]],
            exceptions: dict[uuid.UUID, list[PresenceException]], *, override: KidRules | None = None
            ) -> list[KidRules]:
    """Each kid's rules panel: every pattern, the exceptions not over yet, and empty add forms."""
    today = family_today()
    panels = []
    for kid in kids:
        panel = override if override is not None and override.kid.id == kid.id else KidRules(
            kid, [], [], _blank_pattern_form(today), _blank_exception_form(today))
        panel.patterns = patterns[kid.id]
        panel.exceptions = [e for e in exceptions[kid.id] if e.end_date >= today]
        panels.append(panel)
    return panels


def _page(month: date, *, override: KidRules | None = None, status: int = 200) -> Response:
    """The whole calendar page: the month grid and every kid's rules."""
    kids = list_children(get_session())
    since = min(current_rules().clock.week_start_date(month) - timedelta(days=1), family_today())
    patterns, exceptions = _rules_by_kid([k.id for k in kids], since)
    context = {**_month_context(month, kids, patterns, exceptions),
               "panels": _panels(kids, patterns, exceptions, override=override), "presets": PRESETS}
    return vary_on_htmx(make_response(render_template("presence/calendar.html", **context), status))


def _panel(panel: KidRules, month_key: str, *, status: int = 200) -> Response:
    """One kid's rules panel (htmx), fresh from the database."""
    since = family_today()
    patterns, exceptions = _rules_by_kid([panel.kid.id], since)
    panel.patterns, panel.exceptions = patterns[panel.kid.id], exceptions[panel.kid.id]
    return make_response(render_template("presence/_kid_rules.html", panel=panel, month_key=month_key,
                                         presets=PRESETS), status)


def _load_kid(member_id: str) -> Member:
    # Another family's member is simply not found: the session only sees this family's rows.
    return get_member_or_404(get_session(), member_id)


def _month_key_from_form() -> str:
    raw = request.form.get("month", "")
    try:
        return ascii_month(raw).strftime("%Y-%m")
    except ValueError:
        return family_today().strftime("%Y-%m")


def _after_change(kid: Member) -> BaseResponse:
    """A saved change: the kid's panel (htmx, and the grid reloads on the event), else back to the calendar."""
    month_key = _month_key_from_form()
    if is_htmx():
        today = family_today()
        panel = KidRules(kid, [], [], _blank_pattern_form(today), _blank_exception_form(today))
        return trigger(_panel(panel, month_key), PRESENCE_CHANGED)
    return redirect(url_for("presence.calendar", month=month_key, _anchor=f"kid-{kid.id}"), 303)


def _refused(kid: Member, form_name: str, values: dict[str, Any], error: DomainError) -> Response:
    """The form again with what was wrong (422): the kid's panel for htmx, the whole page otherwise."""
    today = family_today()
    panel = KidRules(kid, [], [], _blank_pattern_form(today), _blank_exception_form(today))
    setattr(panel, f"{form_name}_form", values)
    panel.errors[form_name] = refusal_text(error)
    for name in error.fields:
        panel.error_fields[f"{form_name}-{name}"] = refusal_text(error)
    month_key = _month_key_from_form()
    if is_htmx():
        return _panel(panel, month_key, status=422)
    year, month = (int(part) for part in month_key.split("-"))
    return _page(date(year, month, 1), override=panel, status=422)


# --- pages -----------------------------------------------------------------------------------------------------

@bp.get("/calendar")
@parent_required
def calendar() -> Response:
    """Who is home on each day of a month, with arrivals and departures; the month alone for htmx."""
    month = _month_arg()
    if not is_htmx():
        return _page(month)
    kids = list_children(get_session())
    clock = current_rules().clock
    patterns, exceptions = _rules_by_kid([k.id for k in kids], clock.week_start_date(month) - timedelta(days=1))
    context = _month_context(month, kids, patterns, exceptions)
    return vary_on_htmx(make_response(render_template("presence/_month.html", **context)))


@bp.get("/calendar/members/<member_id>/pattern-form")
@parent_required
def pattern_form(member_id: str) -> Response:
    """The add-a-pattern form filled from a preset ("every other weekend", "alternate weeks")."""
    kid = _load_kid(member_id)
    today = family_today()
    preset = request.args.get("preset", "")
    values = _preset_form(preset, today) if preset in PRESETS else _blank_pattern_form(today)
    panel = KidRules(kid, [], [], values, _blank_exception_form(today))
    month = _month_arg()
    if is_htmx():
        return vary_on_htmx(make_response(render_template("presence/_pattern_form.html", panel=panel,
                                                          month_key=month.strftime("%Y-%m"), presets=PRESETS)))
    return _page(month, override=panel)


@bp.post("/calendar/members/<member_id>/patterns")
@parent_required
def add_pattern_view(member_id: str) -> BaseResponse:
    """Add a recurring rule for a kid (weekly, or every other week from an anchor date)."""
    kid = _load_kid(member_id)
    form = request.form
    values: dict[str, Any] = {"kind": form.get("kind", "weekly"), "weekdays": form.getlist("weekdays"),
              "anchor_date": form.get("anchor_date", "").strip(), "presence": form.get("presence", "away"),
              "transition_time": form.get("transition_time", "").strip(), "label": form.get("label", "").strip()}
    if values["kind"] == "weekly" and not values["anchor_date"]:
        values["anchor_date"] = family_today().isoformat()  # weekly patterns do not use it (the field is hidden)
    try:
        data = parse_action(PresencePatternInput, {**values, "present": values["presence"] == "home"})
        with unit_of_work() as work:
            add_pattern(work.session, actor=signed_in_member(), member=kid, data=data)
    except DomainError as error:
        return _refused(kid, "pattern", values, error)
    return _after_change(kid)


@bp.post("/calendar/members/<member_id>/exceptions")
@parent_required
def add_exception_view(member_id: str) -> BaseResponse:
    """Add a date range (or, with no last day, a one-day override) when a kid is home or away."""
    kid = _load_kid(member_id)
    form = request.form
    values = {"start_date": form.get("start_date", "").strip(), "end_date": form.get("end_date", "").strip(),
              "presence": form.get("presence", "away"), "transition_time": form.get("transition_time", "").strip(),
              "note": form.get("note", "").strip()}
    try:
        data = parse_action(PresenceExceptionInput, {**values, "present": values["presence"] == "home"})
        with unit_of_work() as work:
            add_exception(work.session, actor=signed_in_member(), member=kid, data=data)
    except DomainError as error:
        return _refused(kid, "exception", values, error)
    return _after_change(kid)


@bp.post("/calendar/members/<member_id>/rules/<rule_id>/delete")
@parent_required
@transactional
def delete_rule(member_id: str, rule_id: str) -> BaseResponse:
    """Delete one of a kid's patterns or exceptions."""
    kid = _load_kid(member_id)
    try:
        key = uuid.UUID(rule_id)
    except ValueError:
        abort(404)
    delete_presence_rule(get_session(), actor=signed_in_member(), rule_id=key)
    return _after_change(kid)
