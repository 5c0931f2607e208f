"""POST /api/auth/login: the token exchange, every refusal, the lockout, the per-IP limit and the audit trail."""
from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.auth.lockout import LOCKOUT_THRESHOLD, LOCKOUT_WINDOW
from app.auth.services import authenticate_password
from app.db import platform_engine
from app.db.bases import utcnow
from app.domain import AuthenticationFailed, LockedOut
from app.members.models import Member
from app.platform.models import FamilyMembership, User
from app.security import hash_secret
from tests.api.conftest import KID_PASSWORD, PARENT_PASSWORD, People, unique_ip

LOGIN = "/api/auth/login"


def test_login_returns_a_token_in_the_previous_shape(api, people: People, app: Flask) -> None:  # noqa: ANN001
    response = api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"token": body["token"], "user_id": str(people.parent.id), "username": "Mom",
                    "is_parent": True, "family_id": str(people.family.id)}
    claims = jwt.decode(body["token"], app.config["JWT_SECRET"], algorithms=["HS256"], issuer="housepoints-go")
    # The previous service's claims, plus the token version that revokes it (clients never read claims).
    assert set(claims) == {"user_id", "family_id", "username", "is_parent", "iss", "exp", "nbf", "iat", "tv"}
    assert claims["exp"] - claims["iat"] == app.config["JWT_LIFETIME_SECONDS"]
    assert (claims["user_id"], claims["family_id"], claims["is_parent"]) == (str(people.parent.id),
                                                                            str(people.family.id), True)
    me = api.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["id"] == str(people.parent.id)


def test_login_ignores_case_and_surrounding_spaces_of_the_username(api, people: People) -> None:  # noqa: ANN001
    response = api.post(LOGIN, json={"username": "  MAYA ", "password": KID_PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["username"] == "maya" and response.get_json()["is_parent"] is False


def test_login_stamps_last_active(api, people: People, load_member) -> None:  # noqa: ANN001
    before = utcnow()
    assert api.post(LOGIN, json={"username": "maya", "password": KID_PASSWORD}).status_code == 200
    assert load_member(people.kid.id).last_active_at >= before


def test_a_parent_can_sign_in_with_their_account_email(api, people: People, app: Flask,  # noqa: ANN001
                                                        create_member) -> None:  # noqa: ANN001
    email = f"dad-{uuid.uuid4().hex[:8]}@example.com"
    with app.app_context(), Session(platform_engine()) as session:
        user = User(email=email, display_name="Dad", password_hash=hash_secret("account password 1"))
        session.add(user)
        session.flush()
        dad = create_member(username="dad", display_name="Dad", role="parent", user_id=user.id)
        session.add(FamilyMembership(user_id=user.id, family_id=people.family.id, member_id=dad.id, role="admin"))
        session.commit()
    response = api.post(LOGIN, json={"username": email.upper(), "password": "account password 1"})
    assert response.status_code == 200 and response.get_json()["user_id"] == str(dad.id)


@pytest.mark.parametrize("body", [
    None, "not json", [], {}, {"username": "mom"}, {"password": PARENT_PASSWORD},
    {"username": "", "password": PARENT_PASSWORD}, {"username": "mom", "password": ""},
    {"username": 5, "password": PARENT_PASSWORD}, {"username": "mom", "password": None},
    {"username": "mom", "password": "x" * 5000},
])
def test_unusable_bodies_are_400(api, people: People, body) -> None:  # noqa: ANN001
    if body is None:
        response = api.post(LOGIN)
    elif body == "not json":
        response = api.post(LOGIN, data="username=mom", content_type="application/x-www-form-urlencoded")
    else:
        response = api.post(LOGIN, json=body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "Invalid request"
    assert isinstance(response.get_json()["details"], str) and response.get_json()["details"]


@pytest.mark.parametrize("username, password", [
    ("mom", "wrong password here"),
    ("nobody", PARENT_PASSWORD),
    ("leo", "any password at all"),  # a kid with no password (PIN only)
    ("stranger", PARENT_PASSWORD),  # another family's member is unknown here
])
def test_wrong_credentials_are_401_with_one_message(api, people: People, username: str,  # noqa: ANN001
                                                    password: str) -> None:
    assert people.stranger.username == "stranger"  # exists, in the other family
    response = api.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Invalid username or password"}


@pytest.mark.parametrize("change", [{"login_enabled": False}, {"is_active": False}])
def test_disabled_login_is_403_only_with_the_right_password(api, people: People, in_family,  # noqa: ANN001
                                                            change: dict) -> None:
    with in_family(people.family) as ctx:
        member = ctx.session.get(Member, people.kid.id)
        for key, value in change.items():
            setattr(member, key, value)
        ctx.session.commit()
    right = api.post(LOGIN, json={"username": "maya", "password": KID_PASSWORD})
    assert right.status_code == 403 and right.get_json() == {"error": "Login is disabled for this user"}
    # Without the password nobody learns that the account exists but is disabled.
    wrong = api.post(LOGIN, json={"username": "maya", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.get_json() == {"error": "Invalid username or password"}


def test_login_needs_a_family_host(apex_client) -> None:  # noqa: ANN001
    response = apex_client.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD})
    assert response.status_code == 404 and "error" in response.get_json()


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(api, people: People) -> None:  # noqa: ANN001
    statuses = [api.post(LOGIN, json={"username": "mom", "password": f"wrong guess {i}"}).status_code
                for i in range(LOCKOUT_THRESHOLD)]
    assert statuses == [401] * (LOCKOUT_THRESHOLD - 1) + [423]
    locked = api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD})
    assert locked.status_code == 423
    assert locked.get_json()["error"].startswith("Too many tries")
    assert set(locked.get_json()) == {"error"}
    assert 0 < int(locked.headers["Retry-After"]) <= LOCKOUT_WINDOW.total_seconds() + 1
    # Another address does not get around it: the lock is on the account.
    other_ip = {"REMOTE_ADDR": unique_ip()}
    assert api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD},
                    environ_base=other_ip).status_code == 423
    # Other members are not affected.
    assert api.post(LOGIN, json={"username": "maya", "password": KID_PASSWORD}).status_code == 200


def test_the_lockout_window_ends(api, people: People, in_family) -> None:  # noqa: ANN001
    for i in range(LOCKOUT_THRESHOLD):
        api.post(LOGIN, json={"username": "mom", "password": f"wrong guess {i}"})
    with in_family(people.family) as ctx:
        now = utcnow()
        with pytest.raises(LockedOut):
            authenticate_password(ctx.session, family_id=people.family.id, identifier="mom",
                                  password=PARENT_PASSWORD, now=now + LOCKOUT_WINDOW - timedelta(seconds=5))
        member = authenticate_password(ctx.session, family_id=people.family.id, identifier="mom",
                                       password=PARENT_PASSWORD, now=now + LOCKOUT_WINDOW + timedelta(seconds=1))
        assert member.id == people.parent.id
        ctx.session.commit()
    # A success clears the failures, so the API opens again.
    assert api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD}).status_code == 200


def test_failures_outside_the_window_do_not_count(people: People, in_family) -> None:  # noqa: ANN001
    start = utcnow()
    with in_family(people.family) as ctx:
        for minute in range(LOCKOUT_THRESHOLD):
            with pytest.raises(AuthenticationFailed):
                authenticate_password(ctx.session, family_id=people.family.id, identifier="mom",
                                      password="wrong", now=start + timedelta(minutes=minute * 4))
        ctx.session.commit()
        # Five failures over 16 minutes: never five inside one 15-minute window.
        member = authenticate_password(ctx.session, family_id=people.family.id, identifier="mom",
                                       password=PARENT_PASSWORD, now=start + timedelta(minutes=17))
        assert member.id == people.parent.id


def test_sign_in_attempts_are_limited_per_address(api, people: People) -> None:  # noqa: ANN001
    statuses = [api.post(LOGIN, json={}).status_code for _ in range(30)]
    assert statuses == [400] * 30
    limited = api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert limited.get_json() == {"error": "Too many sign-in attempts from this address. Please wait a minute."}
    # Another address is still served.
    assert api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD},
                    environ_base={"REMOTE_ADDR": unique_ip()}).status_code == 200


def test_login_is_audited_without_the_password(api, people: People, audit_rows) -> None:  # noqa: ANN001
    ip = api.environ_base["REMOTE_ADDR"]
    api.post(LOGIN, json={"username": "mom", "password": "a wrong password"})
    api.post(LOGIN, json={"username": "ghost", "password": "a wrong password"})
    api.post(LOGIN, json={"username": "mom", "password": PARENT_PASSWORD})
    failed = audit_rows("auth.login_failed")
    assert [row.actor_member_id for row in failed] == [people.parent.id, None]
    assert all(row.ip_address == ip for row in failed)
    issued = audit_rows("auth.token_issued")
    assert len(issued) == 1 and issued[0].actor_member_id == people.parent.id and issued[0].ip_address == ip
    for row in audit_rows():
        assert "a wrong password" not in str(row.details) and PARENT_PASSWORD not in str(row.details)


def test_a_lockout_is_audited(api, people: People, audit_rows) -> None:  # noqa: ANN001
    for i in range(LOCKOUT_THRESHOLD + 1):
        api.post(LOGIN, json={"username": "maya", "password": f"wrong guess {i}"})
    locked = audit_rows("auth.locked_out")
    assert len(locked) == 2 and {row.actor_member_id for row in locked} == {people.kid.id}
    assert len(audit_rows("auth.login_failed")) == LOCKOUT_THRESHOLD - 1
