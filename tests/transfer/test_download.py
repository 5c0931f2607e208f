"""The owner's "download all our data" from settings, tried from every other side: co-parent, kid, neighbour."""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.members.models import Member
from app.platform.models import AuditLog, FamilyMembership
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from app.transfer.archive import MANIFEST
from tests.conftest import Auth, FamilyClient

EXPORT = "/settings/export"


def _member(app: Flask, family: FamilyRecord, *, owner: bool | None = None, role: str = "parent") -> Member:
    """The family's owner (owner=True), a parent who is not the owner (False), or a member of `role`."""
    with app.app_context(), family_context(family.slug) as ctx:
        owners = set(ctx.session.scalars(select(FamilyMembership.member_id).where(
            FamilyMembership.family_id == family.id, FamilyMembership.role == "owner")))
        members = ctx.session.scalars(select(Member).where(Member.role == role, Member.is_active.is_(True))
                                      .order_by(Member.username)).all()
        chosen = [m for m in members if owner is None or (m.id in owners) == owner]
        assert chosen, (owner, role)
        return chosen[0]


def test_the_owner_downloads_a_zip_of_their_own_family_only(
        app: Flask, client: FamilyClient, auth: Auth, full_family: FamilyRecord, neighbour: FamilyRecord) -> None:
    owner = _member(app, full_family, owner=True)
    auth.sign_in(client, owner, full_family)
    page = client.get("/settings")
    assert page.status_code == 200 and EXPORT.encode() in page.data
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        members = json.loads(archive.read("tables/members.json"))["rows"]
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert manifest["family"] == {"id": str(full_family.id), "slug": full_family.slug}
    assert owner.username in {row["username"] for row in members}
    assert str(neighbour.id).encode() not in everything  # nothing of the family next door
    assert b"The Neighbours" not in everything
    with app.app_context(), Session(platform_engine()) as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.family_id == full_family.id,
                                                       AuditLog.action == "family.exported")).all()
    assert len(audit) == 1 and audit[0].actor_member_id == owner.id


def test_a_co_parent_who_is_not_the_owner_cannot_download(
        app: Flask, client: FamilyClient, auth: Auth, full_family: FamilyRecord) -> None:
    co_parent = _member(app, full_family, owner=False)
    auth.sign_in(client, co_parent, full_family)
    assert EXPORT.encode() not in client.get("/settings").data
    response = client.get(EXPORT)
    assert response.status_code == 403
    assert b"Only the family owner" in response.data
    assert response.mimetype != "application/zip"


def test_a_co_parent_with_an_admin_account_cannot_download(
        app: Flask, client: FamilyClient, auth: Auth, full_family: FamilyRecord) -> None:
    co_parent = _member(app, full_family, owner=False)
    with app.app_context(), family_context(full_family.slug) as ctx:
        from app.platform.models import User

        user = User(email=f"admin-{co_parent.id.hex[:8]}@example.com", display_name="Admin")
        ctx.session.add(user)
        ctx.session.flush()
        ctx.session.add(FamilyMembership(user_id=user.id, family_id=full_family.id, role="admin",
                                         member_id=co_parent.id))
        ctx.session.get(Member, co_parent.id).user_id = user.id
        ctx.session.commit()
    auth.sign_in(client, co_parent, full_family)
    assert client.get(EXPORT).status_code == 403


def test_a_kid_cannot_download(app: Flask, client: FamilyClient, auth: Auth, full_family: FamilyRecord) -> None:
    kid = _member(app, full_family, role="child")
    auth.sign_in(client, kid, full_family)
    response = client.get(EXPORT)
    assert response.status_code == 403
    assert response.mimetype != "application/zip"


def test_nobody_signed_out_can_download(client: FamilyClient, full_family: FamilyRecord) -> None:
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_familys_owner_cannot_download_this_family(
        app: Flask, client_for: Callable[..., FamilyClient], auth: Auth, full_family: FamilyRecord,
        make_family: Callable[..., FamilyRecord]) -> None:
    other = make_family()
    with app.app_context(), family_context(other.slug) as ctx:
        from app.platform.models import User

        parent = Member(username="otherowner", display_name="Other Owner", role="parent")
        user = User(email=f"other-{other.slug}@example.com", display_name="Other Owner")
        ctx.session.add_all([parent, user])
        ctx.session.flush()
        ctx.session.add(FamilyMembership(user_id=user.id, family_id=other.id, role="owner", member_id=parent.id))
        parent.user_id = user.id
        ctx.session.commit()
    theirs = client_for(other)
    token = auth.sign_in(theirs, parent, other)
    assert theirs.get(EXPORT).status_code == 200  # they can download their own family
    # Their session carried to this family's host (a stolen or replayed cookie) is not a session here.
    attacker = client_for(full_family)
    with attacker.session_transaction() as cookie:
        cookie["family_id"] = str(other.id)
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    response = attacker.get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with attacker.session_transaction() as cookie:
        cookie["family_id"] = str(full_family.id)  # lying about the family does not help either
    response = attacker.get(EXPORT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
