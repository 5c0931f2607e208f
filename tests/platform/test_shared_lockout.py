"""One lockout per account, shared by every way in: the apex, the family page, the API and the invitation page."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.lockout import LOCKOUT_THRESHOLD, user_account
from app.db import platform_engine
from app.platform.models import LoginLockout
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.platform.apex import Account, audit_actions, client_on, csrf_token

pytestmark = pytest.mark.usefixtures("app")


def apex_login(client: FamilyClient, email: str, password: str) -> Any:
    return client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "email": email,
                                       "password": password})


def family_login(client: FamilyClient, login: str, password: str, token: str | None = None) -> Any:
    return client.post("/login", data={"csrf_token": token or csrf_token(client, "/login"), "login": login,
                                       "password": password})


def api_login(client: FamilyClient, login: str, password: str) -> Any:
    return client.post("/api/auth/login", json={"username": login, "password": password})


def lockout_row(app: Flask, account: str) -> LoginLockout | None:
    with app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
        return session.scalar(select(LoginLockout).where(LoginLockout.account == account))


def lock_on_the_family_host(app: Flask, account: Account, family: FamilyRecord) -> None:
    client = client_on(app, family)
    statuses = [family_login(client, account.email, f"wrong {n}").status_code for n in range(LOCKOUT_THRESHOLD)]
    assert statuses == [422] * (LOCKOUT_THRESHOLD - 1) + [423]


def test_locked_on_the_family_host_the_apex_refuses_the_right_password(app: Flask, make_account: Callable[..., Account],
                                                                     family: FamilyRecord) -> None:
    account = make_account([family])
    lock_on_the_family_host(app, account, family)

    apex = client_on(app)
    response = apex_login(apex, account.email, account.password)

    assert response.status_code == 423
    assert "Too many tries" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert "HX-Redirect" not in response.headers and "Location" not in response.headers  # no hand-off
    assert apex.get("/families").status_code == 302  # still signed out at the apex
    assert "user.locked_out" in audit_actions(app, actor_user_id=account.user_id)


def test_locked_at_the_apex_the_family_page_and_the_api_refuse_the_right_password(
        app: Flask, make_account: Callable[..., Account], family: FamilyRecord) -> None:
    account = make_account([family])
    apex = client_on(app)
    statuses = [apex_login(apex, account.email, f"wrong {n}").status_code for n in range(LOCKOUT_THRESHOLD)]
    assert statuses == [422] * (LOCKOUT_THRESHOLD - 1) + [423]

    page = family_login(client_on(app, family), account.email, account.password)
    api = api_login(client_on(app, family), account.email, account.password)

    assert page.status_code == 423 and "Too many tries" in page.get_data(as_text=True)
    assert api.status_code == 423 and "token" not in api.get_json()


def test_tries_on_each_way_in_add_up(app: Flask, make_account: Callable[..., Account], family: FamilyRecord) -> None:
    account = make_account([family])
    family_page, api, apex = client_on(app, family), client_on(app, family), client_on(app)
    # Two at the apex, one on the page, one through the API: four failures of one account.
    assert apex_login(apex, account.email, "wrong 1").status_code == 422
    assert apex_login(apex, account.email, "wrong 2").status_code == 422
    assert family_login(family_page, account.email, "wrong 3").status_code == 422
    assert api_login(api, account.email, "wrong 4").status_code == 401

    assert api_login(api, account.email, "wrong 5").status_code == 423  # the fifth, whichever door it used
    assert apex_login(apex, account.email, account.password).status_code == 423


def test_the_right_password_before_the_limit_clears_the_count_everywhere(
        app: Flask, make_account: Callable[..., Account], family: FamilyRecord) -> None:
    account = make_account([family])
    apex = client_on(app)
    for n in range(LOCKOUT_THRESHOLD - 1):
        assert apex_login(apex, account.email, f"wrong {n}").status_code == 422
    assert api_login(client_on(app, family), account.email, account.password).status_code == 200

    row = lockout_row(app, user_account(account.user_id))
    assert row is not None and row.failures == 0 and row.locked_until is None
    assert apex_login(client_on(app), account.email, "wrong again").status_code == 422  # a fresh count


def test_ten_guesses_at_once_check_exactly_five(app: Flask, race_app: Flask,
                                                make_account: Callable[..., Account], family: FamilyRecord) -> None:
    """Real threads, released together: the count is decided under a row lock, never check-then-write."""
    account = make_account([family])
    guesses = 10
    clients = [client_on(race_app, family) for _ in range(guesses)]
    tokens = [csrf_token(client, "/login") for client in clients]
    barrier = threading.Barrier(guesses)
    statuses: list[int] = [0] * guesses

    def guess(index: int) -> None:
        barrier.wait(timeout=30)
        statuses[index] = family_login(clients[index], account.email, f"wrong {index}", tokens[index]).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    # Five were checked (four wrong, the fifth wrong and locking), the other five refused unchecked.
    assert sorted(statuses) == [422] * (LOCKOUT_THRESHOLD - 1) + [423] * (guesses - LOCKOUT_THRESHOLD + 1)
    row = lockout_row(app, user_account(account.user_id))
    assert row is not None and row.failures == LOCKOUT_THRESHOLD and row.locked_until is not None
    member_id = account.member_ids[family.slug]
    actions = audit_actions(app, actor_member_id=member_id)
    assert actions.count("auth.locked_out") == guesses - LOCKOUT_THRESHOLD + 1

    # And the right password at the apex is refused while the lock lasts.
    assert apex_login(client_on(app), account.email, account.password).status_code == 423
