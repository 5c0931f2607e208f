"""Rewards pages: a kid's store (request, save for it, my requests) and a parent's catalogue and decisions.

Every action is a thin POST: load (another family's id → 404), call one service, commit, publish the live event,
then answer htmx with the refreshed fragment or a plain browser with a redirect. Refusals come back as the fragment
with the message: 422 for a form that needs fixing, the rule's own 4xx otherwise.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, abort, g, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app.allowance.services import conversion_rate
from app.assignments.photos import MIMETYPE, StagedPhoto, photo_path, prepare_photo, read_upload, stage_photo
from app.i18n import format_money, page_language, refusal_text
from app.languages import translatable
from app.auth import current_member
from app.auth.decorators import login_required, parent_required
from app.db import get_session
from app.domain import DomainError, NotFound, ValidationFailed
from app.htmx import HxEvent, announcement, is_htmx, reswap, trigger, vary_on_htmx
from app.inputs import parse_input
from app.live.events import publish_event
from app.members.models import Member
from app.rewards import bp
from app.rewards.forms import (
    AVAILABILITY_CHOICES,
    CATEGORY_SUGGESTIONS,
    ICON_CHOICES,
    WEEKDAY_SHORT,
    RewardFormState,
    new_reward_values,
    posted_values,
    reward_data,
    reward_values,
)
from app.rewards.inputs import RedeemInput, RejectInput, RewardInput, SavingsGoalInput
from app.rewards.models import Redemption, Reward
from app.rewards.services import (
    approve_redemption,
    archive_reward,
    clear_savings_goal,
    create_reward,
    describe_availability,
    fulfil_redemption,
    get_redemption_or_404,
    get_reward_or_404,
    goal_progress,
    list_redemptions,
    list_rewards,
    list_store,
    reject_redemption,
    request_reward,
    set_savings_goal,
    update_reward,
    set_reward_photo,
)
from app.uow import after_commit, transactional, unit_of_work
from app.web import current_rules, request_now, uploads_root

FORM_STATUS = 422
MY_REQUESTS_SHOWN = 20
RECENT_DECISIONS_SHOWN = 10


def _published(*names: str, **data: Any) -> None:
    """After the commit: every open page of the family refreshes what changed."""
    for name in names:
        publish_event(g.family.id, name, {key: str(value) for key, value in data.items()})


def _members(session: Session, redemptions: list[Redemption]) -> dict[uuid.UUID, Member]:
    ids = {r.member_id for r in redemptions}
    return {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}


def _money(session: Session) -> Callable[[int], str]:
    """Formats a reward's value_in_cents in the family's currency, reading the currency only if a value is shown."""
    currency: list[str] = []

    def money(cents: int) -> str:
        if not currency:
            currency.append(conversion_rate(session).currency)
        return format_money(cents, currency[0])
    return money


# --- the kid's store ---------------------------------------------------------------------------------------------

def _store_context(kid: Member, *, error: str | None = None) -> dict[str, Any]:
    session = get_session()
    return {"kid": kid, "items": list_store(session, kid, current_rules(), request_now(), page_language()),
            "money": _money(session),
            "goal": goal_progress(session, kid), "error": error,
            "requests": list_redemptions(session, member_id=kid.id, limit=MY_REQUESTS_SHOWN)}


def _store_fragment(kid: Member, *, error: str | None = None, notice: str | None = None,
                    status: int = 200) -> Response:
    """The kid's store (balance, goal, cards, requests) as one fragment, fresh from the database."""
    body = render_template("rewards/_store.html", **_store_context(kid, error=error))
    if notice:
        body += render_template("rewards/_toast.html", region="store-toast", notice=notice, oob=True)
    response = make_response(body, status)
    if status >= 400:
        # htmx swaps a refusal only when it names its target (the 4xx rule in app.htmx).
        reswap(response, "outerHTML", "#reward-store")
    return response


def _me() -> Member:
    """The signed-in member (the access decorators have made sure there is one)."""
    member = current_member()
    assert member is not None
    return member


def _kid_only() -> Member:
    """The signed-in kid; parents manage the store rather than shop in it."""
    member = _me()
    if member.is_parent:
        abort(403, description=translatable("Rewards are requested by kids; parents decide on this page."))
    return member


def _store_answer(kid: Member, *, notice: str | None = None, events: tuple[HxEvent, ...] = ()) -> BaseResponse:
    if not is_htmx():
        return redirect(url_for("rewards.store"), 303)
    return trigger(_store_fragment(kid, notice=notice), *events)


def _store_refused(kid: Member, error: DomainError) -> Response:
    """A rule said no: the store again with the message; nothing of the attempt was kept (its unit of work)."""
    if not is_htmx():
        page = render_template("rewards/store.html", **_store_context(kid, error=refusal_text(error)))
        return make_response(page, error.status)
    return _store_fragment(kid, error=refusal_text(error), status=error.status)


@bp.get("/rewards")
@login_required
def store() -> Response:
    """Kids: the store with what they can afford and their requests. Parents: requests to decide and the catalogue."""
    member = _me()
    if member.is_parent:
        return vary_on_htmx(_manage_page(archived=request.args.get("archived") == "1"))
    return vary_on_htmx(make_response(render_template("rewards/store.html", **_store_context(member))))


@bp.get("/rewards/panel")
@login_required
def store_panel() -> BaseResponse:
    """The kid's store fragment (htmx refreshes it on live reward and points events)."""
    member = _me()
    if not is_htmx() or member.is_parent:
        return redirect(url_for("rewards.store"))
    return vary_on_htmx(_store_fragment(member))


@bp.post("/rewards/<reward_id>/request")
@login_required
def request_item(reward_id: str) -> BaseResponse:
    """Spend points on a reward: they are held at once, and a parent approves unless none is needed."""
    kid = _kid_only()
    session = get_session()
    try:
        with unit_of_work(session):
            redemption = request_reward(session, kid, reward_id, current_rules(), request_now(),
                                        data=parse_input(RedeemInput, request.form))
            name, status = redemption.reward.name, redemption.status
    except DomainError as error:
        return _store_refused(kid, error)
    _published("rewardChanged", "pointsChanged", member_id=kid.id, redemption_id=redemption.id)
    notice = (gettext("%(name)s is yours! A parent will hand it over.", name=name) if status == "approved"
              else gettext("You asked for %(name)s. A parent will look at it soon.", name=name))
    return _store_answer(kid, notice=notice, events=(HxEvent.POINTS_CHANGED,))


@bp.post("/rewards/<reward_id>/goal")
@login_required
def save_for(reward_id: str) -> BaseResponse:
    """Pin a reward as the kid's savings goal."""
    kid = _kid_only()
    session = get_session()
    try:
        choice = parse_input(SavingsGoalInput, {"reward_id": reward_id})
    except ValidationFailed:  # not an id: no such reward
        return _store_refused(kid, NotFound("Reward not found"))
    try:
        with unit_of_work(session):
            goal = set_savings_goal(session, kid, kid, choice)
            name = goal.reward.name
    except DomainError as error:
        return _store_refused(kid, error)
    _published("rewardChanged", member_id=kid.id)
    return _store_answer(kid, notice=gettext("Saving for %(name)s.", name=name))


@bp.post("/rewards/goal/clear")
@login_required
def stop_saving() -> BaseResponse:
    """Unpin the kid's savings goal."""
    kid = _kid_only()
    session = get_session()
    try:
        with unit_of_work(session):
            clear_savings_goal(session, kid, kid)
    except DomainError as error:
        return _store_refused(kid, error)
    _published("rewardChanged", member_id=kid.id)
    return _store_answer(kid)


# --- the parent's side: requests ---------------------------------------------------------------------------------

def _requests_context(*, error: str | None = None, error_item: uuid.UUID | None = None) -> dict[str, Any]:
    session = get_session()
    pending = list_redemptions(session, statuses=("pending",))
    approved = list_redemptions(session, statuses=("approved",))
    recent = list_redemptions(session, statuses=("fulfilled", "rejected"), limit=RECENT_DECISIONS_SHOWN)
    return {"pending": pending, "approved": approved, "recent": recent,
            "members": _members(session, pending + approved + recent), "requests_error": error,
            "error_item": error_item}


def _requests_fragment(*, error: str | None = None, error_item: uuid.UUID | None = None,
                       status: int = 200) -> Response:
    response = make_response(render_template("rewards/_requests.html",
                                             **_requests_context(error=error, error_item=error_item)), status)
    if status >= 400:
        reswap(response, "outerHTML", "#reward-requests")
    return response


def _manage_page(*, archived: bool = False, error: str | None = None, error_item: uuid.UUID | None = None,
                 status: int = 200) -> Response:
    """The parent's page: requests waiting, then the catalogue (or the archived rewards)."""
    session = get_session()
    rewards = [r for r in list_rewards(session, include_archived=archived) if r.active != archived]
    return make_response(render_template("rewards/manage.html", rewards=rewards, archived=archived,
                                         describe_availability=lambda r: describe_availability(r, page_language()),
                                         money=_money(session),
                                         **_requests_context(error=error, error_item=error_item)), status)


@bp.get("/rewards/requests")
@parent_required
def requests_panel() -> BaseResponse:
    """The requests fragment (htmx refreshes it on live reward events)."""
    if not is_htmx():
        return redirect(url_for("rewards.store", _anchor="reward-requests"))
    return vary_on_htmx(_requests_fragment())


Decision = Callable[[Session, Member, uuid.UUID], Redemption]
# What a decision did, for a screen reader (the list changes silently): (reward, kid's name) → a sentence.
Saying = Callable[[str, str], str]


def _decide(redemption_id: str, decide: Decision, *events: HxEvent, saying: Saying | None = None) -> BaseResponse:
    """Load the request, run one decision on it, commit, answer with the refreshed requests (saying what
    happened)."""
    session = get_session()
    try:
        redemption = get_redemption_or_404(session, redemption_id)
    except NotFound as error:
        if not is_htmx():
            raise
        return _requests_fragment(error=refusal_text(error), status=error.status)
    key = redemption.id
    try:
        with unit_of_work(session):
            decided = decide(session, _me(), key)
    except DomainError as error:
        status = FORM_STATUS if error.fields else error.status
        message, item = refusal_text(error), key if error.fields else None
        if not is_htmx():
            return _manage_page(error=message, error_item=item, status=status)
        return _requests_fragment(error=message, error_item=item, status=status)
    member_id = decided.member_id
    _published("rewardChanged", *events, member_id=member_id, redemption_id=key)
    if not is_htmx():
        return redirect(url_for("rewards.store", _anchor="reward-requests"), 303)
    response = trigger(_requests_fragment(), *events)
    if saying is None:
        return response
    kid = session.get(Member, member_id)  # in the identity map already: the fragment listed the request's kid
    said = saying(decided.reward.name, kid.display_name if kid else "")
    return trigger(response, details={HxEvent.ANNOUNCE: announcement(said)})


@bp.post("/rewards/requests/<redemption_id>/approve")
@parent_required
def approve(redemption_id: str) -> BaseResponse:
    """Say yes to a waiting request."""
    return _decide(redemption_id, lambda s, me, key: approve_redemption(s, me, key, request_now()),
                   saying=lambda reward, name: gettext("Approved: %(reward)s for %(name)s", reward=reward,
                                                       name=name))


@bp.post("/rewards/requests/<redemption_id>/reject")
@parent_required
def reject(redemption_id: str) -> BaseResponse:
    """Say no, with a reason the kid sees; the points go back."""
    return _decide(redemption_id, lambda s, me, key: reject_redemption(
        s, me, key, parse_input(RejectInput, request.form), current_rules(), request_now()), HxEvent.POINTS_CHANGED,
        saying=lambda reward, name: gettext("Rejected: %(reward)s for %(name)s. The points went back.",
                                            reward=reward, name=name))


@bp.post("/rewards/requests/<redemption_id>/fulfil")
@parent_required
def fulfil(redemption_id: str) -> BaseResponse:
    """Mark an approved request as handed over."""
    return _decide(redemption_id, lambda s, me, key: fulfil_redemption(s, me, key, request_now()),
                   saying=lambda reward, name: gettext("Handed over: %(reward)s to %(name)s", reward=reward,
                                                       name=name))


@bp.post("/rewards/requests/<redemption_id>/approve-and-fulfil")
@parent_required
def approve_and_fulfil(redemption_id: str) -> BaseResponse:
    """One step when the parent hands the reward over at once: approved and handed over, together or not at all."""
    def both(session: Session, me: Member, key: uuid.UUID) -> Redemption:
        approve_redemption(session, me, key, request_now())
        return fulfil_redemption(session, me, key, request_now())
    return _decide(redemption_id, both, saying=lambda reward, name: gettext(
        "Approved and handed over: %(reward)s to %(name)s", reward=reward, name=name))


# --- the parent's side: the catalogue ----------------------------------------------------------------------------

def _form_page(state: RewardFormState, *, reward: Reward | None, status: int = 200) -> Response:
    action = url_for("rewards.edit", reward_id=reward.id) if reward else url_for("rewards.new")
    return make_response(render_template("rewards/form.html", state=state, values=state.values, reward=reward,
                                         form_action=action, icons=ICON_CHOICES, categories=CATEGORY_SUGGESTIONS,
                                         availability_choices=AVAILABILITY_CHOICES, weekdays=WEEKDAY_SHORT,
                                         currency=conversion_rate(get_session()).currency),
                         status)


def _form_refused(state: RewardFormState, error: DomainError, reward: Reward | None) -> Response:
    """The form again with what was wrong (422); nothing of the attempt was kept (its unit of work rolled back)."""
    state.add_error(error)
    return _form_page(state, reward=reward, status=FORM_STATUS)


def _stage_reward_photo(reward: Reward) -> StagedPhoto | None:
    """Check, re-encode and stage an uploaded reward photo (published after the commit), or None without one."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    staged = stage_photo(uploads_root(), g.family.id, reward.id, prepare_photo(read_upload(upload.stream)))
    set_reward_photo(get_session(), reward, actor=_me(), photo_name=staged.name)
    return staged


@bp.get("/rewards/<uuid:reward_id>/photo")
@login_required
def reward_photo(reward_id: uuid.UUID) -> Response:
    """A reward's photo (its 320 px version: the store shows it as a card picture)."""
    reward = get_reward_or_404(get_session(), reward_id, include_archived=True)
    path = photo_path(uploads_root(), g.family.id, reward.photo_name, thumb=True)
    if path is None:
        raise NotFound("Photo not found")
    response = send_file(path, mimetype=MIMETYPE, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/rewards/new", methods=["GET", "POST"])
@parent_required
def new() -> BaseResponse:
    """Add a reward to the store."""
    if request.method == "GET":
        return _form_page(RewardFormState(new_reward_values()), reward=None)
    state = RewardFormState(posted_values(request.form))
    session = get_session()
    try:
        with unit_of_work(session) as work:
            reward = create_reward(session, actor=_me(), data=reward_data(state.values))
            work.stage(_stage_reward_photo(reward))  # published after the commit, discarded on any failure
            work.after_commit(_published, "rewardChanged", reward_id=reward.id)
    except DomainError as error:
        return _form_refused(state, error, None)
    return redirect(url_for("rewards.store"), 303)


@bp.route("/rewards/<reward_id>/edit", methods=["GET", "POST"])
@parent_required
def edit(reward_id: str) -> BaseResponse:
    """Change a reward (price, stock, limits, when it is available, whether it needs approval)."""
    session = get_session()
    reward = get_reward_or_404(session, reward_id, include_archived=True)
    if request.method == "GET":
        return _form_page(RewardFormState(reward_values(reward)), reward=reward)
    state = RewardFormState(posted_values(request.form))
    try:
        with unit_of_work(session) as work:
            update_reward(session, reward, actor=_me(), data=reward_data(state.values, reward))
            if request.form.get("remove_photo"):
                set_reward_photo(session, reward, actor=_me(), photo_name=None)
            work.stage(_stage_reward_photo(reward))  # published after the commit, discarded on any failure
            work.after_commit(_published, "rewardChanged", reward_id=reward.id)
    except DomainError as error:
        return _form_refused(state, error, reward)
    return redirect(url_for("rewards.store", archived="1" if not reward.active else None), 303)


@bp.post("/rewards/<reward_id>/archive")
@parent_required
@transactional
def archive(reward_id: str) -> BaseResponse:
    """Take a reward out of the store (its history stays)."""
    session = get_session()
    reward = get_reward_or_404(session, reward_id, include_archived=True)
    archive_reward(session, reward, actor=_me())
    after_commit(_published, "rewardChanged", reward_id=reward.id)
    return redirect(url_for("rewards.store"), 303)


@bp.post("/rewards/<reward_id>/restore")
@parent_required
def restore(reward_id: str) -> BaseResponse:
    """Put an archived reward back in the store."""
    session = get_session()
    reward = get_reward_or_404(session, reward_id, include_archived=True)
    try:
        with unit_of_work(session):
            update_reward(session, reward, actor=_me(), data=RewardInput(active=True))
    except ValidationFailed as error:
        return _manage_page(archived=True, error=refusal_text(error), status=error.status)
    _published("rewardChanged", reward_id=reward.id)
    return redirect(url_for("rewards.store", archived="1"), 303)
