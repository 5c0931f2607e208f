"""Background work: the every-minute tick, the delivery worker and ledger reconciliation."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `flask jobs` and `flask points`."""
    from app.jobs.cli import jobs_cli, points_cli
    from app.jobs.rq_keys import namespace_rq
    from app.redis_store import platform_key

    app.cli.add_command(jobs_cli)
    app.cli.add_command(points_cli)
    if app.config.get("REDIS_URL"):  # RQ's keys, like every other, live under this deployment's platform prefix
        namespace_rq(platform_key("rq", prefix=app.config["REDIS_KEY_PREFIX"]))
