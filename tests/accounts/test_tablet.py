"""The family tablet: the avatar wall, PIN turns, the lockout, the kid's view, Done and the idle timer's markup."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from app.auth.lockout import LOCKOUT_THRESHOLD
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import KID_PIN, Tablet
from tests.accounts.helpers import HostAuth, csrf_token
from tests.conftest import FamilyClient
from tests.html import texts


@pytest.fixture
def tablet_browser(client: FamilyClient, family: FamilyRecord, parent: Member,
                   register_tablet: Callable[..., Tablet]) -> FamilyClient:
    """This test's client, registered as the family tablet (nobody signed in)."""
    register_tablet(client, family, parent)
    return client


def enter_pin(client: FamilyClient, kid: Member, pin: str):  # noqa: ANN201
    return client.post(f"/tablet/{kid.id}/unlock", data={"csrf_token": csrf_token(client, "/tablet"), "pin": pin})


def test_a_browser_that_is_not_the_tablet_is_told_how_to_set_it_up(client: FamilyClient, kid: Member) -> None:
    for path in ("/tablet", f"/tablet/{kid.id}"):
        response = client.get(path)
        assert response.status_code == 403
        assert b"isn't the family tablet" in response.data
        assert b"Maya" not in response.data
        assert b'href="/login?next=/settings/devices"' in response.data


def test_the_wall_shows_every_active_kid_as_a_big_button(tablet_browser: FamilyClient,
                                                         make_kid: Callable[..., Member]) -> None:
    leo = make_kid(display_name="Leo", avatar="🦖", color="#27ae60")
    no_emoji = make_kid(display_name="<b>zed</b>", avatar=None)
    make_kid(display_name="Gone", is_active=False)
    page = tablet_browser.get("/tablet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/tablet/{leo.id}"' in html and "🦖" in html and "--member-color: #27ae60" in html
    assert f'href="/tablet/{no_emoji.id}"' in html
    assert "&lt;b&gt;zed&lt;/b&gt;" in html and "<b>zed" not in html
    assert "<" in texts(html, 'span[class="avatar avatar-xl"]')  # the initial of an emoji-less name
    assert "Gone" not in html
    assert "Pat" not in html.split("<main", 1)[1]  # parents are not on the wall


def test_the_keypad_has_big_digit_buttons_and_no_text_field(tablet_browser: FamilyClient, kid: Member) -> None:
    page = tablet_browser.get(f"/tablet/{kid.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Disabled until static/js/tablet.js listens (a tap before then would be lost; an early OK would send no PIN).
    for digit in "0123456789":
        assert f'data-key="{digit}" disabled>{digit}</button>' in html
    assert 'data-key="back"' in html and 'disabled>OK</button>' in html
    assert 'name="pin" value=""' in html and 'type="hidden" name="pin"' in html
    assert 'type="text"' not in html and 'type="password"' not in html
    assert 'src="/static/js/tablet.js?v=' in html
    assert "data-idle-seconds" not in html  # nobody is signed in yet


def test_a_kid_unlocks_with_their_pin_and_lands_on_their_view(tablet_browser: FamilyClient,
                                                              family: FamilyRecord,
                                                              make_kid: Callable[..., Member],
                                                              audit_rows: Callable[..., list]) -> None:
    maya = make_kid(display_name="Maya", available_points=42)
    response = enter_pin(tablet_browser, maya, KID_PIN)
    assert response.status_code == 302 and response.headers["Location"] == "/me"

    me = tablet_browser.get("/me")
    html = me.get_data(as_text=True)
    assert me.status_code == 200
    assert "Maya" in html and ">42</span> points" in html and "Your chores will appear here" in html
    assert texts(html, '#tablet-done-form button[type="submit"]') == ["I'm done"]
    assert 'data-idle-seconds="60"' in html and 'data-idle-form="tablet-done-form"' in html
    assert 'src="/static/js/tablet.js?v=' in html
    assert tablet_browser.get("/").headers["Location"] == "/me"  # kids on the tablet go to their view
    assert 'data-idle-seconds="60"' in tablet_browser.get("/tablet").get_data(as_text=True)

    row = next(row for row in audit_rows(family) if row.action == "auth.pin_login")
    assert row.actor_member_id == maya.id and KID_PIN not in repr(row.details)


def test_the_kids_rewards_and_badges_pages_keep_the_turn_bar_and_the_familys_idle_time(
        tablet_browser: FamilyClient, family: FamilyRecord, make_kid: Callable[..., Member], in_family) -> None:  # noqa: ANN001
    from app.members.models import FamilySetting

    with in_family(family) as ctx:
        ctx.session.add(FamilySetting(key="tablet_idle_seconds", value=45))
        ctx.session.commit()
    maya = make_kid(display_name="Maya")
    enter_pin(tablet_browser, maya, KID_PIN)
    for path in ("/rewards", f"/badges/{maya.id}", "/me"):
        html = tablet_browser.get(path).get_data(as_text=True)
        assert 'data-idle-seconds="45"' in html, path
        assert texts(html, '#tablet-done-form button[type="submit"]') == ["I'm done"], path
        assert 'src="/static/js/tablet.js?v=' in html and "data-idle-countdown" in html, path


def test_done_ends_the_turn_and_returns_to_the_wall(tablet_browser: FamilyClient, kid: Member) -> None:
    enter_pin(tablet_browser, kid, KID_PIN)
    response = tablet_browser.post("/tablet/done", data={"csrf_token": csrf_token(tablet_browser, "/me")})
    assert response.status_code == 302 and response.headers["Location"] == "/tablet"
    assert tablet_browser.get("/me").headers["Location"].startswith("/login")
    wall = tablet_browser.get("/tablet").get_data(as_text=True)
    assert "data-idle-seconds" not in wall


def test_a_wrong_pin_shows_the_keypad_again(tablet_browser: FamilyClient, family: FamilyRecord, kid: Member,
                                           audit_rows: Callable[..., list]) -> None:
    response = enter_pin(tablet_browser, kid, "0000")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That PIN didn't work. Try again." in html.replace("&#39;", "'")
    assert 'data-key="5"' in html
    assert tablet_browser.get("/me").status_code == 302
    assert [row.action for row in audit_rows(family)].count("auth.pin_login_failed") == 1


def test_an_empty_pin_is_not_counted_as_a_try(tablet_browser: FamilyClient, family: FamilyRecord, kid: Member,
                                             audit_rows: Callable[..., list]) -> None:
    response = enter_pin(tablet_browser, kid, "")
    assert response.status_code == 422 and b"Type your PIN" in response.data
    assert audit_rows(family) == []


def test_five_wrong_pins_lock_the_kid_out_until_a_parent_helps(tablet_browser: FamilyClient,
                                                               family: FamilyRecord, kid: Member,
                                                               audit_rows: Callable[..., list]) -> None:
    statuses = [enter_pin(tablet_browser, kid, f"{n:04d}").status_code for n in range(LOCKOUT_THRESHOLD)]
    assert statuses == [422] * (LOCKOUT_THRESHOLD - 1) + [423]
    response = enter_pin(tablet_browser, kid, KID_PIN)
    assert response.status_code == 423
    html = response.get_data(as_text=True)
    assert "Too many tries — ask a parent" in html
    assert 'data-key="1"' not in html
    assert int(response.headers["Retry-After"]) > 0
    assert tablet_browser.get("/me").status_code == 302
    assert [row.action for row in audit_rows(family)].count("auth.pin_locked_out") == 2


def test_one_kids_lockout_leaves_the_others_free(tablet_browser: FamilyClient, kid: Member,
                                                 make_kid: Callable[..., Member]) -> None:
    sibling = make_kid(display_name="Leo")
    for n in range(LOCKOUT_THRESHOLD):
        enter_pin(tablet_browser, kid, f"{n:04d}")
    assert enter_pin(tablet_browser, sibling, KID_PIN).status_code == 302


def test_other_familys_kids_and_parents_are_not_on_this_tablet(tablet_browser: FamilyClient, parent: Member,
                                                                make_family: Callable[..., FamilyRecord],
                                                                create_member: Callable[..., Member],
                                                                hashes: dict[str, str]) -> None:
    elsewhere = make_family()
    their_kid = create_member(family_record=elsewhere, username="maya", display_name="Their Maya",
                              pin_hash=hashes["pin"])
    for path in (f"/tablet/{their_kid.id}", f"/tablet/{parent.id}", "/tablet/not-a-uuid"):
        assert tablet_browser.get(path).status_code == 404, path
    for member in (their_kid, parent):
        assert enter_pin(tablet_browser, member, KID_PIN).status_code == 404


def test_the_home_page_of_a_tablet_links_to_the_wall(tablet_browser: FamilyClient) -> None:
    page = tablet_browser.get("/")
    assert page.status_code == 200
    assert b'href="/tablet"' in page.data and b"Our people" not in page.data


def test_a_password_session_is_not_a_tablet_turn(client: FamilyClient, family: FamilyRecord,
                                                 make_kid: Callable[..., Member], host_auth: HostAuth) -> None:
    sam = make_kid(display_name="Sam", password=True)
    host_auth.sign_in(client, sam, family)
    me = client.get("/me")
    assert me.status_code == 200 and b"Sam" in me.data
    assert b"data-idle-seconds" not in me.data  # no idle sign-out on a kid's own phone
    response = client.post("/tablet/done", data={"csrf_token": csrf_token(client, "/me")})
    assert response.headers["Location"] == "/"  # not a tablet: back home, signed out
    assert client.get("/me").status_code == 302


def test_parents_have_no_kid_view(client: FamilyClient, family: FamilyRecord, parent: Member,
                                  host_auth: HostAuth) -> None:
    host_auth.sign_in(client, parent, family)
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/tablet", "/me"])
def test_boosted_navigation_into_the_tablet_loads_the_whole_page(client: FamilyClient, path: str) -> None:
    # htmx keeps the old <head> and does not swap a 403, so the kiosk asks htmx for a full page load instead.
    response = client.get(path, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 200 and response.data == b""
    assert response.headers["HX-Redirect"] == path
    assert "HX-Request" in response.headers["Vary"]
    plain = client.get(path)
    assert "HX-Redirect" not in plain.headers and "HX-Request" in plain.headers["Vary"]
