"""Family hand-offs: a one-minute, single-use pass signs a parent into one family, and only that family."""
from __future__ import annotations

import html
import time
import uuid

import pytest
from flask import Flask
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.accounts.handoff import local_path
from app.members.models import Member
from app.platform.services import issue_handoff
from app.tenancy.context import family_context
from tests.html import field_value
from tests.conftest import set_family_status
from tests.platform.apex import audit_actions, handoff_parts

pytestmark = pytest.mark.usefixtures("app")


def signed_in(client) -> bool:  # noqa: ANN001
    """Whether this family client holds a live session (a signed-in page answers instead of the login redirect)."""
    return client.get("/auth/switch").status_code == 200


def pass_for(app: Flask, account, family) -> str:  # noqa: ANN001
    return issue_handoff(app.config["SECRET_KEY"], user_id=account.user_id, family_id=family.id)


def test_a_pass_signs_the_parent_in_and_continues_to_next(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])
    client = family_client(family)

    response = client.get("/auth/handoff", query_string={"token": pass_for(app, account, family), "next": "/welcome"})

    assert response.status_code == 302 and response.headers["Location"] == "/welcome"
    assert signed_in(client)
    assert audit_actions(app, family_id=family.id, action="auth.handoff") == ["auth.handoff"]


def test_a_pass_works_once(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])
    token = pass_for(app, account, family)
    assert family_client(family).get("/auth/handoff", query_string={"token": token}).status_code == 302

    replay = family_client(family)
    response = replay.get("/auth/handoff", query_string={"token": token})

    assert response.status_code == 400
    assert "This link has already been used." in response.get_data(as_text=True)
    assert not signed_in(replay)


def test_a_pass_for_family_a_is_refused_on_family_bs_host(app: Flask, make_account, make_family,
                                                          family_client) -> None:
    first, second = make_family(), make_family()
    account = make_account([first, second])
    client = family_client(second)

    response = client.get("/auth/handoff", query_string={"token": pass_for(app, account, first)})

    assert response.status_code == 400 and "This link is not valid." in response.get_data(as_text=True)
    assert not signed_in(client)
    # Refused on B, it still works where it belongs.
    assert family_client(first).get("/auth/handoff", query_string={"token": pass_for(app, account, first)}
                                    ).status_code == 302


def test_an_expired_pass_is_refused(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])

    class TwoMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 120

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="housepoints.handoff", signer=TwoMinutesAgo).dumps(
        {"u": str(account.user_id), "f": str(family.id), "n": uuid.uuid4().hex})
    response = family_client(family).get("/auth/handoff", query_string={"token": old})

    assert response.status_code == 400 and "This link has expired." in response.get_data(as_text=True)


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_a_missing_or_forged_pass_is_refused(family, family_client, token: str | None) -> None:
    query = {} if token is None else {"token": token}

    response = family_client(family).get("/auth/handoff", query_string=query)

    assert response.status_code == 400 and "This link is not valid." in response.get_data(as_text=True)


def test_a_pass_signed_with_another_key_is_refused(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])
    forged = issue_handoff("not-the-secret", user_id=account.user_id, family_id=family.id)

    response = family_client(family).get("/auth/handoff", query_string={"token": forged})

    assert response.status_code == 400


def test_a_deactivated_parent_cannot_be_handed_in(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])
    with app.app_context(), family_context(family.slug) as ctx:
        ctx.session.get(Member, account.member_ids[family.slug]).is_active = False
        ctx.session.commit()
    client = family_client(family)

    response = client.get("/auth/handoff", query_string={"token": pass_for(app, account, family)})

    assert response.status_code == 400
    assert "can't sign in to this family" in html.unescape(response.get_data(as_text=True))
    assert not signed_in(client)


def test_hand_offs_are_family_pages_only(apex) -> None:
    assert apex.get("/auth/handoff?token=x").status_code == 404


@pytest.mark.parametrize(("target", "expected"), [
    ("/welcome", "/welcome"), ("/chores?day=today", "/chores?day=today"), (None, "/"), ("", "/"),
    ("//evil.example/x", "/"), ("https://evil.example/", "/"), ("/\\evil.example", "/"), ("welcome", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"), ("javascript:alert(1)", "/"),
])
def test_next_only_ever_stays_on_this_host(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


def test_an_unsafe_next_is_replaced_by_home(app: Flask, make_account, family, family_client) -> None:
    account = make_account([family])

    response = family_client(family).get("/auth/handoff", query_string={
        "token": pass_for(app, account, family), "next": "//evil.example/"})

    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- switching families -------------------------------------------------------------------------------------------

def enter(app: Flask, client, account, family) -> None:  # noqa: ANN001
    assert client.get("/auth/handoff", query_string={"token": pass_for(app, account, family)}).status_code == 302


def test_a_parent_switches_to_another_of_their_families_without_a_password(app: Flask, make_account, make_family,
                                                                           family_client) -> None:
    first, second = make_family(name="First House"), make_family(name="Second <i>House</i>")
    account = make_account([first, second])
    on_first = family_client(first)
    enter(app, on_first, account, first)

    picker = on_first.get("/auth/switch").get_data(as_text=True)
    assert "Second &lt;i&gt;House&lt;/i&gt;" in picker and f'action="/auth/switch/{second.slug}"' in picker
    assert f"/auth/switch/{first.slug}" not in picker  # not the family they are already in
    response = on_first.post(f"/auth/switch/{second.slug}",
                             data={"csrf_token": field_value(picker, "csrf_token")})

    assert response.status_code == 303
    host, path, query = handoff_parts(response.headers["Location"])
    assert (host, path) == (f"{second.slug}.localhost:5000", "/auth/handoff")
    on_second = family_client(second)
    assert on_second.get(path, query_string=query).status_code == 302
    assert signed_in(on_second)


def test_switching_to_a_family_you_are_not_in_is_404(app: Flask, make_account, make_family, family_client) -> None:
    mine, theirs = make_family(), make_family()
    account = make_account([mine])
    make_account([theirs])
    client = family_client(mine)
    enter(app, client, account, mine)
    token = field_value(client.get("/auth/switch"), "csrf_token")

    assert client.post(f"/auth/switch/{theirs.slug}", data={"csrf_token": token}).status_code == 404
    assert client.post("/auth/switch/no-such-family", data={"csrf_token": token}).status_code == 404


def test_switching_into_a_suspended_family_is_404(app: Flask, make_account, make_family, family_client) -> None:
    mine, closed = make_family(), make_family()
    account = make_account([mine, closed])
    set_family_status(app, closed, status="suspended")
    client = family_client(mine)
    enter(app, client, account, mine)
    token = field_value(client.get("/auth/switch"), "csrf_token")

    assert client.post(f"/auth/switch/{closed.slug}", data={"csrf_token": token}).status_code == 404


def test_a_member_without_a_platform_account_cannot_switch(app: Flask, auth, create_member, family, make_family,
                                                           family_client) -> None:
    kid = create_member(display_name="Kid")
    client = family_client(family)
    auth.sign_in(client, kid, family)
    page = client.get("/auth/switch")
    assert page.status_code == 200 and "This is your only family." in page.get_data(as_text=True)

    response = client.post(f"/auth/switch/{make_family().slug}",
                           data={"csrf_token": field_value(page, "csrf_token")})

    assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), [("get", "/auth/switch"), ("post", "/auth/switch/anything")])
def test_switching_needs_a_signed_in_member(family, family_client, method: str, path: str) -> None:
    client = family_client(family)
    token = field_value(client.get("/login"), "csrf_token")

    response = getattr(client, method)(path, data={"csrf_token": token} if method == "post" else None)

    assert response.status_code == 302 and "/login" in response.headers["Location"]
