"""Fixtures for achievements: a household, the family's rules at a fixed instant, and an app whose pools fit racers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import pytest
from flask import Flask

from app import create_app
from app.assignments.services import FamilyRules
from app.db import engines
from app.family_time import FamilyClock
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from config import TestConfig
from tests.reports.helpers import Household, make_household

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday; the last full family week is 23 Feb - 1 Mar
RACERS = 8


@pytest.fixture
def rules() -> FamilyRules:
    return FamilyRules(clock=FamilyClock("UTC"))


@pytest.fixture
def home(create_member: Callable[..., Member], family: FamilyRecord) -> Household:
    return make_household(create_member, family)


@pytest.fixture(scope="session")
def race_app(app: Flask) -> Iterator[Flask]:
    """The same databases and Redis as `app`, with pools big enough that all racers hold a connection at once."""
    shared = {key: app.config[key] for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL",
                                               "DEDICATED_DATABASE_URL_TEMPLATE", "REDIS_KEY_PREFIX")}
    racing = create_app(TestConfig, DB_POOL_SIZE=RACERS + 2, DB_MAX_OVERFLOW=2, **shared)
    yield racing
    with racing.app_context():
        engines().dispose_all()
