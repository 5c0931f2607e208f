"""Fixtures for the chore library pages (shared with the calendar and dashboard page tests)."""
from tests.chores.page_helpers import parent_client, people, post, visitor  # noqa: F401 - pytest fixtures
