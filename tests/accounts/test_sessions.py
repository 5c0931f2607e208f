"""Server-side sessions: signing out ends them, here or everywhere, and they never work on another family's host."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.db.bases import utcnow
from app.members.models import Member
from app.members.services import deactivate_member
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import PARENT_PASSWORD
from tests.accounts.helpers import HostAuth, copy_session_cookie, csrf_token, host_of, session_cookie
from tests.conftest import FamilyClient


def is_signed_in(client: FamilyClient) -> bool:
    """The dashboard shows the people only to a signed-in member."""
    return b"Our people" in client.get("/").data


def test_logout_ends_the_server_session_so_a_saved_cookie_is_useless(client: FamilyClient,
                                                                     client_for: Callable[..., FamilyClient],
                                                                     family: FamilyRecord, parent: Member) -> None:
    login = client.post("/login", data={"csrf_token": csrf_token(client), "login": "pat",
                                        "password": PARENT_PASSWORD})
    assert login.status_code == 302 and is_signed_in(client)
    saved = session_cookie(client)

    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not is_signed_in(client)

    replay = client_for(family)
    replay.set_cookie("session", saved, domain=host_of(replay))
    assert not is_signed_in(replay)
    assert replay.get("/settings/devices").headers["Location"].startswith("/login")


def test_sign_out_everywhere_ends_every_browser(client_for: Callable[..., FamilyClient], family: FamilyRecord,
                                                parent: Member, host_auth: HostAuth,
                                                audit_rows: Callable[..., list]) -> None:
    phone, laptop = client_for(family), client_for(family)
    host_auth.sign_in(phone, parent, family)
    host_auth.sign_in(laptop, parent, family)
    assert is_signed_in(phone) and is_signed_in(laptop)

    response = laptop.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(laptop, "/")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not is_signed_in(laptop)
    assert not is_signed_in(phone)
    row = next(row for row in audit_rows(family) if row.action == "auth.signed_out_everywhere")
    assert row.actor_member_id == parent.id and row.details["sessions"] == 2


def test_sign_out_everywhere_leaves_other_members_signed_in(client_for: Callable[..., FamilyClient],
                                                            family: FamilyRecord, parent: Member, kid: Member,
                                                            host_auth: HostAuth) -> None:
    mine, theirs = client_for(family), client_for(family)
    host_auth.sign_in(mine, parent, family)
    host_auth.sign_in(theirs, kid, family)
    mine.post("/account/sign-out-everywhere", data={"csrf_token": csrf_token(mine, "/")})
    assert is_signed_in(theirs)


@pytest.mark.parametrize("how", ["deactivated", "login disabled"])
def test_a_members_session_stops_the_moment_they_are_switched_off(app: Flask, client: FamilyClient,
                                                                   family: FamilyRecord, parent: Member,
                                                                   kid: Member, host_auth: HostAuth,
                                                                   in_family: Callable, how: str) -> None:
    host_auth.sign_in(client, kid, family)
    assert is_signed_in(client)
    with in_family(family) as ctx:
        member = ctx.session.get(Member, kid.id)
        if how == "deactivated":
            deactivate_member(ctx.session, member, actor=ctx.session.get(Member, parent.id), now=utcnow())
        else:
            member.login_enabled = False  # no session is ended here: the check on every request stops it
        ctx.session.commit()
    assert not is_signed_in(client)
    assert client.get("/me").headers["Location"].startswith("/login")


def test_a_session_cookie_copied_to_another_familys_host_is_rejected(client_for: Callable[..., FamilyClient],
                                                                     make_family: Callable[..., FamilyRecord],
                                                                     create_member: Callable[..., Member],
                                                                     host_auth: HostAuth) -> None:
    ours, theirs = make_family(), make_family()
    our_parent = create_member(family_record=ours, role="parent", username="pat", display_name="Pat")
    create_member(family_record=theirs, role="parent", username="pat", display_name="Their Pat")
    our_browser = client_for(ours)
    host_auth.sign_in(our_browser, our_parent, ours)
    assert is_signed_in(our_browser)

    attacker = client_for(theirs)
    copy_session_cookie(our_browser, attacker)
    assert not is_signed_in(attacker)
    response = attacker.get("/settings/devices")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/settings/devices"
    assert attacker.get("/me").headers["Location"].startswith("/login")
