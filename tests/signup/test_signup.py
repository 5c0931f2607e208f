"""Sign-up at the apex: the page, a family created in one go, the parent landing signed in on its own address."""
from __future__ import annotations

from pathlib import Path

import re
import uuid

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import MemberSession
from app.db import platform_engine
from app.members.models import Member
from app.platform.models import AuditLog, FamilyMembership, Subscription
from app.signup.forms import timezone_choices
from app.tenancy.context import family_context
from app.tenancy.databases import database_exists
from tests.html import field_value, parse
from tests.platform.apex import (audit_actions, client_on, find_family, find_user, follow_handoff,
                                 handoff_parts)

pytestmark = pytest.mark.usefixtures("app")

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_asks_for_everything_and_lists_every_time_zone(apex) -> None:
    response = apex.get("/signup")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for name in ("display_name", "email", "password", "family_name", "city", "slug", "timezone", "csrf_token"):
        assert f'name="{name}"' in page, name
    zones = [str(node.attributes["value"]) for node in parse(page).css("option[value]") if node.attributes["value"]]
    assert zones == sorted(zones) and len(zones) == len(timezone_choices()) > 300
    assert "America/Chicago" in zones and "Europe/Lisbon" in zones
    # static/js/forms.js preselects the browser's zone on a select marked for it (no inline script: the CSP).
    assert "data-guess-from-browser" in page and "js/forms.js" in page
    assert "Intl.DateTimeFormat().resolvedOptions().timeZone" in (ROOT / "static" / "js" / "forms.js").read_text()
    assert 'hx-trigger="keyup changed delay:300ms' in page and "/signup/slug-field" in page
    assert "css/platform.css" in page


def test_sign_up_is_an_apex_page_only(family_client, family) -> None:
    assert family_client(family).get("/signup").status_code == 404
    assert family_client(family).get("/signup/check-slug?slug=abc").status_code == 404


def test_a_sign_up_creates_the_family_its_owner_and_its_first_parent(app: Flask, post_signup, signup_data) -> None:
    response = post_signup(signup_data)

    slug = signup_data["slug"]
    assert response.status_code == 303
    host, path, query = handoff_parts(response.headers["Location"])
    assert (host, path, query["next"]) == (f"{slug}.localhost:5000", "/auth/handoff", "/welcome")
    family = find_family(app, slug)
    user = find_user(app, signup_data["email"])
    assert family is not None and user is not None
    assert (family.name, family.timezone, family.placement) == ("The Riveras", "America/Chicago", "pooled")
    assert user.display_name == "Sam Rivera" and user.email_verified_at is None
    with app.app_context(), Session(platform_engine()) as session:
        membership = session.scalar(select(FamilyMembership).where(FamilyMembership.user_id == user.id))
        assert (membership.family_id, membership.role) == (family.id, "owner")
        assert session.scalar(select(Subscription.plan).where(Subscription.family_id == family.id)) == "free"
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "family.signed_up",
                                                      AuditLog.family_id == family.id))
        assert audit.actor_user_id == user.id and audit.details["slug"] == slug
    with app.app_context(), family_context(slug) as ctx:
        parent = ctx.session.get(Member, membership.member_id)
        assert (parent.role, parent.user_id, parent.display_name, parent.email) == (
            "parent", user.id, "Sam Rivera", signup_data["email"])


def test_the_parent_lands_signed_in_on_the_new_familys_host(app: Flask, post_signup, signup_data) -> None:
    response = post_signup(signup_data)

    family_client, landed = follow_handoff(app, response.headers["Location"])
    assert landed.status_code == 302 and landed.headers["Location"] == "/welcome"
    assert family_client.get("/auth/switch").status_code == 200  # a signed-in page, not the login redirect
    family = find_family(app, signup_data["slug"])
    assert "auth.handoff" in audit_actions(app, family_id=family.id)
    with app.app_context(), family_context(family.slug) as ctx:
        assert len(ctx.session.scalars(select(MemberSession)).all()) == 1


def test_the_apex_remembers_the_new_account(post_signup, signup_data, apex) -> None:
    post_signup(signup_data)

    # One family: the picker sends the parent straight back into it.
    response = apex.get("/families")
    assert response.status_code == 303
    assert handoff_parts(response.headers["Location"])[0] == f"{signup_data['slug']}.localhost:5000"


def test_an_htmx_sign_up_navigates_the_whole_window_to_the_family(post_signup, signup_data) -> None:
    response = post_signup(signup_data, headers={"HX-Request": "true", "HX-Boosted": "true"})

    # XHR cannot follow a redirect to another origin, so htmx is told to navigate instead.
    assert response.status_code == 204
    host, path, _ = handoff_parts(response.headers["HX-Redirect"])
    assert (host, path) == (f"{signup_data['slug']}.localhost:5000", "/auth/handoff")


def test_emoji_and_accents_in_names_are_welcome(app: Flask, post_signup, signup_data) -> None:
    signup_data.update(display_name="Zoë 🦊", family_name="Die Müllers 🏡")

    assert post_signup(signup_data).status_code == 303

    assert find_family(app, signup_data["slug"]).name == "Die Müllers 🏡"
    assert find_user(app, signup_data["email"]).display_name == "Zoë 🦊"


def test_a_dedicated_placement_gets_its_own_database(app: Flask, post_signup, signup_data, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "FAMILY_PLACEMENT", "dedicated")

    assert post_signup(signup_data).status_code == 303

    family = find_family(app, signup_data["slug"])
    assert family.placement == "dedicated"
    assert database_exists(app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=family.database_key))
    with app.app_context(), family_context(family.slug) as ctx:
        assert [m.display_name for m in ctx.session.scalars(select(Member))] == ["Sam Rivera"]


def test_the_verification_email_arrives_and_its_link_confirms_the_address(app: Flask, post_signup, signup_data,
                                                                          smtp_server, apex) -> None:
    post_signup(signup_data)

    mail = smtp_server.last_to(signup_data["email"])
    assert mail["Subject"] == "Confirm your email for HousePoints"
    body = mail.get_content()
    assert f"http://{signup_data['slug']}.localhost:5000/" in body
    link = re.search(r"http://localhost:5000(/verify-email/\S+)", body).group(1)

    first = apex.get(link)
    assert first.status_code == 200 and "your email is confirmed" in first.get_data(as_text=True)
    user = find_user(app, signup_data["email"])
    assert user.email_verified_at is not None
    again = apex.get(link)
    assert again.status_code == 200 and "already confirmed" in again.get_data(as_text=True)
    assert audit_actions(app, actor_user_id=user.id, action="user.email_verified") == ["user.email_verified"]


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 300])
def test_a_bad_verification_link_gets_a_clear_400_page(apex, token: str) -> None:
    response = apex.get(f"/verify-email/{token or uuid.uuid4().hex}")

    assert response.status_code == 400
    assert "This link is not valid." in response.get_data(as_text=True)


@pytest.mark.sqlite
def test_sign_up_works_on_the_embedded_sqlite_default(sqlite_app: Flask, signup_data) -> None:
    """`make run` serves SQLite files: a parent can sign up there too, and lands signed in."""
    apex = client_on(sqlite_app)
    page = apex.get("/signup").get_data(as_text=True)
    response = apex.post("/signup", data={**signup_data, "csrf_token": field_value(page, "csrf_token"),
                                          "nonce": field_value(page, "nonce")})

    assert response.status_code == 303
    family_client, landed = follow_handoff(sqlite_app, response.headers["Location"])
    assert landed.status_code == 302 and landed.headers["Location"] == "/welcome"
    assert family_client.get("/auth/switch").status_code == 200
