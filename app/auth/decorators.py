"""Access policy as decorators: browsers get a redirect to sign in, htmx and API callers 401/403."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, current_app, g, jsonify, redirect, request, url_for
from sqlalchemy import bindparam, select

from app.auth import current_member, signed_in_member, turn_ended_message
from app.auth.tokens import decode_api_token
from app.db import get_session
from app.domain import AuthenticationFailed
from app.languages import translatable
from app.htmx import is_htmx, is_htmx_request, redirect_to
from app.members.models import Member
from app.policy import is_parent


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for any signed-in member of this family."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_member() is None:
            ended = turn_ended_message()
            if ended is not None:
                return _back_to_the_tablet(ended)
            if is_htmx():
                return redirect_to(current_app.response_class(status=401),
                                   url_for("accounts.login", next=request.full_path.rstrip("?")))
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def _back_to_the_tablet(message: str) -> Any:
    """A kid's turn on the tablet ran out: back to the avatar wall (the message waits there), whoever asked."""
    wall = url_for("tablet.wall")
    if is_htmx_request():
        return redirect_to(current_app.response_class(status=401), wall)
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return _api_error(message, 401)
    return redirect(wall, 303)


def parent_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for parents only; kids get a friendly 403."""
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_parent(signed_in_member()):
            abort(403, description=translatable("Only parents can open this page."))
        return view(*args, **kwargs)
    wrapped.parents_only = True  # type: ignore[attr-defined]  # read by tests/test_policy.py's route matrix
    return wrapped


def _api_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


# Built once, like the page session's lookup: every API request runs it (Session.get builds a statement each time).
_MEMBER_BY_ID = select(Member).where(Member.id == bindparam("member_id"))


def api_auth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Bearer-token API routes, with the previous service's messages; g.member is the token's live member."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization")
        if not header:
            return _api_error("Authorization header required", 401)
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token or " " in token:
            return _api_error("Invalid authorization format. Use: Bearer <token>", 401)
        try:
            claims = decode_api_token(token, secret=current_app.config["JWT_SECRET"],
                                      issuer=current_app.config["JWT_ISSUER"])
        except AuthenticationFailed as error:
            return _api_error(error.message, 401)
        if claims["family_id"] != g.family.id:
            return _api_error("Token does not belong to this family", 403)
        member = get_session().scalar(_MEMBER_BY_ID, {"member_id": claims["user_id"]})
        if member is None or not member.can_log_in:
            # A deactivated member's token stops working at once.
            return _api_error("Invalid token", 401)
        if claims["tv"] != member.token_version:
            # Revoked: a password change, deactivation or "sign out everywhere" since it was issued.
            return _api_error("Invalid token", 401)  # the contract's wording
        g.member = member
        return view(*args, **kwargs)
    return wrapped


def api_parent_required(message: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Bearer-token API routes for parents only: the token checks of `api_auth_required`, then a 403 with the
    route's own message (the previous service's clients read it) before the view looks at anything else."""
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @api_auth_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not is_parent(g.member):
                return _api_error(message, 403)
            return view(*args, **kwargs)
        wrapped.parents_only = True  # type: ignore[attr-defined]  # read by tests/test_policy.py's route matrix
        return wrapped
    return decorate
