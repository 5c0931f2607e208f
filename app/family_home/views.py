"""The family's home page: a welcome and sign-in for visitors, the dashboard for signed-in members."""
from __future__ import annotations

from flask import g, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth import current_member
from app.db import get_session
from app.family_home import bp
from app.members.services import list_members
from app.uow import commit_now
from app.tablet.devices import is_tablet_turn, this_browsers_device


@bp.get("/")
def index() -> BaseResponse | str:
    """Visitors see only the family's name and how to sign in; members see the family dashboard."""
    member = current_member()
    if member is None:
        # No session, no family data: only the name, the sign-in button and, on the family tablet, its wall.
        device = this_browsers_device()
        if device is not None:
            commit_now()  # the device's last-seen time
        return render_template("family_home/index.html", family=g.family, member=None, members=[],
                               is_tablet=device is not None)
    if not member.is_parent and is_tablet_turn():
        return redirect(url_for("tablet.kid_home"))
    members = list_members(get_session())
    return render_template("family_home/index.html", family=g.family, member=member, members=members,
                           is_tablet=False)
