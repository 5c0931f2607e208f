"""`flask seed demo`: an idempotent demo family with parents, kids and a dozen chores."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.models import Chore
from app.chores.inputs import ChoreInput
from app.chores.services import create_chore
from app.db import engines, platform_engine
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.inputs import parse_input
from app.members.models import Member
from app.platform.models import Family
from app.policy import SYSTEM
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
DEMO_CHORES: list[tuple[str, str, str, int, int, str, int, str, dict[str, Any]]] = [
    # (name, category, icon, points, minutes, difficulty, min age, who does it, schedule)
    ("Make your bed", "bedroom", "🛏️", 5, 5, "easy", 4, "each", {"kind": "daily"}),
    ("Tidy your room", "bedroom", "🧸", 10, 15, "easy", 4, "each", {"kind": "weekly", "weekdays": [2, 5]}),
    ("Feed the cat", "pets", "🐈", 5, 5, "easy", 5, "round_robin", {"kind": "daily"}),
    ("Set the table", "kitchen", "🍽️", 5, 5, "easy", 5, "round_robin", {"kind": "daily"}),
    ("Clear the table", "kitchen", "🧽", 5, 10, "easy", 5, "fair_share", {"kind": "daily"}),
    ("Empty the dishwasher", "kitchen", "🍴", 10, 10, "medium", 7, "fair_share", {"kind": "daily"}),
    ("Take out the trash", "household", "🗑️", 10, 5, "easy", 8, "fixed",
     {"kind": "weekly", "weekdays": [0, 3]}),
    ("Water the plants", "garden", "🪴", 5, 5, "easy", 6, "random", {"kind": "interval", "interval": 3}),
    ("Vacuum the living room", "household", "🧹", 15, 20, "medium", 9, "open", {"kind": "weekly", "weekdays": [5]}),
    ("Fold the laundry", "laundry", "👕", 15, 20, "medium", 8, "open", {"kind": "weekly", "weekdays": [1, 4]}),
    ("Homework done", "school", "📚", 10, 45, "medium", 6, "each", {"kind": "weekly", "weekdays": [0, 1, 2, 3]}),
    ("Wash the car", "outdoor", "🚗", 25, 45, "hard", 11, "open", {"kind": "monthly_weekday", "week_of_month": 1,
                                                                   "weekdays": [5]}),
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
            # The configured placement (on the SQLite default: a file of its own, like every family there).
            provision_family(session, engines(), placement_config(), slug=DEMO_SLUG, name="The Demo Family",
                             timezone="America/New_York")
    with family_context(DEMO_SLUG) as ctx:
        seed_demo_family(ctx.session, today=FamilyClock(ctx.family.timezone).today(utcnow()))
        ctx.session.commit()
    base = current_app.config["BASE_DOMAIN"]
    click.echo(f"\nHousePoints is at  http://{base}/   (platform)")
    click.echo(f"Demo family at     http://{DEMO_SLUG}.{base}/")
    click.echo("Parent logins:     " + ", ".join(f"{u} / {p}" for u, _, p, *_ in DEMO_PARENTS))
    click.echo("Kid tablet PINs:   " + ", ".join(f"{n} {pin}" for _, n, pin, *_ in DEMO_KIDS))


def seed_demo_family(session: Session, *, today: date) -> None:
    """Add whichever demo members and chores are missing (safe to run again); schedules start on the family's today."""
    existing = set(session.scalars(select(Member.username_key)))
    for username, name, password, avatar, color in DEMO_PARENTS:
        if username not in existing:
            session.add(Member(username=username, display_name=name, role="parent", avatar=avatar, color=color,
                               password_hash=hash_secret(password), email=f"{username}@demo.example"))
    for username, name, pin, birthdate, avatar, color in DEMO_KIDS:
        if username not in existing:
            session.add(Member(username=username, display_name=name, role="child", avatar=avatar, color=color,
                               birthdate=birthdate, pin_hash=hash_secret(pin)))
    session.flush()
    chore_names = set(session.scalars(select(Chore.name)))
    for name, category, icon, points, minutes, difficulty, min_age, strategy, schedule in DEMO_CHORES:
        if name not in chore_names:
            create_chore(session, actor=SYSTEM, today=today, data=parse_input(ChoreInput, {
                "name": name, "category": category, "icon": icon, "base_points": points,
                "estimated_minutes": minutes, "difficulty": difficulty, "min_age": min_age,
                "assignment_type": strategy, "requires_verification": strategy != "each",
                "schedule": {**schedule, "start_date": today.isoformat()},
                "assignees": [] if strategy == "open" else _kids_old_enough(session, min_age, today),
            }))
    session.flush()


def _kids_old_enough(session: Session, min_age: int, today: date) -> list[uuid.UUID]:
    kids = session.scalars(select(Member).where(Member.role == "child").order_by(Member.birthdate))
    return [kid.id for kid in kids if (kid.age_on(today) or 0) >= min_age]
