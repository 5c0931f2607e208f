"""The apex's own sign-in session (a host-only cookie: family hosts never see it), for apex and sign-up pages."""
from __future__ import annotations

import uuid
from datetime import datetime

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


def sign_out_of_every_family(user_id: uuid.UUID, now: datetime) -> int:
    """After the account's password changes: end its sessions and revoke its API tokens in each of its families
    (each family's member row lives in that family's database, so each is entered in turn)."""
    from app.auth.services import end_all_sessions
    from app.members.models import Member
    from app.platform.services import families_of
    from app.tenancy.context import family_context
    from app.uow import unit_of_work

    ended = 0
    for family, membership in families_of(get_session(), user_id):
        if membership.member_id is None:
            continue
        with family_context(family.slug) as ctx, unit_of_work(ctx.session):
            member = ctx.session.get(Member, membership.member_id)
            if member is not None:
                ended += 1
                end_all_sessions(ctx.session, member, now)
    return ended
