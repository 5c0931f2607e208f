"""Fixtures for the Today dashboard pages: the daily-loop page rig from tests/chores."""
from tests.chores.page_helpers import parent_client, people, post, visitor  # noqa: F401 - pytest fixtures
