"""A signed-out browser, member, tablet or family stops hearing live events at once, not at its next reconnect.

These streams are the app's own (Redis pub/sub); tests/live/test_push.py proves the same through a real Pushpin.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.db.bases import utcnow
from app.live.events import publish_event
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient
from tests.forms import post_form
from tests.live.streams import Chunks, ended, open_stream
from tests.platform.apex import client_on, create_account, csrf_token


def _hears(app: Flask, family: FamilyRecord, chunks: Chunks) -> bool:
    """The stream is open and hears the family's next event."""
    with app.app_context():
        publish_event(family.id, "rewardChanged", {"still": "listening"})
    try:
        return "listening" in next(chunks).decode()
    except StopIteration:
        return False


def _browser(app: Flask, client_for: Callable[..., FamilyClient], family: FamilyRecord, member: Member
             ) -> FamilyClient:
    client = client_for(family)
    Auth(app).sign_in(client, member, family)
    return client


def test_signing_out_ends_this_browsers_stream_only(app: Flask, make_family: Callable[..., FamilyRecord],
                                                    create_member: Callable[..., Member],
                                                    client_for: Callable[..., FamilyClient]) -> None:
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    laptop, phone = (_browser(app, client_for, family, parent) for _ in range(2))
    on_laptop, on_phone = open_stream(laptop), open_stream(phone)

    assert post_form(laptop, "/logout").status_code == 302
    assert ended(on_laptop)
    assert laptop.get("/events").status_code == 401  # and its reconnect is refused
    assert _hears(app, family, on_phone)  # the same parent's other browser is still signed in


def test_signing_out_everywhere_ends_every_stream_of_the_member(app: Flask,
                                                                make_family: Callable[..., FamilyRecord],
                                                                create_member: Callable[..., Member],
                                                                client_for: Callable[..., FamilyClient]) -> None:
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    other = create_member(family_record=family, role="parent", username="dad")
    laptop, phone = (_browser(app, client_for, family, parent) for _ in range(2))
    dads = _browser(app, client_for, family, other)
    streams = [open_stream(laptop), open_stream(phone)]
    on_dads = open_stream(dads)

    assert post_form(laptop, "/account/sign-out-everywhere").status_code == 302
    assert all(ended(stream) for stream in streams)
    assert _hears(app, family, on_dads)


def test_revoking_the_tablet_ends_its_stream(app: Flask, make_family: Callable[..., FamilyRecord],
                                             create_member: Callable[..., Member],
                                             client_for: Callable[..., FamilyClient]) -> None:
    from app.tenancy.context import family_context

    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    with app.app_context(), family_context(family.slug) as ctx:
        device, token = register_device(ctx.session, ctx.session.get(Member, parent.id), name="Kitchen",
                                        now=utcnow())
        ctx.session.commit()
        device_id = device.id
    tablet = client_for(family)
    tablet.set_cookie(DEVICE_COOKIE, token, domain=tablet.host.split(":")[0])
    on_tablet = open_stream(tablet)
    parents_browser = _browser(app, client_for, family, parent)
    on_parent = open_stream(parents_browser)

    assert post_form(parents_browser, f"/settings/devices/{device_id}/revoke").status_code == 302
    assert ended(on_tablet)
    assert tablet.get("/events").status_code == 401
    assert _hears(app, family, on_parent)


def test_deleting_the_family_ends_every_stream_and_no_other_familys(
        app: Flask, make_family: Callable[..., FamilyRecord], create_member: Callable[..., Member],
        client_for: Callable[..., FamilyClient]) -> None:
    family, neighbour = make_family(), make_family()
    owner = create_account(app, [family], role="owner", display_name="Olive")
    kid = create_member(family_record=family, username="leo")
    owners_browser = client_on(app, family)
    with app.app_context():
        from app.tenancy.context import family_context

        with family_context(family.slug) as ctx:
            owner_member = ctx.session.get(Member, owner.member_ids[family.slug])
            assert owner_member is not None
    Auth(app).sign_in(owners_browser, owner_member, family)
    on_kid = open_stream(_browser(app, client_for, family, kid))
    neighbours = open_stream(_browser(app, client_for, neighbour,
                                       create_member(family_record=neighbour, role="parent", username="nan")))

    deleted = owners_browser.post("/settings/delete", data={
        "password": owner.password, "csrf_token": csrf_token(owners_browser, "/settings/delete")})
    assert deleted.status_code == 303
    assert ended(on_kid)
    assert _hears(app, neighbour, neighbours)


@pytest.fixture(autouse=True)
def _redis_streams(app: Flask) -> Iterator[Any]:
    """These streams are the app's own: no push server in front."""
    saved = app.config.get("PUSH_SERVER_URL")
    app.config["PUSH_SERVER_URL"] = None
    yield
    app.config["PUSH_SERVER_URL"] = saved
