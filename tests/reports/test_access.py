"""Who may open the achievements, reports and settings pages: every route × anonymous, kid, parent, another family."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.reports.helpers import csrf_token, make_household

# (method, path, what the family's parent gets, what its kid gets); {kid} is the signed-in kid's own id.
ROUTES = [
    ("GET", "/badges", 200, 200),
    ("GET", "/badges/{kid}", 200, 200),
    ("GET", "/badges/celebrate", 302, 302),  # a plain visit goes to the wall (htmx gets the fragment)
    ("POST", "/badges/celebrate", 303, 303),
    ("GET", "/reports", 200, 403),
    ("GET", "/reports/export/ledger.csv", 200, 403),
    ("GET", "/reports/export/assignments.csv", 200, 403),
    ("GET", "/settings", 200, 403),
    ("POST", "/settings/groups/money", 422, 403),  # an empty form: access granted, values refused
    ("GET", "/settings/calendar", 200, 200),
    ("POST", "/settings/calendar", 200, 200),
    ("POST", "/settings/calendar/revoke", 303, 303),
    ("GET", "/settings/export", 403, 403),  # the owner's download: this parent is not the owner
    ("GET", "/settings/delete", 200, 403),
    ("POST", "/settings/delete", 422, 403),  # no password: access granted, the form refused
    ("GET", "/calendar/" + "x" * 43 + ".ics", 404, 404),  # no sign-in: the token is the credential
]
PUBLIC = {"/calendar/" + "x" * 43 + ".ics"}


@pytest.fixture
def visitor(request: pytest.FixtureRequest, client, auth, family, create_member, make_family,  # noqa: ANN001
            client_for):  # noqa: ANN001, ANN201
    """The client for one row of the matrix, signed in (or not) as that row says, and the family's kid."""
    home = make_household(create_member, family)
    who = request.param
    if who == "parent":
        auth.sign_in(client, home.parent, family)
    elif who == "kid":
        auth.sign_in(client, home.kid, family)
    elif who == "other-family-parent":
        other = make_family()
        stranger = create_member(family_record=other, role="parent", username="pat", display_name="Pat")
        theirs = client_for(other)
        auth.sign_in(theirs, stranger, other)
        cookie = theirs.get_cookie("session", domain=theirs.host.split(":")[0])
        client.set_cookie("session", cookie.value, domain=client.host.split(":")[0])  # a replayed cookie
    return who, client, home


@pytest.mark.parametrize("visitor", ["anonymous", "kid", "parent", "other-family-parent"], indirect=True)
@pytest.mark.parametrize(("method", "path", "parent_status", "kid_status"), ROUTES)
def test_access_matrix(app: Flask, visitor, method: str, path: str, parent_status: int,  # noqa: ANN001
                       kid_status: int) -> None:
    who, client, home = visitor
    path = path.format(kid=home.kid.id)

    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": csrf_token(app, client)})
    response.close()

    if path in PUBLIC:
        assert response.status_code == 404
    elif who in ("anonymous", "other-family-parent"):
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        assert response.headers["Location"].startswith("/login?next=")
    elif who == "kid":
        assert response.status_code == kid_status, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == parent_status, response.get_data(as_text=True)[:300]


def test_the_matrix_covers_every_route_of_the_three_areas(app: Flask) -> None:
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="some-family")
    covered = {adapter.match(path.format(kid="00000000-0000-0000-0000-000000000000"), method=method)[0]
               for method, path, _parent, _kid in ROUTES}
    every = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in ("achievements", "reports", "settings")}

    assert every == covered


@pytest.mark.parametrize("path", ["/badges/celebrate", "/settings/groups/money", "/settings/calendar",
                                  "/settings/calendar/revoke"])
def test_posts_without_a_csrf_token_are_refused(client, auth, family, create_member, path: str) -> None:  # noqa: ANN001
    home = make_household(create_member, family)
    auth.sign_in(client, home.parent, family)

    assert client.post(path, data={"currency": "EUR"}).status_code == 400
