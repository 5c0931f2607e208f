"""Chore library pages: the list by category, the new/edit form with live validation, archive and restore."""
from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Response, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.assignments.services import materialise_day
from app.auth import signed_in_member
from app.auth.decorators import parent_required
from app.chores import bp
from app.chores.forms import (
    CATEGORY_SUGGESTIONS,
    ICON_CHOICES,
    SCHEDULE_KINDS,
    STRATEGIES,
    WEEK_OF_MONTH,
    WEEKDAY_NAMES,
    ChoreFormState,
    apply_move,
    chore_data,
    chore_values,
    new_chore_values,
    ordered_kids,
    posted_values,
    preview_schedule,
)
from app.chores.inputs import ChoreUpdate
from app.chores.models import Chore, Difficulty
from app.chores.schedules import describe
from app.chores.services import (archive_chore, create_chore, get_chore_or_404, list_chores, same_name_chore,
                                 update_chore)
from app.db import get_session
from app.domain import DomainError
from app.i18n import page_language
from app.live.events import publish_event
from app.members.services import list_children, list_members
from app.uow import after_commit, rolled_back, transactional, unit_of_work
from app.web import current_rules, family_today, request_now


# --- helpers ---------------------------------------------------------------------------------------------------

def _load(chore_id: str) -> Chore:
    # Archived chores can still be opened (to restore them); another family's id is simply not found.
    return get_chore_or_404(get_session(), chore_id, include_archived=True)


def _duplicate_warning(values: dict[str, Any], chore: Chore | None) -> str | None:
    """A calm warning when another chore already has this name (a second one is allowed, just rarely meant)."""
    twin = same_name_chore(get_session(), str(values.get("name") or ""), other_than=chore.id if chore else None)
    return (str(gettext("You already have a chore called “%(name)s”. Saving adds a second one.", name=twin.name))
            if twin else None)


def _form_page(state: ChoreFormState, *, chore: Chore | None, status: int = 200,
               moved: str | None = None, duplicate: str | None = None) -> Response:
    """The whole new/edit page (the form, its assignee list and the live schedule preview)."""
    kids = list_children(get_session())
    body = render_template(
        "chores/form.html", state=state, values=state.values, chore=chore, moved=moved, duplicate=duplicate,
        kids=ordered_kids(state.values, kids), preview=preview_schedule(state.values, family_today(), page_language()),
        icons=ICON_CHOICES, categories=CATEGORY_SUGGESTIONS, difficulties=Difficulty, schedule_kinds=SCHEDULE_KINDS,
        weekday_names=WEEKDAY_NAMES, weeks_of_month=WEEK_OF_MONTH, strategies=STRATEGIES,
        form_action=url_for("chores.edit", chore_id=chore.id) if chore else url_for("chores.new"))
    return make_response(body, status)


def _refused(state: ChoreFormState, error: DomainError, chore: Chore | None) -> Response:
    """The form again, with what was wrong (422); nothing of the attempt was kept (its unit of work rolled back)."""
    state.add_error(error)
    return _form_page(state, chore=chore, status=422)


def _publish(chore: Chore) -> None:
    # After the commit: today's assignments may have changed, so open dashboards, tablets and the wall refresh.
    publish_event(g.family.id, "assignmentChanged", {"chore_id": str(chore.id)})


def _who(chore: Chore, names: dict[Any, str]) -> str:
    """Who does the chore, in a few words, for the list."""
    label = str(gettext(STRATEGIES.get(chore.assignment_type, (chore.assignment_type, ""))[0]))
    if chore.assignment_type == "open":
        return label + (str(gettext(" (+%(points)s bonus)", points=chore.open_bonus_points))
                        if chore.open_bonus_points else "")
    people = [names[a.member_id] for a in chore.assignees if a.member_id in names]
    if not people:
        return str(gettext("%(label)s: every kid old enough", label=label))
    joiner = " → " if chore.assignment_type in ("round_robin", "fixed") else ", "
    return f"{label}: {joiner.join(people)}"


# --- the library -----------------------------------------------------------------------------------------------

@bp.get("/chores")
@parent_required
def index() -> Response:
    """The family's chores by category, or the archived ones."""
    archived = request.args.get("archived") == "1"
    session = get_session()
    chores = [c for c in list_chores(session, include_archived=archived) if c.active != archived]
    names = {m.id: m.display_name for m in list_members(session)}
    groups = [(category, list(items)) for category, items in groupby(chores, key=lambda c: c.category)]
    return make_response(render_template("chores/index.html", groups=groups, archived=archived,
                                         who={c.id: _who(c, names) for c in chores},
                                         when={c.id: describe(c.schedule, page_language()) if c.schedule else None
                                               for c in chores}))


@bp.route("/chores/new", methods=["GET", "POST"])
@parent_required
def new() -> BaseResponse:
    """Add a chore; today's assignments for it appear at once."""
    if request.method == "GET":
        return _form_page(ChoreFormState(new_chore_values(family_today())), chore=None)
    state = ChoreFormState(posted_values(request.form))
    if request.form.get("move"):  # an up/down button without JavaScript: show the new order, save nothing
        return _form_page(state, chore=None, moved=apply_move(state.values, request.form["move"]))
    duplicate = _duplicate_warning(state.values, None)
    if duplicate and not request.form.get("same_name_ok"):
        # Said once, then the parent decides: the form again with the warning and a box to tick.
        return _form_page(state, chore=None, duplicate=duplicate, status=422)
    session = get_session()
    try:
        with unit_of_work(session) as work:
            chore = create_chore(session, actor=signed_in_member(), data=chore_data(state.values),
                                 today=family_today())
            materialise_day(session, current_rules(), family_today(), request_now(), chores=[chore])
            work.after_commit(_publish, chore)
    except DomainError as error:
        return _refused(state, error, None)
    return redirect(url_for("chores.index"), 303)


@bp.route("/chores/<chore_id>/edit", methods=["GET", "POST"])
@parent_required
def edit(chore_id: str) -> BaseResponse:
    """Change a chore; today's assignments follow the new rules."""
    chore = _load(chore_id)
    if request.method == "GET":
        return _form_page(ChoreFormState(chore_values(chore, family_today())), chore=chore)
    state = ChoreFormState(posted_values(request.form))
    if request.form.get("move"):
        return _form_page(state, chore=chore, moved=apply_move(state.values, request.form["move"]))
    session = get_session()
    try:
        data = chore_data(state.values)
        with unit_of_work(session) as work:
            update_chore(session, chore, actor=signed_in_member(), data=data, today=family_today())
            materialise_day(session, current_rules(), family_today(), request_now(), chores=[chore])
            work.after_commit(_publish, chore)
    except DomainError as error:
        return _refused(state, error, chore)
    return redirect(url_for("chores.index", archived="1" if not chore.active else None), 303)


@bp.post("/chores/validate")
@parent_required
def validate() -> Response:
    """Live validation: the form's errors and the schedule's next five dates, as the parent types.

    It runs the real service on the posted data and never commits, so the rules live in one place.
    """
    state = ChoreFormState(posted_values(request.form))
    session = get_session()
    chore = _load(request.form["chore_id"]) if request.form.get("chore_id") else None
    with rolled_back(session):  # a check: nothing of it is kept
        try:
            data = chore_data(state.values)
            if chore is None:
                create_chore(session, actor=signed_in_member(), data=data, today=family_today())
            else:
                    update_chore(session, chore, actor=signed_in_member(), data=data, today=family_today())
        except DomainError as error:
            state.add_error(error)
    preview = preview_schedule(state.values, family_today(), page_language())
    return make_response(render_template("chores/_feedback.html", state=state, preview=preview, checked=True,
                                         duplicate=_duplicate_warning(state.values, chore)))


@bp.post("/chores/assignees")
@parent_required
def assignees() -> Response:
    """The "who does it" list after an up/down tap (htmx); nothing is saved until the form is."""
    state = ChoreFormState(posted_values(request.form))
    moved = apply_move(state.values, request.form.get("move", ""))
    kids = ordered_kids(state.values, list_children(get_session()))
    return make_response(render_template("chores/_assignees.html", values=state.values, kids=kids, moved=moved,
                                         state=state))


@bp.post("/chores/<chore_id>/archive")
@parent_required
@transactional
def archive(chore_id: str) -> BaseResponse:
    """Archive a chore: it leaves the list and is no longer assigned (its history stays)."""
    chore = _load(chore_id)
    archive_chore(get_session(), chore, actor=signed_in_member(), now=request_now())
    after_commit(_publish, chore)
    return redirect(url_for("chores.index"), 303)


@bp.post("/chores/<chore_id>/restore")
@parent_required
@transactional
def restore(chore_id: str) -> BaseResponse:
    """Bring an archived chore back."""
    chore = _load(chore_id)
    session = get_session()
    update_chore(session, chore, actor=signed_in_member(), data=ChoreUpdate(active=True), today=family_today())
    materialise_day(session, current_rules(), family_today(), request_now(), chores=[chore])
    after_commit(_publish, chore)
    return redirect(url_for("chores.index", archived="1"), 303)

