"""Helpers for sign-in tests: a host-correct `Auth`, CSRF tokens scraped from pages, cookies moved between hosts."""
from __future__ import annotations

import re

from flask.testing import FlaskClient

from app.auth.services import start_session
from app.db.bases import utcnow
from app.members.models import Member
from app.tenancy.context import family_context
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


class HostAuth(Auth):
    """`Auth` whose cookie lands on the client's family host.

    tests/conftest.py's `Auth.sign_in` opens `session_transaction()` without a base URL, so the session cookie is
    stored for `localhost` and never sent to `<slug>.localhost`; this passes the client's host.
    """

    def sign_in(self, client: FamilyClient, member: Member, family: FamilyRecord) -> str:
        with self.app.app_context(), family_context(family.slug) as ctx:
            started = start_session(ctx.session, ctx.session.get(Member, member.id), now=utcnow())
            ctx.session.commit()
        with client.session_transaction(base_url=f"http://{client.host}") as cookie_session:
            cookie_session["family_id"] = str(family.id)
            cookie_session["_user_id"] = started.token
            cookie_session["_fresh"] = True
        return started.token


def host_of(client: FamilyClient) -> str:
    """The cookie domain of a client's host (no port)."""
    return client.host.split(":")[0]


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page gives this client (every full page carries one for htmx)."""
    page = client.get(path, follow_redirects=True)
    found = CSRF_PATTERN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1) or found.group(2)


def session_cookie(client: FamilyClient) -> str | None:
    """The value of the client's session cookie on its own host."""
    cookie = client.get_cookie("session", domain=host_of(client))
    return cookie.value if cookie is not None else None


def copy_session_cookie(source: FamilyClient, target: FamilyClient) -> None:
    """Paste one host's session cookie into another host's cookie jar, as an attacker would."""
    value = session_cookie(source)
    assert value, "the source client has no session cookie"
    target.set_cookie("session", value, domain=host_of(target))
