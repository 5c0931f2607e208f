"""`flask operators create`: a prompted password or a one-time set-password link; bad input exits non-zero and
creates nothing."""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.platform.models import User
from app.security import verify_secret
from tests.platform.apex import audit_actions, client_on, find_user
from tests.operator.conftest import admin_client, sign_in

pytestmark = pytest.mark.usefixtures("app")
PASSPHRASE = "correct horse battery staple"


def new_email() -> str:
    return f"ops-{uuid.uuid4().hex[:8]}@example.com"


def users_named(app: Flask, email: str) -> int:
    with app.app_context(), Session(platform_engine()) as session:
        return session.scalar(select(func.count()).select_from(User).where(func.lower(User.email) == email)) or 0


def test_create_prompts_for_a_password_and_the_operator_can_sign_in(app: Flask, runner) -> None:
    email = new_email()

    result = runner.invoke(args=["operators", "create", email], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")

    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    user = find_user(app, email)
    assert user is not None and user.is_operator and verify_secret(user.password_hash or "", PASSPHRASE)
    assert audit_actions(app, action="operator.created", target_id=str(user.id)) == ["operator.created"]
    assert sign_in(admin_client(app), email, PASSPHRASE).status_code == 303


def test_create_with_link_prints_a_one_time_set_password_link(app: Flask, runner) -> None:
    email = new_email()

    result = runner.invoke(args=["operators", "create", email, "--link"])

    assert result.exit_code == 0, result.output
    link = next(line for line in result.output.splitlines() if "/reset-password/" in line)
    parts = urlsplit(link)
    assert parts.netloc == app.config["BASE_DOMAIN"]  # the apex's reset page
    user = find_user(app, email)
    assert user is not None and user.is_operator and user.password_hash is None
    apex = client_on(app)
    page = apex.get(parts.path)
    assert page.status_code == 200
    from tests.html import field_value

    token = field_value(page, "csrf_token")
    done = apex.post(parts.path, data={"csrf_token": token, "password": PASSPHRASE, "password_confirm": PASSPHRASE})
    assert done.status_code == 200
    assert apex.get(parts.path).status_code == 400  # used once
    assert sign_in(admin_client(app), email, PASSPHRASE).status_code == 303


def test_an_existing_account_becomes_an_operator(app: Flask, runner, make_account, family) -> None:
    parent = make_account([family])

    result = runner.invoke(args=["operators", "create", parent.email.upper()], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")

    assert result.exit_code == 0, result.output
    assert users_named(app, parent.email) == 1
    user = find_user(app, parent.email)
    assert user is not None and user.is_operator


@pytest.mark.parametrize(("email", "password", "message"), [
    ("not-an-email", PASSPHRASE, "valid email"),
    ("a\u0000b@example.com", PASSPHRASE, "valid email"),
    (None, "short", "Password"),
])
def test_bad_input_exits_non_zero_and_creates_nothing(app: Flask, runner, email: str | None, password: str,
                                                      message: str) -> None:
    email = email or new_email()

    result = runner.invoke(args=["operators", "create", email], input=f"{password}\n{password}\n")

    assert result.exit_code != 0
    assert message.lower() in result.output.lower()
    assert users_named(app, email.lower().replace("\0", "")) == 0  # (PostgreSQL cannot even be asked for a NUL)


def test_making_an_operator_twice_without_a_password_is_refused(app: Flask, runner) -> None:
    email = new_email()
    assert runner.invoke(args=["operators", "create", email, "--link"]).exit_code == 0

    result = runner.invoke(args=["operators", "create", email, "--link"])

    assert result.exit_code != 0 and "already an operator" in result.output
