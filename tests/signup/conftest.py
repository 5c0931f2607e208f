"""Fixtures for sign-up: an apex client and a valid form to spoil one field at a time."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.html import field_value
from tests.conftest import FamilyClient
from tests.platform.apex import PASSWORD, apex, family_client, make_account  # noqa: F401 - fixtures

@pytest.fixture
def signup_data() -> dict[str, str]:
    """A valid sign-up, with a fresh email and address."""
    tag = uuid.uuid4().hex[:8]
    return {"display_name": "Sam Rivera", "email": f"sam-{tag}@example.com", "password": PASSWORD,
            "family_name": "The Riveras", "slug": f"riveras-{tag}", "timezone": "America/Chicago", "city": ""}


@pytest.fixture
def post_signup(apex: FamilyClient) -> Callable[..., Any]:  # noqa: F811 - the imported fixture
    """Submit the sign-up form the way a browser does (CSRF token and nonce from the page)."""
    def post(data: dict[str, str], *, client: FamilyClient | None = None, headers: dict[str, str] | None = None):
        client = client or apex
        page = client.get("/signup").get_data(as_text=True)
        form = {"csrf_token": field_value(page, "csrf_token"), "nonce": field_value(page, "nonce"), **data}
        return client.post("/signup", data=form, headers=headers or {})
    return post
