"""The family-host login form: who can sign in and how, failures, the lockout, remember-me, `next` and the audit."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.auth.lockout import LOCKOUT_THRESHOLD, LOCKOUT_WINDOW
from app.auth.services import authenticate_password
from app.db import platform_engine
from app.domain import AuthenticationFailed, LockedOut
from app.members.models import Member
from app.platform.models import FamilyMembership, User
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import KID_PASSWORD, PARENT_PASSWORD
from tests.accounts.helpers import csrf_token
from tests.conftest import FamilyClient

GENERIC = b"Invalid username or password"


def post_login(client: FamilyClient, login: str, password: str, **extra: str):  # noqa: ANN201
    data = {"csrf_token": csrf_token(client), "login": login, "password": password, **extra}
    return client.post("/login", data=data)


def test_login_page_offers_one_form(client: FamilyClient) -> None:
    page = client.get("/login?next=/settings/devices")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for field in ('name="login"', 'name="password"', 'type="password"', 'name="remember"', 'name="csrf_token"'):
        assert field in html
    assert "Remember this device" in html
    assert 'name="next" value="/settings/devices"' in html


def test_parent_signs_in_by_username_and_sees_the_dashboard(client: FamilyClient, parent: Member,
                                                             make_kid: Callable[..., Member]) -> None:
    make_kid(display_name="Leo <i>")
    response = post_login(client, "PAT", PARENT_PASSWORD)  # usernames ignore case
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Our people" in home.data and b"Leo &lt;i&gt;" in home.data


def test_parent_signs_in_by_email_with_their_platform_account(app: Flask, family: FamilyRecord,
                                                              client: FamilyClient,
                                                              create_member: Callable[..., Member],
                                                              hashes: dict[str, str]) -> None:
    with app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
        user = User(email="Robin@Example.com", display_name="Robin", password_hash=hashes["parent"])
        session.add(user)
        session.flush()
        # The member's own password_hash is unset: the platform account's password is the one that counts.
        member = create_member(username="robin", display_name="Robin", role="parent", user_id=user.id)
        session.add(FamilyMembership(user_id=user.id, family_id=family.id, role="owner", member_id=member.id))
        session.commit()

    assert post_login(client, "someone@example.com", PARENT_PASSWORD).status_code == 422
    response = post_login(client, "robin@example.com", PARENT_PASSWORD)
    assert response.status_code == 302
    assert b"Robin" in client.get("/").data


def test_an_older_kid_signs_in_with_a_password(client: FamilyClient, make_kid: Callable[..., Member]) -> None:
    make_kid(username="sam", display_name="Sam", password=True)
    response = post_login(client, "sam", KID_PASSWORD)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200  # a password session is not a tablet turn: the dashboard, not /me
    assert b"Our people" in home.data


@pytest.mark.parametrize("login", ["pat", "nobody", "nobody@example.com", ""])
def test_wrong_credentials_get_the_generic_message(client: FamilyClient, parent: Member, login: str) -> None:
    response = post_login(client, login, "not the password")
    assert response.status_code == 422
    assert GENERIC in response.data
    assert b"Our people" not in client.get("/").data


def test_the_login_name_is_kept_and_escaped_but_the_password_is_not(client: FamilyClient, parent: Member) -> None:
    response = post_login(client, '"><script>x</script>', "secret-typed-here")
    assert response.status_code == 422
    assert b"<script>x</script>" not in response.data
    assert b"&#34;&gt;&lt;script&gt;" in response.data
    assert b"secret-typed-here" not in response.data


def test_disabled_login_is_refused_only_with_the_right_password(client: FamilyClient,
                                                                make_kid: Callable[..., Member]) -> None:
    make_kid(username="sam", password=True, login_enabled=False)
    assert post_login(client, "sam", "wrong password").status_code == 422
    response = post_login(client, "sam", KID_PASSWORD)
    assert response.status_code == 403
    assert b"Login is disabled for this user" in response.data
    assert b"Our people" not in client.get("/").data


def test_the_sixth_try_is_locked_even_with_the_right_password(client: FamilyClient, parent: Member,
                                                             audit_rows: Callable[..., list]) -> None:
    statuses = [post_login(client, "pat", f"wrong {n}").status_code for n in range(LOCKOUT_THRESHOLD)]
    assert statuses == [422] * (LOCKOUT_THRESHOLD - 1) + [423]  # the fifth failure locks the login

    response = post_login(client, "pat", PARENT_PASSWORD)
    assert response.status_code == 423
    assert b"Too many tries" in response.data
    assert 0 < int(response.headers["Retry-After"]) <= LOCKOUT_WINDOW.total_seconds() + 1
    assert b"Our people" not in client.get("/").data


def test_failures_are_remembered_across_requests(client: FamilyClient, client_for: Callable[..., FamilyClient],
                                                family: FamilyRecord, parent: Member) -> None:
    # Failures are committed although the request fails: a second browser sees the same count.
    for n in range(LOCKOUT_THRESHOLD - 1):
        post_login(client, "pat", f"wrong {n}")
    other_browser = client_for(family)
    assert post_login(other_browser, "pat", "wrong again").status_code == 423


def test_lockout_opens_after_the_window(app: Flask, in_family: Callable, family: FamilyRecord,
                                        parent: Member) -> None:
    from app.db.bases import utcnow

    start = utcnow()
    with in_family(family) as ctx:
        for n in range(LOCKOUT_THRESHOLD - 1):
            with pytest.raises(AuthenticationFailed):
                authenticate_password(ctx.session, family_id=family.id, identifier="pat", password=f"x{n}",
                                      now=start)
        with pytest.raises(LockedOut):
            authenticate_password(ctx.session, family_id=family.id, identifier="pat", password="x", now=start)
        with pytest.raises(LockedOut):
            authenticate_password(ctx.session, family_id=family.id, identifier="pat", password=PARENT_PASSWORD,
                                  now=start + LOCKOUT_WINDOW - timedelta(seconds=1))
        member = authenticate_password(ctx.session, family_id=family.id, identifier="pat",
                                       password=PARENT_PASSWORD, now=start + LOCKOUT_WINDOW + timedelta(seconds=1))
        assert member.id == parent.id


@pytest.mark.parametrize(("remember", "permanent"), [(True, True), (False, False)])
def test_remember_me_makes_the_cookie_outlive_the_browser(client: FamilyClient, parent: Member, remember: bool,
                                                          permanent: bool) -> None:
    extra = {"remember": "1"} if remember else {}
    response = post_login(client, "pat", PARENT_PASSWORD, **extra)
    assert response.status_code == 302
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("session=")
    assert ("Expires=" in set_cookie) is permanent
    assert "HttpOnly" in set_cookie and "Domain=" not in set_cookie


@pytest.mark.parametrize(("next_url", "lands_on"), [
    ("/settings/devices", "/settings/devices"),
    ("/me?tab=today", "/me?tab=today"),
    ("/account/sign-out-everywhere", "/"),  # a POST-only address (a session that expired before a form post)
    ("/no-such-page", "/"),
    ("https://evil.example/", "/"),
    ("//evil.example/path", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_after_signing_in_only_same_host_paths_are_followed(client: FamilyClient, parent: Member, next_url: str,
                                                           lands_on: str) -> None:
    response = post_login(client, "pat", PARENT_PASSWORD, next=next_url)
    assert response.status_code == 302
    assert response.headers["Location"] == lands_on


def test_a_signed_in_member_visiting_login_goes_on(client: FamilyClient, parent: Member, host_auth,  # noqa: ANN001
                                                   family: FamilyRecord) -> None:
    host_auth.sign_in(client, parent, family)
    response = client.get("/login?next=/settings/devices")
    assert response.status_code == 302 and response.headers["Location"] == "/settings/devices"


def test_login_posts_are_rate_limited(client: FamilyClient, parent: Member) -> None:
    first = post_login(client, "pat", "wrong")
    second = post_login(client, "pat", "wrong")
    assert first.headers["X-RateLimit-Limit"] == "30"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert "X-RateLimit-Limit" not in client.get("/login").headers  # only POSTs count


def test_sign_ins_are_audited_without_secrets(client: FamilyClient, family: FamilyRecord, parent: Member,
                                             audit_rows: Callable[..., list]) -> None:
    post_login(client, "pat", "wrong password 1")
    post_login(client, "pat", PARENT_PASSWORD, remember="1")
    for n in range(LOCKOUT_THRESHOLD):
        post_login(client, "pat", f"wrong password {n + 2}")

    rows = audit_rows(family)
    actions = [row.action for row in rows]
    # One failure before the success (which clears the count), then four more and the fifth locks.
    assert actions.count("auth.login_failed") == 1 + (LOCKOUT_THRESHOLD - 1)
    assert actions.count("auth.login_succeeded") == 1
    assert actions.count("auth.locked_out") == 1
    succeeded = next(row for row in rows if row.action == "auth.login_succeeded")
    assert succeeded.actor_member_id == parent.id and succeeded.ip_address == client.environ_base["REMOTE_ADDR"]
    assert succeeded.details["remember"] is True
    locked = next(row for row in rows if row.action == "auth.locked_out")
    assert locked.actor_member_id == parent.id
    dumped = repr([(row.action, row.details, row.message, row.target_id) for row in rows])
    assert "wrong password" not in dumped and PARENT_PASSWORD not in dumped


def test_anonymous_home_shows_the_name_and_sign_in_but_no_people(client: FamilyClient, family: FamilyRecord,
                                                                 make_kid: Callable[..., Member]) -> None:
    make_kid(display_name="Secret Kid")
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert family.name in html
    assert 'href="/login"' in html and "Sign in" in html
    assert "Secret Kid" not in html and "Our people" not in html
    assert 'href="/tablet"' not in html  # not a registered tablet


def test_signed_in_dashboard_is_members_only(client: FamilyClient, family: FamilyRecord, kid: Member,
                                             host_auth) -> None:  # noqa: ANN001
    host_auth.sign_in(client, kid, family)
    page = client.get("/")
    assert page.status_code == 200
    assert b"Maya" in page.data and b"Sign out everywhere" in page.data


def test_the_lockout_says_its_wait_in_the_pages_language(client: FamilyClient, parent: Member) -> None:
    for n in range(LOCKOUT_THRESHOLD - 1):
        post_login(client, "pat", f"wrong {n}")
    spanish = client.post("/login", data={"csrf_token": csrf_token(client), "login": "pat", "password": "wrong"},
                          headers={"Accept-Language": "es"})
    english = post_login(client, "pat", PARENT_PASSWORD)

    minutes = int(LOCKOUT_WINDOW.total_seconds() // 60)
    assert spanish.status_code == 423 and english.status_code == 423
    assert (f"Demasiados intentos. Espera {minutes} minutos o pide ayuda a papá o mamá."
            in spanish.get_data(as_text=True))
    assert f"Too many tries. Please wait {minutes} minutes or ask a parent." in english.get_data(as_text=True)
