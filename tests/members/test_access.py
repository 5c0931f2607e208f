"""Who may open the members pages and the welcome wizard: an access matrix, other families' ids, CSRF."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.members.conftest import KID_PIN_HASH, copy_session_cookie, csrf_token

# (method, path, what a parent of this family gets); {kid} is a kid of this family.
ROUTES = [
    ("GET", "/members", 200),
    ("GET", "/members/new-kid", 200),
    ("GET", "/members/new-parent", 200),
    ("GET", "/members/{kid}", 200),
    ("GET", "/members/{kid}/edit", 200),
    ("GET", "/members/{kid}/pin", 200),
    ("GET", "/members/{kid}/password", 200),
    ("POST", "/members/kids", 422),  # an empty form: access granted, input refused
    ("POST", "/members/parents", 422),
    ("POST", "/members/{kid}", 422),
    ("POST", "/members/{kid}/deactivate", 303),
    ("POST", "/members/{kid}/reactivate", 303),
    ("POST", "/members/{kid}/pin", 422),
    ("POST", "/members/{kid}/password", 422),
    ("POST", "/members/{kid}/make-parent", 422),
    ("POST", "/members/{kid}/make-owner", 422),
    ("GET", "/welcome", 302),
    ("GET", "/welcome/kids", 200),
    ("GET", "/welcome/invite", 200),
    ("GET", "/welcome/chores", 200),
    ("GET", "/welcome/done", 200),
    ("POST", "/welcome/kids", 422),
    ("POST", "/welcome/invite", 422),
    ("POST", "/welcome/chores", 303),
    ("POST", "/welcome/kids/advance", 303),
    ("POST", "/welcome/finish", 303),
]
MEMBER_ROUTES = [(method, path) for method, path, _ in ROUTES if "{kid}" in path]
POST_ROUTES = [path for method, path, _ in ROUTES if method == "POST"]


@pytest.fixture
def visitor(request: pytest.FixtureRequest, app: Flask, client, family, make_family, client_for, create_member,
            login):  # noqa: ANN001, ANN201
    """The client for one row of the matrix, signed in (or not) as that row says."""
    who = request.param
    if who == "parent":
        login(client, create_member(role="parent", username="pat", display_name="Pat"), family)
    elif who == "kid":
        login(client, create_member(username="kit", display_name="Kit", pin_hash=KID_PIN_HASH), family)
    elif who == "other-family-parent":
        other = make_family()
        theirs = client_for(other)
        login(theirs, create_member(family_record=other, role="parent", username="pat", display_name="Pat"), other)
        copy_session_cookie(theirs, client)
    return who, client


def _request(app: Flask, client, method: str, path: str):  # noqa: ANN001, ANN202
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(app, client)})


@pytest.mark.parametrize("visitor", ["anonymous", "kid", "parent", "other-family-parent"], indirect=True)
@pytest.mark.parametrize(("method", "path", "parent_status"), ROUTES)
def test_access_matrix(app: Flask, visitor, kid, method: str, path: str, parent_status: int) -> None:  # noqa: ANN001
    who, client = visitor
    path = path.format(kid=kid.id)

    response = _request(app, client, method, path)

    if who in ("anonymous", "other-family-parent"):
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        assert response.headers["Location"].startswith("/login?next=")
    elif who == "kid":
        assert response.status_code == 403
    else:
        assert response.status_code == parent_status, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("method", "path"), MEMBER_ROUTES)
def test_another_familys_member_ids_are_not_found(app: Flask, parent_client, make_family, create_member,
                                                   method: str, path: str) -> None:
    other = make_family()
    theirs = create_member(family_record=other, username="theirs", display_name="Theirs")

    response = _request(app, parent_client, method, path.format(kid=theirs.id))

    assert response.status_code == 404


@pytest.mark.parametrize("member_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_member_ids_are_not_found(parent_client, member_id: str) -> None:
    assert parent_client.get(f"/members/{member_id}/edit").status_code == 404


@pytest.mark.parametrize("path", POST_ROUTES)
def test_posts_without_a_csrf_token_are_refused(parent_client, kid, load_member, path: str) -> None:
    response = parent_client.post(path.format(kid=kid.id), data={"display_name": "Hacked", "pin": "9999"})

    assert response.status_code == 400
    assert load_member(kid.id).display_name == "Kim" and load_member(kid.id).is_active


def test_the_matrix_covers_every_route_of_both_areas(app: Flask) -> None:
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="some-family")
    covered = {adapter.match(path.format(kid="00000000-0000-0000-0000-000000000000"), method=method)[0]
               for method, path, _ in ROUTES}
    public = {"onboarding.join"}  # the invitee has no session yet (tests/onboarding/test_invite_and_join.py)
    everyone = {"members.language", "members.save_language"}  # kids too: tests/i18n/test_locale_choice.py
    every = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in ("members", "onboarding")} - public - everyone

    assert every == covered
