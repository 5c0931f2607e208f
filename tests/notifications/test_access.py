"""Who may use the notifications pages: everyone signed in their own bell and settings, parents the webhooks."""
from __future__ import annotations

import pytest
from flask import Flask

from app.members.models import Member
from app.notifications.models import Delivery
from app.notifications.services import notify
from tests.forms import csrf_token as shared_csrf_token
from tests.notifications.conftest import HTMX, add_webhook

# (method, path, what a parent gets, what a kid gets); {nid} is the visitor's own notification.
ROUTES = [
    ("GET", "/notifications/bell", 200, 200),
    ("GET", "/notifications", 200, 200),
    ("POST", "/notifications/{nid}/read", 303, 303),
    ("POST", "/notifications/read-all", 303, 303),
    ("POST", "/notifications/{nid}/open", 303, 303),
    ("GET", "/notifications/preferences", 200, 200),
    ("POST", "/notifications/preferences", 303, 303),
    ("POST", "/notifications/preferences/family", 422, 403),  # an empty form: access granted, input refused
    ("GET", "/settings/webhooks", 200, 403),
    ("POST", "/settings/webhooks", 422, 403),
    ("GET", "/settings/webhooks/{wid}", 200, 403),
    ("POST", "/settings/webhooks/{wid}", 422, 403),
    ("POST", "/settings/webhooks/{wid}/secret", 200, 403),
    ("POST", "/settings/webhooks/{wid}/delete", 303, 403),
    ("GET", "/settings/deliveries", 200, 403),
    ("GET", "/settings/deliveries?status=dead", 200, 403),
    ("POST", "/settings/deliveries/{did}/retry", 303, 403),
]


def _csrf(app: Flask, client) -> str:  # noqa: ANN001
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


@pytest.fixture
def targets(fam) -> dict[str, str]:  # noqa: ANN001
    """A webhook, a dead delivery and one notification each for Mum and Maya."""
    with fam.session() as ctx:
        webhook = add_webhook(ctx.session, "http://127.0.0.1:9/hook")
        dead = Delivery(channel="webhook", event="chore_waiting", webhook_id=webhook.id, recipient=webhook.url,
                        status="dead", attempts=6, payload={"data": {}})
        ctx.session.add(dead)
        notes = {who: notify(ctx.session, event="badge_earned", recipients=[ctx.session.get(Member, m.id)],
                             title="A badge", link="/me")[0].id for who, m in (("parent", fam.mum), ("kid", fam.kid))}
        ctx.session.commit()
        return {"wid": str(webhook.id), "did": str(dead.id), "parent": str(notes["parent"]),
                "kid": str(notes["kid"])}


@pytest.fixture
def visitor(request: pytest.FixtureRequest, client, auth, fam, make_family, create_member, client_for):  # noqa: ANN001, ANN201
    who = request.param
    if who == "parent":
        auth.sign_in(client, fam.mum, fam.record)
    elif who == "kid":
        auth.sign_in(client, fam.kid, fam.record)
    elif who == "other-family-parent":
        other = make_family()
        theirs = client_for(other)
        auth.sign_in(theirs, create_member(family_record=other, role="parent", username="pat"), other)
        cookie = theirs.get_cookie("session", domain=theirs.host.split(":")[0])
        client.set_cookie("session", cookie.value, domain=client.host.split(":")[0])
    return who, client


@pytest.mark.parametrize("visitor", ["anonymous", "kid", "parent", "other-family-parent"], indirect=True)
@pytest.mark.parametrize(("method", "path", "parent_status", "kid_status"), ROUTES)
def test_access_matrix(app: Flask, visitor, targets, rq_queue, method: str, path: str, parent_status: int,  # noqa: ANN001
                       kid_status: int) -> None:
    who, client = visitor
    path = path.format(nid=targets["kid" if who == "kid" else "parent"], wid=targets["wid"], did=targets["did"])
    headers = HTMX if path == "/notifications/bell" else {}
    if method == "GET":
        response = client.get(path, headers=headers)
    else:
        response = client.post(path, data={"csrf_token": _csrf(app, client)}, headers=headers)

    if who in ("anonymous", "other-family-parent"):
        if headers:  # htmx asks for a fragment: 401 and where to sign in
            assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
        else:
            assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    else:
        expected = parent_status if who == "parent" else kid_status
        assert response.status_code == expected, response.get_data(as_text=True)[:400]


def test_the_matrix_covers_every_route_of_the_area(app: Flask) -> None:
    covered = {(method, path.split("?")[0]) for method, path, _, _ in ROUTES}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("notifications."):
            continue
        path = rule.rule.replace("<notification_id>", "{nid}").replace("<webhook_id>", "{wid}") \
            .replace("<delivery_id>", "{did}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in covered, (method, rule.rule)


def test_posts_need_the_csrf_token(client, auth, fam, targets) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post(f"/settings/webhooks/{targets['wid']}/delete").status_code == 400


def test_another_familys_webhooks_and_deliveries_are_not_found(app: Flask, client, auth, post, fam, targets,
                                                              make_family, create_member, in_family) -> None:  # noqa: ANN001
    other = make_family()
    with in_family(other) as ctx:
        theirs = add_webhook(ctx.session, "http://127.0.0.1:9/theirs")
        ctx.session.commit()
    auth.sign_in(client, fam.mum, fam.record)
    assert client.get(f"/settings/webhooks/{theirs.id}").status_code == 404
    assert post(client, f"/settings/webhooks/{theirs.id}/delete").status_code == 404
    assert post(client, f"/settings/deliveries/{theirs.id}/retry").status_code == 404
    assert "127.0.0.1:9/theirs" not in client.get("/settings/webhooks").get_data(as_text=True)
