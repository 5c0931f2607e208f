"""Background work: the every-minute tick, the delivery worker and ledger reconciliation."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `flask jobs` and `flask points`."""
    from app.jobs.cli import jobs_cli, points_cli
    from app.notifications.worker import worker_command

    jobs_cli.add_command(worker_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(points_cli)
