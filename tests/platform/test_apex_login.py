"""Signing in at the apex: one family opens at once, several get a picker, none get a way to start one."""
from __future__ import annotations


import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.platform.models import AuditLog
from tests.html import field_value, parse
from tests.conftest import set_family_status
from tests.platform.apex import audit_actions, csrf_token, follow_handoff, handoff_parts

pytestmark = pytest.mark.usefixtures("app")


def log_in(client, email: str, password: str, **extra: str):  # noqa: ANN201
    return client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "email": email,
                                       "password": password, **extra})


def open_family(client, slug: str):  # noqa: ANN201
    token = field_value(client.get("/families"), "csrf_token")
    return client.post(f"/families/{slug}/open", data={"csrf_token": token})


def test_the_login_page_links_to_reset_and_sign_up(apex) -> None:
    page = apex.get("/login").get_data(as_text=True)

    assert 'name="email"' in page and 'name="password"' in page
    assert 'href="/forgot-password"' in page and 'href="/signup"' in page


def test_the_landing_page_leads_to_sign_up_and_sign_in(apex) -> None:
    page = apex.get("/").get_data(as_text=True)

    assert "Chores that get done" in page and 'href="/signup"' in page and 'href="/login"' in page


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "empty"])
def test_a_failed_sign_in_gets_one_generic_message(app: Flask, apex, make_account, family, case: str) -> None:
    account = make_account([family])
    email, password = {"wrong password": (account.email, "not the password"),
                       "unknown email": ("nobody-here@example.com", account.password),
                       "empty": ("", "")}[case]

    response = log_in(apex, email, password)

    assert response.status_code == 422
    assert "Invalid email or password" in response.get_data(as_text=True)
    assert apex.get("/families").status_code == 302  # still signed out
    address = apex.environ_base["REMOTE_ADDR"]
    assert audit_actions(app, action="user.login_failed", ip_address=address) == ["user.login_failed"]


def test_a_failed_sign_in_is_audited_with_the_address_tried(app: Flask, apex, make_account) -> None:
    account = make_account()

    log_in(apex, account.email.upper(), "wrong password")

    with app.app_context(), Session(platform_engine()) as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "user.login_failed")
                                .order_by(AuditLog.created_at.desc())).first()
        assert entry.details == {"email": account.email} and entry.ip_address == apex.environ_base["REMOTE_ADDR"]


def test_one_family_opens_straight_away_signed_in(app: Flask, apex, make_account, family) -> None:
    account = make_account([family])

    response = log_in(apex, account.email, account.password)

    assert response.status_code == 303 and response.headers["Location"] == "/families"
    assert audit_actions(app, actor_user_id=account.user_id) == ["user.login_succeeded"]
    picker = apex.get("/families")
    assert picker.status_code == 303
    family_client, landed = follow_handoff(app, picker.headers["Location"])
    assert landed.status_code == 302 and landed.headers["Location"] == "/"
    assert family_client.get("/auth/switch").status_code == 200


def test_several_families_get_a_picker_and_open_the_chosen_one(app: Flask, apex, make_account, make_family) -> None:
    first, second = make_family(name="The Harbour House"), make_family(name="Grandma's <b>Place</b>")
    account = make_account([first, second])
    log_in(apex, account.email, account.password)

    picker = apex.get("/families")

    assert picker.status_code == 200
    page = picker.get_data(as_text=True)
    for family in (first, second):
        assert f"{family.slug}.localhost:5000" in page
        assert f'action="/families/{family.slug}/open"' in page
    assert "The Harbour House" in page and "Grandma&#39;s &lt;b&gt;Place&lt;/b&gt;" in page
    assert page.count(">Admin</span>") == 2
    opened = open_family(apex, second.slug)
    assert opened.status_code == 303
    assert handoff_parts(opened.headers["Location"])[0] == f"{second.slug}.localhost:5000"
    family_client, landed = follow_handoff(app, opened.headers["Location"])
    assert landed.status_code == 302
    assert family_client.get("/auth/switch").status_code == 200
    assert audit_actions(app, family_id=second.id, action="auth.handoff") == ["auth.handoff"]
    assert audit_actions(app, family_id=first.id, action="auth.handoff") == []


def test_an_htmx_sign_in_navigates_the_window(apex, make_account, family) -> None:
    account = make_account([family])

    token = csrf_token(apex, "/login")
    boosted = apex.post("/login", data={"csrf_token": token, "email": account.email, "password": account.password},
                        headers={"HX-Request": "true", "HX-Boosted": "true"})

    assert boosted.status_code == 204 and boosted.headers["HX-Redirect"] == "/families"


def test_opening_a_family_that_is_not_yours_is_404(apex, make_account, make_family) -> None:
    mine, theirs = make_family(), make_family()
    account = make_account([mine])
    make_account([theirs])
    log_in(apex, account.email, account.password)
    token = field_value(apex.get("/login"), "csrf_token")

    assert apex.post(f"/families/{theirs.slug}/open", data={"csrf_token": token}).status_code == 404
    assert apex.post("/families/no-such-family/open", data={"csrf_token": token}).status_code == 404


def test_a_suspended_family_is_listed_but_cannot_be_opened(app: Flask, apex, make_account, make_family) -> None:
    open_one, closed = make_family(name="Open House"), make_family(name="Closed House")
    account = make_account([open_one, closed])
    set_family_status(app, closed, status="suspended")
    log_in(apex, account.email, account.password)

    page = apex.get("/families").get_data(as_text=True)

    assert "Closed House" in page and f'action="/families/{closed.slug}/open"' not in page
    assert "Not open right now" in page
    token = field_value(page, "csrf_token")
    assert apex.post(f"/families/{closed.slug}/open", data={"csrf_token": token}).status_code == 404


def test_an_account_without_a_family_is_invited_to_start_one(apex, make_account) -> None:
    account = make_account()
    log_in(apex, account.email, account.password)

    response = apex.get("/families")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "isn't part of a family yet" in page and 'href="/signup"' in page


@pytest.mark.parametrize(("method", "path"), [("get", "/families"), ("post", "/families/anything/open")])
def test_the_picker_needs_a_signed_in_account(apex, method: str, path: str) -> None:
    token = csrf_token(apex, "/login")
    response = getattr(apex, method)(path, data={"csrf_token": token} if method == "post" else None)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_signing_out_forgets_the_account(apex, make_account, family) -> None:
    account = make_account([family])
    log_in(apex, account.email, account.password)
    token = field_value(apex.get("/login"), "csrf_token")

    response = apex.post("/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert apex.get("/families").status_code == 302


def test_the_apex_session_does_not_reach_a_family_host(app: Flask, apex, make_account, family, family_client
                                                       ) -> None:
    account = make_account([family])
    log_in(apex, account.email, account.password)
    cookie = apex.get_cookie("session", domain="localhost")
    assert cookie is not None and cookie.domain in ("localhost", "localhost.local")

    on_family = family_client(family)
    on_family.set_cookie("session", cookie.value, domain=f"{family.slug}.localhost")

    # The apex account is no family session: the family's signed-in pages still ask to sign in.
    response = on_family.get("/auth/switch")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_safe_next_is_followed_after_sign_in(apex, make_account) -> None:
    account = make_account()

    assert log_in(apex, account.email, account.password, next="/families").headers["Location"] == "/families"
    assert log_in(apex, account.email, account.password, next="//evil.example").headers["Location"] == "/"


def test_sign_ins_are_rate_limited_per_address(apex, make_account) -> None:
    token = csrf_token(apex, "/login")
    form = {"csrf_token": token, "email": "someone@example.com", "password": "guess"}

    statuses = [apex.post("/login", data=form).status_code for _ in range(21)]

    assert statuses[:20] == [422] * 20 and statuses[20] == 429


def test_the_login_form_keeps_the_email_but_never_the_password(apex, make_account) -> None:
    account = make_account()

    page = log_in(apex, account.email, "a wrong password").get_data(as_text=True)

    assert f'value="{account.email}"' in page and "a wrong password" not in page
    assert parse(page).css("input#password") and 'value="a wrong' not in page
