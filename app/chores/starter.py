"""The age-aware starter pack offered during onboarding (created as real chores)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.inputs import ChoreInput
from app.chores.models import Chore
from app.chores.services import create_chore
from app.domain import ValidationFailed
from app.inputs import parse_input
from app.languages import Phrase, phrase, translatable
from app.members.models import Member
from app.policy import require_parent

DAILY: dict[str, object] = {"kind": "daily"}
SCHOOL_DAYS: dict[str, object] = {"kind": "weekly", "weekdays": [0, 1, 2, 3, 4]}


def weekly(*weekdays: int) -> dict[str, object]:
    """A weekly schedule on these weekdays (0 = Monday)."""
    return {"kind": "weekly", "weekdays": list(weekdays)}


@dataclass(frozen=True)
class StarterChore:
    key: str
    name: str
    icon: str
    category: str
    points: int
    minutes: int
    min_age: int
    difficulty: str = "easy"
    schedule: dict[str, object] = field(default_factory=lambda: DAILY)
    # "each": every kid old enough does it; "round_robin": they take turns (each chore starts with another kid).
    strategy: str = "round_robin"


STARTER_PACK: tuple[StarterChore, ...] = (
    StarterChore("make-bed", translatable("Make your bed"), "🛏️", "bedroom", 5, 5, 3, strategy="each"),
    StarterChore("toys-away", translatable("Put toys away"), "🧸", "bedroom", 5, 10, 3, strategy="each"),
    StarterChore("feed-pet", translatable("Feed the pet"), "🐾", "pets", 5, 5, 5),
    StarterChore("set-table", translatable("Set the table"), "🍽️", "kitchen", 5, 5, 5),
    StarterChore("clear-table", translatable("Clear the table"), "🧽", "kitchen", 5, 10, 5),
    StarterChore("water-plants", translatable("Water the plants"), "🪴", "garden", 5, 5, 6, schedule=weekly(2, 5)),
    StarterChore("homework", translatable("Homework done"), "📚", "school", 10, 45, 6, schedule=SCHOOL_DAYS,
                 strategy="each"),
    StarterChore("dishwasher", translatable("Empty the dishwasher"), "🍴", "kitchen", 10, 10, 7, "medium"),
    StarterChore("laundry", translatable("Fold the laundry"), "👕", "laundry", 15, 20, 8, "medium", weekly(5)),
    StarterChore("trash", translatable("Take out the trash"), "🗑️", "household", 10, 5, 8, schedule=weekly(0, 3)),
    StarterChore("vacuum", translatable("Vacuum a room"), "🧹", "household", 15, 20, 9, "medium", weekly(5)),
    StarterChore("cook", translatable("Help cook dinner"), "🍳", "kitchen", 20, 40, 11, "hard", weekly(4)),
    StarterChore("mow", translatable("Mow the lawn"), "🌱", "outdoor", 25, 45, 13, "hard", weekly(5)),
)


def suggest_starter_chores(youngest_age: int | None) -> list[tuple[StarterChore, bool]]:
    """Every starter chore, with a pre-ticked flag for those the youngest kid can already do."""
    return [(chore, youngest_age is None or chore.min_age <= youngest_age) for chore in STARTER_PACK]


def _old_enough(kid: Member, min_age: int, today: date) -> bool:
    age = kid.age_on(today)
    return age is None or age >= min_age


def add_starter_chores(session: Session, *, actor: Member, keys: list[str], kids: list[Member],
                       today: date, language: str | None = None) -> list[Chore]:
    """Create the chosen starter chores with their schedule, from today, and who does them (skipping ones the family
    already has by name): kids old enough (an unknown age counts), turns rotated so each chore starts elsewhere.
    Names are written in `language` (the parent's page), as if the parent had typed them."""
    require_parent(actor)
    by_key = {chore.key: chore for chore in STARTER_PACK}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ValidationFailed(phrase("Unknown starter chore: %(keys)s", keys=", ".join(unknown)))
    existing = set(session.scalars(select(Chore.name)))
    created = []
    turn = 0
    for key in dict.fromkeys(keys):
        starter = by_key[key]
        name = Phrase(starter.name).render(language)
        if name in existing:
            continue
        able = [kid.id for kid in kids if _old_enough(kid, starter.min_age, today)]
        if starter.strategy == "round_robin" and able:
            start = turn % len(able)
            able = able[start:] + able[:start]
            turn += 1
        created.append(create_chore(session, actor=actor, today=today, data=parse_input(ChoreInput, {
            "name": name, "icon": starter.icon, "category": starter.category,
            "base_points": starter.points, "estimated_minutes": starter.minutes, "min_age": starter.min_age,
            "difficulty": starter.difficulty, "assignment_type": starter.strategy,
            "schedule": {**starter.schedule, "start_date": today.isoformat()}, "assignees": able,
        })))
    session.flush()
    return created
