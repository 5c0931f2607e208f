"""The onboarding tests share the members tests' fixtures (signed-in parents, CSRF-carrying posts, accounts)."""
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
