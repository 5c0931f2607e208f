"""The console's own sign-in session: a host-only cookie on the admin host, checked against the account on every
request (operator flag, password fingerprint, age)."""
from __future__ import annotations

import time
import uuid

from flask import session

from app.db import get_session
from app.operator.services import operator_session_fingerprint
from app.platform.models import User

SITE_KEY = "site"
ADMIN_SITE = "admin"
OPERATOR_KEY = "operator_user_id"
FINGERPRINT_KEY = "operator_fingerprint"
SINCE_KEY = "operator_since"
MAX_SESSION_SECONDS = 12 * 3600  # a working day: the console asks for the password again after that


def remember_operator(user: User) -> None:
    """Sign `user` in on the admin host, in a fresh session."""
    session.clear()
    session[SITE_KEY] = ADMIN_SITE
    session[OPERATOR_KEY] = str(user.id)
    session[FINGERPRINT_KEY] = operator_session_fingerprint(user)
    session[SINCE_KEY] = int(time.time())


def signed_in_operator() -> User | None:
    """The operator signed in on this browser, if the session is still good for them."""
    if session.get(SITE_KEY) != ADMIN_SITE:
        return None
    try:
        user_id = uuid.UUID(str(session.get(OPERATOR_KEY) or ""))
        since = int(session.get(SINCE_KEY) or 0)
    except (TypeError, ValueError):
        return None
    if not 0 <= time.time() - since <= MAX_SESSION_SECONDS:
        return None
    user = get_session().get(User, user_id)
    if (user is None or user.deleted_at is not None or not user.is_operator
            or session.get(FINGERPRINT_KEY) != operator_session_fingerprint(user)):
        return None
    return user
