"""The family tablet (kiosk): the avatar wall, a kid's PIN keypad, the kid's own view and ending a turn."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from app.accounts.views import audit
from app.auth import DEVICE_COOKIE, current_member, sign_in, sign_out
from app.auth.decorators import login_required
from app.auth.models import TabletDevice
from app.auth.services import authenticate_pin, load_device
from app.db import get_session
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, LockedOut, NotFound
from app.extensions import limiter
from app.members.models import Member
from app.members.services import get_member_or_404, list_children
from app.tablet import bp

# A kid's turn ends after this long without a touch, so the next kid never finds someone else signed in.
IDLE_SECONDS = 60


def this_browsers_device() -> TabletDevice | None:
    """The registered, unrevoked tablet this browser's device cookie names (the view commits its last-seen)."""
    return load_device(get_session(), request.cookies.get(DEVICE_COOKIE), utcnow())


def is_tablet_turn() -> bool:
    """True when the signed-in member got here with a PIN on the family tablet (not a password)."""
    record = getattr(current_user, "record", None)
    return record is not None and record.device_id is not None


@bp.before_request
def load_tablet_pages_whole() -> BaseResponse | None:
    """A boosted navigation into the kiosk becomes a full page load.

    htmx keeps the old <head> (so the tablet's script and styles would be missing) and does not swap 4xx answers
    (so a refused browser would see nothing happen); HX-Redirect makes htmx load the page itself.
    """
    if request.method == "GET" and request.headers.get("HX-Request"):
        response = make_response("", 200)
        response.headers["HX-Redirect"] = request.full_path.rstrip("?")
        return response
    return None


@bp.after_request
def vary_on_htmx_requests(response: BaseResponse) -> BaseResponse:
    """Tablet pages answer htmx and plain requests differently, so caches must keep them apart."""
    response.vary.add("HX-Request")
    return response


@bp.context_processor
def tablet_context() -> dict[str, object]:
    """Tablet pages arm the idle timer only during a kid's PIN turn, never for a password session."""
    return {"tablet_turn": is_tablet_turn(), "idle_seconds": IDLE_SECONDS}


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
    get_session().commit()  # the device's last-seen time
    return render_template("tablet/wall.html", kids=kids)


@bp.get("/tablet/<uuid:member_id>")
@device_required
def keypad(member_id: uuid.UUID) -> Response:
    """A big on-screen number pad for the kid's PIN: no keyboard needed."""
    kid = get_kid_or_404(member_id)
    get_session().commit()
    return _keypad(kid)


@bp.post("/tablet/<uuid:member_id>/unlock")
@limiter.limit("30/minute")
@device_required
def unlock(member_id: uuid.UUID) -> BaseResponse:
    """Check the PIN and start the kid's turn on this tablet; wrong PINs count towards the kid's lockout."""
    kid = get_kid_or_404(member_id)
    pin = request.form.get("pin", "").strip()
    if not pin:
        # An accidental OK with no digits is not a guess, so it does not count against the kid.
        return _keypad(kid, status=422, error="Type your PIN, then press OK.")
    session = get_session()
    try:
        authenticate_pin(session, member=kid, pin=pin, now=utcnow())
    except LockedOut as error:
        _audit("auth.pin_locked_out", kid)
        session.commit()  # the failure that locked the keypad must be remembered
        response = make_response(render_template("tablet/locked.html", kid=kid, message=error.message), 423)
        if error.extra.get("retry_after") is not None:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response
    except AuthenticationFailed as error:
        _audit("auth.pin_login_failed", kid)
        session.commit()  # the lockout counts this failure
        return _keypad(kid, status=422, error=error.message)
    sign_in(kid, device=g.tablet_device)
    _audit("auth.pin_login", kid)
    session.commit()
    return redirect(url_for("tablet.kid_home"))


@bp.get("/me")
@login_required
def kid_home() -> BaseResponse | str:
    """The kid's own view: avatar, name and points (their chores arrive here next)."""
    member = current_member()
    assert member is not None  # login_required
    if member.is_parent:
        return redirect(url_for("family_home.index"))
    return render_template("tablet/kid_home.html", kid=member)


@bp.post("/tablet/done")
def done() -> BaseResponse:
    """End the kid's turn (the Done button or the idle timer) and go back to the wall."""
    sign_out()
    on_tablet = this_browsers_device() is not None
    get_session().commit()
    return redirect(url_for("tablet.wall" if on_tablet else "family_home.index"))
