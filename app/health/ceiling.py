"""`/_bench/ceiling`: one `SELECT 1` on the family's engine through the whole stack, for the fleet benchmark only.

The benchmark compares the mixed workload with this route measured in the same run (the tenancy hook, the request
log, the session and one round trip to the family's database, nothing else). It is registered only when
`BENCH_CEILING_ROUTE` is set, which only `bench/` does.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import text

from app.db import get_session

bp = Blueprint("bench_ceiling", __name__)


@bp.get("/_bench/ceiling")
def ceiling() -> str:
    """One `SELECT 1` on the family's engine."""
    return str(get_session().execute(text("SELECT 1")).scalar_one())


def register(app: Flask) -> None:
    """Add the route on family hosts when the benchmark asked for it."""
    if app.config.get("BENCH_CEILING_ROUTE"):
        app.register_blueprint(bp, subdomain="<family>")
