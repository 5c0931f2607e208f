"""Every bad sign-up is answered 422 with the message beside its field, and leaves nothing behind."""
from __future__ import annotations

import html
import threading
import time
import uuid

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import platform_engine
from app.platform.models import Family, User
from app.tenancy.databases import database_exists
from tests.html import field_value, select
from tests.platform.apex import find_family, find_user

pytestmark = pytest.mark.usefixtures("app")


def assert_nothing_created(app: Flask, data: dict[str, str]) -> None:
    slug = data["slug"].strip().lower()
    assert find_family(app, slug) is None
    assert find_user(app, data["email"].strip()) is None
    key = slug.replace("-", "_")
    if key:
        assert not database_exists(app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=key))


def field_error(page: str, name: str) -> str:
    """The error text shown beside field `name`."""
    marker = f'id="{name}-error">'
    assert marker in page, f"no error beside {name}"
    return html.unescape(page.split(marker, 1)[1].split("</p>", 1)[0])


@pytest.fixture(autouse=True)
def dedicated_placement(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input must be refused before a database is made, so try it where a database would be made."""
    monkeypatch.setitem(app.config, "FAMILY_PLACEMENT", "dedicated")


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"display_name": "x" * 81}, "display_name", "at most 80 characters"),
    ({"display_name": "   "}, "display_name", "Please enter a name"),
    ({"family_name": "f" * 121}, "family_name", "up to 120 characters"),
    ({"family_name": ""}, "family_name", "Please give your family a name"),
    ({"password": "short"}, "password", "at least 10 characters"),
    ({"password": "password123"}, "password", "too easy to guess"),
    ({"password": "aaaaaaaaaaaaaaa"}, "password", "too easy to guess"),
    ({"password": "p" * 129}, "password", "at most 128 characters"),
    ({"email": "not-an-email"}, "email", "valid email address"),
    ({"email": "a@b"}, "email", "valid email address"),
    ({"email": ("x" * 250) + "@example.com"}, "email", "valid email address"),
    ({"email": ""}, "email", "valid email address"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone", "pick your time zone"),
    ({"timezone": "../../etc/passwd"}, "timezone", "pick your time zone"),
    ({"timezone": ""}, "timezone", "pick your time zone"),
    ({"slug": "admin"}, "slug", "is reserved"),
    ({"slug": "www"}, "slug", "is reserved"),
    ({"slug": "ab"}, "slug", "must be 3-50 characters"),
    ({"slug": "s" * 51}, "slug", "must be 3-50 characters"),
    ({"slug": "bad slug!"}, "slug", "may use only lowercase letters"),
    ({"slug": "-dash-first"}, "slug", "may use only lowercase letters"),
    ({"slug": "under_score"}, "slug", "may use only lowercase letters"),
    ({"slug": "two--hyphens"}, "slug", "two hyphens in a row"),
    ({"slug": ""}, "slug", "choose your family's web address"),
])
def test_a_bad_field_is_refused_beside_that_field(app: Flask, post_signup, signup_data, changes, field,
                                                  message) -> None:
    signup_data.update(changes)

    response = post_signup(signup_data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in field_error(page, field)
    errors = [str(node.id).removesuffix("-error") for node in select(page, '[id$="-error"]')]
    assert errors == [field]  # only the spoiled field complains
    assert_nothing_created(app, signup_data)


def test_every_problem_is_reported_at_once(app: Flask, post_signup, signup_data) -> None:
    signup_data.update(display_name="", email="nope", password="short", timezone="Nowhere/City")

    response = post_signup(signup_data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in ("display_name", "email", "password", "timezone"):
        field_error(page, field)
    assert "Please fix the fields marked below." in page
    assert_nothing_created(app, signup_data)


def test_a_taken_slug_is_refused_with_free_alternatives(app: Flask, post_signup, signup_data, make_family) -> None:
    taken = make_family(f"taken-{uuid.uuid4().hex[:6]}")
    signup_data.update(slug=taken.slug, city="Boston")

    response = post_signup(signup_data)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"The address '{taken.slug}' is taken." in field_error(page, "slug")
    for alternative in (f"{taken.slug}-boston", f"{taken.slug}-2"):
        assert f">{alternative}</button>" in page
    assert find_user(app, signup_data["email"]) is None


def test_an_email_that_already_has_an_account_is_refused(app: Flask, post_signup, signup_data, make_account) -> None:
    existing = make_account(email=signup_data["email"].upper().replace("@EXAMPLE.COM", "@example.com"))

    response = post_signup(signup_data)

    assert response.status_code == 422
    assert "If you already have one, sign in instead." in field_error(response.get_data(as_text=True), "email")
    assert find_family(app, signup_data["slug"]) is None
    assert find_user(app, existing.email).id == existing.user_id


def test_html_in_names_is_shown_as_text(app: Flask, post_signup, signup_data) -> None:
    signup_data.update(family_name='<script>alert("fam")</script>', display_name="<b>Sam</b>", password="short")

    response = post_signup(signup_data)

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<script>alert("fam")</script>' not in page and "<b>Sam</b>" not in page
    assert "&lt;script&gt;alert(&#34;fam&#34;)&lt;/script&gt;" in page and "&lt;b&gt;Sam&lt;/b&gt;" in page


def test_the_password_is_never_sent_back(post_signup, signup_data) -> None:
    signup_data.update(email="nope")

    page = post_signup(signup_data).get_data(as_text=True)

    assert signup_data["password"] not in page


def test_a_form_sent_twice_gets_a_clear_answer_and_one_family(app: Flask, apex, signup_data) -> None:
    page = apex.get("/signup").get_data(as_text=True)
    form = {**signup_data, "csrf_token": field_value(page, "csrf_token"), "nonce": field_value(page, "nonce")}

    first = apex.post("/signup", data=form)
    form["csrf_token"] = field_value(apex.get("/signup"), "csrf_token")  # new session
    second = apex.post("/signup", data=form)

    assert first.status_code == 303
    assert second.status_code == 422
    body = second.get_data(as_text=True)
    assert "This form was sent twice" in body and f"{signup_data['slug']}.localhost:5000" in body
    assert 'href="/families"' in body and "is taken" not in body
    with app.app_context(), Session(platform_engine()) as session:
        count = session.execute(text("SELECT count(*) FROM families WHERE slug = :s"), {"s": signup_data["slug"]})
        assert count.scalar() == 1


@pytest.mark.parametrize("rival_kind", ["email", "slug"])
def test_a_race_for_the_same_email_or_slug_gets_a_conflict_and_leaves_nothing(app: Flask, apex, signup_data,
                                                                              rival_kind: str) -> None:
    """Two sign-ups pass the checks at once; the loser gets a clear answer and its half-made family is removed.

    The slug race is lost after the dedicated database was created and migrated, so that database must be dropped.
    """
    page = apex.get("/signup").get_data(as_text=True)
    form = {**signup_data, "csrf_token": field_value(page, "csrf_token"), "nonce": field_value(page, "nonce")}
    dedicated_url = app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=signup_data["slug"].replace("-", "_"))
    with app.app_context():
        rival = Session(platform_engine())
        watcher = platform_engine().connect()
    try:
        if rival_kind == "email":
            rival.add(User(email=signup_data["email"], display_name="Rival", password_hash="x"))
        else:
            rival.add(Family(slug=signup_data["slug"], name="Rival"))
        rival.flush()  # uncommitted: invisible to the sign-up's checks, but it holds the unique value
        result: dict[str, object] = {}
        racer = threading.Thread(target=lambda: result.update(response=apex.post("/signup", data=form)))
        racer.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and racer.is_alive():
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                           " AND wait_event_type = 'Lock'")).scalar()
            watcher.commit()
            if waiting:
                break
            time.sleep(0.05)
        assert racer.is_alive(), f"the sign-up did not wait for the rival's row: {result}"
        if rival_kind == "slug":
            assert database_exists(dedicated_url), "the slug race is lost after the database is made"
        rival.commit()
        racer.join(60)
    finally:
        rival.close()
        watcher.close()

    response = result["response"]
    assert response.status_code == 422
    assert "was just taken" in response.get_data(as_text=True)
    family = find_family(app, signup_data["slug"])
    assert family is None if rival_kind == "email" else family.name == "Rival"
    user = find_user(app, signup_data["email"])
    assert user is None if rival_kind == "slug" else user.display_name == "Rival"
    assert not database_exists(dedicated_url)


def test_sign_ups_are_rate_limited_per_address(post_signup, signup_data) -> None:
    signup_data.update(password="short")  # refused sign-ups count too: the limit is on attempts

    statuses = [post_signup(signup_data).status_code for _ in range(4)]

    assert statuses == [422, 422, 422, 429]


def test_a_missing_csrf_token_is_refused(app: Flask, apex, signup_data) -> None:
    response = apex.post("/signup", data=signup_data)

    assert response.status_code == 400
    assert find_family(app, signup_data["slug"]) is None
