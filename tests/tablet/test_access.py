"""Who may use the kid's view, the family wall and the photo URLs: every route × every kind of visitor."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from pathlib import Path

import pytest
from flask import Flask

from app.assignments.models import Assignment
from app.assignments.photos import PreparedPhoto, stage_photo, stored_name
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.tablet.conftest import HTMX, csrf_token, photo_bytes

ROUTES = {
    # name: (method, path template)
    "kid view": ("GET", "/me"),
    "kid cards": ("GET", "/me/chores"),
    "kid stats": ("GET", "/me/stats"),
    "complete": ("POST", "/me/assignments/{todo}/complete"),
    "claim": ("POST", "/me/assignments/{open}/claim"),
    "wall": ("GET", "/wall"),
    "wall board": ("GET", "/wall/board"),
    "photo": ("GET", "/photos/{proof}"),
    "thumbnail": ("GET", "/photos/{proof}/thumb"),
}
LOGIN = "login"  # a redirect to the sign-in page
HOME = "home"  # a redirect to the family's home page

# Maya owns `todo` and `proof`; `open` is anyone's to claim. "other kid" is Maya's brother Leo; "other parent" is a
# parent of another family, using these ids on their own family's site (their cookie never reaches ours).
EXPECTED = {
    "anonymous": {"kid view": LOGIN, "kid cards": LOGIN, "kid stats": LOGIN, "complete": LOGIN, "claim": LOGIN,
                  "wall": LOGIN, "wall board": LOGIN, "photo": LOGIN, "thumbnail": LOGIN},
    "kid": {"kid view": 200, "kid cards": 200, "kid stats": 200, "complete": 200, "claim": 200, "wall": 200,
            "wall board": 200, "photo": 200, "thumbnail": 200},
    "other kid": {"kid view": 200, "kid cards": 200, "kid stats": 200, "complete": 404, "claim": 200, "wall": 200,
                  "wall board": 200, "photo": 404, "thumbnail": 404},
    "parent": {"kid view": HOME, "kid cards": 403, "kid stats": 403, "complete": 403, "claim": 403, "wall": 200,
               "wall board": 200, "photo": 200, "thumbnail": 200},
    "other parent": {"kid view": HOME, "kid cards": 403, "kid stats": 403, "complete": 403, "claim": 403,
                     "wall": 200, "wall board": 200, "photo": 404, "thumbnail": 404},
    "other kid elsewhere": {"kid view": 200, "kid cards": 200, "kid stats": 200, "complete": 404, "claim": 404,
                            "wall": 200, "wall board": 200, "photo": 404, "thumbnail": 404},
    "tablet only": {"kid view": LOGIN, "kid cards": LOGIN, "kid stats": LOGIN, "complete": LOGIN, "claim": LOGIN,
                    "wall": 200, "wall board": 200, "photo": LOGIN, "thumbnail": LOGIN},
}
CASES = [(who, route, expected) for who, row in EXPECTED.items() for route, expected in row.items()]


@dataclass
class World:
    todo: Assignment
    open: Assignment
    proof: Assignment


@pytest.fixture
def world(maya: Member, make_assignment: Callable[..., Assignment], family: FamilyRecord, uploads: Path) -> World:
    proof_id = uuid.uuid4()
    proof = make_assignment(maya, id=proof_id, name="Tidy your room", status="pending_verification",
                            photo_name=stored_name(proof_id), chore={"requires_photo": True})
    tiny = photo_bytes()
    stage_photo(uploads, family.id, proof_id, PreparedPhoto(full=tiny, thumb=tiny, width=64, height=48)).publish()
    return World(todo=make_assignment(maya), open=make_assignment(None, name="Wash the car"), proof=proof)


@pytest.fixture
def visitor(request: pytest.FixtureRequest, client_for: Callable[..., FamilyClient], family: FamilyRecord,
            signed_in: Callable[..., FamilyClient], make_family: Callable[..., FamilyRecord],
            create_member: Callable[..., Member]) -> FamilyClient:
    who = request.param
    if who == "anonymous":
        return client_for(family)
    if who == "kid":
        return signed_in(request.getfixturevalue("maya"))
    if who == "other kid":
        return signed_in(request.getfixturevalue("leo"))
    if who == "parent":
        return signed_in(request.getfixturevalue("parent"))
    if who in ("other parent", "other kid elsewhere"):
        elsewhere = make_family()
        role = "parent" if who == "other parent" else "child"
        return signed_in(create_member(family_record=elsewhere, role=role, username="them"), elsewhere)
    if who == "tablet only":
        return request.getfixturevalue("tablet_client")
    raise AssertionError(who)


@pytest.mark.parametrize(("visitor", "route", "expected"), CASES, indirect=["visitor"],
                         ids=[f"{who}-{route}" for who, route, _ in CASES])
def test_access(app: Flask, visitor: FamilyClient, world: World, route: str, expected: int | str) -> None:
    method, template = ROUTES[route]
    path = template.format(todo=world.todo.id, open=world.open.id, proof=world.proof.id)
    if method == "POST":
        response = visitor.post(path, data={"csrf_token": csrf_token(app, visitor)}, headers=HTMX)
    else:
        response = visitor.get(path)
    response.close()
    if expected == LOGIN:
        if method == "POST":  # htmx asks for the sign-in page with a 401 and HX-Redirect
            assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login?next=")
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    elif expected == HOME:
        assert response.status_code == 302 and response.headers["Location"] == "/"
    else:
        assert response.status_code == expected


def test_a_post_without_a_csrf_token_is_refused(signed_in: Callable[..., FamilyClient], maya: Member,
                                                make_assignment: Callable[..., Assignment],
                                                load: Callable[..., Any]) -> None:
    chore = make_assignment(maya)
    response = signed_in(maya).post(f"/me/assignments/{chore.id}/complete", headers=HTMX)
    assert response.status_code == 400
    assert load(Assignment, chore.id).status == "pending"


def test_the_matrix_covers_every_kid_wall_and_photo_route(app: Flask) -> None:
    adapter = app.url_map.bind(app.config["SERVER_NAME"], subdomain="somefamily")
    ids = {"todo": uuid.uuid4(), "open": uuid.uuid4(), "proof": uuid.uuid4()}
    covered = {adapter.match(path.format(**ids), method=method)[0] for method, path in ROUTES.values()}
    # The avatar wall, the keypad, unlocking, keeping and ending a turn are sign-in pages:
    # tests/accounts/test_access.py.
    sign_in_pages = {"tablet.wall", "tablet.keypad", "tablet.unlock", "tablet.still_here", "tablet.done"}
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("tablet.")}
    assert endpoints - sign_in_pages == covered
