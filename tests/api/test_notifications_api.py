"""The notifications API: a member's own notifications and preferences; parents' settings, webhooks and deliveries."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from app.members.models import Member
from app.notifications.models import Delivery, Notification, Webhook
from app.notifications.services import notify

WEBHOOK_URL = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def empty_delivery_queue(app: Flask) -> Iterator[None]:
    """Deliveries these tests queue are never worked; leave the run's queue empty for the next test."""
    from tests.notifications.conftest import Queue

    yield
    queue = Queue(app)
    queue.clear()
    queue.connection.close()


def _notify(in_family, family, member: Member, *titles: str) -> list[str]:  # noqa: ANN001
    with in_family(family) as ctx:
        made = []
        for title in titles:
            made += notify(ctx.session, event="points_bonus", recipients=[ctx.session.get(Member, member.id)],
                           title=title, body="Because", link="/me", data={"amount": 5})
        ctx.session.commit()
        return [str(n.id) for n in made]


@pytest.fixture
def objects(in_family, people) -> dict[str, str]:  # noqa: ANN001
    """A webhook, a dead delivery, and a notification for the parent and one for the kid."""
    with in_family(people.family) as ctx:
        webhook = Webhook(url=WEBHOOK_URL, secret="x" * 64, events=[])
        ctx.session.add(webhook)
        ctx.session.flush()
        dead = Delivery(channel="webhook", event="badge_earned", webhook_id=webhook.id, recipient=WEBHOOK_URL,
                        status="dead", attempts=6, payload={"data": {}})
        ctx.session.add(dead)
        ctx.session.commit()
        ids = {"wid": str(webhook.id), "did": str(dead.id)}
    ids["parent"] = _notify(in_family, people.family, people.parent, "For Mom")[0]
    ids["kid"] = _notify(in_family, people.family, people.kid, "For Maya")[0]
    return ids


# (method, path, body, parent status, kid status); {nid} is the caller's own notification.
ROUTES = [
    ("GET", "/api/notifications", None, 200, 200),
    ("POST", "/api/notifications/{nid}/read", None, 200, 200),
    ("POST", "/api/notifications/read-all", None, 200, 200),
    ("GET", "/api/notifications/preferences", None, 200, 200),
    ("PUT", "/api/notifications/preferences", {}, 200, 200),
    ("GET", "/api/notifications/settings", None, 200, 403),
    ("PUT", "/api/notifications/settings", {}, 200, 403),
    ("GET", "/api/webhooks", None, 200, 403),
    ("POST", "/api/webhooks", {}, 400, 403),
    ("GET", "/api/webhooks/{wid}", None, 200, 403),
    ("PUT", "/api/webhooks/{wid}", {}, 200, 403),
    ("DELETE", "/api/webhooks/{wid}", None, 200, 403),
    ("POST", "/api/webhooks/{wid}/rotate-secret", None, 200, 403),
    ("GET", "/api/webhooks/{wid}/deliveries", None, 200, 403),
    ("GET", "/api/deliveries", None, 200, 403),
    ("POST", "/api/deliveries/{did}/retry", None, 202, 403),
]


@pytest.mark.parametrize("caller", ["nobody", "kid", "parent", "other-family-parent"])
@pytest.mark.parametrize(("method", "path", "body", "parent_status", "kid_status"), ROUTES)
def test_api_access_matrix(api, people, objects, caller: str, method: str, path: str, body, parent_status: int,  # noqa: ANN001
                           kid_status: int) -> None:
    member = {"nobody": None, "kid": people.kid, "parent": people.parent,
              "other-family-parent": people.stranger if caller == "other-family-parent" else None}[caller]
    url = path.format(nid=objects["kid" if caller == "kid" else "parent"], wid=objects["wid"], did=objects["did"])
    response = api.open(url, method=method, json=body, headers=people.headers(member))
    expected = {"nobody": 401, "other-family-parent": 403, "kid": kid_status, "parent": parent_status}[caller]
    assert response.status_code == expected, response.get_json()
    assert response.is_json


def test_the_list_is_mine_newest_first_and_filters_unread(api, people, in_family) -> None:  # noqa: ANN001
    first, second, third = _notify(in_family, people.family, people.kid, "One", "Two", "Three")
    _notify(in_family, people.family, people.sibling, "Not yours")
    headers = people.headers(people.kid)
    assert api.post(f"/api/notifications/{second}/read", headers=headers).get_json()["unread_count"] == 2

    everything = api.get("/api/notifications", headers=headers).get_json()
    assert [n["title"] for n in everything["notifications"]] == ["Three", "Two", "One"]
    assert (everything["count"], everything["unread_count"]) == (3, 2)
    item = everything["notifications"][1]
    assert item["id"] == second and item["is_read"] is True and item["read_at"].endswith("Z")
    assert item["event"] == "points_bonus" and item["link"] == "/me" and item["data"] == {"amount": 5}
    unread = api.get("/api/notifications?unread=true", headers=headers).get_json()
    assert [n["id"] for n in unread["notifications"]] == [third, first]
    paged = api.get("/api/notifications?limit=1&offset=1", headers=headers).get_json()
    assert [n["id"] for n in paged["notifications"]] == [second]
    for bad in ("unread=maybe", "limit=0", "limit=abc", "offset=-1"):
        assert api.get(f"/api/notifications?{bad}", headers=headers).status_code == 400

    done = api.post("/api/notifications/read-all", headers=headers).get_json()
    assert (done["marked_read"], done["unread_count"]) == (2, 0)
    assert api.get("/api/notifications?unread=true", headers=headers).get_json()["count"] == 0


def test_another_members_notification_is_404_and_a_bad_id_400(api, people, in_family) -> None:  # noqa: ANN001
    [theirs] = _notify(in_family, people.family, people.sibling, "Leo's")
    response = api.post(f"/api/notifications/{theirs}/read", headers=people.headers(people.kid))
    assert (response.status_code, response.get_json()) == (404, {"error": "Notification not found"})
    response = api.post("/api/notifications/nope/read", headers=people.headers(people.kid))
    assert (response.status_code, response.get_json()) == (400, {"error": "Invalid notification ID format"})
    with in_family(people.family) as ctx:
        assert ctx.session.get(Notification, theirs).read_at is None


def test_preferences_round_trip(api, people, create_member, auth) -> None:  # noqa: ANN001
    kid_headers = people.headers(people.kid)
    mine = api.get("/api/notifications/preferences", headers=kid_headers).get_json()
    assert mine["email_available"] is False
    assert mine["preferences"]["chore_approved"] == {"in_app": True}  # no address: no email channel
    assert "chore_waiting" not in mine["preferences"]

    changed = api.put("/api/notifications/preferences", json={"preferences": {"chore_approved": {"in_app": False}}},
                      headers=kid_headers)
    assert changed.status_code == 200 and changed.get_json()["preferences"]["chore_approved"] == {"in_app": False}

    for body, field in (({"chore_approved": {"email": True}}, "chore_approved.email"),
                        ({"chore_waiting": {"in_app": True}}, "chore_waiting"),
                        ({"chore_approved": {"sms": True}}, "chore_approved.sms"),
                        ({"chore_approved": {"in_app": "yes"}}, "chore_approved.in_app")):
        refused = api.put("/api/notifications/preferences", json=body, headers=kid_headers)
        assert refused.status_code == 400 and field in refused.get_json()["fields"], body

    dad = create_member(role="parent", username="dad", display_name="Dad", email="dad@example.test")
    dad_prefs = api.put("/api/notifications/preferences", json={"chore_waiting": {"email": True}},
                        headers=auth.bearer(dad, people.family)).get_json()
    assert dad_prefs["email_available"] is True
    assert dad_prefs["preferences"]["chore_waiting"] == {"in_app": True, "email": True}
    assert dad_prefs["preferences"]["daily_digest"] == {"email": True}


@pytest.mark.parametrize("body", [{"digest_hour": 24}, {"digest_hour": -1}, {"digest_hour": "7"},
                                  {"digest_hour": 7.5}, {"digest_hour": True}, {"reminder_lead_minutes": 1441},
                                  {"quiet_hours": 3}])
def test_a_digest_hour_outside_0_to_23_is_a_400(api, people, body) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    response = api.put("/api/notifications/settings", json=body, headers=headers)
    assert response.status_code == 400, response.get_json()
    assert api.get("/api/notifications/settings", headers=headers).get_json() == {"digest_hour": 18,
                                                                                   "reminder_lead_minutes": 30}


def test_settings_are_saved(api, people) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    saved = api.put("/api/notifications/settings", json={"digest_hour": 0, "reminder_lead_minutes": 15},
                    headers=headers)
    assert saved.get_json() == {"digest_hour": 0, "reminder_lead_minutes": 15}
    assert api.put("/api/notifications/settings", json={"digest_hour": 23}, headers=headers).get_json() == {
        "digest_hour": 23, "reminder_lead_minutes": 15}


def test_webhook_secrets_appear_only_when_made(api, people, objects) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    created = api.post("/api/webhooks", json={"url": "http://127.0.0.1:8099/in", "events": ["badge_earned"]},
                       headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert len(body["secret"]) == 64 and body["events"] == ["badge_earned"] and body["active"] is True
    listed = api.get("/api/webhooks", headers=headers).get_json()
    assert listed["count"] == 2 and all("secret" not in w for w in listed["webhooks"])
    assert "secret" not in api.get(f"/api/webhooks/{body['id']}", headers=headers).get_json()
    rotated = api.post(f"/api/webhooks/{body['id']}/rotate-secret", headers=headers).get_json()
    assert rotated["secret"] != body["secret"]
    updated = api.put(f"/api/webhooks/{body['id']}", json={"active": False, "events": []}, headers=headers)
    assert updated.get_json()["active"] is False and updated.get_json()["events"] == []
    assert api.put(f"/api/webhooks/{body['id']}", json={"active": "no"}, headers=headers).status_code == 400
    kid_view = api.get("/api/webhooks", headers=people.headers(people.kid))
    assert kid_view.status_code == 403 and "secret" not in kid_view.get_data(as_text=True)


def test_deliveries_and_dead_letters(api, people, objects, in_family) -> None:  # noqa: ANN001
    headers = people.headers(people.parent)
    dead = api.get("/api/deliveries?status=dead", headers=headers).get_json()
    assert [d["id"] for d in dead["deliveries"]] == [objects["did"]]
    assert dead["deliveries"][0]["status"] == "dead" and dead["deliveries"][0]["attempts"] == 6
    assert api.get("/api/deliveries?status=delivered", headers=headers).get_json()["count"] == 0
    logged = api.get(f"/api/webhooks/{objects['wid']}/deliveries", headers=headers).get_json()
    # The dead letter and the two bonus events the webhook (subscribed to everything) was queued for.
    assert logged["count"] == 3 and objects["did"] in [d["id"] for d in logged["deliveries"]]
    retried = api.post(f"/api/deliveries/{objects['did']}/retry", headers=headers)
    assert retried.status_code == 202 and retried.get_json()["delivery"]["status"] == "queued"
    assert api.get("/api/deliveries?status=dead", headers=headers).get_json()["count"] == 0
    assert api.delete(f"/api/webhooks/{objects['wid']}", headers=headers).status_code == 200
    with in_family(people.family) as ctx:
        assert ctx.session.get(Delivery, objects["did"]) is None  # the log goes with its webhook
    assert api.get(f"/api/webhooks/{objects['wid']}", headers=headers).status_code == 404
    assert api.get("/api/webhooks/not-an-id", headers=headers).status_code == 400


def test_another_familys_webhook_is_not_found(api, people, in_family) -> None:  # noqa: ANN001
    with in_family(people.other_family) as ctx:
        theirs = Webhook(url=WEBHOOK_URL, secret="y" * 64, events=[])
        ctx.session.add(theirs)
        ctx.session.commit()
    headers = people.headers(people.parent)
    for method in ("GET", "PUT", "DELETE"):
        assert api.open(f"/api/webhooks/{theirs.id}", method=method, json={}, headers=headers).status_code == 404
    assert api.get("/api/webhooks", headers=headers).get_json()["count"] == 0
