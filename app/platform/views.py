"""Apex pages: the landing page (sign-up and login arrive with the accounts area)."""
from __future__ import annotations

from flask import render_template

from app.platform import bp


@bp.get("/")
def landing():  # noqa: ANN201
    """What HousePoints is, and where to go next."""
    return render_template("platform/landing.html")
