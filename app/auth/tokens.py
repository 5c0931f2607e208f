"""API bearer tokens (JWT, HS256, the previous service's claims) and short-lived signed links."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import jwt
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.domain import AuthenticationFailed
from app.members.models import Member

ALGORITHM = "HS256"


def issue_api_token(member: Member, family_id: uuid.UUID, *, secret: str, issuer: str, lifetime: timedelta,
                    now: datetime) -> str:
    """A bearer token with the old service's claims (user_id, family_id, username, is_parent, iss, exp, nbf, iat)
    and the member's token version (`tv`), which stops matching once their tokens are revoked."""
    claims = {
        "user_id": str(member.id), "family_id": str(family_id), "username": member.username,
        "is_parent": member.is_parent, "iss": issuer, "exp": int((now + lifetime).timestamp()),
        "nbf": int(now.timestamp()), "iat": int(now.timestamp()), "tv": member.token_version,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_api_token(token: str, *, secret: str, issuer: str) -> dict[str, Any]:
    """The claims of a valid token; only HS256, `exp` required, `iss` checked."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=issuer,
                            options={"require": ["exp", "iat", "iss", "user_id", "family_id"]})
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("Token has expired") from None
    except jwt.PyJWTError:
        raise AuthenticationFailed("Invalid token") from None
    try:
        claims["user_id"] = uuid.UUID(str(claims["user_id"]))
        claims["family_id"] = uuid.UUID(str(claims["family_id"]))
    except ValueError:
        raise AuthenticationFailed("Invalid token") from None
    # Tokens issued before versions existed carry none: version 0, revoked by the member's first bump.
    version = claims.get("tv", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise AuthenticationFailed("Invalid token")
    claims["tv"] = version
    return claims


def sign_link(secret: str, purpose: str, payload: dict[str, Any]) -> str:
    """A URL-safe signed token for `purpose` (hand-off, invite, reset, verify)."""
    return URLSafeTimedSerializer(secret, salt=f"housepoints.{purpose}").dumps(payload)


def read_link(secret: str, purpose: str, token: str, *, max_age: int) -> dict[str, Any]:
    """The payload of a signed link, or AuthenticationFailed when forged, for another purpose or expired."""
    try:
        serializer = URLSafeTimedSerializer(secret, salt=f"housepoints.{purpose}")
        payload: dict[str, Any] = serializer.loads(token, max_age=max_age)
        return payload
    except SignatureExpired:
        raise AuthenticationFailed("This link has expired. Ask for a new one.") from None
    except BadSignature:
        raise AuthenticationFailed("This link is not valid.") from None
