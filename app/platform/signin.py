"""The apex's own sign-in session (a host-only cookie: family hosts never see it), for apex and sign-up pages."""
from __future__ import annotations

import uuid

from flask import session

from app.db import get_session
from app.platform.models import User

PLATFORM_USER_KEY = "platform_user_id"


def remember_platform_user(user: User) -> None:
    """Sign `user` in on the apex, in a fresh session."""
    session.clear()
    session[PLATFORM_USER_KEY] = str(user.id)


def signed_in_platform_user() -> User | None:
    """The platform account signed in on the apex, if any."""
    try:
        user_id = uuid.UUID(session.get(PLATFORM_USER_KEY) or "")
    except ValueError:
        return None
    user = get_session().get(User, user_id)
    return user if user is not None and user.deleted_at is None else None  # a deleted account is signed out everywhere
