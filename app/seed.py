"""`flask seed demo`: an idempotent demo family with parents, kids and a dozen chores."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.models import Chore
from app.db import engines, platform_engine
from app.members.models import Member
from app.platform.models import Family
from app.security import hash_secret
from app.tenancy.cli import placement_config
from app.tenancy.context import family_context
from app.tenancy.provisioning import provision_family

DEMO_SLUG = "demo"
DEMO_PARENTS = [
    # (username, display name, password, avatar, colour)
    ("alex", "Alex", "demo-parent-1", "🦊", "#e67e22"),
    ("jordan", "Jordan", "demo-parent-2", "🐻", "#8e44ad"),
]
DEMO_KIDS = [
    # (username, display name, PIN, birthdate, avatar, colour)
    ("maya", "Maya", "1234", date(2013, 4, 2), "🦄", "#e84393"),
    ("leo", "Leo", "2345", date(2016, 9, 14), "🦖", "#27ae60"),
    ("zoe", "Zoe", "3456", date(2019, 1, 23), "🐼", "#2980b9"),
]
DEMO_CHORES = [
    # (name, category, icon, points, minutes, difficulty, min age)
    ("Make your bed", "bedroom", "🛏️", 5, 5, "easy", 4),
    ("Tidy your room", "bedroom", "🧸", 10, 15, "easy", 4),
    ("Feed the cat", "pets", "🐈", 5, 5, "easy", 5),
    ("Set the table", "kitchen", "🍽️", 5, 5, "easy", 5),
    ("Clear the table", "kitchen", "🧽", 5, 10, "easy", 5),
    ("Empty the dishwasher", "kitchen", "🍴", 10, 10, "medium", 7),
    ("Take out the trash", "household", "🗑️", 10, 5, "easy", 8),
    ("Water the plants", "garden", "🪴", 5, 5, "easy", 6),
    ("Vacuum the living room", "household", "🧹", 15, 20, "medium", 9),
    ("Fold the laundry", "laundry", "👕", 15, 20, "medium", 8),
    ("Homework done", "school", "📚", 10, 45, "medium", 6),
    ("Wash the car", "outdoor", "🚗", 25, 45, "hard", 11),
]


def init_app(app: Flask) -> None:
    """Register `flask seed`."""
    app.cli.add_command(seed_cli)


@click.group("seed")
def seed_cli() -> None:
    """Load demo data."""


@seed_cli.command("demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create (or complete) the demo family and print how to reach it."""
    with Session(platform_engine(), expire_on_commit=False) as session:
        if session.scalar(select(Family).where(Family.slug == DEMO_SLUG)) is None:
            provision_family(session, engines(), placement_config(), slug=DEMO_SLUG, name="The Demo Family",
                             placement=current_app.config["FAMILY_PLACEMENT"], timezone="America/New_York")
    with family_context(DEMO_SLUG) as ctx:
        seed_demo_family(ctx.session)
        ctx.session.commit()
    base = current_app.config["BASE_DOMAIN"]
    click.echo(f"\nHousePoints is at  http://{base}/   (platform)")
    click.echo(f"Demo family at     http://{DEMO_SLUG}.{base}/")
    click.echo("Parent logins:     " + ", ".join(f"{u} / {p}" for u, _, p, *_ in DEMO_PARENTS))
    click.echo("Kid tablet PINs:   " + ", ".join(f"{n} {pin}" for _, n, pin, *_ in DEMO_KIDS))


def seed_demo_family(session: Session) -> None:
    """Add whichever demo members and chores are missing (safe to run again)."""
    existing = set(session.scalars(select(Member.username_key)))
    for username, name, password, avatar, color in DEMO_PARENTS:
        if username not in existing:
            session.add(Member(username=username, display_name=name, role="parent", avatar=avatar, color=color,
                               password_hash=hash_secret(password), email=f"{username}@demo.example"))
    for username, name, pin, birthdate, avatar, color in DEMO_KIDS:
        if username not in existing:
            session.add(Member(username=username, display_name=name, role="child", avatar=avatar, color=color,
                               birthdate=birthdate, pin_hash=hash_secret(pin)))
    chore_names = set(session.scalars(select(Chore.name)))
    for name, category, icon, points, minutes, difficulty, min_age in DEMO_CHORES:
        if name not in chore_names:
            session.add(Chore(name=name, category=category, icon=icon, base_points=points,
                              estimated_minutes=minutes, difficulty=difficulty, min_age=min_age))
    session.flush()
