"""The members pages: listing, adding, editing, (de)activating, PIN/password resets, roles and ownership."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.auth.models import MemberSession
from app.platform.models import FamilyMembership
from app.security import hash_secret, verify_secret
from app.tenancy.context import family_context
from tests.members.conftest import HTMX, KID_PIN, KID_PIN_HASH, PARENT_PASSWORD

KID = {"display_name": "Maya", "birthdate": "2016-05-04", "pin": "2468", "avatar": "🦄", "color": "#e84393"}
STRONG = "purple monkey dishwasher"
STRONG_HASH = hash_secret(STRONG)


def _page(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


# --- the list ------------------------------------------------------------------------------------------------------

def test_list_shows_active_and_deactivated_members_with_their_details(parent_client, create_member, give_account,
                                                                      parent, family) -> None:
    today = date.today()
    create_member(display_name="Maya", username="maya", avatar="🦄", birthdate=today.replace(year=today.year - 9)
                  - timedelta(days=3), pin_hash=KID_PIN_HASH)
    create_member(display_name="Old Leo", username="leo", is_active=False, login_enabled=False)
    teen = create_member(display_name="Tess", username="tess", password_hash=STRONG_HASH,
                         pin_hash=KID_PIN_HASH)
    give_account(parent, family, role="owner")

    page = _page(parent_client.get("/members"))

    active, inactive = page.split('id="inactive-heading"')
    assert "Maya" in active and "🦄" in active and "maya" in active and "<dd>9</dd>" in active
    assert "Tess" in active and "password, PIN" in active and f"member-{teen.id}" in active
    assert "account, password" in active and "Owner" in active  # Pat: a platform account and a password
    assert "Old Leo" in inactive and "Reactivate" in inactive and "Old Leo" not in active


def test_list_fragment_for_htmx_and_full_page_otherwise(parent_client) -> None:
    full = parent_client.get("/members")
    fragment = parent_client.get("/members", headers=HTMX)
    restore = parent_client.get("/members", headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert "<html" in _page(full) and "members.css" in _page(full)
    assert "<html" not in _page(fragment) and 'id="member-lists"' in _page(fragment)
    assert "<html" in _page(restore)  # a history-cache miss must get the whole page back
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in full.headers["Vary"]


# --- adding --------------------------------------------------------------------------------------------------------

def test_add_kid_creates_them_with_a_pin_and_audits_without_secrets(parent_client, post, find_member, audit_rows,
                                                                    family, parent) -> None:
    response = post(parent_client, "/members/kids", KID)

    assert response.status_code == 303 and response.headers["Location"] == "/members"
    maya = find_member("maya")
    assert maya is not None and maya.role == "child" and maya.display_name == "Maya"
    assert maya.birthdate == date(2016, 5, 4) and maya.avatar == "🦄" and maya.color == "#e84393"
    assert verify_secret(maya.pin_hash, "2468") and maya.password_hash is None
    [entry] = audit_rows(family, "member.added")
    assert entry.actor_member_id == parent.id and entry.target_id == str(maya.id)
    assert "2468" not in str(entry.details) and entry.details["role"] == "child"


def test_add_kid_by_age_gives_an_approximate_birth_date(parent_client, post, find_member) -> None:
    post(parent_client, "/members/kids", {**KID, "birthdate": "", "age": "7"})

    maya = find_member("maya")
    assert maya.age_on(date.today()) == 7


def test_add_kid_htmx_returns_a_fresh_form_and_tells_the_lists(parent_client, post) -> None:
    response = post(parent_client, "/members/kids", KID, htmx=True)

    assert response.status_code == 200
    assert "Maya was added." in _page(response) and "<html" not in _page(response)
    assert 'id="kid-form"' in _page(response) and 'value="Maya"' not in _page(response)
    assert "membersChanged" in response.headers["HX-Trigger"]


def test_older_kid_gets_a_username_and_password(parent_client, post, find_member) -> None:
    post(parent_client, "/members/kids", {**KID, "username": "Maya.R", "password": STRONG})

    maya = find_member("maya.r")
    assert maya.username == "Maya.R" and verify_secret(maya.password_hash, STRONG)


def test_usernames_are_made_up_from_names_and_kept_unique(parent_client, post, find_member, kid) -> None:
    post(parent_client, "/members/kids", {**KID, "display_name": "Kim Two"})
    post(parent_client, "/members/kids", {**KID, "display_name": "🦄✨"})
    post(parent_client, "/members/kids", {**KID, "display_name": "Zoë"})

    assert find_member("kim-2").display_name == "Kim Two"  # "kim" is taken by the fixture's kid
    assert find_member("kid").display_name == "🦄✨"
    assert find_member("zoe").display_name == "Zoë"


def test_add_parent_without_an_account(parent_client, post, find_member, audit_rows, family) -> None:
    response = post(parent_client, "/members/parents", {"display_name": "Robin", "username": "robin",
                                                         "password": STRONG, "avatar": "🐻"})

    assert response.status_code == 303
    robin = find_member("robin")
    assert robin.role == "parent" and robin.user_id is None and verify_secret(robin.password_hash, STRONG)
    assert audit_rows(family, "member.added")[0].details["role"] == "parent"


def test_add_forms_render_as_pages_and_fragments(parent_client) -> None:
    for path in ("/members/new-kid", "/members/new-parent"):
        assert "<html" in _page(parent_client.get(path))
        fragment = _page(parent_client.get(path, headers=HTMX))
        assert "<html" not in fragment and "csrf_token" in fragment


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", "12 34"])
def test_pins_must_be_four_to_six_digits(parent_client, post, find_member, pin) -> None:
    response = post(parent_client, "/members/kids", {**KID, "pin": pin}, htmx=True)

    assert response.status_code == 422
    assert "PINs are 4 to 6 digits" in _page(response) and 'id="kid-pin-error"' in _page(response)
    assert find_member("maya") is None


@pytest.mark.parametrize("pin", ["1234", "123456"])
def test_four_and_six_digit_pins_are_fine(parent_client, post, find_member, pin) -> None:
    assert post(parent_client, "/members/kids", {**KID, "pin": pin}).status_code == 303
    assert verify_secret(find_member("maya").pin_hash, pin)


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 10 characters"),
    ("password123", "too easy to guess"),
    ("aaaaaaaaaaaaaa", "too easy to guess"),
])
def test_weak_passwords_are_refused(parent_client, post, find_member, password, message) -> None:
    kid = post(parent_client, "/members/kids", {**KID, "username": "maya", "password": password})
    parent = post(parent_client, "/members/parents", {"display_name": "Robin", "username": "robin",
                                                      "password": password})

    for response in (kid, parent):
        assert response.status_code == 422 and message in _page(response)
    assert find_member("maya") is None and find_member("robin") is None


@pytest.mark.parametrize("username", ["KIM", "Kim", "kim"])
def test_duplicate_usernames_are_refused_whatever_the_case(parent_client, post, kid, username) -> None:
    response = post(parent_client, "/members/kids", {**KID, "username": username})

    assert response.status_code == 422 and "Username already exists" in _page(response)
    assert 'id="kid-username-error"' in _page(response)


def test_names_longer_than_80_characters_are_refused(parent_client, post, find_member) -> None:
    too_long = post(parent_client, "/members/kids", {**KID, "display_name": "M" * 81, "username": "long"})
    just_right = post(parent_client, "/members/kids", {**KID, "display_name": "M" * 80, "username": "long"})

    assert too_long.status_code == 422 and "at most 80 characters" in _page(too_long)
    assert just_right.status_code == 303 and find_member("long").display_name == "M" * 80


def test_emoji_names_are_fine(parent_client, post, find_member) -> None:
    post(parent_client, "/members/kids", {**KID, "display_name": "🦄 Luna 🌙", "username": "luna"})

    assert find_member("luna").display_name == "🦄 Luna 🌙"
    assert "🦄 Luna 🌙" in _page(parent_client.get("/members"))


def test_html_in_names_is_escaped_on_output(parent_client, post) -> None:
    post(parent_client, "/members/kids", {**KID, "display_name": "<script>alert(1)</script>", "username": "x1"})

    page = _page(parent_client.get("/members"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_every_bad_field_gets_its_own_message(parent_client, post) -> None:
    response = post(parent_client, "/members/kids", {"display_name": "", "pin": "1", "birthdate": "2999-01-01",
                                                     "avatar": "💣", "color": "blue"})

    page = _page(response)
    assert response.status_code == 422
    for message in ("Please enter a name", "PINs are 4 to 6 digits", "That birth date is not possible",
                    "Please pick one of the avatars", "Colours look like #3498db"):
        assert message in page


def test_an_invalid_form_without_htmx_is_a_full_page(parent_client, post) -> None:
    response = post(parent_client, "/members/kids", {**KID, "pin": "1"})

    assert response.status_code == 422 and "<html" in _page(response) and "PINs are 4 to 6 digits" in _page(response)


# --- plan limits ---------------------------------------------------------------------------------------------------

def test_free_plan_allows_five_kids(parent_client, post, create_member, find_member) -> None:
    for n in range(5):
        create_member(username=f"k{n}", display_name=f"K{n}")

    response = post(parent_client, "/members/kids", KID, htmx=True)

    assert response.status_code == 422
    assert "The free plan includes up to 5 kids. Upgrade to premium to add more." in _page(response)
    assert find_member("maya") is None


def test_free_plan_allows_two_parents(parent_client, post, create_member, find_member) -> None:
    create_member(role="parent", username="second", display_name="Second")

    response = post(parent_client, "/members/parents", {"display_name": "Robin", "username": "robin",
                                                         "password": STRONG})

    assert response.status_code == 422 and "up to 2 parents" in _page(response)
    assert find_member("robin") is None


def test_premium_has_no_member_limit(app: Flask, make_family, client_for, create_member, login, post) -> None:
    premium = make_family(plan="premium")
    owner = create_member(family_record=premium, role="parent", username="pp", display_name="PP")
    for n in range(5):
        create_member(family_record=premium, username=f"k{n}", display_name=f"K{n}")
    client = client_for(premium)
    login(client, owner, premium)

    assert post(client, "/members/kids", KID).status_code == 303


def test_reactivation_respects_the_plan(parent_client, post, create_member, load_member) -> None:
    gone = create_member(username="gone", display_name="Gone", is_active=False)
    for n in range(5):
        create_member(username=f"k{n}", display_name=f"K{n}")

    response = post(parent_client, f"/members/{gone.id}/reactivate", htmx=True)

    assert response.status_code == 422 and "up to 5 kids" in _page(response)
    assert load_member(gone.id).is_active is False


# --- editing -------------------------------------------------------------------------------------------------------

def test_edit_form_swaps_into_the_row_or_is_a_page(parent_client, kid) -> None:
    fragment = parent_client.get(f"/members/{kid.id}/edit", headers=HTMX)
    page = parent_client.get(f"/members/{kid.id}/edit")

    assert fragment.status_code == 200 and _page(fragment).lstrip().startswith("<li")
    assert 'value="Kim"' in _page(fragment) and f'id="member-{kid.id}"' in _page(fragment)
    assert "<html" in _page(page) and 'value="Kim"' in _page(page)


def test_edit_saves_every_field(parent_client, post, kid, load_member, audit_rows, family) -> None:
    response = post(parent_client, f"/members/{kid.id}", {
        "display_name": "Kimberly", "username": "kimmy", "color": "#27AE60", "avatar": "🐼",
        "birthdate": "2015-02-03", "auto_approve_work": "on"}, htmx=True)

    assert response.status_code == 200 and "Kimberly" in _page(response) and "Saved." in _page(response)
    saved = load_member(kid.id)
    assert (saved.display_name, saved.username, saved.color, saved.avatar) == ("Kimberly", "kimmy", "#27ae60", "🐼")
    assert saved.birthdate == date(2015, 2, 3)
    assert saved.auto_approve_work is True and saved.login_enabled is False  # an unticked box switches it off
    assert audit_rows(family, "member.updated")[0].target_id == str(kid.id)


def test_edit_without_htmx_goes_back_to_the_list(parent_client, post, kid) -> None:
    response = post(parent_client, f"/members/{kid.id}", {"display_name": "Kimberly", "username": "kim",
                                                          "color": "#27ae60", "login_enabled": "on"})

    assert response.status_code == 303 and response.headers["Location"] == "/members"


def test_edit_refuses_a_taken_username_and_bad_values(parent_client, post, kid, parent, load_member) -> None:
    taken = post(parent_client, f"/members/{kid.id}", {"display_name": "Kim", "username": "PAT",
                                                       "color": "#27ae60"}, htmx=True)
    bad = post(parent_client, f"/members/{kid.id}", {"display_name": "", "username": "k", "color": "#27ae60"},
               htmx=True)

    assert taken.status_code == 422 and "Username already exists" in _page(taken)
    assert bad.status_code == 422 and "Please enter a name" in _page(bad) and "Usernames are 2-30" in _page(bad)
    assert load_member(kid.id).username == "kim"


def test_you_cannot_switch_off_your_own_sign_in(parent_client, post, parent, load_member) -> None:
    response = post(parent_client, f"/members/{parent.id}", {"display_name": "Pat", "username": "pat",
                                                             "color": "#3498db"}, htmx=True)

    assert response.status_code == 422 and "your own sign-in" in _page(response)
    assert load_member(parent.id).login_enabled is True


def test_cancel_shows_the_row_again(parent_client, kid) -> None:
    response = parent_client.get(f"/members/{kid.id}", headers=HTMX)

    assert response.status_code == 200 and 'class="member-row"' in _page(response) and "Reset PIN" in _page(response)
    assert "<html" in _page(parent_client.get(f"/members/{kid.id}"))


# --- deactivation --------------------------------------------------------------------------------------------------

def test_deactivate_signs_them_out_everywhere_and_is_audited(app: Flask, client_for, family, login, parent_client,
                                                             post, kid, load_member, audit_rows) -> None:
    kids_browser = client_for(family)
    login(kids_browser, kid, family)

    response = post(parent_client, f"/members/{kid.id}/deactivate", htmx=True)

    assert response.status_code == 200 and "Deactivated" in _page(response) and "Reactivate" in _page(response)
    assert "membersChanged" in response.headers["HX-Trigger"]
    assert load_member(kid.id).is_active is False
    with app.app_context(), family_context(family.slug) as ctx:
        sessions = list(ctx.session.scalars(select(MemberSession).where(MemberSession.member_id == kid.id)))
    assert sessions and all(s.revoked_at is not None for s in sessions)
    assert audit_rows(family, "member.deactivated")[0].target_id == str(kid.id)
    assert kids_browser.get("/members").status_code == 302  # the kid's browser is signed out


def test_you_cannot_deactivate_yourself(parent_client, post, parent, load_member) -> None:
    fragment = post(parent_client, f"/members/{parent.id}/deactivate", htmx=True)
    page = post(parent_client, f"/members/{parent.id}/deactivate")

    assert fragment.status_code == 422 and "Cannot delete your own account" in _page(fragment)
    assert page.status_code == 422 and "<html" in _page(page) and "Cannot delete your own account" in _page(page)
    assert load_member(parent.id).is_active is True
    assert "Deactivate Pat" not in _page(parent_client.get("/members"))  # no button for yourself


def test_the_owner_cannot_be_deactivated(parent_client, post, create_member, give_account, family,
                                         load_member) -> None:
    owner = create_member(role="parent", username="owner", display_name="Olive")
    give_account(owner, family, role="owner")

    response = post(parent_client, f"/members/{owner.id}/deactivate", htmx=True)

    assert response.status_code == 422 and "Transfer ownership" in _page(response)
    assert load_member(owner.id).is_active is True


def test_reactivate_brings_them_back(parent_client, post, create_member, load_member, audit_rows, family) -> None:
    gone = create_member(username="gone", display_name="Gone", is_active=False, login_enabled=False)

    response = post(parent_client, f"/members/{gone.id}/reactivate")

    assert response.status_code == 303
    back = load_member(gone.id)
    assert back.is_active and back.login_enabled
    assert audit_rows(family, "member.reactivated")[0].target_id == str(gone.id)


# --- PINs and passwords --------------------------------------------------------------------------------------------

def test_reset_a_kids_pin(parent_client, post, kid, load_member, audit_rows, family) -> None:
    form = parent_client.get(f"/members/{kid.id}/pin", headers=HTMX)
    response = post(parent_client, f"/members/{kid.id}/pin", {"pin": "97531"}, htmx=True)

    assert form.status_code == 200 and 'name="pin"' in _page(form)
    assert response.status_code == 200 and "PIN changed." in _page(response)
    assert verify_secret(load_member(kid.id).pin_hash, "97531")
    [entry] = audit_rows(family, "member.pin_reset")
    assert entry.target_id == str(kid.id) and "97531" not in str(entry.details)


def test_a_bad_new_pin_is_refused(parent_client, post, kid, load_member) -> None:
    response = post(parent_client, f"/members/{kid.id}/pin", {"pin": "12"}, htmx=True)

    assert response.status_code == 422 and "PINs are 4 to 6 digits" in _page(response)
    assert verify_secret(load_member(kid.id).pin_hash, KID_PIN)


def test_reset_a_kids_password(parent_client, post, kid, load_member, audit_rows, family) -> None:
    page = parent_client.get(f"/members/{kid.id}/password")
    response = post(parent_client, f"/members/{kid.id}/password", {"password": STRONG})

    assert page.status_code == 200 and "<html" in _page(page)
    assert response.status_code == 303
    assert verify_secret(load_member(kid.id).password_hash, STRONG)
    assert STRONG not in str(audit_rows(family, "member.password_reset")[0].details)


def test_a_weak_new_password_is_refused(parent_client, post, kid, load_member) -> None:
    response = post(parent_client, f"/members/{kid.id}/password", {"password": "short"}, htmx=True)

    assert response.status_code == 422 and "at least 10 characters" in _page(response)
    assert load_member(kid.id).password_hash is None


def test_a_co_parents_account_password_is_not_reset_here(parent_client, post, create_member, give_account,
                                                          family) -> None:
    co = create_member(role="parent", username="co", display_name="Co")
    give_account(co, family)

    response = post(parent_client, f"/members/{co.id}/password", {"password": STRONG}, htmx=True)

    assert response.status_code == 422 and "reset their own password" in _page(response)


# --- roles and ownership -------------------------------------------------------------------------------------------

def test_promote_a_kid_with_a_password_to_parent(parent_client, post, create_member, load_member, audit_rows,
                                                 family) -> None:
    teen = create_member(username="teen", display_name="Teen", password_hash=STRONG_HASH)

    response = post(parent_client, f"/members/{teen.id}/make-parent", htmx=True)

    assert response.status_code == 200 and "is now a parent" in _page(response)
    assert load_member(teen.id).role == "parent"
    [entry] = audit_rows(family, "member.role_changed")
    assert entry.details == {"from": "child", "to": "parent"}


def test_promotion_needs_a_password_and_room_in_the_plan(parent_client, post, kid, create_member,
                                                         load_member) -> None:
    no_password = post(parent_client, f"/members/{kid.id}/make-parent", htmx=True)
    create_member(role="parent", username="second", display_name="Second")
    teen = create_member(username="teen", display_name="Teen", password_hash=STRONG_HASH)
    over_limit = post(parent_client, f"/members/{teen.id}/make-parent", htmx=True)

    assert no_password.status_code == 422 and "Set a password for them first" in _page(no_password)
    assert over_limit.status_code == 422 and "up to 2 parents" in _page(over_limit)
    assert load_member(kid.id).role == "child" and load_member(teen.id).role == "child"


def test_the_owner_transfers_ownership_to_a_co_parent(app: Flask, parent_client, post, parent, create_member,
                                                      give_account, family, audit_rows) -> None:
    give_account(parent, family, role="owner")
    co = create_member(role="parent", username="co", display_name="Co")
    give_account(co, family)
    assert "Make owner: Co" in _page(parent_client.get("/members"))

    response = post(parent_client, f"/members/{co.id}/make-owner", htmx=True)

    assert response.status_code == 200 and "now owns the family" in _page(response)
    with app.app_context(), family_context(family.slug) as ctx:
        roles = dict(ctx.session.execute(select(FamilyMembership.member_id, FamilyMembership.role)
                                         .where(FamilyMembership.family_id == family.id)).all())
    assert roles == {parent.id: "admin", co.id: "owner"}
    assert audit_rows(family, "family.ownership_transferred")[0].target_id == str(co.id)
    assert "Make owner: Co" not in _page(parent_client.get("/members"))  # only the owner sees it


def test_only_the_owner_may_transfer_ownership(parent_client, post, parent, create_member, give_account,
                                               family) -> None:
    give_account(parent, family, role="admin")
    owner = create_member(role="parent", username="own", display_name="Own")
    give_account(owner, family, role="owner")

    assert "Make owner: Own" not in _page(parent_client.get("/members"))
    response = post(parent_client, f"/members/{owner.id}/make-owner", htmx=True)

    assert response.status_code == 422 and "Only the family owner can transfer ownership" in _page(response)


def test_ownership_goes_only_to_a_parent_with_an_account(parent_client, post, parent, give_account, family,
                                                         create_member) -> None:
    give_account(parent, family, role="owner")
    no_account = create_member(role="parent", username="noacc", display_name="No Account")

    response = post(parent_client, f"/members/{no_account.id}/make-owner", htmx=True)

    assert response.status_code == 422 and "active co-parent with an account" in _page(response)


# --- sign-in still works with what the pages set ------------------------------------------------------------------

def test_parent_password_is_unchanged_by_member_edits(parent_client, post, parent, load_member) -> None:
    post(parent_client, f"/members/{parent.id}", {"display_name": "Patricia", "username": "pat",
                                                  "color": "#3498db", "login_enabled": "on"})

    assert verify_secret(load_member(parent.id).password_hash, PARENT_PASSWORD)
