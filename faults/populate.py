"""Fault suite setup: families with parents, kids, a chore needing approval and stocked rewards; prints JSON.

Run as a subprocess in the server's environment (`python -m faults.populate --families 5 --kids 10`), so it builds
the app exactly as gunicorn does. It prints each family's slug, API tokens (issued the way `/api/auth/login` issues
them: the per-address sign-in limit would refuse 55 logins from one test), kid ids, the chore and the rewards.
"""
from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from app import create_app
from app.auth.tokens import issue_api_token
from app.chores.inputs import ChoreInput
from app.chores.services import create_chore
from app.db import engines, platform_engine
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.inputs import parse_input
from app.members.models import Member
from app.policy import SYSTEM
from app.rewards.inputs import RewardInput
from app.rewards.services import create_reward
from app.security import hash_secret
from app.tenancy.cli import placement_config
from app.tenancy.context import family_context
from app.tenancy.provisioning import provision_family
from config import TestConfig

PARENT_PASSWORD = "fault-parent-1"
# (name, cost, stock, max per week): a cheap unlimited one, a scarce one, a weekly-limited one
REWARDS = [("Sticker", 5, None, None), ("Cinema trip", 40, 6, None), ("Ice cream", 15, None, 2)]


def populate(families: int, kids: int) -> list[dict[str, Any]]:
    """Provision the families and return what the tests need to drive them."""
    app = create_app(TestConfig)
    out = []
    with app.app_context():
        for number in range(families):
            slug = f"fault{number}"
            with Session(platform_engine(), expire_on_commit=False) as platform:
                provision_family(platform, engines(), placement_config(), slug=slug, name=f"Fault family {number}",
                                 plan="premium")
            with family_context(slug) as ctx:
                session, now = ctx.session, utcnow()
                parent = Member(username="parent", display_name="Parent", role="parent",
                                password_hash=hash_secret(PARENT_PASSWORD), email=f"parent@{slug}.example")
                session.add(parent)
                children = [Member(username=f"kid{k}", display_name=f"Kid {k}", role="child") for k in range(kids)]
                session.add_all(children)
                session.flush()
                today = FamilyClock(ctx.family.timezone).today(now)
                chore = create_chore(session, actor=SYSTEM, today=today, data=parse_input(ChoreInput, {
                    "name": "Tidy up", "base_points": 10, "requires_verification": True, "assignees": []}))
                rewards = [create_reward(session, actor=parent, data=parse_input(RewardInput, {
                    "name": name, "cost": cost, "stock": stock, "max_per_week": per_week, "category": "treats"}))
                    for name, cost, stock, per_week in REWARDS]
                session.commit()

                def token(member: Member, family_id: Any = ctx.family.id, issued: Any = now) -> str:
                    return issue_api_token(member, family_id, secret=app.config["JWT_SECRET"],
                                           issuer=app.config["JWT_ISSUER"], lifetime=timedelta(hours=6), now=issued)

                out.append({
                    "slug": slug, "family_id": str(ctx.family.id), "parent_id": str(parent.id),
                    "parent_token": token(parent), "chore_id": str(chore.id),
                    "kids": [{"id": str(kid.id), "token": token(kid)} for kid in children],
                    "rewards": [{"id": str(r.id), "name": r.name, "cost": r.cost, "stock": r.stock,
                                 "max_per_week": r.max_per_week} for r in rewards],
                })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=1)
    parser.add_argument("--kids", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(populate(args.families, args.kids)))


if __name__ == "__main__":
    main()
