"""Fixtures for sign-in tests: parents and kids with real hashes, signed-in clients and a registered tablet."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.db import platform_engine
from app.db.bases import utcnow
from app.members.models import Member
from app.platform.models import AuditLog
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.accounts.helpers import HostAuth, host_of
from tests.conftest import FamilyClient

PARENT_PASSWORD = "correct horse battery"
KID_PASSWORD = "purple dinosaur 42"
KID_PIN = "2468"
_addresses = itertools.count(1)


@pytest.fixture(scope="session")
def hashes() -> dict[str, str]:
    """Real argon2id hashes, made cheap: verification reads its cost from the hash, and lockout tests verify a lot."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return {"parent": cheap.hash(PARENT_PASSWORD), "kid_password": cheap.hash(KID_PASSWORD),
            "pin": cheap.hash(KID_PIN)}


@pytest.fixture
def client_for(client_for: Callable[..., FamilyClient]) -> Callable[..., FamilyClient]:
    """Each client comes from its own address, so the per-address sign-in rate limit never spans tests."""
    def make(target: Any = None) -> FamilyClient:
        client = client_for(target)
        number = next(_addresses)
        client.environ_base["REMOTE_ADDR"] = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
        return client
    return make


@pytest.fixture
def host_auth(app: Flask) -> HostAuth:
    return HostAuth(app)


@pytest.fixture
def make_parent(create_member: Callable[..., Member], hashes: dict[str, str]) -> Callable[..., Member]:
    """Factory: a parent with a password (this test's family unless family_record= is given)."""
    def make(**overrides: Any) -> Member:
        fields: dict[str, Any] = {"username": f"parent{uuid.uuid4().hex[:6]}", "display_name": "Pat",
                                  "role": "parent", "password_hash": hashes["parent"], "avatar": "🦊"}
        fields.update(overrides)
        return create_member(**fields)
    return make


@pytest.fixture
def make_kid(create_member: Callable[..., Member], hashes: dict[str, str]) -> Callable[..., Member]:
    """Factory: a kid with a tablet PIN (and a password when password=True)."""
    def make(*, password: bool = False, **overrides: Any) -> Member:
        fields: dict[str, Any] = {"username": f"kid{uuid.uuid4().hex[:6]}", "display_name": "Maya", "role": "child",
                                  "pin_hash": hashes["pin"], "avatar": "🦄", "color": "#e84393"}
        if password:
            fields["password_hash"] = hashes["kid_password"]
        fields.update(overrides)
        return create_member(**fields)
    return make


@pytest.fixture
def parent(make_parent: Callable[..., Member]) -> Member:
    return make_parent(username="pat")


@pytest.fixture
def kid(make_kid: Callable[..., Member]) -> Member:
    return make_kid(username="maya")


@dataclass(frozen=True)
class Tablet:
    id: uuid.UUID
    token: str


@pytest.fixture
def register_tablet(in_family: Callable[..., AbstractContextManager[FamilyContext]]
                    ) -> Callable[..., Tablet]:
    """Factory: register a tablet through the service and give the client its device cookie."""
    def register(client: FamilyClient, family_record: FamilyRecord, by: Member, name: str = "Kitchen tablet"
                 ) -> Tablet:
        with in_family(family_record) as ctx:
            device, token = register_device(ctx.session, ctx.session.get(Member, by.id), name=name, now=utcnow())
            ctx.session.commit()
            device_id = device.id
        client.set_cookie(DEVICE_COOKIE, token, domain=host_of(client))
        return Tablet(id=device_id, token=token)
    return register


@pytest.fixture
def audit_rows(app: Flask) -> Callable[[FamilyRecord], list[AuditLog]]:
    """The family's audit trail, oldest first."""
    def rows(family_record: FamilyRecord) -> list[AuditLog]:
        with app.app_context(), Session(platform_engine()) as session:
            return list(session.scalars(select(AuditLog).where(AuditLog.family_id == family_record.id)
                                        .order_by(AuditLog.created_at)))
    return rows
