"""Chart geometry for server-drawn SVG: grouped bars, horizontal bars and lines, each with a text table twin.

The functions here only compute shapes and words; `templates/reports/_chart.html` draws any `Chart` as an SVG with
role="img", a <title> and a <desc>, and the same numbers as a table for screen readers and small screens.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast
from datetime import date

from flask_babel import gettext, ngettext, pgettext

from app.i18n import format_day
from app.reports.services import FamilyReport

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 60, 12, 12, 44
MAX_AXIS_LABELS = 9  # more groups than this: label every other one (or every third…) so labels never overlap
NEUTRAL = "#9a9aab"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str
    css_class: str = "bar"


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    css_class: str = "axis-label"


@dataclass(frozen=True)
class GridLine:
    x1: float
    y1: float
    x2: float
    y2: float
    css_class: str = "grid"


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Polyline:
    points: str
    stroke: str
    name: str
    markers: tuple[Marker, ...]
    css_class: str = "series"


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Series:
    """One named, coloured series of values (None = no data for that slot)."""

    name: str
    color: str
    values: tuple[float | None, ...]
    notes: tuple[str, ...] = ()  # per-slot detail for the table and tooltips ("4 of 5")


@dataclass(frozen=True)
class Chart:
    """Everything the template needs to draw one accessible chart."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    table: Table
    rects: tuple[Rect, ...] = ()
    labels: tuple[Label, ...] = ()
    grid: tuple[GridLine, ...] = ()
    lines: tuple[Polyline, ...] = ()
    legend: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.table.rows


def _r(value: float) -> float:
    return round(value, 1)


def nice_step(value: float) -> float:
    """A round step (1, 2, 5 × 10^n, never below 1) at or above `value`: whole-number gridlines for counts."""
    if value <= 1:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * 10 ** exponent >= value:
            return cast(float, step * 10 ** exponent)
    return cast(float, 10 ** (exponent + 1))


def axis_range(low: float, high: float, gridlines: int = 4) -> tuple[float, float, float]:
    """A low and high bound (including zero) on whole, round steps, and the step."""
    low, high = min(low, 0), max(high, 0)
    step = nice_step((high - low) / gridlines if high > low else 1)
    return step * math.floor(low / step), max(step * math.ceil(high / step), step), step


def _number(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"


def _y_axis(low: float, high: float, step: float,
            fmt: Callable[[float], str]) -> tuple[list[GridLine], list[Label], Callable[[float], float]]:
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - low) / (high - low))

    grid, labels = [], []
    ticks = round((high - low) / step)
    for index in range(ticks + 1):
        tick = low + step * index
        y = _r(y_of(tick))
        grid.append(GridLine(LEFT, y, WIDTH - RIGHT, y, "grid zero" if tick == 0 else "grid"))
        labels.append(Label(LEFT - 6, _r(y + 4), fmt(tick), "end"))
    return grid, labels, y_of


def grouped_bars(chart_id: str, title: str, groups: Sequence[str], series: Sequence[Series], *,
                 value_format: Callable[[float], str] = _number, max_value: float | None = None,
                 what: str = "value") -> Chart:
    """Bars per group (a week), one per series (a kid), on a shared axis from zero."""
    values = [v for s in series for v in s.values if v is not None]
    low: float
    if max_value is not None:
        low, high, step = 0, max_value, max_value / 4
    else:
        low, high, step = axis_range(0, max(values, default=0))
    grid, labels, y_of = _y_axis(low, high, step, value_format)
    plot_w = WIDTH - LEFT - RIGHT
    group_w = plot_w / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    rects: list[Rect] = []
    for g_index, group in enumerate(groups):
        x0 = LEFT + g_index * group_w + group_w * 0.1
        if _labelled(g_index, len(groups)):
            labels.append(Label(_r(LEFT + (g_index + 0.5) * group_w), HEIGHT - BOTTOM + 22, group))
        for s_index, one in enumerate(series):
            value = one.values[g_index]
            if value is None:
                continue
            top = y_of(min(value, high))
            height = max(_r(y_of(0) - top), 1.5)
            note = one.notes[g_index] if one.notes else ""
            title = f"{one.name}, {group}: {value_format(value)}" + (f" ({note})" if note else "")  # data only
            rects.append(Rect(_r(x0 + s_index * bar_w), _r(y_of(0) - height), _r(max(bar_w - 2, 1)), height,
                              one.color, title))
    table = Table(title, ("", *(s.name for s in series)), tuple(
        (group, *(_cell(s, i, value_format) for s in series)) for i, group in enumerate(groups)))
    desc = _describe_series(title, groups, series, value_format, what)
    return Chart(chart_id, title, desc, WIDTH, HEIGHT, table, tuple(rects), tuple(labels), tuple(grid),
                 legend=tuple((s.name, s.color) for s in series))


def _cell(one: Series, index: int, fmt: Callable[[float], str]) -> str:
    value = one.values[index]
    if value is None:
        return "–"
    note = one.notes[index] if one.notes else ""
    return fmt(value) + (f" ({note})" if note else "")


def _describe_series(title: str, groups: Sequence[str], series: Sequence[Series],
                     fmt: Callable[[float], str], what: str) -> str:
    if not groups or not series:
        return _t("%(title)s: no data for this range.", title=title)
    parts = []
    for one in series:
        shown = [f"{group} {fmt(v)}" for group, v in zip(groups, one.values, strict=False) if v is not None]
        parts.append(f"{one.name}: " + (", ".join(shown) if shown else _t("no %(what)s", what=what)) + ".")
    heading = _t("%(title)s, %(first)s to %(last)s.", title=title, first=groups[0], last=groups[-1])
    return heading + " " + " ".join(parts)


def _labelled(index: int, count: int) -> bool:
    every = math.ceil(count / MAX_AXIS_LABELS)
    return index % every == 0


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def horizontal_bars(chart_id: str, title: str, rows: Sequence[tuple[str, float, str, str, str]], *,
                    headers: tuple[str, str] = ("", "Value"), what: str = "value") -> Chart:
    """One bar per row (label, value, short text, full text, colour); the longest bar is the largest value."""
    row_h = 40
    label_w = 170
    height = max(len(rows), 1) * row_h + 16
    high = max((value for _l, value, _s, _t, _c in rows), default=0) or 1
    rects, labels = [], []
    for index, (label, value, short, text, color) in enumerate(rows):
        y = 8 + index * row_h
        width = max(_r((WIDTH - label_w - 150) * max(value, 0) / high), 1.5 if value > 0 else 0)
        labels.append(Label(label_w - 10, y + 25, _short(label), "end", "row-label"))
        if width:
            rects.append(Rect(label_w, y + 6, width, row_h - 12, color, f"{label}: {text}"))
        labels.append(Label(_r(label_w + width + 8), y + 25, short, "start", "value-label"))
    table = Table(title, headers, tuple((label, text) for label, _v, _s, text, _c in rows))
    desc = (f"{title}. " + "; ".join(f"{label}: {text}" for label, _v, _s, text, _c in rows) + "."
            if rows else _t("%(title)s: no %(what)s in this range.", title=title, what=what))
    return Chart(chart_id, title, desc, WIDTH, height, table, tuple(rects), tuple(labels))


def lines(chart_id: str, title: str, groups: Sequence[str], series: Sequence[Series], *,
          value_format: Callable[[float], str] = _number, what: str = "value") -> Chart:
    """One line per series across the groups, on an axis that includes zero (values may go negative)."""
    values = [v for s in series for v in s.values if v is not None]
    low, high, y_step = axis_range(min(values, default=0), max(values, default=0))
    grid, labels, y_of = _y_axis(low, high, y_step, value_format)
    x_step = (WIDTH - LEFT - RIGHT) / max(len(groups), 1)
    for index, group in enumerate(groups):
        if _labelled(index, len(groups)):
            labels.append(Label(_r(LEFT + (index + 0.5) * x_step), HEIGHT - BOTTOM + 22, group))
    polylines = []
    for one in series:
        points, markers = [], []
        for index, value in enumerate(one.values):
            if value is None:
                continue
            x, y = _r(LEFT + (index + 0.5) * x_step), _r(y_of(value))
            points.append(f"{x},{y}")
            markers.append(Marker(x, y, f"{one.name}, {groups[index]}: {value_format(value)}"))
        polylines.append(Polyline(" ".join(points), one.color, one.name, tuple(markers)))
    table = Table(title, ("", *(s.name for s in series)), tuple(
        (group, *(_cell(s, i, value_format) for s in series)) for i, group in enumerate(groups)))
    return Chart(chart_id, title, _describe_series(title, groups, series, value_format, what), WIDTH, HEIGHT,
                 table, (), tuple(labels), tuple(grid), tuple(polylines), tuple((s.name, s.color) for s in series))


def _t(text: str, **params: object) -> str:
    """The chart's words in the page's language (gettext; English outside a request)."""
    return str(gettext(text, **params))


def percent(value: float) -> str:
    """80 → "80%", 66.7 → "66.7%"."""
    return f"{value:g}%"


# --- the reports page's charts ----------------------------------------------------------------------------------

ACCENT = "#4b5bdc"
EARNED_COLOR = "#1e7b45"
SPENT_COLOR = "#c0392b"


def _color(value: str | None) -> str:
    text = value or ""
    if len(text) == 7 and text.startswith("#") and all(ch in "0123456789abcdefABCDEF" for ch in text[1:]):
        return text
    return ACCENT


def week_label(week: date) -> str:
    """A week by its first day: "2 Mar"."""
    return format_day(week, "day_month")


def report_charts(report: FamilyReport) -> list[Chart]:
    """The page's five charts: completion and missed chores per kid per week, points in and out, categories,
    streaks."""
    groups = [week_label(week) for week in report.weeks]
    completion = [Series(kid.display_name, _color(kid.color),
                         tuple(t.rate if t.total else None for t in report.kid_weeks[kid.id]),
                         tuple(_t("%(done)s of %(total)s", done=t.completed, total=t.total)
                               for t in report.kid_weeks[kid.id]))
                  for kid in report.kids]
    missed = [Series(kid.display_name, _color(kid.color),
                     tuple(float(t.missed) if t.total else None for t in report.kid_weeks[kid.id]),
                     tuple(_t("of %(total)s", total=t.total) for t in report.kid_weeks[kid.id]))
              for kid in report.kids]
    earned = str(pgettext("points in a chart", "Earned"))
    flows = [Series(earned, EARNED_COLOR, tuple(float(flow.earned) for flow in report.flows)),
             Series(_t("Spent"), SPENT_COLOR, tuple(float(flow.spent) for flow in report.flows))]
    categories = [(row.category, float(max(row.tally.points, 0)),
                   _t("%(points)s pts", points=f"{row.tally.points:,}"),
                   _t("%(points)s points · %(done)s of %(total)s done", points=f"{row.tally.points:,}",
                      done=row.tally.completed, total=row.tally.total), ACCENT)
                  for row in report.categories]
    streaks = []
    for kid in report.kids:
        days = report.streaks.get(kid.id, 0)
        text = str(ngettext("%(num)d day", "%(num)d days", days))
        streaks.append((kid.display_name, float(days), text, text, _color(kid.color)))
    return [
        grouped_bars("completion", _t("Completion rate per kid per week"), groups, completion,
                     value_format=percent, max_value=100, what=_t("chores due")),
        lines("points", _t("Points earned and spent per week"), groups, flows, what=_t("points")),
        horizontal_bars("categories", _t("Points by chore category"), categories,
                        headers=(_t("Category"), _t("Points and chores done")), what=_t("chores")),
        grouped_bars("missed", _t("Missed chores per kid per week"), groups, missed, what=_t("chores due")),
        horizontal_bars("streaks", _t("Current streaks (days in a row with everything done)"), streaks,
                        headers=(_t("Kid"), _t("Streak")), what=_t("kids")),
    ]
