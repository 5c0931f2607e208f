"""The onboarding tests share the members tests' fixtures and, like them, run on PostgreSQL and pooled SQLite."""
from tests.conftest import app_on_both_engines
from tests.members.conftest import (  # noqa: F401 - fixtures are found by name
    audit_rows,
    find_member,
    give_account,
    kid,
    load_member,
    login,
    parent,
    parent_client,
    post,
)

app = app_on_both_engines()
