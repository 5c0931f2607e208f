"""Deleting a family (owner only, password again), cancelling it from the apex, purging it, deleting an account."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.models import MemberSession
from app.db import engines, platform_engine
from app.db.bases import FamilyBase, utcnow
from app.db.session import open_session
from app.members.models import Member
from app.platform.models import AuditLog, FamilyMembership, User
from app.tenancy.context import family_context
from app.tenancy.databases import database_exists
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient, set_family_status
from tests.forms import post_form
from tests.html import text
from tests.platform.apex import Account, client_on, create_account, csrf_token, find_family, find_user


def _member(app: Flask, family: FamilyRecord, member_id: uuid.UUID) -> Member:
    with app.app_context(), family_context(family.slug) as ctx:
        member = ctx.session.get(Member, member_id)
        assert member is not None
        return member


def _signed_in(app: Flask, family: FamilyRecord, member: Member) -> FamilyClient:
    client = client_on(app, family)
    Auth(app).sign_in(client, member, family)
    return client


def _request_deletion(app: Flask, client: FamilyClient, password: str) -> Any:
    token = csrf_token(client, "/settings/delete")
    return client.post("/settings/delete", data={"password": password, "csrf_token": token})


def _row_counts(app: Flask, family: FamilyRecord) -> dict[str, int]:
    with app.app_context():
        session = open_session(platform_engine(), engines().get(family.database_url), family.id)
        try:
            return {t.name: session.execute(select(func.count()).select_from(t).where(t.c.family_id == family.id))
                    .scalar_one() for t in FamilyBase.metadata.sorted_tables}
        finally:
            session.close()


@pytest.fixture
def owned(app: Flask, make_family: Callable[..., FamilyRecord]) -> tuple[FamilyRecord, Account]:
    family = make_family()
    return family, create_account(app, [family], role="owner", display_name="Olive")


def test_the_owner_deletes_the_family_and_everything_answers_410(app: Flask, owned: tuple[FamilyRecord, Account]
                                                                  ) -> None:
    family, owner = owned
    member = _member(app, family, owner.member_ids[family.slug])
    client = _signed_in(app, family, member)
    token = Auth(app).bearer(member, family)
    assert "Type your account password" in text(client.get("/settings/delete"))

    refused = _request_deletion(app, client, "not my password")
    assert refused.status_code == 422 and "That password is not right." in text(refused)
    assert find_family(app, family.slug).deleted_at is None  # type: ignore[union-attr]

    done = _request_deletion(app, client, owner.password)
    assert done.status_code == 303
    assert done.headers["Location"].startswith(f"http://{app.config['BASE_DOMAIN']}/families")
    assert find_family(app, family.slug).deleted_at is not None  # type: ignore[union-attr]
    page = client.get("/")
    assert page.status_code == 410 and "cancel the deletion" in text(page)
    api = client_on(app, family).get("/api/users", headers=token)
    assert api.status_code == 410 and api.get_json()["error"].startswith("This family's account has been deleted.")
    with app.app_context():
        session = open_session(platform_engine(), engines().get(family.database_url), family.id)
        assert session.scalar(select(func.count()).select_from(MemberSession)
                              .where(MemberSession.revoked_at.is_(None))) == 0
        session.close()
        with Session(platform_engine()) as platform:
            assert platform.scalars(select(AuditLog.action).where(AuditLog.family_id == family.id,
                                                                  AuditLog.actor_user_id == owner.user_id)
                                    ).all()[-1] == "family.deletion_requested"


def test_the_owner_cancels_from_the_apex_and_the_family_opens_again(app: Flask,
                                                                    owned: tuple[FamilyRecord, Account]) -> None:
    family, owner = owned
    client = _signed_in(app, family, _member(app, family, owner.member_ids[family.slug]))
    assert _request_deletion(app, client, owner.password).status_code == 303
    apex = client_on(app)
    signed_in = apex.post("/login", data={"email": owner.email, "password": owner.password,
                                          "csrf_token": csrf_token(apex, "/login")})
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/families")
    picker = apex.get("/families")
    assert "scheduled for deletion on" in text(picker)
    cancelled = apex.post(f"/families/{family.slug}/cancel-deletion",
                          data={"csrf_token": csrf_token(apex, "/families")})
    assert cancelled.status_code == 303
    assert find_family(app, family.slug).deleted_at is None  # type: ignore[union-attr]
    assert client.get("/").status_code != 410  # open again (its sessions were ended: sign in anew)
    with app.app_context(), Session(platform_engine()) as platform:
        assert "family.deletion_cancelled" in platform.scalars(
            select(AuditLog.action).where(AuditLog.family_id == family.id)).all()


@pytest.mark.parametrize("who", ["co-parent", "kid", "other family's owner"])
def test_only_the_owner_can_delete(app: Flask, owned: tuple[FamilyRecord, Account],
                                   make_family: Callable[..., FamilyRecord], create_member: Callable[..., Member],
                                   who: str) -> None:
    family, _owner = owned
    if who == "co-parent":
        account = create_account(app, [family], role="admin")
        client = _signed_in(app, family, _member(app, family, account.member_ids[family.slug]))
        response = _request_deletion(app, client, account.password)
        assert response.status_code == 403 and "Only the family's owner" in text(response)
    elif who == "kid":
        kid = create_member(family_record=family, username="kiddo", display_name="Kiddo")
        client = _signed_in(app, family, kid)
        response = post_form(client, "/settings/delete", {"password": "x"})
        assert response.status_code == 403  # a signed-in kid: parents only
    else:
        other = make_family()
        stranger = create_account(app, [other], role="owner")
        stranger_member = _member(app, other, stranger.member_ids[other.slug])
        client = client_on(app, family)
        Auth(app).sign_in(client_on(app, other), stranger_member, other)
        with client.session_transaction() as cookie:  # the other family's session presented on our host
            cookie["family_id"] = str(other.id)
        response = post_form(client, "/settings/delete", {"password": stranger.password})
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        headers = Auth(app).bearer(stranger_member, other)
        response = post_form(client_on(app, family), "/settings/delete", {"password": stranger.password},
                             headers=headers)  # a bearer token opens no page
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert find_family(app, family.slug).deleted_at is None  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["co-parent", "other family's owner", "nobody"])
def test_only_the_owner_can_cancel(app: Flask, owned: tuple[FamilyRecord, Account],
                                   make_family: Callable[..., FamilyRecord], who: str) -> None:
    family, _owner = owned
    apex = client_on(app)
    if who == "co-parent":
        account = create_account(app, [family], role="admin")
    elif who == "other family's owner":
        account = create_account(app, [make_family()], role="owner")
    set_family_status(app, family, deleted_at=utcnow())
    if who != "nobody":
        apex.post("/login", data={"email": account.email, "password": account.password,
                                  "csrf_token": csrf_token(apex, "/login")})
        token = csrf_token(apex, "/account/delete")
        assert family.slug not in text(apex.get("/families"))
        response = apex.post(f"/families/{family.slug}/cancel-deletion", data={"csrf_token": token})
        assert response.status_code == 403 and "Only the family's owner" in text(response)
    else:
        response = apex.post(f"/families/{family.slug}/cancel-deletion")
        assert response.status_code in (302, 303, 400)
    assert find_family(app, family.slug).deleted_at is not None  # type: ignore[union-attr]


def _age(app: Flask, family: FamilyRecord, days: int) -> None:
    set_family_status(app, family, deleted_at=utcnow() - timedelta(days=days))


def test_purge_refuses_a_family_in_grace_or_not_deleted(app: Flask, owned: tuple[FamilyRecord, Account]) -> None:
    family, _owner = owned
    runner = app.test_cli_runner()
    result = runner.invoke(args=["families", "purge", family.slug])
    assert result.exit_code != 0 and "is not deleted" in result.output
    _age(app, family, 29)
    before = _row_counts(app, family)
    result = runner.invoke(args=["families", "purge", family.slug])
    assert result.exit_code != 0 and "is in its grace period until" in result.output
    assert _row_counts(app, family) == before and sum(before.values()) > 0
    result = runner.invoke(args=["families", "purge", "no-such-family"])
    assert result.exit_code != 0 and "There is no family 'no-such-family'" in result.output


def test_purge_erases_every_row_file_and_personal_trace(app: Flask, owned: tuple[FamilyRecord, Account]) -> None:
    from app.family_time import FamilyClock
    from app.points.services import post_entry

    family, owner = owned
    member_id = owner.member_ids[family.slug]
    with app.app_context(), family_context(family.slug) as ctx:
        post_entry(ctx.session, member_id, amount=5, kind="bonus", description="history", clock=FamilyClock("UTC"),
                   now=utcnow())
        ctx.session.commit()
    photos = Path(app.config["UPLOADS_DIR"]) / str(family.id)
    photos.mkdir(parents=True, exist_ok=True)
    (photos / "proof.jpg").write_bytes(b"jpeg")
    client = _signed_in(app, family, _member(app, family, member_id))
    assert _request_deletion(app, client, owner.password).status_code == 303
    _age(app, family, 31)
    assert _row_counts(app, family)["points_ledger"] == 1
    result = app.test_cli_runner().invoke(args=["families", "purge", family.slug])
    assert result.exit_code == 0, result.output
    assert f"purged {family.slug}" in result.output
    assert set(_row_counts(app, family).values()) == {0}
    assert not photos.exists()
    row = find_family(app, family.slug)
    assert row is not None and row.purged_at is not None and row.name == "Deleted family"
    with app.app_context(), Session(platform_engine()) as platform:
        assert platform.scalar(select(func.count()).select_from(FamilyMembership)
                               .where(FamilyMembership.family_id == family.id)) == 0
        audits = platform.scalars(select(AuditLog).where(AuditLog.family_id == family.id)).all()
        assert audits and all(a.details == {} and a.ip_address is None and a.message is None for a in audits)
        assert {"family.deletion_requested", "family.purged"} <= {a.action for a in audits}
    assert client_on(app, family).get("/").status_code == 410
    again = app.test_cli_runner().invoke(args=["families", "purge", family.slug])
    assert again.exit_code != 0 and "was already purged" in again.output


def test_the_tick_purges_families_past_grace_and_drops_dedicated_databases(
        app: Flask, make_family: Callable[..., FamilyRecord]) -> None:
    past = make_family(placement="dedicated")
    waiting = make_family()
    _age(app, past, 31)
    _age(app, waiting, 3)
    assert database_exists(past.database_url)
    result = app.test_cli_runner().invoke(args=["jobs", "tick"])
    assert "deleted families purged" in result.output, result.output
    assert not database_exists(past.database_url)
    assert find_family(app, past.slug).purged_at is not None  # type: ignore[union-attr]
    assert find_family(app, waiting.slug).purged_at is None  # type: ignore[union-attr]
    assert sum(_row_counts(app, waiting).values()) > 0


def test_deleting_an_account_removes_memberships_and_personal_fields(
        app: Flask, owned: tuple[FamilyRecord, Account]) -> None:
    family, owner = owned
    helper = create_account(app, [family], role="admin", display_name="Hattie")
    apex = client_on(app)
    apex.post("/login", data={"email": helper.email, "password": "wrong", "csrf_token": csrf_token(apex, "/login")})
    apex.post("/login", data={"email": helper.email, "password": helper.password,
                              "csrf_token": csrf_token(apex, "/login")})
    refused = apex.post("/account/delete", data={"password": "nope", "csrf_token": csrf_token(apex, "/account/delete")})
    assert refused.status_code == 422 and "That password is not right." in text(refused)
    done = apex.post("/account/delete", data={"password": helper.password,
                                              "csrf_token": csrf_token(apex, "/account/delete")})
    assert done.status_code == 200 and "Your account is deleted" in text(done)
    assert find_user(app, helper.email) is None
    with app.app_context(), Session(platform_engine()) as platform:
        user = platform.get(User, helper.user_id)
        assert user is not None and user.deleted_at is not None and user.password_hash is None
        assert (user.display_name, user.email.endswith("@deleted.invalid")) == ("Deleted account", True)
        assert platform.scalar(select(func.count()).select_from(FamilyMembership)
                               .where(FamilyMembership.user_id == helper.user_id)) == 0
        leftovers = platform.scalars(select(AuditLog).where(AuditLog.actor_user_id == helper.user_id)).all()
        assert leftovers and all(a.details == {} and a.ip_address is None for a in leftovers)
        assert platform.scalar(select(func.count()).select_from(AuditLog)
                               .where(AuditLog.details["email"].as_string() == helper.email.lower())) == 0
    # The owner cannot leave a family without an owner.
    apex = client_on(app)
    apex.post("/login", data={"email": owner.email, "password": owner.password,
                              "csrf_token": csrf_token(apex, "/login")})
    blocked = apex.post("/account/delete", data={"password": owner.password,
                                                 "csrf_token": csrf_token(apex, "/account/delete")})
    assert blocked.status_code == 422 and "delete the family" in text(blocked)
    assert find_user(app, owner.email) is not None
