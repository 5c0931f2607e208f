"""Fixtures for the operator console: an operator account, a signed-in client on the admin host."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.db import platform_engine
from app.platform.models import User
from tests.conftest import FamilyClient
from tests.html import field_value
from tests.platform.apex import PASSWORD, Account, client_on, create_account, family_client  # noqa: F401

ADMIN = "admin"


def admin_client(app: Flask) -> FamilyClient:
    """A client on the admin host with an address of its own."""
    return client_on(app, ADMIN)


def make_operator(app: Flask, *, password: str = PASSWORD) -> Account:
    """A platform account with the operator flag (and no family)."""
    from sqlalchemy.orm import Session

    account = create_account(app, (), password=password, display_name="Olive Operator")
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        user = session.get(User, account.user_id)
        assert user is not None
        user.is_operator = True
    return account


def sign_in(client: FamilyClient, email: str, password: str):  # noqa: ANN201
    """Post the console's sign-in form with the CSRF token a real visitor would get."""
    token = field_value(client.get("/login"), "csrf_token")
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def form_token(client: FamilyClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return field_value(response, "csrf_token")


@pytest.fixture
def admin(app: Flask) -> FamilyClient:
    return admin_client(app)


@pytest.fixture
def operator(app: Flask) -> Account:
    return make_operator(app)


@pytest.fixture
def console(app: Flask, operator: Account) -> FamilyClient:
    """A client on the admin host, signed in as `operator`."""
    client = admin_client(app)
    response = sign_in(client, operator.email, operator.password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@pytest.fixture
def make_account(app: Flask) -> Callable[..., Account]:
    return lambda families=(), **kwargs: create_account(app, families, **kwargs)


def compute_analytics(runner, *args: str, mine: tuple[str, ...] = ()):  # noqa: ANN001, ANN201
    """`flask analytics compute`, asserting it measured these families; in a whole-suite run other tests' families
    (databases dropped or moved away) may be reported as not measured, which is the command's job, not a failure."""
    result = runner.invoke(args=["analytics", "compute", *args])
    assert "analytics " in result.output and "rows" in result.output, result.output
    not_measured = result.output.split("FAILED", 1)[1] if "FAILED" in result.output else ""
    assert result.exit_code == (1 if not_measured else 0), result.output
    for slug in mine:
        assert slug not in not_measured, result.output
    return result
