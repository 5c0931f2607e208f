"""Bearer tokens from the attacker's side: forged, expired, misplaced, malformed and revoked tokens get nothing."""
from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask

from app.db.bases import utcnow
from tests.api.conftest import People
from tests.html import field_value

ME = "/api/users/me"


def _claims(people: People, **changes: Any) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    claims = {"user_id": str(people.kid.id), "family_id": str(people.family.id), "username": "maya",
              "is_parent": False, "iss": "housepoints-go", "exp": now + 3600, "nbf": now, "iat": now}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _forge(claims: dict[str, Any], secret: str, algorithm: str = "HS256") -> dict[str, str]:
    with warnings.catch_warnings():
        # The app's secret is shorter than HS512 recommends; that is the point of this forgery.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm=algorithm)}"}


def test_a_well_formed_token_is_accepted(api, people: People, app: Flask) -> None:  # noqa: ANN001
    # The control for the forgeries below: the same claims, properly signed, work.
    response = api.get(ME, headers=_forge(_claims(people), app.config["JWT_SECRET"]))
    assert response.status_code == 200 and response.get_json()["id"] == str(people.kid.id)


def test_a_token_for_another_family_is_403_on_this_host(api, people: People) -> None:  # noqa: ANN001
    # The stranger's own valid token, presented on our family's host.
    response = api.get(ME, headers=people.headers(people.stranger))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Token does not belong to this family"}


def test_our_member_id_with_another_familys_id_in_the_token_is_403(api, people: People,  # noqa: ANN001
                                                                  app: Flask) -> None:
    claims = _claims(people, family_id=str(people.other_family.id))
    response = api.get(ME, headers=_forge(claims, app.config["JWT_SECRET"]))
    assert response.status_code == 403


def test_an_expired_token_says_so(api, people: People) -> None:  # noqa: ANN001
    token = people.auth.api_token(people.kid, people.family, now=utcnow() - timedelta(hours=2),
                                  lifetime=timedelta(hours=1))
    response = api.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.get_json() == {"error": "Token has expired"}


@pytest.mark.parametrize("forgery", ["wrong secret", "HS512", "HS384", "no exp", "wrong iss", "no iss",
                                     "future nbf", "user_id not a uuid", "none alg", "garbage"])
def test_forged_tokens_are_invalid(api, people: People, app: Flask, forgery: str) -> None:  # noqa: ANN001
    secret = app.config["JWT_SECRET"]
    if forgery == "wrong secret":
        headers = _forge(_claims(people), "an-entirely-different-secret-of-enough-length")
    elif forgery in ("HS512", "HS384"):
        headers = _forge(_claims(people), secret, forgery)
    elif forgery == "no exp":
        headers = _forge(_claims(people, exp=None), secret)
    elif forgery == "wrong iss":
        headers = _forge(_claims(people, iss="someone-else"), secret)
    elif forgery == "no iss":
        headers = _forge(_claims(people, iss=None), secret)
    elif forgery == "future nbf":
        headers = _forge(_claims(people, nbf=int(utcnow().timestamp()) + 600), secret)
    elif forgery == "user_id not a uuid":
        headers = _forge(_claims(people, user_id="maya"), secret)
    elif forgery == "none alg":
        headers = {"Authorization": f"Bearer {jwt.encode(_claims(people), None, algorithm='none')}"}
    else:
        headers = {"Authorization": "Bearer not.a.token"}
    response = api.get(ME, headers=headers)
    assert response.status_code == 401 and response.get_json() == {"error": "Invalid token"}


@pytest.mark.parametrize("header", ["bearer x", "Bearer", "Bearer ", "Token abc", "Bearer a b", "Basic bWU6cHc="])
def test_malformed_authorization_headers(api, people: People, header: str) -> None:  # noqa: ANN001
    response = api.get(ME, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Invalid authorization format. Use: Bearer <token>"}


def test_no_header_at_all(api, people: People) -> None:  # noqa: ANN001
    response = api.get(ME)
    assert response.status_code == 401 and response.get_json() == {"error": "Authorization header required"}


def test_a_session_cookie_is_not_enough_for_the_api(api, people: People) -> None:  # noqa: ANN001
    people.auth.sign_in(api, people.parent, people.family)
    assert api.get(ME).status_code == 401


def test_a_deactivated_members_token_stops_at_once(api, people: People) -> None:  # noqa: ANN001
    kid_headers = people.headers(people.kid)
    assert api.get(ME, headers=kid_headers).status_code == 200
    assert api.delete(f"/api/users/{people.kid.id}", headers=people.headers(people.parent)).status_code == 200
    response = api.get(ME, headers=kid_headers)
    assert response.status_code == 401 and response.get_json() == {"error": "Invalid token"}


def test_a_disabled_login_stops_the_token_too(api, people: People) -> None:  # noqa: ANN001
    kid_headers = people.headers(people.kid)
    assert api.put(f"/api/users/{people.kid.id}", json={"login_enabled": False},
                   headers=people.headers(people.parent)).status_code == 200
    assert api.get(ME, headers=kid_headers).status_code == 401


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/users/{id}", None),
    ("PUT", "/api/users/{id}", {"display_name": "Hacked"}),
    ("DELETE", "/api/users/{id}", None),
])
def test_another_familys_member_ids_are_not_found_here(api, people: People, load_member, method: str,  # noqa: ANN001
                                                       path: str, body: Any) -> None:
    target = people.stranger_kid
    response = api.open(path.format(id=target.id), method=method, json=body, headers=people.headers(people.parent))
    assert response.status_code == 404 and response.get_json() == {"error": "User not found"}
    untouched = load_member(target.id, people.other_family)
    assert untouched.display_name == "Strange Kid" and untouched.is_active


def test_bearer_requests_need_no_csrf_token(api, people: People, app: Flask) -> None:  # noqa: ANN001
    assert app.config.get("WTF_CSRF_ENABLED", True)  # CSRF is on in this app; the API is exempt from it
    response = api.post("/api/users", json={"username": "newkid", "display_name": "New Kid"},
                        headers=people.headers(people.parent))
    assert response.status_code == 201


# --- revocation: the token version claim ----------------------------------------------------------------------

def test_a_password_reset_revokes_the_members_tokens(api, people: People) -> None:  # noqa: ANN001
    kid_headers = people.headers(people.kid)
    assert api.get(ME, headers=kid_headers).status_code == 200
    assert api.put(f"/api/users/{people.kid.id}", json={"password": "a fresh long secret 42"},
                   headers=people.headers(people.parent)).status_code == 200

    response = api.get(ME, headers=kid_headers)

    assert response.status_code == 401 and response.get_json() == {"error": "Invalid token"}
    fresh = api.post("/api/auth/login", json={"username": people.kid.username, "password": "a fresh long secret 42"})
    assert api.get(ME, headers={"Authorization": f"Bearer {fresh.get_json()['token']}"}).status_code == 200


def test_a_reactivated_member_does_not_get_old_tokens_back(api, people: People) -> None:  # noqa: ANN001
    kid_headers = people.headers(people.kid)
    parent = people.headers(people.parent)
    assert api.delete(f"/api/users/{people.kid.id}", headers=parent).status_code == 200
    assert api.put(f"/api/users/{people.kid.id}", json={"is_active": True}, headers=parent).status_code == 200

    assert api.get(ME, headers=kid_headers).status_code == 401


def test_sign_out_everywhere_revokes_api_tokens(api, people: People, client_for) -> None:  # noqa: ANN001
    parent_headers = people.headers(people.parent)
    browser = client_for(people.family)
    people.auth.sign_in(browser, people.parent, people.family)
    token = field_value(browser.get("/"), "csrf_token")
    assert browser.post("/account/sign-out-everywhere", data={"csrf_token": token}).status_code == 302

    assert api.get(ME, headers=parent_headers).status_code == 401


@pytest.mark.parametrize("version", [None, 0, "1", True, 1.0])
def test_a_token_with_a_stale_or_odd_version_is_refused(api, people: People, app: Flask,  # noqa: ANN001
                                                        version: Any) -> None:
    # A revocation first, so the kid's version is 1: no version (an old token), 0, or a non-integer all fail.
    assert api.put(f"/api/users/{people.kid.id}", json={"password": "a fresh long secret 42"},
                   headers=people.headers(people.parent)).status_code == 200
    response = api.get(ME, headers=_forge(_claims(people, tv=version), app.config["JWT_SECRET"]))
    assert response.status_code == 401 and response.get_json() == {"error": "Invalid token"}
    assert api.get(ME, headers=_forge(_claims(people, tv=1), app.config["JWT_SECRET"])).status_code == 200
