"""Fixtures for achievements: a household, the family's rules at a fixed instant, and an app whose pools fit racers."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from app.assignments.services import FamilyRules
from app.family_time import FamilyClock
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.reports.helpers import Household, make_household

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=timezone.utc)  # a Wednesday; the last full family week is 23 Feb - 1 Mar
RACERS = 8


@pytest.fixture
def rules() -> FamilyRules:
    return FamilyRules(clock=FamilyClock("UTC"))


@pytest.fixture
def home(create_member: Callable[..., Member], family: FamilyRecord) -> Household:
    return make_household(create_member, family)


