"""Access policy as decorators: browsers get a redirect to sign in, htmx and API callers 401/403."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, current_app, g, jsonify, redirect, request, url_for

from app.auth import current_member, signed_in_member
from app.auth.tokens import decode_api_token
from app.db import get_session
from app.domain import AuthenticationFailed
from app.members.models import Member


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for any signed-in member of this family."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_member() is None:
            if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
                response = current_app.response_class(status=401)
                response.headers["HX-Redirect"] = url_for("accounts.login", next=request.full_path.rstrip("?"))
                return response
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def parent_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages for parents only; kids get a friendly 403."""
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not signed_in_member().is_parent:
            abort(403, description="Only parents can open this page.")
        return view(*args, **kwargs)
    return wrapped


def _api_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


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
        member = get_session().get(Member, claims["user_id"])
        if member is None or not member.can_log_in:
            # A deactivated member's token stops working at once.
            return _api_error("Invalid token", 401)
        g.member = member
        return view(*args, **kwargs)
    return wrapped
