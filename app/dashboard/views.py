"""The parent dashboard: today per kid (done, waiting, to do, overdue), approvals, quick points, the week at a glance.

Every action is a thin POST: load (another family's id → 404), call one service, commit, then answer htmx with the
updated kid card (plus HX-Trigger events other widgets listen for) or a plain browser with a redirect.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, pgettext
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import refusal_text
from app.assignments.models import Assignment
from app.assignments.services import (
    complete_assignment,
    ensure_day,
    get_assignment_or_404,
    last_days_summary,
    reopen_assignment,
    skip_assignment,
    undo_completion,
    verify_assignment,
)
from app.auth import signed_in_member
from app.auth.decorators import parent_required
from app.dashboard import bp
from app.dashboard.cards import KidCard, Page, by_kid
from app.assignments.services import DayAssignment
from app.dashboard.services import list_day_assignments
from app.db import get_session
from app.domain import DomainError, NotFound, ValidationFailed
from app.htmx import HxEvent, announcement, is_htmx, reswap, trigger, vary_on_htmx
from app.inputs import parse_action
from app.live.events import publish_event
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.points.inputs import PointsAward
from app.points.models import PointPreset
from app.points.services import give_points, list_presets, weekly_points_now
from app.uow import commit_now, unit_of_work
from app.view_cache import cached_view_by_minute
from app.web import current_rules, family_today, request_now

MAX_REASON = 300  # the rejection reason column's size
# How a parent hears an assignment's state when their card was out of date (a kid tapped done meanwhile).
FORM_STATUS = 422  # an invalid form (a missing reason, a bad amount), as opposed to a refused state change


# --- what the page shows ----------------------------------------------------------------------------------------

def _page() -> Page:
    """What this page's cards share: phrases, URL patterns, the family's clock and week."""
    return Page(current_rules().clock, family_today(), request_now())


def _cards(page: Page, kids: list[Member], assignments: list[DayAssignment]) -> list[KidCard]:
    """A card per kid: their assignments for today, sorted; their family week from one summary query."""
    summary = last_days_summary(get_session(), page.week[0].day, page.week[-1].day)
    mine = by_kid(assignments)
    return [page.card(kid, mine[kid.id], summary, weekly_points_now(kid, page.clock, page.now)) for kid in kids]


def _presets() -> dict[str, list[PointPreset]]:
    """The family's one-tap reasons by kind (list_presets creates the defaults on first use)."""
    presets = list_presets(get_session())
    return {"bonus": [p for p in presets if p.kind == "bonus"],
            "deduction": [p for p in presets if p.kind == "deduction"]}


def _render(template: str, page: Page, **context: Any) -> str:
    return render_template(template, page=page, words=page.words, today=family_today(), **context)


def _dashboard(*, presets: dict[str, list[PointPreset]] | None = None, error: str | None = None,
               notice: str | None = None, status: int = 200) -> Response:
    """The whole page: the summary, a card per kid, the open chores."""
    session, page = get_session(), _page()
    assignments = list_day_assignments(session, family_today())
    cards = _cards(page, list_children(session), assignments)
    body = _render("dashboard/index.html", page, cards=cards, presets=presets or _presets(), page_error=error,
                   page_notice=notice,
                   open_chores=[a for a in assignments if a.status == "open"])
    return vary_on_htmx(make_response(body, status))


def _kid_card(kid: Member, *, error: str | None = None, error_item: uuid.UUID | None = None,
              notice: str | None = None, status: int = 200) -> Response:
    """One kid's card, fresh from the database."""
    page = _page()
    mine = [a for a in list_day_assignments(get_session(), family_today(), member_id=kid.id)
            if a.assigned_to == kid.id]
    card = _cards(page, [kid], mine)[0]
    card.error, card.error_item, card.notice = error, error_item, notice
    response = make_response(_render("dashboard/_kid_card.html", page, card=card, presets=_presets()), status)
    if status >= 400:
        # htmx only swaps 4xx answers that name their target (the 4xx rule in app.htmx).
        reswap(response, "outerHTML", f"#kid-{kid.id}")
    return response


def _open_chores(*, error: str | None = None, status: int = 200) -> Response:
    assignments = list_day_assignments(get_session(), family_today())
    response = make_response(_render("dashboard/_open_chores.html", _page(), open_chores=[a for a in assignments
                                                                                  if a.status == "open"],
                                     open_error=error), status)
    if status >= 400:
        reswap(response, "outerHTML", "#open-chores")
    return response


# --- answers after an action -------------------------------------------------------------------------------------

def _events(kid_id: uuid.UUID | None, names: tuple[HxEvent, ...]) -> dict[HxEvent, object]:
    detail = {"member_id": str(kid_id) if kid_id else None}
    return {name: detail for name in names}


def _publish(assignment: Assignment | None, member_id: uuid.UUID | None, *, points: bool) -> None:
    """Tell the family's other open pages (the kid's tablet, the wall, other dashboards), after the commit."""
    who = str(member_id) if member_id else None
    if assignment is not None:
        publish_event(g.family.id, "assignmentChanged", {"assignment_id": str(assignment.id),
                                                         "status": assignment.status, "member_id": who})
    if points and who:
        publish_event(g.family.id, "pointsChanged", {"member_id": who})


# What an action did, in words for a screen reader (the card changes silently): given the kid, or None.
Said = Callable[[Member | None], str]


def _after(kid_id: uuid.UUID | None, *events: HxEvent, said: Said | None = None) -> BaseResponse:
    """Done: the kid's card (or the open chores) for htmx, with events and what happened; a plain form goes back
    to the page."""
    if not is_htmx():
        return redirect(url_for("dashboard.index", _anchor=f"kid-{kid_id}" if kid_id else "open-chores"), 303)
    kid = None
    if kid_id is None:
        response = _open_chores()
    else:
        kid = get_member_or_404(get_session(), kid_id, include_inactive=True)
        response = _kid_card(kid)
    details = _events(kid_id, events)
    if said is not None:
        details[HxEvent.ANNOUNCE] = announcement(said(kid))
    return trigger(response, details=details)


def _refused(kid_id: uuid.UUID | None, error: DomainError, *, status: int | None = None,
             item: uuid.UUID | None = None) -> Response:
    """A rule said no: the card again with the message (htmx), or the page with it; nothing was kept."""
    status = status or error.status
    if not is_htmx():
        return _dashboard(error=refusal_text(error), status=status)
    if kid_id is None:
        return _open_chores(error=refusal_text(error), status=status)
    return _kid_card(get_member_or_404(get_session(), kid_id, include_inactive=True),
                     error=refusal_text(error), error_item=item, status=status)


def _state_words(state: str) -> str:
    """An assignment's state as a parent reads it, in the page's language."""
    words = {"open": gettext("open to claim"), "pending": gettext("still to do"),
             "pending_verification": gettext("waiting for your approval"), "verified": gettext("done and approved"),
             "missed": pgettext("assignment state", "missed"), "skipped": gettext("skipped")}
    return str(words.get(state, state))


def _out_of_date(chore_name: str, kid_id: uuid.UUID | None, state: str) -> BaseResponse:
    """The page showed an older state (someone acted meanwhile): the card as it is now, and a calm word why."""
    notice = gettext("%(chore)s changed meanwhile: it is %(state)s. This is how it is now.", chore=chore_name,
                     state=_state_words(state))
    if not is_htmx():
        return _dashboard(notice=notice)
    if kid_id is None:
        return _open_chores(error=notice)
    response = _kid_card(get_member_or_404(get_session(), kid_id, include_inactive=True), notice=notice)
    return trigger(response, details=_events(kid_id, (HxEvent.ASSIGNMENT_CHANGED,)))


def _not_found(error: NotFound) -> Response:
    """An id that is not this family's: a short message in the page's toast region (htmx) or the 404 page."""
    if not is_htmx():
        raise error
    toast = render_template("dashboard/_toast.html", message=refusal_text(error))
    response = make_response(toast, error.status)
    return reswap(response, "innerHTML", "#dashboard-toast")


AssignmentAction = Callable[[Session, Member, uuid.UUID], Any]
# What an action did to a chore, for a screen reader: (chore, points, kid's name) → a sentence in the page's language.
Saying = Callable[[str, int, str], str]


def _act(assignment_id: str, action: AssignmentAction, *events: HxEvent, saying: Saying | None = None
         ) -> BaseResponse:
    """Load the assignment, run one service on it, commit, answer (saying what happened)."""
    session = get_session()
    try:
        assignment = get_assignment_or_404(session, assignment_id)
    except NotFound as error:
        return _not_found(error)
    kid_id, chore_name = assignment.assigned_to, assignment.chore.name  # read before a rollback expires them
    try:
        with unit_of_work(session) as work:
            action(session, signed_in_member(), assignment.id)
            work.after_commit(_publish, assignment, kid_id, points="pointsChanged" in events)
    except DomainError as error:
        if "current_status" in error.extra:
            return _out_of_date(chore_name, kid_id, str(error.extra["current_status"]))
        return _refused(kid_id, error)
    # Read after the commit without a query (the session does not expire what it loaded).
    points = assignment.points_offered if assignment.points_earned is None else assignment.points_earned
    said = None if saying is None else (
        lambda kid: saying(chore_name, points, kid.display_name if kid else ""))
    return _after(kid_id, *events, HxEvent.ASSIGNMENT_CHANGED if kid_id else HxEvent.OPEN_CHORES_CHANGED,
                  said=said)


# --- pages and fragments -----------------------------------------------------------------------------------------

@bp.get("/today")
@parent_required
@cached_view_by_minute
def index() -> Response:
    """Today for every kid, ready to approve, with the week at a glance."""
    ensure_day(get_session(), current_rules(), family_today(), request_now())
    response = _dashboard(presets=_presets())
    # One commit for the day's assignments and the default presets a first visit may have created; after the
    # reads, so an already-materialised day costs no second transaction.
    commit_now()
    return response


@bp.get("/today/kids/<member_id>")
@parent_required
@cached_view_by_minute
def kid_card(member_id: str) -> BaseResponse:
    """One kid's card (htmx refreshes it on live events about the kid); a browser landing here gets the page there."""
    kid = get_member_or_404(get_session(), member_id)
    if not is_htmx():
        return redirect(url_for("dashboard.index", _anchor=f"kid-{kid.id}"))
    return vary_on_htmx(_kid_card(kid))


@bp.get("/today/open")
@parent_required
@cached_view_by_minute
def open_chores() -> BaseResponse:
    """The open chores nobody has claimed (htmx refreshes them on openChoresChanged)."""
    if not is_htmx():
        return redirect(url_for("dashboard.index", _anchor="open-chores"))
    return vary_on_htmx(_open_chores())


@bp.get("/today/summary")
@parent_required
@cached_view_by_minute
def summary() -> BaseResponse:
    """The counts across kids and the waiting list (htmx refreshes it on assignmentChanged)."""
    if not is_htmx():
        return redirect(url_for("dashboard.index"))
    session, page = get_session(), _page()
    cards = _cards(page, list_children(session), list_day_assignments(session, family_today()))
    return vary_on_htmx(make_response(_render("dashboard/_summary.html", page, cards=cards)))


@bp.post("/today/assignments/<assignment_id>/approve")
@parent_required
def approve(assignment_id: str) -> BaseResponse:
    """One tap: the chore is done right, the points land (once)."""
    return _act(assignment_id, lambda s, me, key: verify_assignment(
        s, actor=me, assignment_id=key, approved=True, rules=current_rules(), now=request_now()),
        HxEvent.POINTS_CHANGED, saying=lambda chore, points, name: gettext(
            "Approved: %(chore)s — %(points)s points to %(name)s", chore=chore, points=points, name=name))


@bp.post("/today/assignments/<assignment_id>/reject")
@parent_required
def reject(assignment_id: str) -> BaseResponse:
    """Send a chore back with a reason the kid will see."""
    session = get_session()
    try:
        assignment = get_assignment_or_404(session, assignment_id)
    except NotFound as error:
        return _not_found(error)
    reason = request.form.get("reason", "").strip()
    if not reason or len(reason) > MAX_REASON:
        problem = ValidationFailed(gettext("Say what to fix (up to %(count)d characters), so they know why",
                                           count=MAX_REASON),
                                   fields={"reason": "required" if not reason else "too long"})
        return _refused(assignment.assigned_to, problem, status=FORM_STATUS, item=assignment.id)
    return _act(assignment_id, lambda s, me, key: verify_assignment(
        s, actor=me, assignment_id=key, approved=False, rules=current_rules(), now=request_now(), notes=reason),
        saying=lambda chore, _points, name: gettext("Sent back to %(name)s: %(chore)s", chore=chore, name=name))


@bp.post("/today/assignments/<assignment_id>/complete")
@parent_required
def complete(assignment_id: str) -> BaseResponse:
    """A parent marks a kid's chore done for them (approved at once, points credited)."""
    return _act(assignment_id, lambda s, me, key: complete_assignment(
        s, actor=me, assignment_id=key, rules=current_rules(), now=request_now()),
        HxEvent.POINTS_CHANGED, saying=lambda chore, points, name: gettext(
            "Marked done: %(chore)s — %(points)s points to %(name)s", chore=chore, points=points, name=name))


@bp.post("/today/assignments/<assignment_id>/undo")
@parent_required
def undo(assignment_id: str) -> BaseResponse:
    """Take a completion back (credited points are reversed)."""
    return _act(assignment_id, lambda s, me, key: undo_completion(
        s, actor=me, assignment_id=key, rules=current_rules(), now=request_now()),
        HxEvent.POINTS_CHANGED, saying=lambda chore, _points, name: gettext(
            "Undone: %(chore)s for %(name)s", chore=chore, name=name))


@bp.post("/today/assignments/<assignment_id>/skip")
@parent_required
def skip(assignment_id: str) -> BaseResponse:
    """Excuse a chore for today (no points, no penalty)."""
    return _act(assignment_id, lambda s, me, key: skip_assignment(s, actor=me, assignment_id=key,
                                                                   now=request_now()),
                saying=lambda chore, _points, name: gettext("Skipped for today: %(chore)s", chore=chore))


@bp.post("/today/assignments/<assignment_id>/reopen")
@parent_required
def reopen(assignment_id: str) -> BaseResponse:
    """Give a missed chore another chance (a penalty it cost is given back)."""
    return _act(assignment_id, lambda s, me, key: reopen_assignment(
        s, actor=me, assignment_id=key, rules=current_rules(), now=request_now()),
        HxEvent.POINTS_CHANGED, saying=lambda chore, _points, name: gettext(
            "Re-opened: %(chore)s", chore=chore))


@bp.post("/today/kids/<member_id>/points")
@parent_required
def points(member_id: str) -> BaseResponse:
    """A quick bonus or deduction: one of the family's presets, or a custom amount with a reason."""
    session = get_session()
    try:
        kid = get_member_or_404(session, member_id)
    except NotFound as error:
        return _not_found(error)
    form = request.form
    if form.get("preset"):
        preset = next((p for p in list_presets(session) if str(p.id) == form["preset"]), None)
        if preset is None:
            return _not_found(NotFound("That bonus or deduction is no longer offered"))
        posted = {"kind": preset.kind, "points": preset.amount, "reason": preset.label}
    else:
        posted = {"kind": form.get("kind", ""), "points": form.get("amount", ""), "reason": form.get("reason", "")}
    try:
        with unit_of_work(session) as work:
            award = parse_action(PointsAward, posted)
            give_points(session, actor=signed_in_member(), member=kid, data=award,
                        clock=current_rules().clock, now=request_now())
            work.after_commit(_publish, None, kid.id, points=True)
    except DomainError as error:
        return _refused(kid.id, error, status=FORM_STATUS if isinstance(error, ValidationFailed) else None)
    if award.kind == "deduction":
        said = gettext("%(points)s points taken from %(name)s", points=abs(award.points), name=kid.display_name)
    else:
        said = gettext("%(points)s bonus points to %(name)s", points=abs(award.points), name=kid.display_name)
    return _after(kid.id, HxEvent.POINTS_CHANGED, said=lambda _kid: said)
