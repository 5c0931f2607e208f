"""The families list and one family's page and actions: what operators see (never a secret), what each action
changes (and audits), and that every bad input is a 4xx that changes nothing."""
from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.platform.models import AuditLog, Family, Subscription
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient, set_family_status
from tests.html import texts
from tests.live.streams import ended, open_stream
from tests.operator.conftest import admin_client, compute_analytics, form_token
from tests.platform.apex import Account, audit_actions

pytestmark = pytest.mark.usefixtures("app")


def family_row(app: Flask, family: FamilyRecord) -> tuple[str, str, object]:
    with app.app_context(), Session(platform_engine()) as session:
        row = session.get(Family, family.id)
        assert row is not None
        return str(row.status), str(row.plan), row.deleted_at


def operator_audit_rows(app: Flask) -> int:
    with app.app_context(), Session(platform_engine()) as session:
        return len(list(session.scalars(select(AuditLog.id).where(AuditLog.action.like("operator.family%")
                                                                   | (AuditLog.action == "operator.plan_changed")))))


def post_action(console: FamilyClient, family: FamilyRecord, action: str, **data: str):  # noqa: ANN201
    token = form_token(console, f"/families/{family.slug}")
    return console.post(f"/families/{family.slug}/{action}", data={"csrf_token": token, **data})


# --- the list -----------------------------------------------------------------------------------------------------

def test_the_list_finds_a_family_by_slug_or_name(console: FamilyClient, make_family, neighbour) -> None:
    mine = make_family(name="The Zanzibar Household")

    by_name = console.get("/families", query_string={"q": "zanzibar"})
    by_slug = console.get("/families", query_string={"q": mine.slug})

    for page in (by_name, by_slug):
        assert page.status_code == 200
        names = texts(page, "table.op-table tbody th")
        assert any("The Zanzibar Household" in name for name in names)
        assert not any(neighbour.name in name for name in names)


def test_search_wildcards_are_plain_text(console: FamilyClient, family) -> None:
    page = console.get("/families", query_string={"q": "%"})

    assert page.status_code == 200
    assert texts(page, "table.op-table tbody td") == ["No family matches."]


def test_the_list_filters_by_status_and_plan(app: Flask, console: FamilyClient, make_family) -> None:
    suspended = make_family(name="Quiet Suspended Family")
    set_family_status(app, suspended, status="suspended", plan="premium")
    active = make_family(name="Busy Active Family")

    page = console.get("/families", query_string={"status": "suspended", "plan": "premium", "q": "family"})

    names = " ".join(texts(page, "table.op-table tbody th"))
    assert "Quiet Suspended Family" in names and "Busy Active Family" not in names
    assert active.name not in names


def test_the_list_shows_the_latest_measurement(app: Flask, console: FamilyClient, make_family, runner) -> None:
    mine = make_family(name="Measured Family")
    compute_analytics(runner, "--family", mine.slug, mine=(mine.slug,))

    page = console.get("/families", query_string={"q": mine.slug})

    cells = texts(page, "table.op-table tbody td")
    status, plan, placement, members, _activity, size = cells
    assert (status, plan, placement) == ("active", "free", "default · pooled")
    assert members == "0"
    assert "rows" in size


@pytest.mark.parametrize("query", [
    {"status": "frozen"}, {"plan": "platinum"}, {"page": "0"}, {"page": "-1"}, {"page": "abc"},
    {"page": "99999999999999999999"}, {"page": "١"}, {"q": "x" * 121}, {"q": "a\u0000b"}, {"status": "\u0000"},
])
def test_garbage_filters_are_refused(console: FamilyClient, query: dict[str, str]) -> None:
    response = console.get("/families", query_string=query)

    assert response.status_code == 400
    assert b"<html" in response.data


def test_a_page_past_the_end_is_not_found(console: FamilyClient, family) -> None:
    response = console.get("/families", query_string={"page": "9999"})

    assert response.status_code == 404
    assert b"There is no page 9999" in response.data


# --- one family ---------------------------------------------------------------------------------------------------

def test_the_family_page_shows_numbers_and_accounts_but_no_secret(app: Flask, console: FamilyClient, family,
                                                                   make_account, create_member, auth,
                                                                   client: FamilyClient) -> None:
    parent = make_account([family])
    kid = create_member(display_name="Kiddo", pin_hash="$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0cGlu$pinhashvalue")
    token = auth.sign_in(client, kid, family)

    page = console.get(f"/families/{family.slug}")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert parent.email in body
    assert texts(page, "#member-count")[0].startswith("2")
    assert "$argon2" not in body and "pinhashvalue" not in body and token not in body
    with app.app_context(), Session(platform_engine()) as session:
        from app.platform.models import User

        user = session.get(User, parent.user_id)
        assert user is not None and user.password_hash and user.password_hash not in body


@pytest.mark.parametrize("slug", ["no-such-family", "x" * 300, "DROP TABLE", "%2e%2e"])
def test_an_unknown_family_is_not_found(console: FamilyClient, slug: str) -> None:
    assert console.get(f"/families/{slug}").status_code == 404


def test_a_nul_in_the_address_is_refused(console: FamilyClient) -> None:
    assert console.get("/families/a%00b").status_code == 400


# --- actions ------------------------------------------------------------------------------------------------------

def test_suspend_closes_the_family_site_and_reactivate_opens_it(app: Flask, console: FamilyClient, operator: Account,
                                                                family, family_client, create_member,
                                                                auth) -> None:
    home = family_client(family)
    assert home.get("/").status_code == 200
    kids_browser = family_client(family)
    auth.sign_in(kids_browser, create_member(username="leo"), family)
    stream = open_stream(kids_browser)

    response = post_action(console, family, "suspend", reason="unpaid invoices")

    assert response.status_code == 303 and response.headers["Location"] == f"/families/{family.slug}"
    assert family_row(app, family)[0] == "suspended"
    assert home.get("/").status_code == 403  # the registry was told at once
    assert home.get("/api/family/info").status_code == 403
    assert ended(stream)  # its open live streams too, not at their next reconnect
    with app.app_context(), Session(platform_engine()) as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "operator.family_suspended",
                                                      AuditLog.family_id == family.id))
        assert entry is not None and entry.actor_user_id == operator.user_id
        assert entry.details == {"slug": family.slug, "previous_status": "active", "reason": "unpaid invoices"}

    response = post_action(console, family, "reactivate")

    assert response.status_code == 303
    assert family_row(app, family)[0] == "active"
    assert home.get("/").status_code == 200
    assert audit_actions(app, action="operator.family_reactivated", family_id=family.id,
                         actor_user_id=operator.user_id) == ["operator.family_reactivated"]


def test_change_plan_moves_the_family_and_its_subscription(app: Flask, console: FamilyClient, operator: Account,
                                                           family) -> None:
    with app.app_context(), Session(platform_engine()) as session, session.begin():
        session.add(Subscription(family_id=family.id, plan="free"))  # beside any provisioning made

    response = post_action(console, family, "plan", plan="premium")

    assert response.status_code == 303
    assert family_row(app, family)[1] == "premium"
    with app.app_context(), Session(platform_engine()) as session:
        plans = list(session.scalars(select(Subscription.plan).where(Subscription.family_id == family.id)))
        assert plans and set(plans) == {"premium"}
    assert audit_actions(app, action="operator.plan_changed", family_id=family.id,
                         actor_user_id=operator.user_id) == ["operator.plan_changed"]


@pytest.mark.parametrize(("action", "data", "status"), [
    ("plan", {"plan": "platinum"}, 400),
    ("plan", {"plan": ""}, 400),
    ("plan", {}, 400),
    ("plan", {"plan": "free"}, 409),  # already on it
    ("plan", {"plan": "premium\u0000"}, 400),
    ("suspend", {"reason": "r" * 201}, 400),
    ("suspend", {"reason": "bad\u0000reason"}, 400),
    ("reactivate", {}, 409),  # not suspended
])
def test_a_bad_action_changes_nothing(app: Flask, console: FamilyClient, family, action: str,
                                      data: dict[str, str], status: int) -> None:
    before, audited = family_row(app, family), operator_audit_rows(app)

    response = post_action(console, family, action, **data)

    assert response.status_code == status
    assert family_row(app, family) == before
    assert operator_audit_rows(app) == audited


def test_suspending_twice_is_a_conflict(app: Flask, console: FamilyClient, family) -> None:
    assert post_action(console, family, "suspend").status_code == 303
    audited = operator_audit_rows(app)

    response = post_action(console, family, "suspend")

    assert response.status_code == 409 and b"already suspended" in response.data
    assert operator_audit_rows(app) == audited


def test_a_deleted_family_cannot_be_changed(app: Flask, console: FamilyClient, family) -> None:
    from app.db.bases import utcnow

    set_family_status(app, family, deleted_at=utcnow())
    before, audited = family_row(app, family), operator_audit_rows(app)
    token = form_token(console, "/families")

    for action, data in (("suspend", {}), ("plan", {"plan": "premium"})):
        response = console.post(f"/families/{family.slug}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 409
    assert family_row(app, family) == before
    assert operator_audit_rows(app) == audited
    assert console.get(f"/families/{family.slug}").status_code == 200  # still visible, without actions


def test_actions_on_an_unknown_family_are_not_found(app: Flask, console: FamilyClient) -> None:
    audited = operator_audit_rows(app)
    token = form_token(console, "/families")

    for action in ("suspend", "reactivate", "plan"):
        response = console.post(f"/families/no-such-{uuid.uuid4().hex[:6]}/{action}",
                                data={"csrf_token": token, "plan": "premium"})
        assert response.status_code == 404
    assert operator_audit_rows(app) == audited


def test_actions_need_the_csrf_token(app: Flask, console: FamilyClient, family) -> None:
    before = family_row(app, family)

    response = console.post(f"/families/{family.slug}/suspend", data={"reason": "no token"})

    assert response.status_code == 400
    assert family_row(app, family) == before


def test_actions_need_an_operator(app: Flask, family, make_account) -> None:
    outsider = admin_client(app)
    token = form_token(outsider, "/login")
    before = family_row(app, family)

    response = outsider.post(f"/families/{family.slug}/suspend", data={"csrf_token": token})

    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert family_row(app, family) == before


# --- walls between the sites ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/families", "/audit", "/analytics", "/login"])
def test_console_pages_are_not_found_on_a_family_host(family_client, family, path: str) -> None:
    response = family_client(family).get(path)
    assert response.status_code == 404 or (path == "/login" and b"Operator sign-in" not in response.data)


@pytest.mark.parametrize("path", ["/audit", "/analytics", "/families/demo"])
def test_console_pages_are_not_found_on_the_apex(app: Flask, path: str) -> None:
    from tests.platform.apex import client_on

    assert client_on(app).get(path).status_code == 404


@pytest.mark.parametrize("path", ["/dashboard", "/settings/devices", "/api/family/info", "/tablet", "/chores"])
def test_family_pages_are_not_found_on_the_admin_host(console: FamilyClient, path: str) -> None:
    assert console.get(path).status_code == 404
