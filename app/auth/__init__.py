"""Signing in: Flask-Login for pages (server-side sessions bound to one family) and bearer tokens for the API."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, session
from flask_login import LoginManager, login_user, logout_user

from app.auth.models import MemberSession, TabletDevice
from app.auth.services import end_session, load_session, start_session
from app.db import get_session
from app.db.bases import utcnow
from app.members.models import Member

login_manager = LoginManager()
DEVICE_COOKIE = "hp_device"


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


def _load_signed_in_member(token: str) -> SignedInMember | None:
    family = g.get("family")
    # A session cookie is only ever valid on the family host that issued it.
    if family is None or session.get("family_id") != str(family.id):
        return None
    record = load_session(get_session(), token, utcnow())
    if record is None:
        return None
    g.member = record.member
    return SignedInMember(member=record.member, record=record, token=token)


def sign_in(member: Member, *, remember: bool = False, device: TabletDevice | None = None) -> None:
    """Start a server-side session and put its token in this family host's cookie (the view commits)."""
    started = start_session(get_session(), member, now=utcnow(), remember=remember, device=device,
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


def signed_in_member() -> Member:
    """The acting member where the access decorators have already refused anyone signed out."""
    member = current_member()
    if member is None:
        raise RuntimeError("signed_in_member() outside a view guarded by login_required or parent_required")
    return member
