"""API sign-in: exchange a username (or a parent's email) and password for a bearer token; who am I."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, jsonify, request

from app.api import bp
from app.api.serializers import user_detail
from app.api.users import family_today
from app.audit import record_audit
from app.auth.decorators import api_auth_required
from app.auth.inputs import LoginInput
from app.auth.services import authenticate_password, find_member_by_login
from app.auth.tokens import issue_api_token
from app.db import get_session
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, Forbidden, LockedOut, ValidationFailed
from app.extensions import limiter
from app.inputs import parse_input
from app.uow import unit_of_work



@bp.post("/auth/login")
@limiter.limit("30/minute", error_message="Too many sign-in attempts from this address. Please wait a minute.")
def login() -> Response | tuple[Response, int]:
    """Exchange credentials for a bearer token; every failure is remembered for the lockout."""
    credentials = _read_credentials(request.get_json(silent=True))
    if isinstance(credentials, ValidationFailed):
        return jsonify(error="Invalid request", details=credentials.message, fields=credentials.fields), 400
    identifier, password = credentials.username, credentials.password
    session = get_session()
    family = g.family
    now = utcnow()
    try:
        member = authenticate_password(session, family_id=family.id, identifier=identifier, password=password,
                                       now=now)
    except (AuthenticationFailed, Forbidden, LockedOut) as refusal:
        with unit_of_work(session):  # the recorded failure must survive, or the lockout would never trigger
            _audit_refusal(refusal, identifier)
        response = jsonify(error=refusal.message)
        response.status_code = refusal.status
        if isinstance(refusal, LockedOut):
            response.headers["Retry-After"] = str(refusal.extra["retry_after"])
        return response
    token = issue_api_token(member, family.id, secret=current_app.config["JWT_SECRET"],
                            issuer=current_app.config["JWT_ISSUER"],
                            lifetime=timedelta(seconds=current_app.config["JWT_LIFETIME_SECONDS"]), now=now)
    with unit_of_work(session):
        record_audit(session, "auth.token_issued", family_id=family.id, actor_member_id=member.id,
                     target_type="member", target_id=member.id, ip_address=request.remote_addr)
    return jsonify(token=token, user_id=str(member.id), username=member.username, is_parent=member.is_parent,
                   family_id=str(family.id))


@bp.get("/auth/me")
@api_auth_required
def auth_me() -> Response:
    """The token's member, for clients checking who they are signed in as."""
    return jsonify(user_detail(g.member, today=family_today()))


def _read_credentials(body: Any) -> LoginInput | ValidationFailed:
    """The login body as typed credentials, or why it is unusable (the contract answers "Invalid request")."""
    if not isinstance(body, dict):
        return ValidationFailed("The request body must be a JSON object with username and password")
    try:
        return parse_input(LoginInput, {"username": body.get("username"), "password": body.get("password")})
    except ValidationFailed as error:
        return error


def _audit_refusal(refusal: AuthenticationFailed | Forbidden | LockedOut, identifier: str) -> None:
    """One audit row per refused sign-in (never the password); the member is named when the login name exists."""
    session = get_session()
    locked_member = refusal.extra.get("member_id")
    member_id = uuid.UUID(str(locked_member)) if locked_member else None
    if member_id is None:
        member = find_member_by_login(session, family_id=g.family.id, identifier=identifier)
        member_id = member.id if member is not None else None
    action = "auth.locked_out" if isinstance(refusal, LockedOut) else "auth.login_failed"
    record_audit(session, action, family_id=g.family.id, actor_member_id=member_id,
                 target_type="member" if member_id else None, target_id=member_id,
                 ip_address=request.remote_addr,
                 details={"via": "api", "reason": refusal.message, "login": identifier.strip()[:100]})
