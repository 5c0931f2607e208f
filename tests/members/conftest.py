"""Fixtures for the members pages and the onboarding wizard: signed-in parents and kids, CSRF tokens, accounts."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.members.models import Member
from app.platform.models import AuditLog, FamilyMembership, User
from app.security import hash_secret
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient, app_on_both_engines
from tests.forms import Poster
from tests.forms import csrf_token as shared_csrf_token

# The suite runs on PostgreSQL and on pooled SQLite, each time beside the neighbour family.
app = app_on_both_engines()

PARENT_PASSWORD = "correct horse battery"
KID_PIN = "4321"
HTMX = {"HX-Request": "true"}
# Hashing is slow on purpose (argon2id); hash the fixtures' secrets once per run.
PARENT_PASSWORD_HASH = hash_secret(PARENT_PASSWORD)
KID_PIN_HASH = hash_secret(KID_PIN)


def host_of(client: FamilyClient) -> str:
    """The cookie domain of a client's host (no port)."""
    return client.host.split(":")[0]


def csrf_token(app: Flask, client: FamilyClient) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


def copy_session_cookie(source: FamilyClient, target: FamilyClient) -> None:
    """Paste one host's session cookie into another host's jar, as someone replaying it would."""
    cookie = source.get_cookie("session", domain=host_of(source))
    assert cookie is not None and cookie.value
    target.set_cookie("session", cookie.value, domain=host_of(target))


@pytest.fixture
def post(app: Flask) -> Poster:
    return Poster(app)


@pytest.fixture
def login(auth: Auth) -> Callable[[FamilyClient, Member, FamilyRecord], str]:
    """Sign a client in as a member on its own family host (a server-side session and its cookie)."""
    return auth.sign_in


@pytest.fixture
def parent(create_member: Callable[..., Member]) -> Member:
    """A parent who signs in with a username and password (no platform account)."""
    return create_member(role="parent", username="pat", display_name="Pat",
                         password_hash=PARENT_PASSWORD_HASH)


@pytest.fixture
def kid(create_member: Callable[..., Member]) -> Member:
    """A kid with a tablet PIN."""
    return create_member(role="child", username="kim", display_name="Kim", pin_hash=KID_PIN_HASH)


@pytest.fixture
def parent_client(auth: Auth, client: FamilyClient, parent: Member, family: FamilyRecord) -> FamilyClient:
    """This test's family host, signed in as `parent`."""
    auth.sign_in(client, parent, family)
    return client


@pytest.fixture
def give_account(app: Flask) -> Callable[..., User]:
    """Factory: a platform account and membership (owner/admin) for a parent member, as sign-up and invites make."""
    def give(member: Member, family: FamilyRecord, *, role: str = "admin", email: str | None = None,
             password_hash: str = PARENT_PASSWORD_HASH) -> User:
        email = email or f"{member.username}-{uuid.uuid4().hex[:6]}@example.com"
        with app.app_context(), family_context(family.slug) as ctx:
            user = User(email=email, display_name=member.display_name, password_hash=password_hash)
            ctx.session.add(user)
            ctx.session.flush()
            ctx.session.add(FamilyMembership(user_id=user.id, family_id=family.id, role=role, member_id=member.id))
            ctx.session.get(Member, member.id).user_id = user.id
            ctx.session.commit()
            member.user_id = user.id
            return user
    return give


@pytest.fixture
def load_member(app: Flask, family: FamilyRecord) -> Callable[..., Member | None]:
    """Factory: a fresh copy of a member from the database (this test's family unless told otherwise)."""
    def load(member_id: uuid.UUID, family_record: FamilyRecord | None = None) -> Member | None:
        with app.app_context(), family_context((family_record or family).slug) as ctx:
            member = ctx.session.get(Member, member_id)
            if member is not None:
                ctx.session.expunge(member)
            return member
    return load


@pytest.fixture
def find_member(app: Flask, family: FamilyRecord) -> Callable[[str], Member | None]:
    """Factory: this family's member with a username (case-insensitive), detached."""
    def find(username: str) -> Member | None:
        with app.app_context(), family_context(family.slug) as ctx:
            member = ctx.session.scalar(select(Member).where(Member.username_key == username.lower()))
            if member is not None:
                ctx.session.expunge(member)
            return member
    return find


@pytest.fixture
def audit_rows(app: Flask) -> Callable[..., list[AuditLog]]:
    """Factory: this family's audit rows for an action, oldest first."""
    def rows(family: FamilyRecord, action: str) -> list[AuditLog]:
        with app.app_context(), Session(platform_engine()) as session:
            return list(session.scalars(select(AuditLog).where(AuditLog.family_id == family.id,
                                                               AuditLog.action == action)
                                        .order_by(AuditLog.created_at)))
    return rows
