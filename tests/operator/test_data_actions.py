"""Move, export and delete from the console, wired to the platform's own services (moves, archives, deletion):
each is audited with the operator as actor, and a refused one changes nothing."""
from __future__ import annotations

import io
import zipfile

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import MemberSession
from app.db import platform_engine
from app.platform.models import AuditLog, Family
from tests.conftest import FamilyClient
from tests.operator.conftest import form_token
from tests.platform.apex import Account, audit_actions

pytestmark = pytest.mark.usefixtures("app")


def registry_row(app: Flask, family) -> tuple[object, ...]:  # noqa: ANN001
    with app.app_context(), Session(platform_engine()) as session:
        row = session.get(Family, family.id)
        assert row is not None
        return row.cluster, str(row.placement), row.database_key, row.deleted_at, str(row.status)


def post(console: FamilyClient, family, action: str, **data: str):  # noqa: ANN001, ANN201
    token = form_token(console, f"/families/{family.slug}")
    return console.post(f"/families/{family.slug}/{action}", data={"csrf_token": token, **data})


def test_move_to_a_dedicated_database_keeps_the_family_working(app: Flask, console: FamilyClient, operator: Account,
                                                               family, family_client, create_member) -> None:
    create_member(display_name="Mover Kid")

    response = post(console, family, "move", cluster="default", placement="dedicated")

    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    cluster, placement, key, _, _ = registry_row(app, family)
    assert (cluster, placement) == ("default", "dedicated") and key
    assert family_client(family).get("/").status_code == 200
    with app.app_context(), Session(platform_engine()) as session:
        moved = session.scalar(select(AuditLog).where(AuditLog.action == "family.moved",
                                                      AuditLog.family_id == family.id))
        assert moved is not None and moved.actor_user_id == operator.user_id
    page = console.get(f"/families/{family.slug}")
    assert "dedicated" in page.get_data(as_text=True)


@pytest.mark.parametrize(("data", "status"), [
    ({"cluster": "nowhere"}, 409),  # no such cluster
    ({"cluster": "default"}, 409),  # where it already is
    ({"cluster": "default", "placement": "pooled"}, 409),
    ({"cluster": "default", "placement": "sideways"}, 400),
    ({"cluster": ""}, 400),
    ({"cluster": "a\u0000b"}, 400),
    ({"cluster": "x" * 65}, 400),
])
def test_a_bad_move_changes_nothing(app: Flask, console: FamilyClient, family, data: dict[str, str],
                                    status: int) -> None:
    before = registry_row(app, family)

    response = post(console, family, "move", **data)

    assert response.status_code == status
    assert registry_row(app, family) == before
    assert audit_actions(app, action="family.moved", family_id=family.id) == []


def test_export_downloads_the_archive_without_photos_or_secrets(app: Flask, console: FamilyClient, operator: Account,
                                                                family, create_member) -> None:
    create_member(display_name="Archived Kid", pin_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$secretpinhash")

    response = post(console, family, "export")

    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert f"housepoints-{family.slug}-" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        everything = b"".join(archive.read(name) for name in names)
    assert "manifest.json" in names and any(name.startswith("tables/members") for name in names)
    assert not any(name.startswith("photos/") for name in names)
    assert b"Archived Kid" in everything and b"secretpinhash" not in everything and b"$argon2" not in everything
    assert audit_actions(app, action="operator.family_exported", family_id=family.id,
                         actor_user_id=operator.user_id) == ["operator.family_exported"]


def test_delete_needs_the_address_typed_and_then_answers_410(app: Flask, console: FamilyClient, operator: Account,
                                                             family, family_client, create_member, auth,
                                                             client: FamilyClient, in_family) -> None:
    parent = create_member(role="parent", display_name="Pat")
    auth.sign_in(client, parent, family)
    before = registry_row(app, family)

    for wrong in ("", "someone-else", family.slug + "x"):
        refused = post(console, family, "delete", confirm=wrong)
        assert refused.status_code == 400
    assert registry_row(app, family) == before

    response = post(console, family, "delete", confirm=family.slug.upper())

    assert response.status_code == 303
    assert registry_row(app, family)[3] is not None
    assert family_client(family).get("/").status_code == 410
    assert client.get("/").status_code == 410
    with app.app_context(), Session(platform_engine()) as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "operator.family_deleted",
                                                      AuditLog.family_id == family.id))
        assert entry is not None and entry.actor_user_id == operator.user_id and "purge_due" in entry.details
    page = console.get(f"/families/{family.slug}")
    assert page.status_code == 200 and b"Restore the family" in page.data

    restored = post(console, family, "restore")

    assert restored.status_code == 303
    assert registry_row(app, family)[3] is None
    assert family_client(family).get("/").status_code == 200
    assert client.get("/settings/devices").status_code == 302  # the deletion signed every session out
    with in_family(family) as ctx:
        assert all(row.revoked_at is not None for row in ctx.session.scalars(select(MemberSession)))
    assert audit_actions(app, action="operator.family_restored", family_id=family.id) == ["operator.family_restored"]


def test_restore_or_export_a_family_that_is_not_deleted_is_a_conflict(app: Flask, console: FamilyClient,
                                                                       family) -> None:
    assert post(console, family, "restore").status_code == 409
    assert post(console, family, "delete", confirm=family.slug).status_code == 303
    assert post(console, family, "delete", confirm=family.slug).status_code == 409
    assert post(console, family, "export").status_code == 409
    assert post(console, family, "move", cluster="default", placement="dedicated").status_code == 409
