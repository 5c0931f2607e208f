"""`/health` answers whether this process can serve; `/health/detailed` adds pools and Redis for operators."""
from __future__ import annotations

from typing import Any

import redis
from flask import Response, abort, current_app, g, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import engines, platform_engine
from app.health import bp
from app.operator_access import operator_access_granted
from app.redis_store import get_redis


def platform_database_ok() -> bool:
    """One round trip to the platform database."""
    try:
        with platform_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def redis_status() -> dict[str, bool]:
    """Whether Redis is configured and answering."""
    client = get_redis()
    if client is None:
        return {"configured": False, "ok": False}
    try:
        return {"configured": True, "ok": bool(client.ping())}
    except redis.RedisError:
        return {"configured": True, "ok": False}


def _health_body() -> tuple[dict[str, Any], int]:
    ok = platform_database_ok()
    body = {"status": "healthy" if ok else "unhealthy", "version": current_app.config["VERSION"], "db_platform": ok}
    return body, 200 if ok else 503


@bp.get("/health")
def health() -> tuple[Response, int]:
    """Liveness/readiness: 503 when the platform database is unreachable."""
    body, status = _health_body()
    return jsonify(body), status


@bp.get("/health/detailed")
def health_detailed() -> tuple[Response, int]:
    """Health plus per-engine pool numbers (by database name) and Redis status, for operators only; anyone else
    gets the public answer. Not on family hosts."""
    if g.get("family") is not None:
        abort(404)
    body, status = _health_body()
    if operator_access_granted():
        pools = engines().stats()
        body.update(db_pools=pools, total_pools=len(pools), redis=redis_status())
    return jsonify(body), status
