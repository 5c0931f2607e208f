"""Background work: the every-minute tick (materialise days, mark missed chores) and ledger reconciliation."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register `flask jobs` and `flask points`."""
    from app.jobs.cli import jobs_cli, points_cli

    app.cli.add_command(jobs_cli)
    app.cli.add_command(points_cli)
