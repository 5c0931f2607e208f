"""The family's home page: its name and its people."""
from __future__ import annotations

from flask import g, render_template

from app.db import get_session
from app.family_home import bp
from app.members.services import list_members


@bp.get("/")
def index():  # noqa: ANN201
    """Family dashboard placeholder: the family and its active members."""
    members = list_members(get_session())
    return render_template("family_home/index.html", family=g.family, members=members)
