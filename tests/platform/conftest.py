"""Fixtures for the apex pages and the family hand-off."""
from tests.platform.apex import apex, family_client, make_account  # noqa: F401 - fixtures
