"""Reports pages: charts for parents, CSV exports of the ledger and assignments, and each member's iCal feed."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial

from flask import Response, g, make_response, render_template, request, stream_with_context
from flask_babel import gettext, ngettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import page_language, refusal_text
from app.auth.decorators import parent_required
from app.db import get_session
from app.domain import ValidationFailed
from app.family_time import FamilyClock
from app.reports import bp
from app.reports.charts import percent, report_charts
from app.reports.csv_export import ASSIGNMENT_HEADER, LEDGER_HEADER, assignment_rows, csv_lines, ledger_rows
from app.reports.ical import calendar_for_token
from app.reports.services import Period, family_report, parse_period, recent_weeks_period
from app.uow import commit_now
from app.web import current_rules, family_today, request_now

FORM_STATUS = 422


def _default_period() -> Period:
    return recent_weeks_period(current_rules().clock, family_today())


@bp.get("/reports")
@parent_required
def index() -> Response:
    """Charts of the family's weeks: completion, points in and out, categories, missed chores and streaks."""
    default, error, status = _default_period(), None, 200
    try:
        period = parse_period(request.args.get("start"), request.args.get("end"), default=default)
    except ValidationFailed as refusal:
        period, error, status = default, refusal_text(refusal), FORM_STATUS
    report = family_report(get_session(), current_rules().clock, period, family_today(), request_now())
    body = render_template("reports/index.html", report=report, charts=report_charts(report), error=error,
                           form_start=request.args.get("start", period.start.isoformat()),
                           form_end=request.args.get("end", period.end.isoformat()),
                           presets=_presets(), percent=percent)
    return make_response(body, status)


def _presets() -> list[tuple[str, Period]]:
    clock, today = current_rules().clock, family_today()
    return [(ngettext("Last %(num)d week", "Last %(num)d weeks", weeks), recent_weeks_period(clock, today, weeks))
            for weeks in (4, 8, 12)] + [(gettext("Last 12 months"), Period(today - timedelta(days=364), today))]


RowsFor = Callable[[Session, FamilyClock, Period], Iterator[tuple[object, ...]]]


def _csv(kind: str, header: tuple[str, ...], rows_for: RowsFor) -> Response:
    period = parse_period(request.args.get("start"), request.args.get("end"), default=_default_period(),
                          max_days=None)
    clock = current_rules().clock

    def stream() -> Iterator[str]:
        # Flask tears the request's session down when the view returns, before the body streams: the rows are
        # read through a session opened while streaming, which the streamed context's teardown closes.
        yield from csv_lines(header, rows_for(get_session(), clock, period))

    filename = f"housepoints-{g.family.slug}-{kind}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    response = Response(stream_with_context(stream()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/reports/export/ledger.csv")
@parent_required
def export_ledger() -> Response:
    """Every ledger row stamped on the range's family days (`start`, `end` as YYYY-MM-DD), as CSV; descriptions in
    the parent's language."""
    return _csv("ledger", LEDGER_HEADER, partial(ledger_rows, language=page_language()))


@bp.get("/reports/export/assignments.csv")
@parent_required
def export_assignments() -> Response:
    """Every assignment due on the range's family days, as CSV."""
    return _csv("assignments", ASSIGNMENT_HEADER, assignment_rows)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> BaseResponse:
    """A member's upcoming chores as iCal; the secret token in the URL is the only credential (no sign-in)."""
    session = get_session()
    body = calendar_for_token(session, token, current_rules(), request_now(), family_name=g.family.name,
                              timezone=g.family.timezone)
    commit_now(session)  # the days materialised on this read
    response = make_response(body)
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = 'inline; filename="chores.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
