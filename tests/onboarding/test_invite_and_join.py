"""Inviting a co-parent from the wizard (a real email) and joining by the link: new and existing accounts, bad links."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.db.bases import utcnow
from app.members.models import Member
from app.platform.models import FamilyMembership, User
from app.platform.services import create_invitation
from app.security import hash_secret, verify_secret
from app.tenancy.context import family_context
from tests.members.conftest import PARENT_PASSWORD, csrf_token

STRONG = "purple monkey dishwasher"
LINK = re.compile(r"http://(?P<host>[^/\s]+)(?P<path>/join/[\w.\-]+)")


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


@pytest.fixture
def invite(app: Flask, family, parent):  # noqa: ANN001, ANN201
    """Factory: an invitation made through the service (optionally back-dated) and its link token."""
    def make(email: str, *, now=None, family_record=None, inviter=None) -> str:  # noqa: ANN001
        target = family_record or family
        with app.app_context(), family_context(target.slug) as ctx:
            _, token = create_invitation(ctx.session, app.config["SECRET_KEY"], family_id=target.id,
                                         inviter=ctx.session.get(Member, (inviter or parent).id), email=email,
                                         now=now or utcnow())
            ctx.session.commit()
        return token
    return make


@pytest.fixture
def platform_rows(app: Flask):  # noqa: ANN001, ANN201
    """Factory: the platform account for an email and its memberships."""
    def rows(email: str) -> tuple[User | None, list[FamilyMembership]]:
        with app.app_context(), Session(platform_engine(), expire_on_commit=False) as session:
            user = session.scalar(select(User).where(User.email == email))
            memberships = list(session.scalars(select(FamilyMembership).where(FamilyMembership.user_id == user.id))
                               ) if user else []
            return user, memberships
    return rows


def _join(app: Flask, client, path: str, **form: str):  # noqa: ANN001, ANN202
    return client.post(path, data={"csrf_token": csrf_token(app, client), **form})


def test_invite_email_arrives_and_its_link_makes_a_new_co_parent(app: Flask, parent_client, post, smtp_server,
                                                                 client_for, family, platform_rows, load_member,
                                                                 audit_rows) -> None:
    sent = post(parent_client, "/welcome/invite", {"email": "Casey@Example.com"}, htmx=True)

    assert sent.status_code == 200 and "Invitation sent to casey@example.com." in _page(sent)
    assert "Waiting for an answer" in _page(sent)
    mail = smtp_server.last_to("casey@example.com")
    body = mail.get_content()
    assert "Pat invited you" in mail["Subject"] and family.name in body
    link = LINK.search(body)
    assert link and link["host"] == f"{family.slug}.{app.config['BASE_DOMAIN']}"

    browser = client_for(family)  # the invitee's own browser
    form = browser.get(link["path"])
    assert form.status_code == 200 and "casey@example.com" in _page(form) and "Choose a password" in _page(form)
    joined = _join(app, browser, link["path"], display_name="Casey", password=STRONG)

    assert joined.status_code == 303 and joined.headers["Location"] == "/"
    user, [membership] = platform_rows("casey@example.com")
    assert verify_secret(user.password_hash, STRONG) and user.display_name == "Casey"
    assert membership.role == "admin" and membership.family_id == family.id
    member = load_member(membership.member_id)
    assert member.role == "parent" and member.user_id == user.id and member.display_name == "Casey"
    assert browser.get("/members").status_code == 200  # signed in, as a parent
    assert audit_rows(family, "invitation.accepted")[0].target_id == str(member.id)


def test_an_existing_account_joins_with_its_password(app: Flask, invite, client_for, family, platform_rows,
                                                     load_member) -> None:
    with app.app_context(), Session(platform_engine()) as session:
        session.add(User(email="sam@example.com", display_name="Sam", password_hash=hash_secret(PARENT_PASSWORD)))
        session.commit()
    path = f"/join/{invite('sam@example.com')}"
    browser = client_for(family)

    form = browser.get(path)
    wrong = _join(app, browser, path, display_name="Sam", password="not the password")
    right = _join(app, browser, path, display_name="", password=PARENT_PASSWORD)

    assert "already have a HousePoints account" in _page(form) and 'value="Sam"' in _page(form)
    assert wrong.status_code == 422 and "Wrong password for this account." in _page(wrong)
    assert right.status_code == 303
    user, [membership] = platform_rows("sam@example.com")
    member = load_member(membership.member_id)
    assert member.user_id == user.id and member.display_name == "Sam" and membership.role == "admin"


def test_a_new_account_needs_a_strong_password_and_a_name(app: Flask, invite, client_for, family,
                                                          platform_rows) -> None:
    path = f"/join/{invite('new@example.com')}"
    browser = client_for(family)

    weak = _join(app, browser, path, display_name="New", password="short")
    nameless = _join(app, browser, path, display_name="", password=STRONG)

    assert weak.status_code == 422 and "at least 10 characters" in _page(weak) and 'value="New"' in _page(weak)
    assert nameless.status_code == 422 and "Please enter a name" in _page(nameless)
    assert platform_rows("new@example.com") == (None, [])


def test_an_expired_invitation_fails_cleanly(app: Flask, invite, client_for, family) -> None:
    path = f"/join/{invite('late@example.com', now=utcnow() - timedelta(days=8))}"
    browser = client_for(family)

    for response in (browser.get(path), _join(app, browser, path, display_name="Late", password=STRONG)):
        assert response.status_code == 400 and "This invitation has expired" in _page(response)


@pytest.mark.parametrize("token", ["garbage", "eyJpIjoiMSJ9.Zz9xAA.forgedsignature"])
def test_a_forged_link_fails_cleanly(client, token: str) -> None:
    response = client.get(f"/join/{token}")

    assert response.status_code == 400 and "This link is not valid." in _page(response)


def test_a_tampered_link_fails_cleanly(invite, client) -> None:
    token = invite("someone@example.com")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    assert client.get(f"/join/{tampered}").status_code == 400


def test_a_used_link_cannot_join_again(app: Flask, invite, client_for, family) -> None:
    path = f"/join/{invite('once@example.com')}"
    first = client_for(family)
    assert _join(app, first, path, display_name="Once", password=STRONG).status_code == 303

    again = client_for(family)
    for response in (again.get(path), _join(app, again, path, display_name="Twice", password=STRONG)):
        assert response.status_code == 409 and "already been used" in _page(response)


def test_another_familys_invitation_is_not_found_here(app: Flask, invite, make_family, create_member, client) -> None:
    other = make_family()
    their_parent = create_member(family_record=other, role="parent", username="op", display_name="OP")
    token = invite("elsewhere@example.com", family_record=other, inviter=their_parent)

    assert client.get(f"/join/{token}").status_code == 404


def test_joining_respects_the_plan(app: Flask, invite, create_member, client_for, family, platform_rows) -> None:
    create_member(role="parent", username="second", display_name="Second")  # with `parent`: the free plan's two
    path = f"/join/{invite('third@example.com')}"

    response = _join(app, client_for(family), path, display_name="Third", password=STRONG)

    assert response.status_code == 403 and "up to 2 parents" in _page(response)
    assert platform_rows("third@example.com") == (None, [])


def test_joining_needs_a_csrf_token(invite, client_for, family) -> None:
    path = f"/join/{invite('csrf@example.com')}"

    assert client_for(family).post(path, data={"display_name": "C", "password": STRONG}).status_code == 400


def test_invalid_invite_addresses_are_refused(parent_client, post) -> None:
    response = post(parent_client, "/welcome/invite", {"email": "not-an-email"}, htmx=True)

    assert response.status_code == 422 and "Please enter a valid email address" in _page(response)
    assert 'id="invite-email-error"' in _page(response)


def test_a_parent_already_here_is_not_invited_again(parent_client, post, parent, give_account, family) -> None:
    give_account(parent, family, role="owner", email="pat@example.com")

    response = post(parent_client, "/welcome/invite", {"email": "pat@example.com"}, htmx=True)

    assert response.status_code == 422 and "already a parent in this family" in _page(response)


def test_invite_without_htmx_redirects_back_to_the_step(parent_client, post, smtp_server) -> None:
    response = post(parent_client, "/welcome/invite", {"email": "plain@example.com"})

    assert response.status_code == 303 and response.headers["Location"] == "/welcome/invite"
    assert smtp_server.last_to("plain@example.com")
    assert "plain@example.com" in _page(parent_client.get("/welcome/invite"))
