"""Signing in to the console, from the attacker's side: only operators, with a lockout, and no other cookie or token
opens it; its own cookie opens nothing elsewhere."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.platform.models import User
from app.security import hash_secret
from tests.conftest import FamilyClient
from tests.operator.conftest import admin_client, form_token, sign_in
from tests.platform.apex import Account, audit_actions, client_on, csrf_token

pytestmark = pytest.mark.usefixtures("app")


def signed_out(client: FamilyClient) -> bool:
    """The console sends this browser to its sign-in page."""
    response = client.get("/families")
    return response.status_code == 303 and response.headers["Location"].startswith("/login?next=")


def test_an_operator_signs_in_and_it_is_audited(app: Flask, admin: FamilyClient, operator: Account) -> None:
    response = sign_in(admin, operator.email, operator.password)

    assert response.status_code == 303 and response.headers["Location"] == "/families"
    assert admin.get("/families").status_code == 200
    assert audit_actions(app, action="operator.signed_in", actor_user_id=operator.user_id) == ["operator.signed_in"]


def test_the_console_cookie_is_host_only_and_http_only(admin: FamilyClient, operator: Account) -> None:
    response = sign_in(admin, operator.email, operator.password)

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain=" not in cookie  # host-only: the browser sends it to admin.<base> and nowhere else


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "empty"])
def test_a_failed_sign_in_gets_one_generic_message(app: Flask, admin: FamilyClient, operator: Account,
                                                   case: str) -> None:
    email, password = {"wrong password": (operator.email, "not the password"),
                       "unknown email": ("nobody-at-all@example.com", operator.password),
                       "empty": ("", "")}[case]

    response = sign_in(admin, email, password)

    assert response.status_code == 422
    assert "Invalid email or password" in response.get_data(as_text=True)
    assert signed_out(admin)
    if case != "empty":
        address = admin.environ_base["REMOTE_ADDR"]
        assert audit_actions(app, action="operator.sign_in_failed", ip_address=address) == ["operator.sign_in_failed"]


def test_a_platform_user_who_is_not_an_operator_is_refused(app: Flask, admin: FamilyClient, make_account,
                                                           family) -> None:
    parent = make_account([family])

    response = sign_in(admin, parent.email, parent.password)

    assert response.status_code == 422
    assert "Invalid email or password" in response.get_data(as_text=True)
    assert signed_out(admin)
    assert audit_actions(app, action="operator.sign_in_failed", actor_user_id=parent.user_id) == [
        "operator.sign_in_failed"]


def test_five_failures_lock_the_account_even_for_the_right_password(app: Flask, operator: Account) -> None:
    for attempt in range(5):
        client = admin_client(app)  # a new address each time: the lockout is per account, not per address
        response = sign_in(client, operator.email, f"wrong guess {attempt}")
        assert response.status_code == (423 if attempt == 4 else 422), attempt

    client = admin_client(app)
    response = sign_in(client, operator.email, operator.password)

    assert response.status_code == 423
    assert "Too many tries" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert signed_out(client)
    assert audit_actions(app, action="operator.locked_out", target_id=str(operator.user_id)) == [
        "operator.locked_out", "operator.locked_out"]
    assert audit_actions(app, action="operator.signed_in", actor_user_id=operator.user_id) == []


def test_a_success_starts_the_failure_count_again(app: Flask, operator: Account) -> None:
    for attempt in range(4):
        assert sign_in(admin_client(app), operator.email, f"wrong {attempt}").status_code == 422
    assert sign_in(admin_client(app), operator.email, operator.password).status_code == 303

    for attempt in range(4):
        assert sign_in(admin_client(app), operator.email, f"wrong again {attempt}").status_code == 422
    assert sign_in(admin_client(app), operator.email, operator.password).status_code == 303


def test_sign_in_needs_the_csrf_token(admin: FamilyClient, operator: Account) -> None:
    admin.get("/login")
    response = admin.post("/login", data={"email": operator.email, "password": operator.password})

    assert response.status_code == 400
    assert signed_out(admin)


def test_sign_in_refuses_a_next_that_leaves_the_host(admin: FamilyClient, operator: Account) -> None:
    token = form_token(admin, "/login")
    response = admin.post("/login", data={"csrf_token": token, "email": operator.email,
                                          "password": operator.password, "next": "//evil.example/"})

    assert response.status_code == 303 and response.headers["Location"] == "/families"


def test_sign_out_ends_the_session_and_is_audited(app: Flask, console: FamilyClient, operator: Account) -> None:
    response = console.post("/logout", data={"csrf_token": form_token(console, "/families")})

    assert response.status_code == 303
    assert signed_out(console)
    assert audit_actions(app, action="operator.signed_out", actor_user_id=operator.user_id) == ["operator.signed_out"]


def _update_user(app: Flask, account: Account, **values: object) -> None:
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        user = session.get(User, account.user_id)
        assert user is not None
        for name, value in values.items():
            setattr(user, name, value)


def test_losing_the_operator_flag_ends_the_session_at_once(app: Flask, console: FamilyClient,
                                                           operator: Account) -> None:
    _update_user(app, operator, is_operator=False)

    assert signed_out(console)


def test_a_password_change_ends_the_session(app: Flask, console: FamilyClient, operator: Account) -> None:
    _update_user(app, operator, password_hash=hash_secret("a brand new passphrase"))

    assert signed_out(console)


# --- other cookies and tokens on the admin host, and the console's cookie elsewhere ------------------------------

def _copy_session_cookie(source: FamilyClient, target: FamilyClient) -> None:
    cookie = source.get_cookie("session", domain=source.host.split(":")[0])
    assert cookie is not None
    target.set_cookie("session", cookie.value, domain=target.host.split(":")[0])


def test_a_family_parents_cookie_and_token_are_refused_on_the_admin_host(app: Flask, family, create_member, auth,
                                                                         client: FamilyClient) -> None:
    parent = create_member(role="parent", display_name="Pat")
    auth.sign_in(client, parent, family)
    assert client.get("/settings/devices").status_code == 200  # the cookie works at home
    admin = admin_client(app)
    _copy_session_cookie(client, admin)

    assert signed_out(admin)
    bearer = admin_client(app)
    response = bearer.get("/families", headers=auth.bearer(parent, family))
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


def test_an_operators_apex_session_does_not_open_the_console(app: Flask, operator: Account) -> None:
    apex = client_on(app)
    response = apex.post("/login", data={"csrf_token": csrf_token(apex, "/login"), "email": operator.email,
                                         "password": operator.password})
    assert response.status_code in {302, 303}  # signed in at the apex (no families: the picker)
    admin = admin_client(app)
    _copy_session_cookie(apex, admin)

    assert signed_out(admin)


def test_the_console_cookie_is_useless_on_a_family_host_and_the_apex(app: Flask, console: FamilyClient, family,
                                                                     family_client) -> None:
    home = family_client(family)
    _copy_session_cookie(console, home)
    response = home.get("/settings/devices")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    apex = client_on(app)
    _copy_session_cookie(console, apex)
    response = apex.get("/families")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

