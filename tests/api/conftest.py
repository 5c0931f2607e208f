"""Fixtures for the JSON API: a family with a parent and two kids, a stranger family, clients with their own IP."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.members.models import Member
from app.security import hash_secret
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient

PARENT_PASSWORD = "correct horse battery"
KID_PASSWORD = "purple monkey dishwasher"


def unique_ip() -> str:
    """A client address of its own, so the per-IP sign-in limit never carries over between tests."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def api(client_for: Callable[..., FamilyClient], family: FamilyRecord) -> FamilyClient:
    """A client on this test's family host, from an address no other test uses."""
    client = client_for(family)
    client.environ_base["REMOTE_ADDR"] = unique_ip()
    return client


@dataclass
class People:
    """This test's family (a parent, two kids); a stranger family with a parent and a kid is made on first use."""

    family: FamilyRecord
    parent: Member
    kid: Member
    sibling: Member
    auth: Auth
    make_strangers: Callable[[], tuple[FamilyRecord, Member, Member]]
    _strangers: tuple[FamilyRecord, Member, Member] | None = None

    def _stranger_family(self) -> tuple[FamilyRecord, Member, Member]:
        if self._strangers is None:
            self._strangers = self.make_strangers()
        return self._strangers

    @property
    def other_family(self) -> FamilyRecord:
        return self._stranger_family()[0]

    @property
    def stranger(self) -> Member:
        """A parent of the other family."""
        return self._stranger_family()[1]

    @property
    def stranger_kid(self) -> Member:
        return self._stranger_family()[2]

    def headers(self, member: Member | None) -> dict[str, str]:
        """Bearer headers for a member, with the token of the member's own family."""
        if member is None:
            return {}
        home = self.family if member.family_id == self.family.id else self.other_family
        return self.auth.bearer(member, home)


# Hashing is deliberately slow; hash the fixtures' passwords once per run.
PARENT_HASH = hash_secret(PARENT_PASSWORD)
KID_HASH = hash_secret(KID_PASSWORD)


@pytest.fixture
def people(family: FamilyRecord, make_family: Callable[..., FamilyRecord], create_member: Callable[..., Member],
           auth: Auth) -> People:
    def make_strangers() -> tuple[FamilyRecord, Member, Member]:
        other = make_family(name="The Strangers")
        stranger = create_member(family_record=other, username="stranger", display_name="Stranger", role="parent",
                                 password_hash=PARENT_HASH)
        return other, stranger, create_member(family_record=other, username="strangekid",
                                              display_name="Strange Kid")

    parent = create_member(username="Mom", display_name="Mom", role="parent", password_hash=PARENT_HASH,
                           color="#aa0000")
    kid = create_member(username="maya", display_name="Maya", password_hash=KID_HASH)
    sibling = create_member(username="leo", display_name="Leo")
    return People(family=family, parent=parent, kid=kid, sibling=sibling, auth=auth, make_strangers=make_strangers)


@pytest.fixture
def load_member(in_family: Callable[..., Any], family: FamilyRecord) -> Callable[..., Member | None]:
    """Read a member back from the database (this test's family unless told otherwise)."""
    def load(member_id: Any, family_record: FamilyRecord | None = None) -> Member | None:
        with in_family(family_record or family) as ctx:
            return ctx.session.get(Member, member_id)
    return load


@pytest.fixture
def audit_rows(app: Any, family: FamilyRecord) -> Callable[..., list[Any]]:
    """The audit rows recorded for this test's family, oldest first (optionally only one action)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.db import platform_engine
    from app.platform.models import AuditLog

    def rows(action: str | None = None) -> list[AuditLog]:
        with app.app_context(), Session(platform_engine()) as session:
            query = select(AuditLog).where(AuditLog.family_id == family.id).order_by(AuditLog.created_at)
            if action is not None:
                query = query.where(AuditLog.action == action)
            return list(session.scalars(query))
    return rows
