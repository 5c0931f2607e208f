"""The age-aware starter pack offered during onboarding (created as real chores)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.chores.models import Chore
from app.domain import ValidationFailed
from app.members.models import Member
from app.policy import require_parent


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


STARTER_PACK: tuple[StarterChore, ...] = (
    StarterChore("make-bed", "Make your bed", "🛏️", "bedroom", 5, 5, 3),
    StarterChore("toys-away", "Put toys away", "🧸", "bedroom", 5, 10, 3),
    StarterChore("feed-pet", "Feed the pet", "🐾", "pets", 5, 5, 5),
    StarterChore("set-table", "Set the table", "🍽️", "kitchen", 5, 5, 5),
    StarterChore("clear-table", "Clear the table", "🧽", "kitchen", 5, 10, 5),
    StarterChore("water-plants", "Water the plants", "🪴", "garden", 5, 5, 6),
    StarterChore("homework", "Homework done", "📚", "school", 10, 45, 6),
    StarterChore("dishwasher", "Empty the dishwasher", "🍴", "kitchen", 10, 10, 7, "medium"),
    StarterChore("laundry", "Fold the laundry", "👕", "laundry", 15, 20, 8, "medium"),
    StarterChore("trash", "Take out the trash", "🗑️", "household", 10, 5, 8),
    StarterChore("vacuum", "Vacuum a room", "🧹", "household", 15, 20, 9, "medium"),
    StarterChore("cook", "Help cook dinner", "🍳", "kitchen", 20, 40, 11, "hard"),
    StarterChore("mow", "Mow the lawn", "🌱", "outdoor", 25, 45, 13, "hard"),
)


def suggest_starter_chores(youngest_age: int | None) -> list[tuple[StarterChore, bool]]:
    """Every starter chore, with a pre-ticked flag for those the youngest kid can already do."""
    return [(chore, youngest_age is None or chore.min_age <= youngest_age) for chore in STARTER_PACK]


def add_starter_chores(session: Session, *, actor: Member, keys: list[str]) -> list[Chore]:
    """Create the chosen starter chores (skipping ones the family already has by name)."""
    require_parent(actor)
    by_key = {chore.key: chore for chore in STARTER_PACK}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ValidationFailed(f"Unknown starter chore: {', '.join(unknown)}")
    existing = set(session.scalars(select(Chore.name)))
    created = []
    for key in dict.fromkeys(keys):
        starter = by_key[key]
        if starter.name in existing:
            continue
        chore = Chore(name=starter.name, icon=starter.icon, category=starter.category, base_points=starter.points,
                      estimated_minutes=starter.minutes, min_age=starter.min_age, difficulty=starter.difficulty)
        session.add(chore)
        created.append(chore)
    session.flush()
    return created
