"""Fixtures for the rewards store: a household (a parent, kids with points), reward factories, real racing threads."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.assignments.services import FamilyRules, load_family_rules
from app.members.models import Member
from app.points.services import post_entry
from app.rewards.models import Reward
from app.tenancy.registry import FamilyRecord
from tests.concurrency import run_together  # noqa: F401 - the race tests import it from here
from tests.conftest import app_on_both_engines
from tests.factories import create_reward
from tests.forms import Poster
from tests.forms import csrf_token as shared_csrf_token

# The suite runs on PostgreSQL and on pooled SQLite, each time beside the neighbour family.
app = app_on_both_engines()

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday
RACERS = 20


@dataclass
class Household:
    """This test's family: one parent and two kids (ids, so each test reads them in its own session)."""

    family: FamilyRecord
    parent_id: uuid.UUID
    kid_id: uuid.UUID
    sibling_id: uuid.UUID


def give(session: Session, member_id: uuid.UUID, points: int, rules: FamilyRules, now: datetime = NOW) -> None:
    """Credit points through the ledger (a bonus), so balances and the ledger agree."""
    post_entry(session, member_id, amount=points, kind="bonus", description="Test points", clock=rules.clock,
               now=now)


def make_reward(session: Session, **fields: Any) -> Reward:
    """A reward straight into the table (services are tested separately); defaults: 50 points, unlimited."""
    return create_reward(session, **fields)


@pytest.fixture
def household(in_family: Callable[..., Any], family: FamilyRecord) -> Household:
    """A parent, Maya (100 points) and Leo (0 points), committed."""
    with in_family(family) as ctx:
        s = ctx.session
        parent = Member(username="mum", display_name="Mum", role="parent")
        kid = Member(username="maya", display_name="Maya", role="child")
        sibling = Member(username="leo", display_name="Leo", role="child")
        s.add_all([parent, kid, sibling])
        s.flush()
        give(s, kid.id, 100, load_family_rules(s, family.timezone))
        s.commit()
        return Household(family=family, parent_id=parent.id, kid_id=kid.id, sibling_id=sibling.id)


@pytest.fixture
def rules_for(in_family: Callable[..., Any]) -> Callable[[FamilyRecord], FamilyRules]:
    """The family's rules as the app reads them (its timezone and week start)."""
    def load(family: FamilyRecord) -> FamilyRules:
        with in_family(family) as ctx:
            return load_family_rules(ctx.session, family.timezone)
    return load


# --- real concurrency (race_app: tests/conftest.py) -------------------------------------------------------------------





# --- pages ---------------------------------------------------------------------------------------------------------

HTMX = {"HX-Request": "true"}


def csrf_token(flask_app: Flask, client: Any) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


@pytest.fixture
def post(app: Flask) -> Callable[..., Any]:
    """POST as the pages do: the form's CSRF token, optionally as a (non-boosted) htmx request."""
    return Poster(app)


@pytest.fixture
def browser(client_for: Callable[..., Any], auth: Any, household: Household, make_family: Callable[..., Any],
            in_family: Callable[..., Any]) -> Callable[[str], Any]:
    """Factory: a browser on the household's host as "anonymous", "kid", "other_kid", "parent" or "other_parent".

    "other_parent" signs in on another family's host and replays that session cookie here (it must not work).
    """
    def make(who: str) -> Any:
        client = client_for(household.family)
        if who in ("kid", "other_kid", "parent"):
            member_id = {"kid": household.kid_id, "other_kid": household.sibling_id,
                         "parent": household.parent_id}[who]
            with in_family(household.family) as ctx:
                member = ctx.session.get(Member, member_id)
            auth.sign_in(client, member, household.family)
        elif who == "other_parent":
            other = make_family()
            with in_family(other) as ctx:
                stranger = Member(username="olga", display_name="Olga", role="parent")
                ctx.session.add(stranger)
                ctx.session.commit()
            theirs = client_for(other)
            auth.sign_in(theirs, stranger, other)
            csrf_token(theirs.application, theirs)
            cookie = theirs.get_cookie("session", domain=theirs.host.split(":")[0])
            client.set_cookie("session", cookie.value, domain=client.host.split(":")[0])
        else:
            assert who == "anonymous"
        return client
    return make
