"""Onboarding rules: where a family is in the welcome wizard (a family setting) and what each step offers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assignments.models import Assignment
from app.assignments.services import FamilyRules, assignments_for_day, ensure_day
from app.chores.models import Chore
from app.chores.starter import add_starter_chores
from app.domain import ValidationFailed
from app.members.models import FamilySetting, Member
from app.platform.models import Invitation
from app.policy import require_parent

STEPS: tuple[str, ...] = ("kids", "invite", "chores", "done")
STEP_LABELS = {"kids": "Kids", "invite": "Co-parent", "chores": "Chores", "done": "Done"}
SETTING_KEY = "onboarding"


@dataclass(frozen=True)
class Progress:
    """The step a family reached and whether it finished the wizard."""

    step: str = STEPS[0]
    completed: bool = False

    def as_setting(self) -> dict[str, object]:
        return {"step": self.step, "completed": self.completed}


def check_step(step: str) -> str:
    """One of the wizard's steps, or ValidationFailed."""
    if step not in STEPS:
        raise ValidationFailed("There is no such step", fields={"step": "invalid"})
    return step


def next_step(step: str) -> str:
    """The step after `step` (the last one stays put)."""
    index = STEPS.index(check_step(step))
    return STEPS[min(index + 1, len(STEPS) - 1)]


def previous_step(step: str) -> str | None:
    """The step before `step`, or None on the first."""
    index = STEPS.index(check_step(step))
    return STEPS[index - 1] if index else None


def read_progress(session: Session) -> Progress:
    """The saved progress; a family that never opened the wizard (or a damaged value) starts at the first step."""
    value = session.scalar(select(FamilySetting.value).where(FamilySetting.key == SETTING_KEY))
    if not isinstance(value, dict) or value.get("step") not in STEPS:
        return Progress()
    return Progress(step=value["step"], completed=bool(value.get("completed")))


def save_progress(session: Session, *, actor: Member, step: str, completed: bool = False) -> Progress:
    """Remember where the family is so /welcome resumes there; finishing once stays finished."""
    require_parent(actor)
    setting = session.scalar(select(FamilySetting).where(FamilySetting.key == SETTING_KEY))
    was_completed = bool(setting is not None and isinstance(setting.value, dict) and setting.value.get("completed"))
    progress = Progress(step=check_step(step), completed=completed or was_completed)
    if setting is None:
        session.add(FamilySetting(key=SETTING_KEY, value=progress.as_setting(), is_private=True,
                                  description="Where the family is in the welcome wizard"))
    else:
        setting.value = progress.as_setting()  # a new dict, so the JSON column sees the change
    session.flush()
    return progress


def choose_starter_chores(session: Session, *, actor: Member, keys: list[str], kids: list[Member],
                          today: date, language: str | None = None) -> list[Chore]:
    """Create the ticked starter chores (scheduled, shared among the kids) and move the wizard on to its last step."""
    created = add_starter_chores(session, actor=actor, keys=keys, kids=kids, today=today, language=language)
    save_progress(session, actor=actor, step=next_step("chores"))
    return created


def youngest_age(kids: list[Member], today: date) -> int | None:
    """The youngest known age among the kids (None when no birth date is known)."""
    ages = [age for age in (kid.age_on(today) for kid in kids) if age is not None]
    return min(ages) if ages else None


def open_invitations(session: Session, family_id: uuid.UUID, now: datetime) -> list[Invitation]:
    """Invitations of this family still waiting for an answer, newest first."""
    return list(session.scalars(
        select(Invitation).where(Invitation.family_id == family_id, Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())))


def existing_chore_names(session: Session) -> set[str]:
    """Names of the family's active chores (starter chores with these names are already there)."""
    return set(session.scalars(select(Chore.name).where(Chore.active.is_(True))))


def count_chores(session: Session) -> int:
    """How many active chores the family has."""
    return session.scalar(select(func.count()).select_from(Chore).where(Chore.active.is_(True))) or 0


def tomorrow_by_kid(session: Session, rules: FamilyRules, kids: list[Member], tomorrow: date,
                    now: datetime) -> list[tuple[Member, list[Assignment]]]:
    """What each kid will see on the tablet tomorrow (the day is materialised now, as the tick would tonight)."""
    ensure_day(session, rules, tomorrow, now)
    day = assignments_for_day(session, tomorrow)
    return [(kid, [a for a in day if a.assigned_to == kid.id]) for kid in kids]
