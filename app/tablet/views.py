"""The family tablet and the kid's own view: avatar wall, PIN turns, today's chores, the family wall, photo proof."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from flask import (Response, abort, g, make_response, redirect, render_template, request, send_file,
                   url_for)
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from flask_babel import gettext

from app.languages import translatable
from app.i18n import refusal_text
from app.accounts.audit import audit
from app.assignments.models import Assignment
from app.assignments.photos import MIMETYPE, photo_path, prepare_photo, read_upload, stage_photo
from app.assignments.services import (
    DayAssignment,
    assignments_for_day,
    claim_assignment,
    complete_locked,
    compute_streak,
    ensure_day,
    get_assignment_or_404,
    kid_day_rows,
    lock_assignment,
)
from app.auth import current_member, sign_in, sign_out, signed_in_member
from app.auth.decorators import login_required
from app.auth.inputs import PinInput
from app.auth.services import authenticate_pin
from app.db import get_session
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, DomainError, LockedOut, NotFound, ValidationFailed
from app.extensions import limiter
from app.family_time import END_OF_DAY, FamilyClock
from app.htmx import HxEvent, announcement, is_htmx, is_navigation, redirect_to, reswap, trigger, vary_on_htmx
from app.inputs import parse_input
from app.live.events import publish_event
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.reports.leaderboards import LeaderboardRow, leaderboard
from app.points.models import LedgerEntry
from app.points.services import LIFETIME_KINDS
from app.settings.services import get_setting
from app.tablet import bp
from app.uow import commit_now, unit_of_work
from app.tablet.devices import is_tablet_turn, this_browsers_device
from app.view_cache import cached_view
from app.web import current_rules, family_today, request_now, uploads_root


@bp.before_request
def load_tablet_pages_whole() -> BaseResponse | None:
    """A boosted navigation into the kiosk becomes a full page load.

    htmx keeps the old <head> (so the tablet's script and styles would be missing) and does not swap 4xx answers
    (so a refused browser would see nothing happen); HX-Redirect makes htmx load the page itself.
    """
    # Only navigations: the kiosk's own widgets fetch their fragments with plain (non-boosted) htmx requests.
    if request.method == "GET" and is_navigation():
        return redirect_to(make_response("", 200), request.full_path.rstrip("?"))
    return None


@bp.after_request
def vary_on_htmx_requests(response: BaseResponse) -> BaseResponse:
    """Tablet pages answer htmx and plain requests differently, so caches must keep them apart."""
    return vary_on_htmx(response)


@bp.app_context_processor
def tablet_context() -> dict[str, object]:
    """Every family page shows the turn bar (idle timer, "I'm done") during a kid's PIN turn on the family tablet,
    never for a password session; the family's idle time is read only when a page shows the bar."""
    if g.get("family") is None:
        return {"tablet_turn": False}
    return {"tablet_turn": is_tablet_turn(), "idle_seconds": tablet_idle_seconds}


def tablet_idle_seconds() -> int:
    """The family's setting: how long a kid's turn lasts without a touch."""
    return int(get_setting(get_session(), "tablet_idle_seconds", include_private=True))


def device_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Tablet pages answer only on a browser a parent registered; elsewhere they explain how to set one up."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        device = this_browsers_device()
        if device is None:
            return render_template("tablet/setup_needed.html"), 403
        g.tablet_device = device
        return view(*args, **kwargs)
    return wrapped


def get_kid_or_404(member_id: uuid.UUID) -> Member:
    """An active kid of this family (parents and other families' kids are simply not found on the tablet)."""
    member = get_member_or_404(get_session(), member_id)
    if member.is_parent:
        raise NotFound("User not found")
    return member


def _keypad(kid: Member, *, status: int = 200, error: str | None = None) -> Response:
    return make_response(render_template("tablet/keypad.html", kid=kid, error=error), status)


def _audit(action: str, kid: Member) -> None:
    audit(action, member_id=kid.id, target_type="tablet_device", target_id=g.tablet_device.id, method="pin")


@bp.get("/tablet")
@device_required
def wall() -> str:
    """Every active kid as a big avatar button: tap yours to start your turn."""
    kids = list_children(get_session())
    commit_now()  # the device's last-seen time
    return render_template("tablet/wall.html", kids=kids)


@bp.get("/tablet/<uuid:member_id>")
@device_required
def keypad(member_id: uuid.UUID) -> Response:
    """A big on-screen number pad for the kid's PIN: no keyboard needed."""
    kid = get_kid_or_404(member_id)
    commit_now()  # the device's last-seen time
    return _keypad(kid)


@bp.post("/tablet/<uuid:member_id>/unlock")
@limiter.limit("30/minute")
@device_required
def unlock(member_id: uuid.UUID) -> BaseResponse:
    """Check the PIN and start the kid's turn on this tablet; wrong PINs count towards the kid's lockout."""
    kid = get_kid_or_404(member_id)
    try:
        pin = parse_input(PinInput, request.form).pin
    except ValidationFailed as error:
        return _keypad(kid, status=422, error=refusal_text(error))
    if not pin:
        # An accidental OK with no digits is not a guess, so it does not count against the kid.
        return _keypad(kid, status=422, error=gettext("Type your PIN, then press OK."))
    session = get_session()
    try:
        authenticate_pin(session, member=kid, pin=pin, now=utcnow())
    except LockedOut as error:
        with unit_of_work(session):  # the failure that locked the keypad must be remembered
            _audit("auth.pin_locked_out", kid)
        locked = render_template("tablet/locked.html", kid=kid, message=refusal_text(error))
        response = make_response(locked, 423)
        if error.extra.get("retry_after") is not None:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    except AuthenticationFailed as error:
        with unit_of_work(session):  # the lockout counts this failure
            _audit("auth.pin_login_failed", kid)
        return _keypad(kid, status=422, error=refusal_text(error))
    with unit_of_work(session):
        sign_in(kid, device=g.tablet_device)
        _audit("auth.pin_login", kid)
    return redirect(url_for("tablet.kid_home"))


@bp.post("/tablet/done")
def done() -> BaseResponse:
    """End the kid's turn (the Done button or the idle timer) and go back to the wall."""
    with unit_of_work():
        sign_out()
        on_tablet = this_browsers_device() is not None
    return redirect(url_for("tablet.wall" if on_tablet else "family_home.index"))


# --- the kid's day ---------------------------------------------------------------------------------------------

# A kid's list: things to do first, then what waits for a parent, then what is done or missed.
STATE_ORDER = {"rejected": 0, "todo": 0, "waiting": 1, "done": 2, "missed": 3}
STATE_LABELS = {"todo": translatable("To do"), "rejected": translatable("Try again"),
                "waiting": translatable("Waiting for a parent"), "done": translatable("Done!"),
                "missed": translatable("Missed"), "open": translatable("Up for grabs")}


@dataclass(frozen=True)
class ChoreCard:
    """One assignment as the kid sees it: its state in kid words and when it is due (family-local)."""

    assignment: Assignment | DayAssignment
    state: str
    due_label: str

    @property
    def label(self) -> str:
        return str(gettext(STATE_LABELS[self.state]))


@dataclass(frozen=True)
class KidDay:
    """The kid's chores today, the open ones they may claim, and their streak (all from one query)."""

    mine: list[ChoreCard]
    up_for_grabs: list[ChoreCard]
    streak: int


def chore_card(assignment: Assignment | DayAssignment, clock: FamilyClock) -> ChoreCard:
    """The card of one assignment."""
    state = {"pending": "todo", "pending_verification": "waiting", "verified": "done", "missed": "missed",
             "open": "open"}.get(assignment.status, assignment.status)
    if state == "todo" and assignment.rejection_reason:
        state = "rejected"
    due = clock.local(assignment.due_at)
    due_label = (str(gettext("Any time today")) if due.time().replace(microsecond=0) == END_OF_DAY
                 else str(gettext("By %(time)s", time=f"{due:%H:%M}")))
    return ChoreCard(assignment=assignment, state=state, due_label=due_label)


def kid_day(session: Session, kid: Member, day: date, clock: FamilyClock) -> KidDay:
    """Today's cards for one kid: their own (skipped ones hidden) and the open chores they are old enough for."""
    mine, up_for_grabs = [], []
    age = kid.age_on(day)
    assignments, streak = kid_day_rows(session, kid.id, day)
    for assignment in assignments:
        if assignment.status == "open":
            if age is None or age >= assignment.chore.min_age:
                up_for_grabs.append(chore_card(assignment, clock))
        elif assignment.assigned_to == kid.id and assignment.status != "skipped":
            mine.append(chore_card(assignment, clock))
    mine.sort(key=lambda card: STATE_ORDER.get(card.state, 9))  # stable: due time order within a state
    return KidDay(mine=mine, up_for_grabs=up_for_grabs, streak=streak)


def kid_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The kid's own actions and fragments: signed-in kids only (parents have the dashboard)."""
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if signed_in_member().is_parent:
            abort(403, description=translatable("This is a kid's page: parents approve chores on the Today page."))
        return view(*args, **kwargs)
    return wrapped


def signed_in_kid() -> Member:
    """The kid acting in this request (the decorators made sure there is one)."""
    member = current_member()
    assert member is not None and not member.is_parent
    return member


def check_own_assignment_or_404(kid: Member, assignment_id: uuid.UUID) -> None:
    """Only the kid's own assignment may be tapped; a sibling's (or another family's) is simply not found.

    One narrow query: the service loads and locks the whole row itself right after, so loading it here too would
    cost the hot path three more queries (the chore and its schedule and rotation come with every assignment).
    """
    owner = get_session().execute(select(Assignment.assigned_to).where(Assignment.id == assignment_id)).first()
    if owner is None or owner.assigned_to != kid.id:
        raise NotFound("Assignment not found")


def get_claimable_or_404(kid: Member, assignment_id: uuid.UUID) -> Assignment:
    """An assignment every kid could see as open (still open, or claimed since), or the kid's own."""
    assignment = get_assignment_or_404(get_session(), assignment_id)
    if assignment.assigned_to != kid.id and assignment.status != "open" and assignment.claimed_at is None:
        raise NotFound("Assignment not found")
    return assignment


def _ensure_today() -> date:
    """Materialise today's assignments on the first read of the day and commit them."""
    today = family_today()
    session = get_session()
    # Commit only what there is to commit (a new day, a session's last-seen stamp): a plain read keeps its one
    # transaction instead of paying a second BEGIN and RLS setup.
    if ensure_day(session, current_rules(), today, request_now()) or session.dirty:
        commit_now()
    return today


def _publish_assignment_change(assignment: Assignment, *, points: bool) -> None:
    """Tell the parent dashboard and the wall (after the commit); the same event shapes as the API's."""
    member_id = str(assignment.assigned_to) if assignment.assigned_to else None
    publish_event(g.family.id, "assignmentChanged", {"assignment_id": str(assignment.id),
                                                     "status": assignment.status, "member_id": member_id})
    if points and member_id:
        publish_event(g.family.id, "pointsChanged", {"member_id": member_id})


def _chores_fragment(kid: Member, *, notice: str | None = None, status: int = 200) -> Response:
    rules = current_rules()
    day = kid_day(get_session(), kid, family_today(), rules.clock)
    response = make_response(render_template("tablet/_kid_chores.html", kid=kid, day=day, notice=notice), status)
    return reswap(response, "innerHTML", "#kid-chores") if status >= 400 else response


def _card_fragment(assignment: Assignment, *, error: str | None = None, flipped: bool = False,
                   status: int = 200) -> Response:
    card = chore_card(assignment, current_rules().clock)
    response = make_response(render_template("tablet/_chore_card.html", card=card, error=error, flipped=flipped),
                             status)
    return reswap(response, "outerHTML", f"#chore-{assignment.id}") if status >= 400 else response


@bp.get("/me")
@login_required
@cached_view
def kid_home() -> BaseResponse | str:
    """The kid's own view: my points and streak, today's chores as big cards, and open chores to claim."""
    member = current_member()
    assert member is not None  # login_required
    if member.is_parent:
        return redirect(url_for("family_home.index"))
    session = get_session()
    today = _ensure_today()
    day = kid_day(session, member, today, current_rules().clock)
    return render_template("tablet/kid_home.html", kid=member, day=day, streak=day.streak, today=today)


@bp.get("/me/chores")
@kid_required
@cached_view
def kid_chores() -> Response:
    """The kid's cards alone (refreshed live when a parent approves, rejects or hands out a chore)."""
    kid = signed_in_kid()
    _ensure_today()
    return _chores_fragment(kid)


@bp.get("/me/stats")
@kid_required
@cached_view
def kid_stats() -> str:
    """The kid's points and streak alone (refreshed live when points land)."""
    kid = signed_in_kid()
    return render_template("tablet/_kid_stats.html", kid=kid,
                           streak=compute_streak(get_session(), kid.id, family_today()))


@bp.get("/me/still-here")
@kid_required
def still_here() -> Response:
    """The tablet was touched without asking for anything (scrolling, reading): the kid's turn goes on.

    static/js/tablet.js calls this at most every few seconds while a kid touches the screen; signing in records the
    activity (app.auth), so there is nothing else to do.
    """
    response = make_response("", 204)
    response.headers["Cache-Control"] = "no-store"
    return response


def check_tapped_by(kid: Member) -> None:
    """A tap kept on the tablet while offline names its kid (X-Tapped-By): sent during anyone else's turn it is
    refused as theirs to send (403, the tablet keeps it), never answered "not found" (404, which would end it)."""
    tapped_by = request.headers.get("X-Tapped-By")
    if tapped_by is not None and tapped_by != str(kid.id):
        abort(403, description=translatable("This tap was made by another kid: it waits for their turn."))


@bp.post("/me/assignments/<uuid:assignment_id>/complete")
@kid_required
def complete_chore(assignment_id: uuid.UUID) -> BaseResponse:
    """Tap → done in one step (with the photo when the chore needs one): the card flips, the points count up."""
    kid = signed_in_kid()
    check_tapped_by(kid)
    session = get_session()
    upload = request.files.get("photo")
    if upload is not None and upload.filename:
        check_own_assignment_or_404(kid, assignment_id)  # before a photo is re-encoded and staged for it
    staged = None
    try:
        with unit_of_work(session) as work:
            # Checked and re-encoded before anything changes (and before the row is locked): a bad file leaves the
            # assignment as it was.
            photo = prepare_photo(read_upload(upload.stream)) if upload is not None and upload.filename else None
            # One read: the row, locked, with its chore. It is also the ownership check (a sibling's is not found)
            # and answers a second tap on a card that already flipped without a second transaction.
            assignment = lock_assignment(session, assignment_id)
            if assignment.assigned_to != kid.id:
                raise NotFound("Assignment not found")
            if (is_htmx() and assignment.status in ("pending_verification", "verified")
                    and assignment.completed_by == kid.id):
                # A second tap (a tablet's replayed offline tap, its photo too): nothing changes, and the photo a
                # parent may already have looked at is not replaced by the repeat's.
                return _card_fragment(assignment)
            if photo is not None:
                staged = stage_photo(uploads_root(), g.family.id, assignment_id, photo)
                work.stage(staged)  # published after the commit, discarded on any failure
            assignment = complete_locked(session, assignment, actor=kid, rules=current_rules(), now=request_now(),
                                         photo_name=staged.name if staged else None)
            work.after_commit(lambda: _publish_assignment_change(assignment,
                                                                 points=assignment.status == "verified"))
    except NotFound:
        raise  # never show a card that is not the kid's
    except DomainError as refused:
        if not is_htmx():
            raise
        assignment = get_assignment_or_404(session, assignment_id)
        return _card_fragment(assignment, error=refusal_text(refused), status=refused.status)
    if not is_htmx():
        return redirect(url_for("tablet.kid_home"), 303)
    response = _card_fragment(assignment, flipped=True)
    said = (gettext("Done! +%(points)s points", points=assignment.points_earned) if assignment.status == "verified"
            else gettext("Done! Waiting for a parent"))
    return trigger(response, details={HxEvent.POINTS_CHANGED: {"points": kid.available_points},
                                      HxEvent.ANNOUNCE: announcement(f"{assignment.chore.name}: {said}")})


@bp.post("/me/assignments/<uuid:assignment_id>/claim")
@kid_required
def claim_chore(assignment_id: uuid.UUID) -> BaseResponse:
    """"I'll do it!": the first kid to claim an open chore gets it, and the card moves into their list."""
    kid = signed_in_kid()
    session = get_session()
    assignment = get_claimable_or_404(kid, assignment_id)
    try:
        with unit_of_work(session):
            claim_assignment(session, actor=kid, assignment_id=assignment.id, now=request_now())
    except DomainError as refused:
        if not is_htmx():
            raise
        if assignment.assigned_to == kid.id:
            return _chores_fragment(kid)  # already mine: a second tap
        too_late = assignment.assigned_to is not None
        return _chores_fragment(kid, notice=gettext("Too late: someone else is already doing that one!") if too_late
                                else refusal_text(refused), status=409 if too_late else refused.status)
    _publish_assignment_change(assignment, points=False)
    if not is_htmx():
        return redirect(url_for("tablet.kid_home"), 303)
    return trigger(_chores_fragment(kid), details={HxEvent.ANNOUNCE: announcement(
        gettext("It's your chore now: %(name)s", name=assignment.chore.name))})


# --- the family wall -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KidProgress:
    """One kid on the wall: today's chores done out of all, waiting for a parent, and points earned today."""

    kid: Member
    done: int
    waiting: int
    total: int
    points_today: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def wall_viewer_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The wall shows on the registered family tablet and to any signed-in member of the family."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        device = this_browsers_device()
        if device is not None:
            g.tablet_device = device  # family_base.html gives the kiosk the live stream too
        elif current_member() is None:
            return login_required(view)(*args, **kwargs)  # its sign-in redirect (or 401 for htmx)
        return view(*args, **kwargs)
    return wrapped


def _points_earned_on(session: Session, day: date, clock: FamilyClock) -> dict[uuid.UUID, int]:
    """Points each member earned on a family-local day (chores, bonuses, achievements; never spending)."""
    start, end = clock.day_bounds(day)
    rows = session.execute(select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
                           .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end,
                                  LedgerEntry.amount > 0, LedgerEntry.kind.in_(LIFETIME_KINDS))
                           .group_by(LedgerEntry.member_id))
    return {member_id: int(total or 0) for member_id, total in rows}


def wall_progress(session: Session, day: date, clock: FamilyClock) -> list[KidProgress]:
    """Every active kid's progress today, in name order (the wall's rings)."""
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for assignment in assignments_for_day(session, day):
        if assignment.assigned_to is None or assignment.status == "skipped":
            continue
        mine = counts.setdefault(assignment.assigned_to, {"done": 0, "waiting": 0, "total": 0})
        mine["total"] += 1
        mine["done"] += assignment.status == "verified"
        mine["waiting"] += assignment.status == "pending_verification"
    earned = _points_earned_on(session, day, clock)
    empty = {"done": 0, "waiting": 0, "total": 0}
    return [KidProgress(kid=kid, points_today=earned.get(kid.id, 0), **counts.get(kid.id, empty))
            for kid in list_children(session)]


def _wall_board() -> dict[str, object]:
    session = get_session()
    rules = current_rules()
    today = family_today()
    leaders: list[LeaderboardRow] = leaderboard(session, "week", clock=rules.clock, now=request_now())
    return {"progress": wall_progress(session, today, rules.clock), "leaders": leaders,
            "link_to_keypads": g.get("tablet_device") is not None and current_member() is None}


@bp.get("/wall")
@wall_viewer_required
@cached_view
def family_wall() -> str:
    """The family wall (the tablet's kiosk home): everyone's progress today and this week's leaderboard, live."""
    _ensure_today()  # also stores the device's last-seen time
    return render_template("tablet/family_wall.html", **_wall_board())


@bp.get("/wall/board")
@wall_viewer_required
@cached_view
def wall_board() -> str:
    """The wall's progress rings and leaderboard alone (refreshed on every assignment or points event)."""
    _ensure_today()
    return render_template("tablet/_wall_board.html", **_wall_board())


# --- photo proof -----------------------------------------------------------------------------------------------

def _photo(assignment_id: uuid.UUID, *, thumb: bool) -> Response:
    member = current_member()
    assert member is not None  # login_required
    assignment = get_assignment_or_404(get_session(), assignment_id)
    if not member.is_parent and assignment.assigned_to != member.id:
        raise NotFound("Photo not found")  # kids see only their own photos
    path = photo_path(uploads_root(), g.family.id, assignment.photo_name, thumb=thumb)
    commit_now()  # the device's last-seen time; the file is sent without holding the connection
    if path is None:
        raise NotFound("Photo not found")
    response = send_file(path, mimetype=MIMETYPE, conditional=True, etag=True, max_age=None)
    # Family photos: only this browser may keep a copy, and it asks again before reusing it (a redo replaces it).
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/photos/<uuid:assignment_id>")
@login_required
def photo(assignment_id: uuid.UUID) -> Response:
    """The photo a kid sent as proof (parents: any of the family's; kids: their own)."""
    return _photo(assignment_id, thumb=False)


@bp.get("/photos/<uuid:assignment_id>/thumb")
@login_required
def photo_thumb(assignment_id: uuid.UUID) -> Response:
    """The proof photo's 320 px thumbnail (the parent dashboard's approval cards)."""
    return _photo(assignment_id, thumb=True)
