"""Shared rig for the daily-loop page tests (chores, calendar, today): a family with a parent and kids, browsers
signed in as each kind of visitor, CSRF-carrying posts and a query counter.

Fixtures are imported by tests/chores/conftest.py, tests/dashboard/conftest.py and tests/presence/test_pages.py.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient
from tests.forms import Poster
from tests.forms import csrf_token as shared_csrf_token

HTMX = {"HX-Request": "true"}
VISITORS = ("anonymous", "kid", "parent", "other_parent")


@dataclass
class People:
    """This test's family (a parent, three kids) and another family with its own parent and kid."""

    family: FamilyRecord
    parent: Member
    maya: Member
    leo: Member
    zoe: Member
    other: FamilyRecord
    other_parent: Member
    other_kid: Member

    @property
    def kids(self) -> list[Member]:
        return [self.leo, self.maya, self.zoe]  # list_children's order: by display name


@pytest.fixture
def people(make_family: Callable[..., FamilyRecord], family: FamilyRecord,
           create_member: Callable[..., Member]) -> People:
    other = make_family()
    kid = {"role": "child", "birthdate": date(2015, 5, 1)}
    return People(
        family=family,
        parent=create_member(role="parent", username="pat", display_name="Pat"),
        maya=create_member(username="maya", display_name="Maya", color="#e84393", **kid),
        leo=create_member(username="leo", display_name="Leo", color="#27ae60", **kid),
        zoe=create_member(username="zoe", display_name="Zoe", color="#2980b9", **kid),
        other=other,
        other_parent=create_member(family_record=other, role="parent", username="olga", display_name="Olga"),
        other_kid=create_member(family_record=other, username="otto", display_name="Otto", **kid),
    )


def csrf_token(app: Flask, client: FamilyClient) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


@pytest.fixture
def post(app: Flask) -> Poster:
    return Poster(app)


@pytest.fixture
def parent_client(client: FamilyClient, auth: Auth, people: People) -> FamilyClient:
    """This family's host, signed in as its parent."""
    auth.sign_in(client, people.parent, people.family)
    return client


@pytest.fixture
def visitor(client_for: Callable[..., FamilyClient], auth: Auth, people: People) -> Callable[[str], FamilyClient]:
    """Factory: a browser on this family's host as one of VISITORS.

    "other_parent" signs in on the other family's host and replays that session cookie here.
    """
    def make(who: str) -> FamilyClient:
        client = client_for(people.family)
        if who == "kid":
            auth.sign_in(client, people.maya, people.family)
        elif who == "parent":
            auth.sign_in(client, people.parent, people.family)
        elif who == "other_parent":
            theirs = client_for(people.other)
            auth.sign_in(theirs, people.other_parent, people.other)
            csrf_token(theirs.application, theirs)  # their session carries a CSRF secret too
            cookie = theirs.get_cookie("session", domain=theirs.host.split(":")[0])
            assert cookie is not None
            client.set_cookie("session", cookie.value, domain=client.host.split(":")[0])
        else:
            assert who == "anonymous"
        return client
    return make


def expect_access(response: Any, who: str, *, ok: tuple[int, ...] = (200,)) -> None:
    """What each visitor gets: parents their answer, kids 403, everyone else the sign-in page."""
    if who == "parent":
        assert response.status_code in ok, (response.status_code, response.get_data(as_text=True)[:500])
    elif who == "kid":
        assert response.status_code == 403
    else:
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# --- queries --------------------------------------------------------------------------------------------------

class QueryCounter:
    """Counts SQL statements sent to any database while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_queries() -> Iterator[QueryCounter]:
    """Count every statement any engine runs inside the block (a before_cursor_execute listener)."""
    counter = QueryCounter()
    event.listen(Engine, "before_cursor_execute", counter._count)  # noqa: SLF001 - its own helper class
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", counter._count)  # noqa: SLF001


# --- live events ----------------------------------------------------------------------------------------------

@contextmanager
def live_events(app: Flask, family: FamilyRecord) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Subscribe to a family's live-event channel (real Redis); yields a function returning what arrived so far."""
    from app.live.events import events_channel
    from app.redis_store import get_redis

    with app.app_context():
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(events_channel(family.id))
        pubsub.get_message(timeout=1)  # the subscription is confirmed before anything is published
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            received.append(json.loads(message["data"]))
        return received

    try:
        yield drain
    finally:
        pubsub.close()


# --- reading pages --------------------------------------------------------------------------------------------

def ids(*members: Member) -> list[str]:
    return [str(m.id) for m in members]


def has_field_error(html: str, name: str) -> bool:
    """Whether the re-rendered form marks a field as wrong."""
    return f'id="{name}-error"' in html

