"""Service metadata: version and the current family's info."""
from __future__ import annotations

from flask import Response, current_app, g, jsonify
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.api import bp, platform_bp
from app.db import engines
from app.operator_access import operator_access_granted


@bp.get("/version")
@platform_bp.get("/version")
def version() -> Response:
    """The running version, in the previous service's shape."""
    return jsonify(service="housepoints", version=current_app.config["VERSION"])


@bp.get("/family/info")
def family_info() -> Response:
    """Which family this host is; which database holds it only for operators (a locator helps an attacker)."""
    family = g.family
    body = {"family_id": str(family.id), "family_slug": family.slug, "family_name": family.name,
            "plan": family.plan, "status": family.status}
    if operator_access_granted():
        body["database"] = _database_name(family.database_url)
    return jsonify(body)


def _database_name(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return (parsed.database or "").rsplit("/", 1)[-1]
    with engines().get(url).connect() as connection:
        return str(connection.scalar(text("SELECT current_database()")))
