"""Who may open each sign-in and tablet page, and every unsafe request needs its CSRF token."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

from app.auth.services import register_device
from app.db.bases import utcnow
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.accounts.conftest import KID_PIN, Tablet
from tests.accounts.helpers import HostAuth, copy_session_cookie, csrf_token
from tests.conftest import FamilyClient

ROLES = ("anonymous", "kid", "parent", "other_family_parent", "tablet_device")
LOGIN = "→login"  # a redirect to the login page, with ?next= naming the page asked for


@dataclass(frozen=True)
class Scene:
    """One family with a parent, a kid and a spare registered tablet; `browser(role)` makes a client."""

    family: FamilyRecord
    kid: Member
    spare_device_id: str
    browser: Callable[[str], FamilyClient]

    def path(self, template: str) -> str:
        return template.format(kid=self.kid.id, device=self.spare_device_id)


@pytest.fixture
def scene(client_for: Callable[..., FamilyClient], family: FamilyRecord, make_family: Callable[..., FamilyRecord],
          create_member: Callable[..., Member], parent: Member, kid: Member, host_auth: HostAuth,
          register_tablet: Callable[..., Tablet], in_family: Callable) -> Scene:
    with in_family(family) as ctx:
        spare, _ = register_device(ctx.session, ctx.session.get(Member, parent.id), name="Spare", now=utcnow())
        ctx.session.commit()
        spare_id = str(spare.id)

    def browser(role: str) -> FamilyClient:
        client = client_for(family)
        if role == "kid":
            host_auth.sign_in(client, kid, family)
        elif role == "parent":
            host_auth.sign_in(client, parent, family)
        elif role == "other_family_parent":
            # Signed in on their own family's host, then the cookie is pasted here.
            theirs = make_family()
            their_parent = create_member(family_record=theirs, role="parent", username="kim", display_name="Kim")
            their_browser = client_for(theirs)
            host_auth.sign_in(their_browser, their_parent, theirs)
            copy_session_cookie(their_browser, client)
        elif role == "tablet_device":
            register_tablet(client, family, parent)
        else:
            assert role == "anonymous"
        return client
    return Scene(family=family, kid=kid, spare_device_id=spare_id, browser=browser)


# (method, path, expected per role in ROLES order): a status, or (302, where it redirects).
ACCESS = [
    ("GET", "/", [200, 200, 200, 200, 200]),
    ("GET", "/login", [200, (302, "/"), (302, "/"), 200, 200]),
    ("GET", "/settings/devices", [(302, LOGIN), 403, 200, (302, LOGIN), (302, LOGIN)]),
    ("GET", "/tablet", [403, 403, 403, 403, 200]),
    ("GET", "/tablet/{kid}", [403, 403, 403, 403, 200]),
    ("GET", "/me", [(302, LOGIN), 200, (302, "/"), (302, LOGIN), (302, LOGIN)]),
    ("GET", "/me/still-here", [(302, LOGIN), 204, 403, (302, LOGIN), (302, LOGIN)]),
    ("POST", "/logout", [(302, "/")] * 5),
    ("POST", "/account/sign-out-everywhere", [(302, LOGIN), (302, "/login"), (302, "/login"), (302, LOGIN),
                                              (302, LOGIN)]),
    ("POST", "/settings/devices", [(302, LOGIN), 403, (302, "/tablet"), (302, LOGIN), (302, LOGIN)]),
    ("POST", "/settings/devices/{device}/revoke", [(302, LOGIN), 403, (302, "/settings/devices"), (302, LOGIN),
                                                   (302, LOGIN)]),
    ("POST", "/tablet/{kid}/unlock", [403, 403, 403, 403, (302, "/me")]),
    ("POST", "/tablet/done", [(302, "/"), (302, "/"), (302, "/"), (302, "/"), (302, "/tablet")]),
]
MATRIX = [pytest.param(method, path, role, expected, id=f"{method} {path} as {role}")
          for method, path, per_role in ACCESS for role, expected in zip(ROLES, per_role, strict=True)]


@pytest.mark.parametrize(("method", "path", "role", "expected"), MATRIX)
def test_access(scene: Scene, method: str, path: str, role: str, expected: int | tuple[int, str]) -> None:
    browser = scene.browser(role)
    url = scene.path(path)
    if method == "GET":
        response = browser.get(url)
    else:
        response = browser.post(url, data={"csrf_token": csrf_token(browser, "/login"), "pin": KID_PIN})
    status, location = expected if isinstance(expected, tuple) else (expected, None)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if location == LOGIN:
        assert response.headers["Location"].startswith("/login?next=/"), response.headers["Location"]
    elif location is not None:
        assert response.headers["Location"] == location


KID_VIEW_ENDPOINTS = {"tablet.kid_chores", "tablet.kid_stats", "tablet.complete_chore", "tablet.claim_chore",
                      "tablet.family_wall", "tablet.wall_board", "tablet.photo", "tablet.photo_thumb"}


def test_the_matrix_covers_every_page_of_the_area(app: Flask) -> None:
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="somefamily")
    covered = {adapter.match(path.format(kid=uuid.uuid4(), device=uuid.uuid4()), method=method)[0]
               for method, path, _ in ACCESS}
    # Family hand-offs (app/accounts/handoff.py) and the kid's chores, the wall and photos (tests/tablet/test_access.py)
    # have matrices of their own.
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.endpoint.split(".")[0] in ("accounts", "tablet", "family_home")
                 and app.view_functions[rule.endpoint].__module__ != "app.accounts.handoff"} - KID_VIEW_ENDPOINTS
    assert endpoints <= covered, endpoints - covered


UNSAFE = [(path, role) for method, path, _ in ACCESS if method == "POST"
          for role in (("tablet_device",) if path.startswith("/tablet/") else ("parent",))]


@pytest.mark.parametrize(("path", "role"), UNSAFE, ids=[path for path, _ in UNSAFE])
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_every_post_needs_its_csrf_token(scene: Scene, path: str, role: str, token: str) -> None:
    browser = scene.browser(role)
    data = {"pin": KID_PIN}
    if token == "wrong":
        data["csrf_token"] = "not-the-token"
    response = browser.post(scene.path(path), data=data)
    assert response.status_code == 400
    # Nothing happened: the browser is still what it was.
    if role == "parent":
        assert b"Our people" in browser.get("/").data
    else:
        assert browser.get("/tablet").status_code == 200 and browser.get("/me").status_code == 302


def test_the_login_form_needs_its_csrf_token(scene: Scene, parent: Member) -> None:
    from tests.accounts.conftest import PARENT_PASSWORD

    browser = scene.browser("anonymous")
    response = browser.post("/login", data={"login": "pat", "password": PARENT_PASSWORD})
    assert response.status_code == 400
    assert b"Our people" not in browser.get("/").data
