"""Signing in: Flask-Login for pages (server-side sessions bound to one family) and bearer tokens for the API."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, flash, g, request, session
from flask_babel import gettext
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from app.auth.models import MemberSession, TabletDevice
from app.auth.services import (end_session, load_session, record_turn_activity, start_session,
                               turn_activity_due)
from app.db import get_session
from app.db.bases import utcnow
from app.db.session import FamilyReadOnly
from app.languages import translatable
from app.members.models import Member
from app.settings.services import get_setting
from app.uow import commit_now

login_manager = LoginManager()
DEVICE_COOKIE = "hp_device"
# static/js/live.js marks the requests no person made (live polls, refreshes after a live event, widgets loading
# themselves): they never keep a kid's turn on the tablet going. The live stream (re)connects by itself too.
BACKGROUND_HEADER = "X-Background-Request"
BACKGROUND_ENDPOINTS = frozenset({"live.events"})
TURN_ENDED = translatable("Your turn ended because the tablet was not touched for a while. "
                          "Tap your picture to start again.")
log = logging.getLogger(__name__)


@dataclass
class SignedInMember:
    """What Flask-Login holds: the member and the server-side session that let them in."""

    member: Member
    record: MemberSession
    token: str

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        # Flask-Login stores this in the cookie; it is the session token, checked against the database each request.
        return self.token


def init_app(app: Flask) -> None:
    """Wire Flask-Login to the server-side session table."""
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are bound to a family and revocable server-side instead
    login_manager.login_view = "accounts.login"
    login_manager.user_loader(_load_signed_in_member)
    app.after_request(_keep_turn_activity)


def is_background_request() -> bool:
    """A request no person made (a live poll, the live stream): it is no sign that a kid is still at the tablet."""
    return request.headers.get(BACKGROUND_HEADER) == "1" or request.endpoint in BACKGROUND_ENDPOINTS


def turn_idle_time() -> timedelta:
    """The family's `tablet_idle_seconds`: how long a kid's turn on the tablet lasts without activity."""
    return timedelta(seconds=int(get_setting(get_session(), "tablet_idle_seconds", include_private=True)))


def _load_signed_in_member(token: str) -> SignedInMember | None:
    family = g.get("family")
    # A session cookie is only ever valid on the family host that issued it.
    if family is None or session.get("family_id") != str(family.id):
        return None
    now = utcnow()
    found = load_session(get_session(), token, now)
    record = found.record
    if record is None:
        if found.turn_ended:
            _say_the_turn_ended()
        return None
    if not is_background_request() and turn_activity_due(record, now):
        g.turn_activity = (record, now)  # written by _keep_turn_activity once the answer is known to be no refusal
    g.member = record.member
    return SignedInMember(member=record.member, record=record, token=token)


def _say_the_turn_ended() -> None:
    """A kid's turn on the tablet ran out: forget it in this browser, and say so calmly on the next page."""
    g.turn_ended = True
    session.clear()
    flash(gettext(TURN_ENDED))


def turn_ended_message() -> str | None:
    """Why nobody is signed in, when it is because a kid's turn on the tablet ran out in this request."""
    return str(gettext(TURN_ENDED)) if g.get("turn_ended") else None


def _keep_turn_activity(response: BaseResponse) -> BaseResponse:
    """Extend the kid's turn after a request that was answered (not refused: bad input changes nothing), in a
    commit of its own: without it the turn would end while in use."""
    due = g.pop("turn_activity", None)
    if due is None or response.status_code >= 400 or g.get("db_session") is None:
        return response
    record, now = due
    try:
        record_turn_activity(record, now, turn_idle_time())
        commit_now()
    except (SQLAlchemyError, FamilyReadOnly):  # a move in progress, the database gone: the answer stands
        get_session().rollback()
        log.warning("could not record a tablet turn's activity", exc_info=True)
    return response


def sign_in(member: Member, *, remember: bool = False, device: TabletDevice | None = None) -> None:
    """Start a server-side session and put its token in this family host's cookie (the view commits)."""
    started = start_session(get_session(), member, now=utcnow(), remember=remember, device=device,
                            turn_idle=turn_idle_time() if device is not None else None,
                            user_agent=request.headers.get("User-Agent"), ip_address=request.remote_addr)
    session.clear()
    session["family_id"] = str(g.family.id)
    session.permanent = remember
    login_user(SignedInMember(member=member, record=started.record, token=started.token))
    g.member = member


def sign_out() -> None:
    """End this browser's session server-side and clear its cookie (the view commits)."""
    token = session.get("_user_id")
    if token:
        end_session(get_session(), token, utcnow())
    logout_user()
    session.clear()


def current_member() -> Member | None:
    """The member acting in this request (page session or API token), if any."""
    from flask_login import current_user

    member: Member | None = g.get("member")
    if member is None and g.get("family") is not None and current_user.is_authenticated:
        member = current_user.member
    return member


def current_session_record() -> MemberSession | None:
    """The server-side session behind this request's page cookie (None for an API token or nobody)."""
    from flask_login import current_user

    if g.get("family") is None or not current_user.is_authenticated:
        return None
    record: MemberSession = current_user.record  # a SignedInMember behind Flask-Login's proxy
    return record


def signed_in_member() -> Member:
    """The acting member where the access decorators have already refused anyone signed out."""
    member = current_member()
    if member is None:
        raise RuntimeError("signed_in_member() outside a view guarded by login_required or parent_required")
    return member
