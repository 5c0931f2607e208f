"""`flask operators create EMAIL` and `flask analytics compute`: making operators and the daily numbers by hand."""
from __future__ import annotations

import sys
from datetime import date, timedelta

import click
from flask import Flask, current_app, url_for
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.db.bases import utcnow
from app.domain import DomainError
from app.operator.analytics import compute_daily_analytics
from app.operator.services import analytics_recorded, create_operator
from app.platform.services import password_reset_token


def init_app(app: Flask) -> None:
    """Register `flask operators` and `flask analytics`."""
    app.cli.add_command(operators_cli)
    app.cli.add_command(analytics_cli)


@click.group("operators")
def operators_cli() -> None:
    """Operator accounts (the console at admin.<base domain>)."""


@operators_cli.command("create")
@click.argument("email")
@click.option("--name", default=None, help="Display name (new accounts; default: the email's local part).")
@click.option("--link", is_flag=True, help="Print a one-time set-password link instead of prompting.")
@with_appcontext
def create_command(email: str, name: str | None, link: bool) -> None:
    """Make EMAIL an operator: prompts for a password, or prints a one-time link to set one (--link)."""
    password = None if link else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Session(platform_engine(), expire_on_commit=False) as session:
        try:
            with session.begin():
                user = create_operator(session, email=email, display_name=name, password=password)
        except DomainError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"{user.email} is an operator.")
        if link:
            with session.begin():
                found = password_reset_token(session, current_app.config["SECRET_KEY"], user.email)
            assert found is not None
            click.echo("Set the password within the hour (the link works once):")
            click.echo(url_for("platform.reset_password", token=found[1], _external=True))


@click.group("analytics")
def analytics_cli() -> None:
    """The platform's daily numbers."""


@analytics_cli.command("compute")
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The UTC day to (re)compute (default: yesterday).")
@click.option("--family", "slugs", multiple=True, metavar="SLUG",
              help="Re-measure only this family (repeatable), e.g. one the last run could not measure.")
@with_appcontext
def compute_command(day: object, slugs: tuple[str, ...]) -> None:
    """Measure every family (or the named ones) and replace their rows of one day's analytics."""
    target = day.date() if hasattr(day, "date") else utcnow().date() - timedelta(days=1)
    written, failed = compute_daily_analytics(target, slugs)
    click.echo(f"analytics {target.isoformat()}: {written} rows")
    if failed:
        click.echo(f"FAILED {len(failed)} families: {', '.join(failed)}")
        sys.exit(1)


def record_missing_analytics(today: date) -> str | None:
    """Yesterday's analytics, if nobody computed them yet (the tick calls this every minute; it works once a day)."""
    yesterday = today - timedelta(days=1)
    with Session(platform_engine()) as session:
        if analytics_recorded(session, yesterday):
            return None
    written, failed = compute_daily_analytics(yesterday)
    return f"analytics {yesterday.isoformat()}: {written} rows" + (f", failed: {', '.join(failed)}" if failed else "")
