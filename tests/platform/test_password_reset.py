"""Forgotten passwords: the same answer for every email, a real mail with a link that works once."""
from __future__ import annotations

import html
import re
import time

import pytest
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.platform.services import email_verification_token
from app.security import verify_secret
from tests.html import field_value
from tests.platform.apex import audit_actions, csrf_token, find_user

pytestmark = pytest.mark.usefixtures("app")
NEW_PASSWORD = "a brand new walk in the park"
SAME_ANSWER = "If that email has an account, we sent a link"


def ask_for_reset(client, email: str):  # noqa: ANN001, ANN201
    return client.post("/forgot-password", data={"csrf_token": csrf_token(client, "/forgot-password"),
                                                 "email": email})


def reset_link(smtp_server, email: str) -> str:  # noqa: ANN001
    body = smtp_server.last_to(email).get_content()
    return re.search(r"http://localhost:5000(/reset-password/\S+)", body).group(1)


def choose(client, link: str, password: str, confirm: str | None = None):  # noqa: ANN001, ANN201
    token = field_value(client.get("/forgot-password"), "csrf_token")
    return client.post(link, data={"csrf_token": token, "password": password,
                                   "password_confirm": password if confirm is None else confirm})


def test_a_reset_mail_arrives_and_its_link_sets_a_new_password_once(app: Flask, apex, make_account,
                                                                    smtp_server) -> None:
    account = make_account()

    response = ask_for_reset(apex, account.email.upper())

    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    mail = smtp_server.last_to(account.email)
    assert mail["Subject"] == "Reset your HousePoints password"
    link = reset_link(smtp_server, account.email)
    form = apex.get(link)
    assert form.status_code == 200 and 'name="password_confirm"' in form.get_data(as_text=True)

    done = choose(apex, link, NEW_PASSWORD)

    assert done.status_code == 200 and "Your password is changed" in done.get_data(as_text=True)
    user = find_user(app, account.email)
    assert verify_secret(user.password_hash, NEW_PASSWORD) and not verify_secret(user.password_hash, account.password)
    assert audit_actions(app, actor_user_id=account.user_id) == ["user.password_reset_requested",
                                                                 "user.password_reset"]
    # The link is spent: opening it again, or posting to it again, gets a clear 400 page.
    for again in (apex.get(link), choose(apex, link, "yet another fine password")):
        assert again.status_code == 400
        assert "already been used or is no longer valid" in again.get_data(as_text=True)
    assert verify_secret(find_user(app, account.email).password_hash, NEW_PASSWORD)


def test_an_unknown_email_gets_the_same_answer_and_no_mail(apex, smtp_server) -> None:
    response = ask_for_reset(apex, "nobody-at-all@example.com")

    assert response.status_code == 200 and SAME_ANSWER in response.get_data(as_text=True)
    assert smtp_server.messages == []


def test_an_empty_email_is_asked_for_again(apex) -> None:
    response = ask_for_reset(apex, "  ")

    assert response.status_code == 422 and "Please enter the email" in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "confirm", "message"), [
    ("short", None, "at least 10 characters"),
    ("password123", None, "too easy to guess"),
    (NEW_PASSWORD, "something else entirely", "The two passwords don&#39;t match"),
])
def test_a_weak_or_mistyped_new_password_is_refused_and_the_link_still_works(
        app: Flask, apex, make_account, smtp_server, password: str, confirm: str | None, message: str) -> None:
    account = make_account()
    ask_for_reset(apex, account.email)
    link = reset_link(smtp_server, account.email)

    response = choose(apex, link, password, confirm)

    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert verify_secret(find_user(app, account.email).password_hash, account.password)
    assert choose(apex, link, NEW_PASSWORD).status_code == 200


def test_an_older_link_stops_working_once_the_password_changed(app: Flask, apex, make_account, smtp_server) -> None:
    account = make_account()
    ask_for_reset(apex, account.email)
    first = reset_link(smtp_server, account.email)
    ask_for_reset(apex, account.email)
    second = reset_link(smtp_server, account.email)

    assert choose(apex, second, NEW_PASSWORD).status_code == 200
    assert apex.get(first).status_code == 400


def test_an_expired_link_gets_a_clear_400_page(app: Flask, apex, make_account) -> None:
    account = make_account()

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600

    user = find_user(app, account.email)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="housepoints.reset", signer=TwoHoursAgo).dumps(
        {"u": str(user.id), "p": user.password_hash[-16:]})

    response = apex.get(f"/reset-password/{token}")

    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["forged", "eyJ1IjoiMSJ9.abc.def"])
def test_a_forged_link_gets_a_clear_400_page(apex, token: str) -> None:
    for response in (apex.get(f"/reset-password/{token}"), choose(apex, f"/reset-password/{token}", NEW_PASSWORD)):
        assert response.status_code == 400
        assert "This link is not valid." in html.unescape(response.get_data(as_text=True))


def test_a_verification_link_cannot_reset_a_password(app: Flask, apex, make_account) -> None:
    account = make_account()
    token = email_verification_token(app.config["SECRET_KEY"], find_user(app, account.email))

    assert apex.get(f"/reset-password/{token}").status_code == 400


def test_reset_requests_are_rate_limited_per_address(apex) -> None:
    statuses = [ask_for_reset(apex, "someone@example.com").status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]


def test_a_reset_revokes_the_accounts_api_tokens_and_sessions_in_every_family(
        app: Flask, apex, make_account, make_family, smtp_server, auth) -> None:  # noqa: ANN001
    from tests.platform.apex import client_on

    families = [make_family(), make_family()]
    account = make_account(families)
    before = {}
    for family in families:
        client = client_on(app, family)
        response = client.post("/api/auth/login", json={"username": account.email, "password": account.password})
        assert response.status_code == 200
        before[family.slug] = (client, {"Authorization": f"Bearer {response.get_json()['token']}"})
        assert client.get("/api/users/me", headers=before[family.slug][1]).status_code == 200

    ask_for_reset(apex, account.email)
    assert choose(apex, reset_link(smtp_server, account.email), NEW_PASSWORD).status_code == 200

    for client, headers in before.values():
        response = client.get("/api/users/me", headers=headers)
        assert response.status_code == 401 and response.get_json() == {"error": "Invalid token"}
    again = client_on(app, families[0]).post("/api/auth/login", json={"username": account.email,
                                                                      "password": NEW_PASSWORD})
    assert again.status_code == 200
