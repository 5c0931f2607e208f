"""Allowance pages: parents convert points, pay allowance and set weekly paydays per kid; kids read their statement.

Each form posts to a thin view (load the kid → 404 for another family's id, one service, commit, publish) that
answers htmx with the kid's refreshed card, or a plain browser with a redirect. Invalid forms come back as 422.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.allowance import bp
from app.allowance.inputs import ConversionInput, PaymentInput, ScheduleInput
from app.allowance.models import AllowanceSchedule
from app.allowance.services import (
    PAYMENT_METHODS,
    ConversionRate,
    MoneyStatement,
    conversion_rate,
    get_allowance_schedule,
    money_statement,
    parse_amount_cents,
    record_allowance,
    record_payout,
    set_allowance_schedule,
)
from app.auth import current_member
from app.i18n import format_money, refusal_text
from app.languages import translatable
from app.auth.decorators import login_required, parent_required
from app.db import get_session
from app.domain import DomainError, NotFound, ValidationFailed
from app.family_time import WEEKDAY_NAMES
from app.htmx import HxEvent, is_htmx, reswap, trigger, vary_on_htmx
from app.inputs import parse_input
from app.live.events import publish_event
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.uow import unit_of_work
from app.web import current_rules, request_now

FORM_STATUS = 422
RECENT_LINES = 5
# Words the card builds from data (paydays, payment methods), listed so the catalog has them for `translated`.
CARD_WORDS = (translatable("Mondays:"), translatable("Tuesdays:"), translatable("Wednesdays:"),
              translatable("Thursdays:"), translatable("Fridays:"), translatable("Saturdays:"),
              translatable("Sundays:"),
              translatable("Cash"), translatable("Bank transfer"), translatable("Savings account"),
              translatable("Gift card"), translatable("Other"))
MODES = {"fixed_amount": translatable("A fixed amount"), "convert_week": translatable("Convert the week's points")}


@dataclass
class MoneyCard:
    """One kid's money: balance, what it is worth, the schedule, the latest statement lines, and form state."""

    kid: Member
    rate: ConversionRate
    schedule: AllowanceSchedule | None
    statement: MoneyStatement
    error: str | None = None
    error_form: str | None = None  # "convert", "pay" or "schedule": that form stays open with the message
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def worth_cents(self) -> int:
        return self.rate.cents_for(self.kid.available_points)

    @property
    def total_paid_cents(self) -> int:
        return self.statement.total_cents.get(self.rate.currency, 0)

    @property
    def recent(self) -> list[Any]:
        return list(reversed(self.statement.lines))[:RECENT_LINES]


def _me() -> Member:
    """The signed-in member (the access decorators have made sure there is one)."""
    member = current_member()
    assert member is not None
    return member


def _kid_or_404(member_id: str) -> Member:
    """An active kid of this family (parents and other families' members are simply not found here)."""
    member = get_member_or_404(get_session(), member_id)
    if member.is_parent:
        raise NotFound("User not found")
    return member


def _card(kid: Member, rate: ConversionRate | None = None, **state: Any) -> MoneyCard:
    session = get_session()
    return MoneyCard(kid=kid, rate=rate or conversion_rate(session), schedule=get_allowance_schedule(session, kid.id),
                     statement=money_statement(session, kid), **state)


def _render_card(card: MoneyCard, status: int = 200, *, notice: str | None = None) -> Response:
    body = render_template("allowance/_kid.html", card=card, **_form_choices())
    if notice:
        body += render_template("rewards/_toast.html", region="allowance-toast", notice=notice, oob=True)
    response = make_response(body, status)
    if status >= 400:
        reswap(response, "outerHTML", f"#money-{card.kid.id}")
    return response


def _form_choices() -> dict[str, Any]:
    return {"methods": PAYMENT_METHODS, "modes": MODES, "weekday_names": [d.title() for d in WEEKDAY_NAMES],
            "money": format_money}


def _index(cards: list[MoneyCard] | None = None, status: int = 200) -> Response:
    session = get_session()
    rate = conversion_rate(session)
    if cards is None:
        cards = [_card(kid, rate) for kid in list_children(session)]
    return make_response(render_template("allowance/index.html", cards=cards, rate=rate, **_form_choices()), status)


# --- pages -------------------------------------------------------------------------------------------------------

@bp.get("/allowance")
@parent_required
def index() -> Response:
    """Each kid's points, what they are worth, their weekly allowance and latest payouts, with the forms."""
    return vary_on_htmx(_index())


@bp.get("/allowance/kids/<member_id>")
@parent_required
def statement(member_id: str) -> Response:
    """One kid's full money statement."""
    kid = _kid_or_404(member_id)
    return make_response(render_template("allowance/statement.html", kid=kid, own=False,
                                         statement=money_statement(get_session(), kid),
                                         rate=conversion_rate(get_session()), money=format_money))


@bp.get("/allowance/me")
@login_required
def me() -> BaseResponse:
    """A kid's own money statement (parents go to the allowance page)."""
    member = _me()
    if member.is_parent:
        return redirect(url_for("allowance.index"))
    return make_response(render_template("allowance/statement.html", kid=member, own=True,
                                         statement=money_statement(get_session(), member),
                                         rate=conversion_rate(get_session()), money=format_money))


@bp.get("/allowance/kids/<member_id>/card")
@parent_required
def card(member_id: str) -> BaseResponse:
    """One kid's card (htmx refreshes it on live points events)."""
    kid = _kid_or_404(member_id)
    if not is_htmx():
        return redirect(url_for("allowance.index", _anchor=f"money-{kid.id}"))
    return vary_on_htmx(_render_card(_card(kid)))


# --- actions -----------------------------------------------------------------------------------------------------

def _refused(kid: Member, form: str, error: DomainError) -> Response:
    """The card again with what was wrong; nothing of the attempt was kept (its unit of work rolled back)."""
    status = FORM_STATUS if isinstance(error, ValidationFailed) else error.status
    state = _card(kid, error=refusal_text(error), error_form=form, values=request.form.to_dict())
    if not is_htmx():
        return _index([state if c.kid.id == kid.id else c for c in
                       (_card(k) for k in list_children(get_session()))], status=status)
    return _render_card(state, status)


def _done(kid: Member, notice: str, *events: HxEvent) -> BaseResponse:
    if events:
        publish_event(g.family.id, events[0], {"member_id": str(kid.id)})
    if not is_htmx():
        return redirect(url_for("allowance.index", _anchor=f"money-{kid.id}"), 303)
    return trigger(_render_card(_card(kid), notice=notice), *events)


@bp.post("/allowance/kids/<member_id>/convert")
@parent_required
def convert(member_id: str) -> BaseResponse:
    """Turn some of a kid's points into money (a conversion row in the ledger)."""
    kid = _kid_or_404(member_id)
    session = get_session()
    form = request.form
    try:
        with unit_of_work(session):
            payout = record_payout(session, _me(), kid, parse_input(ConversionInput, form), current_rules(),
                                   request_now())
    except DomainError as error:
        return _refused(kid, "convert", error)
    notice = gettext("Converted %(points)s points to %(money)s.", points=payout.points,
                     money=format_money(payout.amount_cents, payout.currency))
    return _done(kid, notice, HxEvent.POINTS_CHANGED)


@bp.post("/allowance/kids/<member_id>/pay")
@parent_required
def pay(member_id: str) -> BaseResponse:
    """Record money given as allowance."""
    kid = _kid_or_404(member_id)
    session = get_session()
    form = request.form
    try:
        data = parse_input(PaymentInput, {**form.to_dict(), "amount_cents": parse_amount_cents(form.get("amount"))})
        with unit_of_work(session):
            payout = record_allowance(session, _me(), kid, data, current_rules(), request_now())
    except DomainError as error:
        return _refused(kid, "pay", error)
    notice = gettext("Paid %(money)s.", money=format_money(payout.amount_cents, payout.currency))
    return _done(kid, notice)


def _payday(raw: str | None) -> str:
    """The posted payday (the schedule's input reads it as a whole number); a blank one asks to pick."""
    if not (raw or "").strip():
        raise ValidationFailed("Pick a payday", fields={"payday": "invalid"})
    return raw or ""


@bp.post("/allowance/kids/<member_id>/schedule")
@parent_required
def schedule(member_id: str) -> BaseResponse:
    """Set the kid's weekly allowance: a fixed amount or the week's points converted, on payday."""
    kid = _kid_or_404(member_id)
    session = get_session()
    form = request.form
    try:
        mode = form.get("mode", "")
        amount = form.get("amount", "").strip()
        cents = parse_amount_cents(amount) if amount or mode == "fixed_amount" else 0
        with unit_of_work(session):
            set_allowance_schedule(session, _me(), kid, parse_input(ScheduleInput, {
                "mode": mode, "payday": _payday(form.get("payday")), "amount_cents": cents,
                "active": form.get("active") == "on"}))
    except DomainError as error:
        return _refused(kid, "schedule", error)
    return _done(kid, "Weekly allowance saved.")
