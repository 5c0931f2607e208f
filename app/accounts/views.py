"""Family-host sign-in pages: the login form, signing out (here or everywhere) and the family tablet's devices."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import cast
from urllib.parse import urlsplit

from flask import Response, current_app, g, make_response, redirect, render_template, request, url_for
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import refusal_text
from app.accounts import bp
from app.accounts.audit import audit
from app.accounts.handoff import local_path
from app.auth import DEVICE_COOKIE, current_member, sign_in, sign_out
from app.auth.decorators import login_required, parent_required
from app.auth.inputs import DeviceInput, LoginInput
from app.auth.models import TabletDevice
from app.auth.services import (
    GENERIC_LOGIN_ERROR,
    authenticate_password,
    end_all_sessions,
    hash_token,
    list_devices,
    register_device,
    revoke_device,
)
from app.db import get_session
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, Forbidden, LockedOut, ValidationFailed
from app.extensions import limiter
from app.inputs import parse_input
from app.uow import transactional, unit_of_work

# Browsers cap cookie lifetimes at 400 days; the tablet keeps its registration that long unless a parent revokes it.
DEVICE_COOKIE_MAX_AGE = timedelta(days=400)


def safe_next(target: str | None) -> str:
    """A page on this host to continue to after signing in (one you can GET); anything else means home."""
    home = url_for("family_home.index")
    if local_path(target) == "/" and target != "/":
        return home
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc:
        return home
    try:
        # Only pages one can GET: after a session expired, `next` may name a form's POST-only address.
        cast(MapAdapter, request_ctx.url_adapter).match(parts.path, method="GET")
    except HTTPException:
        return home
    return cast(str, target)  # not None: local_path(None) is home


# --- signing in and out ---------------------------------------------------------------------------------------

def _login_page(*, status: int = 200, error: str | None = None, login: str = "", remember: bool = False,
                retry_after: object = None) -> Response:
    response = make_response(render_template("accounts/login.html", error=error, login=login, remember=remember,
                                             next_url=safe_next(request.values.get("next"))), status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30/minute", methods=["POST"])
def login() -> BaseResponse:
    """One form for parents (email or username) and older kids (username); failures count towards the lockout."""
    if request.method == "GET":
        if current_member() is not None:
            return redirect(safe_next(request.args.get("next")))
        return _login_page()
    login_name = request.form.get("login", "").strip()
    remember = request.form.get("remember") is not None
    try:
        credentials = parse_input(LoginInput, {"username": login_name, "password": request.form.get("password", "")})
    except ValidationFailed:  # a blank or absurd login: the same answer as a wrong one, and nothing to count
        return _login_page(status=422, error=GENERIC_LOGIN_ERROR, login=login_name[:200], remember=remember)
    session = get_session()
    try:
        member = authenticate_password(session, family_id=g.family.id, identifier=credentials.username,
                                       password=credentials.password, now=utcnow())
    except LockedOut as error:
        with unit_of_work(session):  # the failure that locked the login must be remembered
            audit("auth.locked_out", member_id=cast("uuid.UUID | None", error.extra.get("member_id")),
                  method="password")
        return _login_page(status=423, error=refusal_text(error), login=login_name, remember=remember,
                           retry_after=error.extra.get("retry_after"))
    except Forbidden as error:
        with unit_of_work(session):
            audit("auth.login_failed", method="password", reason="login disabled")
        return _login_page(status=403, error=refusal_text(error), login=login_name, remember=remember)
    except AuthenticationFailed as error:
        with unit_of_work(session):  # the lockout counts this failure
            audit("auth.login_failed", method="password", reason="invalid credentials")
        return _login_page(status=422, error=refusal_text(error), login=login_name, remember=remember)
    with unit_of_work(session):
        sign_in(member, remember=remember)
        audit("auth.login_succeeded", member_id=member.id, method="password", remember=remember)
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
@transactional
def logout() -> BaseResponse:
    """Sign this browser out: its server-side session ends, so a copy of the cookie is worthless too."""
    member = current_member()
    sign_out()
    if member is not None:
        audit("auth.logout", member_id=member.id)
    return redirect(url_for("family_home.index"))


@bp.post("/account/sign-out-everywhere")
@login_required
@transactional
def sign_out_everywhere() -> BaseResponse:
    """End every session of mine (other browsers, tablet turns, this one) after a lost phone or a shared computer."""
    member = current_member()
    assert member is not None  # login_required
    ended = end_all_sessions(get_session(), member, utcnow())
    sign_out()
    audit("auth.signed_out_everywhere", member_id=member.id, sessions=ended)
    return redirect(url_for("accounts.login"))


# --- the family tablet's devices ------------------------------------------------------------------------------

def _this_browsers_device_hash() -> str | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    return hash_token(raw) if raw else None


def _devices_page(*, status: int = 200, error: str | None = None, name: str = "") -> Response:
    devices = list_devices(get_session())
    return make_response(render_template("accounts/devices.html", devices=devices, error=error, name=name,
                                         this_browser=_this_browsers_device_hash()), status)


@bp.get("/settings/devices")
@parent_required
def devices() -> Response:
    """The family's registered tablets: when each was added and last seen, and which are revoked."""
    return _devices_page()


@bp.post("/settings/devices")
@parent_required
@transactional
def register_this_browser() -> BaseResponse:
    """Make this browser the family tablet: a long-lived host-only cookie opens the avatar wall."""
    parent = current_member()
    assert parent is not None  # parent_required
    name = request.form.get("name", "")
    try:
        data = parse_input(DeviceInput, {"name": name})
        device, raw_token = register_device(get_session(), parent, name=data.name or "", now=utcnow())
    except ValidationFailed as error:
        return _devices_page(status=422, error=refusal_text(error), name=name)
    audit("device.registered", member_id=parent.id, target_type="tablet_device", target_id=device.id,
          name=device.name)
    # A parent's session left on the shared tablet would let kids into parent pages: the tablet starts signed out.
    sign_out()
    response = redirect(url_for("tablet.wall"))
    response.set_cookie(DEVICE_COOKIE, raw_token, max_age=DEVICE_COOKIE_MAX_AGE, path="/", domain=None,
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax")
    return response


@bp.post("/settings/devices/<uuid:device_id>/revoke")
@parent_required
@transactional
def revoke(device_id: uuid.UUID) -> BaseResponse:
    """Stop a tablet at once (lost, sold, or simply replaced), ending any kid's turn on it."""
    parent = current_member()
    assert parent is not None  # parent_required
    device: TabletDevice = revoke_device(get_session(), parent, device_id, utcnow())
    audit("device.revoked", member_id=parent.id, target_type="tablet_device", target_id=device.id,
          name=device.name)
    response = redirect(url_for("accounts.devices"))
    if _this_browsers_device_hash() == device.token_hash:
        response.delete_cookie(DEVICE_COOKIE, path="/", domain=None)
    return response

