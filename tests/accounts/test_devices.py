"""Parents register and revoke the family tablet; the device cookie is host-only, HttpOnly and long-lived."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from app.auth import DEVICE_COOKIE
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import Tablet
from tests.accounts.helpers import HostAuth, csrf_token, host_of
from tests.conftest import FamilyClient

FOUR_HUNDRED_DAYS = 400 * 24 * 60 * 60


def test_registering_sets_a_host_only_httponly_device_cookie(client: FamilyClient, family: FamilyRecord,
                                                             parent: Member, make_kid: Callable[..., Member],
                                                             host_auth: HostAuth,
                                                             audit_rows: Callable[..., list]) -> None:
    make_kid(display_name="Leo")
    host_auth.sign_in(client, parent, family)
    response = client.post("/settings/devices", data={"csrf_token": csrf_token(client, "/settings/devices"),
                                                      "name": "Kitchen <tablet>"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/tablet"

    device_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE_COOKIE}="))
    attributes = [part.strip() for part in device_cookie.split(";")]
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes and "Path=/" in attributes
    assert f"Max-Age={FOUR_HUNDRED_DAYS}" in attributes
    assert not any(part.startswith("Domain=") for part in attributes)
    assert "Secure" not in attributes  # SESSION_COOKIE_SECURE is off for plain-http tests
    stored = client.get_cookie(DEVICE_COOKIE, domain=host_of(client))
    assert stored is not None and stored.domain == host_of(client)

    wall = client.get("/tablet")
    assert wall.status_code == 200 and b"Leo" in wall.data
    # The tablet starts signed out, so kids never find a parent's session on it.
    assert client.get("/settings/devices").headers["Location"].startswith("/login")

    row = next(row for row in audit_rows(family) if row.action == "device.registered")
    assert row.actor_member_id == parent.id and row.target_type == "tablet_device"
    assert DEVICE_COOKIE not in repr(row.details) and stored.value not in repr(row.details)


def test_registration_uses_secure_cookies_when_sessions_do(app: Flask, client: FamilyClient, family: FamilyRecord,
                                                           parent: Member, host_auth: HostAuth) -> None:
    host_auth.sign_in(client, parent, family)
    token = csrf_token(client, "/settings/devices")
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = client.post("/settings/devices", data={"csrf_token": token})
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    device_cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE_COOKIE}="))
    assert "Secure" in [part.strip() for part in device_cookie.split(";")]


def test_a_too_long_name_is_refused_with_422(client: FamilyClient, family: FamilyRecord, parent: Member,
                                             host_auth: HostAuth) -> None:
    host_auth.sign_in(client, parent, family)
    response = client.post("/settings/devices", data={"csrf_token": csrf_token(client, "/settings/devices"),
                                                      "name": "x" * 81})
    assert response.status_code == 422
    assert b"80 characters" in response.data
    assert DEVICE_COOKIE not in response.headers.get("Set-Cookie", "")


def test_devices_page_lists_tablets_escaped(client_for: Callable[..., FamilyClient], family: FamilyRecord,
                                            parent: Member, host_auth: HostAuth,
                                            register_tablet: Callable[..., Tablet]) -> None:
    tablet_browser = client_for(family)
    register_tablet(tablet_browser, family, parent, name="<b>Kitchen</b>")
    browser = client_for(family)
    host_auth.sign_in(browser, parent, family)
    page = browser.get("/settings/devices")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "&lt;b&gt;Kitchen&lt;/b&gt;" in html and "<b>Kitchen" not in html
    assert "Added" in html and "Last seen" in html
    assert ">Revoke<" in html


def test_revoking_stops_the_tablet_at_once(client_for: Callable[..., FamilyClient], family: FamilyRecord,
                                           parent: Member, kid: Member, host_auth: HostAuth,
                                           register_tablet: Callable[..., Tablet],
                                           audit_rows: Callable[..., list]) -> None:
    tablet_browser = client_for(family)
    tablet = register_tablet(tablet_browser, family, parent)
    unlock = tablet_browser.post(f"/tablet/{kid.id}/unlock",
                                 data={"csrf_token": csrf_token(tablet_browser, "/tablet"), "pin": "2468"})
    assert unlock.status_code == 302
    assert tablet_browser.get("/me").status_code == 200

    parents_phone = client_for(family)
    host_auth.sign_in(parents_phone, parent, family)
    response = parents_phone.post(f"/settings/devices/{tablet.id}/revoke",
                                  data={"csrf_token": csrf_token(parents_phone, "/settings/devices")})
    assert response.status_code == 302 and response.headers["Location"] == "/settings/devices"
    assert b"Revoked" in parents_phone.get("/settings/devices").data

    assert tablet_browser.get("/tablet").status_code == 403  # the wall is refused
    assert tablet_browser.get("/me").headers["Location"].startswith("/login")  # the kid's turn ended too
    row = next(row for row in audit_rows(family) if row.action == "device.revoked")
    assert row.actor_member_id == parent.id and row.target_id == str(tablet.id)


def test_revoking_another_familys_device_is_not_found(client_for: Callable[..., FamilyClient],
                                                      make_family: Callable[..., FamilyRecord],
                                                      create_member: Callable[..., Member],
                                                      register_tablet: Callable[..., Tablet],
                                                      host_auth: HostAuth) -> None:
    ours, theirs = make_family(), make_family()
    our_parent = create_member(family_record=ours, role="parent", username="pat", display_name="Pat")
    their_parent = create_member(family_record=theirs, role="parent", username="kim", display_name="Kim")
    their_tablet_browser = client_for(theirs)
    their_tablet = register_tablet(their_tablet_browser, theirs, their_parent)

    browser = client_for(ours)
    host_auth.sign_in(browser, our_parent, ours)
    response = browser.post(f"/settings/devices/{their_tablet.id}/revoke",
                            data={"csrf_token": csrf_token(browser, "/settings/devices")})
    assert response.status_code == 404
    assert their_tablet_browser.get("/tablet").status_code == 200


def test_revoking_this_browsers_own_tablet_forgets_its_cookie(client: FamilyClient, family: FamilyRecord,
                                                              parent: Member, host_auth: HostAuth,
                                                              register_tablet: Callable[..., Tablet]) -> None:
    tablet = register_tablet(client, family, parent)
    host_auth.sign_in(client, parent, family)
    page = client.get("/settings/devices").get_data(as_text=True)
    assert "This browser" in page
    response = client.post(f"/settings/devices/{tablet.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/settings/devices")})
    assert any(h.startswith(f"{DEVICE_COOKIE}=;") for h in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie(DEVICE_COOKIE, domain=host_of(client)) is None
