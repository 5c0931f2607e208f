"""An imported family's parents join by their invitation: the link makes the account, the member stays the same."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from app.members.models import Member
from app.platform.models import FamilyMembership, User
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.members.conftest import csrf_token

LINK = re.compile(r"Invitation \((?P<role>\w+)\) for (?P<email>\S+): http://(?P<host>[^/\s]+)(?P<path>/join/\S+)")
STRONG = "purple monkey dishwasher"


def test_the_owner_accepts_and_is_linked_to_their_imported_member(
        app: Flask, runner: FlaskCliRunner, legacy_database: Callable[..., str], client_for: Callable[..., object],
        neighbour: FamilyRecord) -> None:
    slug = f"rivera-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "import-legacy", slug, "--from", legacy_database(),
                                 "--placement", "dedicated"])
    assert result.exit_code == 0, result.output
    links = {match["email"]: match for match in LINK.finditer(result.output)}
    owner = links["elena@rivera.example.com"]
    assert owner["role"] == "owner" and owner["host"].startswith(f"{slug}.")

    browser = client_for(slug)
    assert browser.get(owner["path"]).status_code == 200  # type: ignore[attr-defined]
    joined = browser.post(owner["path"], data={  # type: ignore[attr-defined]
        "csrf_token": csrf_token(app, browser), "display_name": "Elena", "password": STRONG})
    assert joined.status_code == 303, joined.get_data(as_text=True)

    with app.app_context(), family_context(slug) as ctx:
        elena = ctx.session.scalars(select(Member).where(Member.username == "elena")).one()
        assert elena.user_id is not None and elena.id == uuid.UUID("d3dbb56c-cc8b-52ec-aedb-a524821709b5")
        assert ctx.session.scalar(select(func.count()).select_from(Member)) == 5  # no second Elena
        membership = ctx.session.scalars(select(FamilyMembership).where(
            FamilyMembership.family_id == ctx.family.id)).one()
        assert (membership.member_id, membership.role) == (elena.id, "owner")
        assert ctx.session.get(User, elena.user_id).email == "elena@rivera.example.com"  # type: ignore[union-attr]
    # Signed in by the join, the owner can take the family's data with them.
    assert browser.get("/settings/export").status_code == 200  # type: ignore[attr-defined]
