"""Fixtures for allowance: the rewards tests' household, signed-in browsers, CSRF posts and racing app."""
from __future__ import annotations

from tests.rewards.conftest import browser, household, post, rules_for  # noqa: F401 - shared fixtures
