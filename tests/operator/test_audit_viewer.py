"""The audit log viewer: each filter narrows the list, pages hold 50, and a filter nobody could mean is a 400."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.audit import record_audit
from app.db import platform_engine
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.html import texts
from tests.operator.conftest import make_operator
from tests.platform.apex import Account

pytestmark = pytest.mark.usefixtures("app")


def add_entries(app: Flask, count: int, *, action: str, family: FamilyRecord | None = None,
                actor: Account | None = None, when: datetime | None = None, **details: object) -> None:
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        for _ in range(count):
            entry = record_audit(session, action, family_id=family.id if family else None,
                                 actor_user_id=actor.user_id if actor else None, details=dict(details))
            if when is not None:
                entry.created_at = when


def actions_on(page) -> list[str]:  # noqa: ANN001
    return texts(page, "table.op-table tbody td:nth-child(2)")


def test_filters_by_family_operator_action_and_dates(app: Flask, console: FamilyClient, operator: Account,
                                                     family, neighbour) -> None:
    tag = f"test.{uuid.uuid4().hex[:8]}"
    other = make_operator(app)
    long_ago = datetime(2020, 3, 4, 12, tzinfo=timezone.utc)
    add_entries(app, 2, action=f"{tag}.mine", family=family, actor=operator)
    add_entries(app, 1, action=f"{tag}.theirs", family=neighbour, actor=other)
    add_entries(app, 1, action=f"{tag}.old", family=family, actor=operator, when=long_ago)

    by_family = console.get("/audit", query_string={"family": family.slug, "action": tag})
    assert sorted(actions_on(by_family)) == [f"{tag}.mine", f"{tag}.mine", f"{tag}.old"]

    by_operator = console.get("/audit", query_string={"operator": other.email, "action": tag})
    assert actions_on(by_operator) == [f"{tag}.theirs"]

    by_dates = console.get("/audit", query_string={"action": tag, "since": "2020-03-04", "until": "2020-03-04"})
    assert actions_on(by_dates) == [f"{tag}.old"]

    since_today = console.get("/audit", query_string={"action": tag,
                                                      "since": datetime.now(timezone.utc).date().isoformat()})
    assert sorted(actions_on(since_today)) == [f"{tag}.mine", f"{tag}.mine", f"{tag}.theirs"]


def test_pages_of_fifty_newest_first(app: Flask, console: FamilyClient) -> None:
    tag = f"page.{uuid.uuid4().hex[:8]}"
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        for number in range(60):
            entry = record_audit(session, tag, details={"n": number})
            entry.created_at = start + timedelta(seconds=number)

    first = console.get("/audit", query_string={"action": tag})
    second = console.get("/audit", query_string={"action": tag, "page": "2"})

    assert len(actions_on(first)) == 50 and len(actions_on(second)) == 10
    assert texts(first, "table.op-table tbody td:nth-child(7)")[0] == "n=59"
    assert texts(second, "table.op-table tbody td:nth-child(7)")[-1] == "n=0"
    assert "Page 1 of 2" in first.get_data(as_text=True)
    assert console.get("/audit", query_string={"action": tag, "page": "3"}).status_code == 404


def test_details_that_look_secret_are_not_shown(app: Flask, console: FamilyClient) -> None:
    tag = f"secret.{uuid.uuid4().hex[:8]}"
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        entry = record_audit(session, tag, details={"visible": "yes"})
        entry.details = {"visible": "yes", "password": "hunter2", "api_token": "tok-123", "pin": "1234"}

    body = console.get("/audit", query_string={"action": tag}).get_data(as_text=True)

    assert "visible=yes" in body
    assert "hunter2" not in body and "tok-123" not in body and "pin=1234" not in body


@pytest.mark.parametrize("query", [
    {"since": "2024-13-01"}, {"until": "yesterday"}, {"since": "٢٠٢٤-٠١-٠١"}, {"since": "2024-05-02",
                                                                             "until": "2024-05-01"},
    {"family": "no-such-family"}, {"operator": "nobody@example.com"}, {"action": "a" * 65},
    {"family": "a\u0000"}, {"page": "0"}, {"page": "10001"}, {"page": "1e3"},
])
def test_garbage_filters_are_refused(console: FamilyClient, query: dict[str, str]) -> None:
    response = console.get("/audit", query_string=query)

    assert response.status_code == 400
    assert b"<html" in response.data


def test_a_non_operator_is_no_operator_filter(console: FamilyClient, make_account, family) -> None:
    parent = make_account([family])

    response = console.get("/audit", query_string={"operator": parent.email})

    assert response.status_code == 400
    assert b"There is no operator with that email" in response.data


def test_the_audit_log_needs_an_operator(app: Flask) -> None:
    from tests.operator.conftest import admin_client

    response = admin_client(app).get("/audit")

    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=/audit")
