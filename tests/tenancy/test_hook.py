"""The tenancy hook, from the outside: what each kind of Host gets, on PostgreSQL and on SQLite."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app.members.models import Member
from tests.accounts.helpers import HostAuth
from tests.conftest import family_factory, host_client, set_family_status


def test_family_home_lists_its_members(any_app: Flask) -> None:
    family = family_factory(any_app)(name="The Riveras")
    with any_app.app_context():
        from app.tenancy.context import family_context

        with family_context(family.slug) as ctx:
            maya = Member(username="maya", display_name="Maya <b>", role="child")
            ctx.session.add(maya)
            ctx.session.commit()
    client = host_client(any_app, family)
    HostAuth(any_app).sign_in(client, maya, family)  # the member list is for signed-in members only
    response = client.get("/")
    assert response.status_code == 200
    assert b"The Riveras" in response.data
    assert b"Maya &lt;b&gt;" in response.data  # names are escaped on output


def test_apex_serves_the_platform_landing(any_app: Flask) -> None:
    response = host_client(any_app, None).get("/")
    assert response.status_code == 200
    assert b"Chores that get done" in response.data


def test_www_redirects_to_the_apex(any_app: Flask) -> None:
    response = host_client(any_app, "www").get("/health?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "http://localhost:5000/health?x=1"


def test_admin_host_serves_the_operator_console(any_app: Flask) -> None:
    client = host_client(any_app, "admin")
    response = client.get("/")
    assert response.status_code == 303 and response.headers["Location"] == "/login?next=/"
    sign_in = client.get("/login")
    assert sign_in.status_code == 200 and b"Operator sign-in" in sign_in.data


@pytest.mark.parametrize("slug", ["nosuch-family", "api", "dev", "a.b", "ab", "bad--slug"])
def test_unknown_or_malformed_family_is_a_friendly_404(any_app: Flask, slug: str) -> None:
    client = host_client(any_app, slug)
    page = client.get("/")
    assert page.status_code == 404
    assert b"We couldn" in page.data and b"<html" in page.data
    api = client.get("/api/family/info")
    assert api.status_code == 404
    assert api.is_json and "error" in api.get_json()


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "evil.com", "demo.localhost:5001", "[::1]:5000"])
def test_hosts_that_are_not_ours_are_rejected(any_app: Flask, host: str) -> None:
    response = any_app.test_client().get("/", headers={"Host": host})
    assert response.status_code == 400
    response = any_app.test_client().get("/api/family/info", headers={"Host": host})
    assert response.status_code == 400
    assert response.get_json() == {"error": "This address is not served here."}


def test_host_case_and_trailing_dot_are_normalised(app: Flask, family) -> None:  # noqa: ANN001
    host = f"{family.slug.upper()}.LOCALHOST.:5000"
    response = app.test_client().get("/api/family/info", headers={"Host": host})
    assert response.status_code == 200
    assert response.get_json()["family_slug"] == family.slug


@pytest.mark.parametrize(("status", "code"), [("suspended", 403), ("cancelled", 403), ("trial", 200), ("active", 200)])
def test_family_status_decides_access(app: Flask, make_family, status: str, code: int) -> None:  # noqa: ANN001
    family = make_family()
    set_family_status(app, family, status=status)
    client = host_client(app, family)
    assert client.get("/").status_code == code
    api = client.get("/api/family/info")
    assert api.status_code == code
    if code == 403:
        assert "not active" in api.get_json()["error"]


def test_deleted_family_is_gone(app: Flask, family) -> None:  # noqa: ANN001
    from app.db.bases import utcnow

    set_family_status(app, family, deleted_at=utcnow())
    client = host_client(app, family)
    assert client.get("/").status_code == 410
    assert client.get("/api/family/info").get_json()["error"].startswith("This family's account has been deleted.")


@pytest.mark.postgresql_only("reports a PostgreSQL database name; SQLite's is a file")
def test_family_info_reports_the_database_to_operators(app: Flask, make_family, monkeypatch) -> None:  # noqa: ANN001
    pooled = make_family()
    dedicated = make_family(placement="dedicated")
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", "an-operator-token-long-enough-to-be-real-0123456789")
    operator = {"Authorization": "Bearer an-operator-token-long-enough-to-be-real-0123456789"}
    info = host_client(app, pooled).get("/api/family/info", headers=operator).get_json()
    assert info == {"family_id": str(pooled.id), "family_slug": pooled.slug, "family_name": pooled.name,
                    "plan": "free", "status": "active",
                    "database": make_url(app.config["FAMILY_DATABASE_URL"]).database}
    info = host_client(app, dedicated).get("/api/family/info", headers=operator).get_json()
    expected = app.config["DEDICATED_DATABASE_URL_TEMPLATE"].format(slug=dedicated.slug.replace("-", "_"))
    assert info["database"] == make_url(expected).database


def test_static_files_are_served_on_the_family_host(client) -> None:  # noqa: ANN001
    page = client.get("/")
    assert b'href="/static/css/app.css?v=' in page.data  # same-origin, fingerprinted link
    with client.get("/static/css/app.css") as asset:
        assert asset.status_code == 200 and b"HousePoints" in asset.data


def test_session_cookie_is_host_only(client) -> None:  # noqa: ANN001
    set_cookie = client.get("/").headers["Set-Cookie"]  # the CSRF token is stored in the session
    assert set_cookie.startswith("session=") and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Domain=" not in set_cookie
    cookie = client.get_cookie("session", domain=client.host.split(":")[0])
    assert cookie is not None and cookie.domain == client.host.split(":")[0]
