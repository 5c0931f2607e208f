"""Who may act: the one definition of "a parent", "yourself or a parent" and the platform's own SYSTEM actor."""
from __future__ import annotations

import uuid
from typing import Final, final

from app.domain import Forbidden
from app.languages import translatable
from app.members.models import Member

PARENTS_ONLY = translatable("Only parents can do that")
SELF_OR_PARENT_ONLY = translatable("Only parents can do that for someone else")


@final
class SystemActor:
    """The platform acting for itself (sign-up's first parent, invitations, provisioning, seed, jobs, CLI).

    A distinct object rather than None, so a forgotten actor can never read as "skip the check": services that
    the platform may call take `Member | SystemActor` and say so in their signature.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = SystemActor()  # the only instance: services compare with isinstance
Actor = Member | SystemActor


def is_parent(actor: Actor | None) -> bool:
    """An active parent of this family: the one meaning of "parent" for every access check."""
    return isinstance(actor, Member) and actor.is_parent and actor.is_active


def acts_for(actor: Actor | None, member: Member | uuid.UUID) -> bool:
    """Whether the actor may act for `member`: it is themself, or the actor is a parent."""
    member_id = member.id if isinstance(member, Member) else member
    return is_parent(actor) or (isinstance(actor, Member) and actor.is_active and actor.id == member_id)


def require_parent(actor: Actor) -> Member:
    """Refuse anyone but an active parent (SYSTEM too: parent-only actions need a person)."""
    if not is_parent(actor):
        raise Forbidden(PARENTS_ONLY)
    assert isinstance(actor, Member)
    return actor


def require_parent_or_system(actor: Actor) -> Member | None:
    """Refuse anyone but an active parent or the platform itself; returns the parent, None for SYSTEM."""
    if isinstance(actor, SystemActor):
        return None
    return require_parent(actor)


def require_self_or_parent(actor: Actor, member: Member | uuid.UUID) -> Member:
    """Refuse a member acting for someone else unless they are a parent."""
    if not acts_for(actor, member):
        raise Forbidden(SELF_OR_PARENT_ONLY)
    assert isinstance(actor, Member)
    return actor
