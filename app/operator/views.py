"""Operator console (placeholder until the platform issue adds operator sign-in and family controls)."""
from __future__ import annotations

from flask import render_template

from app.operator import bp


@bp.get("/")
def index() -> str:
    """The console's front door."""
    return render_template("operator/index.html")
