"""Helpers for the apex and sign-up tests: CSRF tokens read from real pages, fresh client addresses, accounts."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.members.inputs import MemberInput
from app.members.services import create_member
from app.platform.models import AuditLog, Family, FamilyMembership, User
from app.policy import SYSTEM
from app.security import hash_secret
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient, host_client
from tests.html import field_value

PASSWORD = "plum tree in the garden"


def csrf_token(client: FamilyClient, path: str) -> str:
    """The CSRF token a real visitor would get from the form at `path`."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return field_value(response, "csrf_token")


def fresh_address() -> str:
    """A client address of its own, so rate limits (per address) never leak from one test into another."""
    octets = uuid.uuid4().bytes
    return f"10.{octets[0]}.{octets[1]}.{octets[2]}"


def client_on(app: Flask, target: str | FamilyRecord | None = None) -> FamilyClient:
    """A client for a host (the apex for None) with its own address."""
    client = host_client(app, target)
    client.environ_base["REMOTE_ADDR"] = fresh_address()
    return client


def handoff_parts(location: str) -> tuple[str, str, dict[str, str]]:
    """(host, path, query) of a hand-off redirect."""
    parts = urlsplit(location)
    return parts.netloc, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def follow_handoff(app: Flask, location: str) -> tuple[FamilyClient, Any]:
    """Present a hand-off URL on its family host, as the browser does after the redirect."""
    host, path, query = handoff_parts(location)
    slug = host.split(".")[0]
    client = client_on(app, slug)
    return client, client.get(path, query_string=query)


@dataclass
class Account:
    """A platform account and the families it belongs to."""

    user_id: uuid.UUID
    email: str
    password: str
    display_name: str
    families: list[FamilyRecord] = field(default_factory=list)
    member_ids: dict[str, uuid.UUID] = field(default_factory=dict)  # slug → member id


def create_account(app: Flask, families: Sequence[FamilyRecord] = (), *, email: str | None = None,
                   password: str = PASSWORD, display_name: str = "Robin", role: str = "admin") -> Account:
    """A platform account that is a parent (with a membership) in each of `families`."""
    email = email or f"robin-{uuid.uuid4().hex[:8]}@example.com"
    with app.app_context():
        with Session(platform_engine(), expire_on_commit=False) as session, session.begin():
            user = User(email=email, display_name=display_name, password_hash=hash_secret(password))
            session.add(user)
        account = Account(user_id=user.id, email=email, password=password, display_name=display_name)
        for family in families:
            with family_context(family.slug) as ctx:
                member = create_member(ctx.session, actor=SYSTEM, plan=family.plan, today=date.today(),
                                       data=MemberInput(username=f"robin{uuid.uuid4().hex[:6]}",
                                                        display_name=display_name, role="parent", email=email,
                                                        user_id=user.id))
                ctx.session.add(FamilyMembership(user_id=user.id, family_id=family.id, role=role,
                                                 member_id=member.id))
                ctx.session.commit()
            account.families.append(family)
            account.member_ids[family.slug] = member.id
    return account


def audit_actions(app: Flask, **filters: Any) -> list[str]:
    """Audit actions recorded so far that match `filters` (column=value), oldest first."""
    with app.app_context(), Session(platform_engine()) as session:
        query = select(AuditLog.action).order_by(AuditLog.created_at)
        for column, value in filters.items():
            query = query.where(getattr(AuditLog, column) == value)
        return list(session.scalars(query))


def find_family(app: Flask, slug: str) -> Family | None:
    with app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
        return session.scalar(select(Family).where(Family.slug == slug))


def find_user(app: Flask, email: str) -> User | None:
    with app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
        return session.scalar(select(User).where(func.lower(User.email) == email.lower()))


# --- fixtures (imported by the conftest of each folder that uses them) ----------------------------------------

@pytest.fixture
def apex(app: Flask) -> FamilyClient:
    """A client on the apex with an address of its own."""
    return client_on(app)


@pytest.fixture
def family_client(app: Flask) -> Callable[[str | FamilyRecord], FamilyClient]:
    """Factory: a client on a family host with an address of its own."""
    return lambda target: client_on(app, target)


@pytest.fixture
def make_account(app: Flask) -> Callable[..., Account]:
    """Factory: a platform account that is a parent in the given families."""
    return lambda families=(), **kwargs: create_account(app, families, **kwargs)
