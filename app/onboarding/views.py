"""The welcome wizard (kids → co-parent invite → starter chores → done) and joining a family by invite link."""
from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from typing import Any

from flask import Response, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import page_language, refusal_text
from app.auth import sign_in, signed_in_member
from app.auth.decorators import parent_required
from app.chores.starter import suggest_starter_chores
from app.db import get_session
from app.domain import AuthenticationFailed, Conflict, DomainError, LockedOut, NotFound, PlanLimitReached
from app.extensions import limiter
from app.htmx import is_htmx, push_url, redirect_to, vary_on_htmx
from app.mail import deliver
from app.members.forms import (
    AVATAR_CHOICES,
    FormState,
    family_today,
    now,
    read_kid_form,
)
from app.members.services import list_children, suggested_colors
from app.members.adding import create_from_form
from app.onboarding import bp
from app.onboarding.services import (
    STEP_LABELS,
    STEPS,
    choose_starter_chores,
    count_chores,
    existing_chore_names,
    next_step,
    open_invitations,
    previous_step,
    read_progress,
    save_progress,
    tomorrow_by_kid,
    youngest_age,
)
from app.platform.models import Invitation
from app.platform.services import accept_invitation, create_invitation, find_user_by_email, read_invitation
from app.uow import commit_now, transactional, unit_of_work
from app.web import current_rules

log = logging.getLogger(__name__)
STEP_CONTAINER = "#wizard-step"


# --- rendering -------------------------------------------------------------------------------------------------

def _step_context(step: str) -> dict[str, Any]:
    session = get_session()
    context: dict[str, Any] = {"step": step, "steps": STEPS, "labels": STEP_LABELS,
                               "step_index": STEPS.index(step), "previous": previous_step(step)}
    if step == "kids":
        context.update(kids=list_children(session), avatars=AVATAR_CHOICES, colors=suggested_colors(session))
    elif step == "invite":
        context["invitations"] = open_invitations(session, g.family.id, now())
    elif step == "chores":
        youngest = youngest_age(list_children(session), family_today())
        context.update(youngest=youngest, choices=suggest_starter_chores(youngest),
                       existing=existing_chore_names(session))
    else:
        kids = list_children(session)
        tomorrow = tomorrow_by_kid(session, current_rules(), kids, family_today() + timedelta(days=1), now())
        commit_now()  # tomorrow's assignments, made on this first look
        context.update(kid_count=len(kids), chore_count=count_chores(session), tomorrow=tomorrow,
                       invitation_count=len(open_invitations(session, g.family.id, now())))
    return context


def _render_step(step: str, *, status: int = 200, push: bool = False, **states: FormState) -> Response:
    """The step's fragment for an htmx swap into the step container, or the whole wizard page."""
    context = _step_context(step)
    context["kid_state"] = states.get("kid_state") or FormState()
    context["invite_state"] = states.get("invite_state") or FormState()
    context["chores_state"] = states.get("chores_state") or FormState()
    template = "onboarding/_step.html" if is_htmx() else "onboarding/wizard.html"
    response = vary_on_htmx(make_response(render_template(template, **context), status))
    if push and is_htmx():
        # Back/forward and reloads land on the step the person now sees, not on the URL they posted to.
        push_url(response, url_for("onboarding.step", step=step))
    return response


def _show_step(step: str) -> Response | BaseResponse:
    """After a successful POST: the new step in place (htmx), or a redirect to it (plain forms)."""
    if is_htmx():
        return _render_step(step, push=True)
    return redirect(url_for("onboarding.step", step=step), 303)


# --- the wizard ------------------------------------------------------------------------------------------------

@bp.get("/welcome")
@parent_required
def start() -> BaseResponse:
    """Resume the wizard at the step the family reached."""
    return redirect(url_for("onboarding.step", step=read_progress(get_session()).step))


@bp.get("/welcome/<step>")
@parent_required
def step(step: str) -> Response:
    """One step of the wizard (a full page when opened directly)."""
    if step not in STEPS:
        abort(404)
    return _render_step(step)


@bp.post("/welcome/<step>/advance")
@parent_required
@transactional
def advance(step: str) -> Response | BaseResponse:
    """Next or Skip: remember the following step and show it."""
    if step not in STEPS[:-1]:
        abort(404)
    following = next_step(step)
    save_progress(get_session(), actor=signed_in_member(), step=following)
    return _show_step(following)


@bp.post("/welcome/kids")
@parent_required
def add_kid() -> Response | BaseResponse:
    """Add a kid from the wizard (the members page's form and rules) and stay on the step."""
    state, fields = read_kid_form(request.form, get_session(), family_today())
    member = create_from_form(state, fields)
    if member is None:
        return _render_step("kids", status=422, kid_state=state)
    flash(gettext("%(name)s was added.", name=member.display_name))
    if is_htmx():
        return _render_step("kids")
    return redirect(url_for("onboarding.step", step="kids"), 303)


@bp.post("/welcome/invite")
@parent_required
def send_invite() -> Response | BaseResponse:
    """Invite a co-parent by email; the link joins them to this family."""
    session = get_session()
    state = FormState(values={"email": (request.form.get("email") or "").strip()})
    try:
        with unit_of_work(session):
            invitation, token = create_invitation(session, current_app.config["SECRET_KEY"],
                                                  family_id=g.family.id, inviter=signed_in_member(),
                                                  email=state.values["email"], now=now())
    except DomainError as error:
        state.refuse(error)
        return _render_step("invite", status=422, invite_state=state)
    if _send_invitation_email(invitation, token):
        flash(gettext("Invitation sent to %(email)s.", email=invitation.email))
    else:
        state = FormState(message=gettext("We saved the invitation for %(email)s but couldn't send the email "
                                          "just now. Please try again in a minute.", email=invitation.email))
        return _render_step("invite", invite_state=state)
    if is_htmx():
        return _render_step("invite")
    return redirect(url_for("onboarding.step", step="invite"), 303)


def _send_invitation_email(invitation: Invitation, token: str) -> bool:
    link = url_for("onboarding.join", token=token, _external=True)
    inviter = signed_in_member().display_name
    body = gettext("%(inviter)s invited you to join %(family)s on HousePoints as a parent.\n\n"
                   "Accept the invitation:\n%(link)s\n\n"
                   "The link works for 7 days. If you weren't expecting this email, you can ignore it.\n",
                   inviter=inviter, family=g.family.name, link=link)
    subject = gettext("%(inviter)s invited you to %(family)s on HousePoints", inviter=inviter, family=g.family.name)
    try:
        deliver(to=invitation.email, subject=subject, body=body)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send the invitation email", extra={"invitation_id": str(invitation.id)})
        return False
    return True


@bp.post("/welcome/chores")
@parent_required
def add_chores() -> Response | BaseResponse:
    """Create the ticked starter chores and go on to the last step."""
    keys = request.form.getlist("chores")
    try:
        with unit_of_work():
            session = get_session()
            created = choose_starter_chores(session, actor=signed_in_member(), keys=keys,
                                            kids=list_children(session), today=family_today(),
                                            language=page_language())
    except DomainError as error:
        return _render_step("chores", status=422, chores_state=FormState(message=refusal_text(error)))
    flash(ngettext("Added %(num)d chore.", "Added %(num)d chores.", len(created)) if created
          else gettext("No new chores were added."))
    return _show_step(next_step("chores"))


@bp.post("/welcome/finish")
@parent_required
@transactional
def finish() -> BaseResponse:
    """Mark the wizard finished and open Today (the parent's dashboard)."""
    save_progress(get_session(), actor=signed_in_member(), step="done", completed=True)
    home = url_for("dashboard.index")
    if is_htmx():
        return redirect_to(make_response("", 200), home)
    return redirect(home, 303)


# --- joining by invite -----------------------------------------------------------------------------------------

# How each refusal of a link is answered: a forged or expired link is a bad request, a used one a conflict.
LINK_STATUS = {AuthenticationFailed: 400, Conflict: 409, NotFound: 404}


def _invalid_link(error: DomainError, status: int | None = None) -> Response:
    status = status or LINK_STATUS.get(type(error), error.status)
    return make_response(render_template("join/invalid.html", message=refusal_text(error)), status)


def _join_form(invitation: Invitation, token: str, state: FormState, status: int = 200) -> Response:
    account = find_user_by_email(get_session(), invitation.email)
    if not state.values.get("display_name") and account is not None:
        state.values["display_name"] = account.display_name
    return make_response(render_template("join/join.html", invitation=invitation, has_account=account is not None,
                                         state=state, token=token), status)


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def join(token: str) -> Response | BaseResponse:
    """The invitee's page: a new account (name + password) or their existing account's password; POST joins."""
    session = get_session()
    try:
        invitation = read_invitation(session, current_app.config["SECRET_KEY"], token, family_id=g.family.id,
                                     now=now())
    except DomainError as error:
        return _invalid_link(error)
    state = FormState(values={"display_name": (request.form.get("display_name") or "").strip()})
    if request.method == "GET":
        return _join_form(invitation, token, state)
    try:
        with unit_of_work(session):
            member = accept_invitation(session, invitation, plan=g.family.plan,
                                       display_name=state.values["display_name"],
                                       password=request.form.get("password") or "", now=now(),
                                       ip_address=request.remote_addr)
    except PlanLimitReached as error:
        return _invalid_link(error, 403)
    except LockedOut as error:  # the account's lockout, shared with every other way in
        state.errors["password"] = refusal_text(error)
        return _join_form(invitation, token, state, 423)
    except AuthenticationFailed:
        state.errors["password"] = gettext("Wrong password for this account.")
        return _join_form(invitation, token, state, 422)
    except DomainError as error:
        state.refuse(error)
        return _join_form(invitation, token, state, 422)
    with unit_of_work(session):
        sign_in(member)
    return redirect(url_for("family_home.index"), 303)
