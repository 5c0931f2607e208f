"""Webhooks: signed POSTs to a real local receiver, retries with backoff, dead letters, and the SSRF guard."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask

from app.assignments.services import complete_assignment
from app.domain import ValidationFailed
from app.members.models import Member
from app.notifications.models import Delivery, Webhook
from app.notifications.webhooks import check_webhook_url
from tests.notifications.conftest import RULES, add_webhook, deliveries_of, make_assignment

NOW = datetime.now(timezone.utc)


def _complete_a_chore(fam, name: str = "Dishes") -> str:  # noqa: ANN001
    """Maya finishes a chore that needs approval; returns the assignment id."""
    with fam.session() as ctx:
        assignment = make_assignment(ctx.session, fam.kid, name=name)
        ctx.session.commit()
        complete_assignment(ctx.session, actor=ctx.session.get(Member, fam.kid.id), assignment_id=assignment.id,
                            rules=RULES, now=NOW)
        ctx.session.commit()
        return str(assignment.id)


def _create_by_api(client, auth, fam, url: str, events: list[str]) -> dict:  # noqa: ANN001
    response = client.post("/api/webhooks", json={"url": url, "events": events}, headers=auth.bearer(fam.mum,
                                                                                                        fam.record))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_signed_event_reaches_the_receiver(client, auth, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    created = _create_by_api(client, auth, fam, receiver.url, ["chore_waiting"])
    secret = created["secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret)

    assignment_id = _complete_a_chore(fam)
    rq_queue.work()

    [request] = receiver.requests
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-HousePoints-Signature"], expected)
    assert request.headers["X-HousePoints-Event"] == "chore_waiting"
    assert request.headers["Content-Type"] == "application/json"
    assert request.path == "/hook"
    body = json.loads(request.body)
    assert set(body) == {"event", "family", "data", "id", "created_at"}
    assert body["event"] == "chore_waiting" and body["family"] == fam.record.slug
    assert body["id"] == request.headers["X-HousePoints-Delivery"]
    assert body["data"]["assignment_id"] == assignment_id
    assert body["data"]["title"] == "Maya finished Dishes"
    assert body["created_at"].endswith("Z")
    with fam.session() as ctx:
        delivery = ctx.session.get(Delivery, body["id"])
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)


def test_a_500_is_retried_after_the_backoff_and_then_delivered(fam, rq_queue, receiver) -> None:  # noqa: ANN001
    receiver.answers = [500]
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url)
        ctx.session.commit()
    _complete_a_chore(fam)
    started = datetime.now(timezone.utc)

    rq_queue.work()

    with fam.session() as ctx:
        [delivery] = deliveries_of(ctx.session, channel="webhook")
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
        assert delivery.last_error == "The receiver answered HTTP 500"
    [(_, when)] = rq_queue.scheduled()
    assert timedelta(seconds=9) < when - started < timedelta(seconds=15)  # Retry(interval=[10, 30, …])

    rq_queue.release_scheduled()
    rq_queue.work()

    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same signed message, resent
    assert (receiver.requests[0].headers["X-HousePoints-Signature"]
            == receiver.requests[1].headers["X-HousePoints-Signature"])
    with fam.session() as ctx:
        delivered = ctx.session.get(Delivery, delivery.id)
        assert (delivered.status, delivered.attempts, delivered.response_code) == ("delivered", 2, 200)
        assert delivered.last_error is None


def test_a_receiver_that_always_fails_ends_in_the_dead_letters(app: Flask, client, auth, post, fam, rq_queue,
                                                               receiver, fast_retries) -> None:  # noqa: ANN001
    receiver.default = 500
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url)
        ctx.session.commit()
    _complete_a_chore(fam, name="Vacuum")

    rq_queue.work()

    assert len(receiver.requests) == 6  # the first try and five retries
    with fam.session() as ctx:
        [delivery] = deliveries_of(ctx.session, channel="webhook")
        assert (delivery.status, delivery.attempts) == ("dead", 6)
    assert rq_queue.scheduled() == [] and rq_queue.job_ids == []

    auth.sign_in(client, fam.mum, fam.record)
    page = client.get("/settings/deliveries?status=dead")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="delivery-{delivery.id}"' in html and "Retry now" in html and receiver.url in html

    receiver.default = 200
    response = post(client, f"/settings/deliveries/{delivery.id}/retry")
    assert response.status_code == 303
    assert response.headers["Location"] == "/settings/deliveries?status=dead"
    rq_queue.work()

    assert len(receiver.requests) == 7
    with fam.session() as ctx:
        retried = ctx.session.get(Delivery, delivery.id)
        assert (retried.status, retried.attempts) == ("delivered", 7)
    assert f'id="delivery-{delivery.id}"' not in client.get("/settings/deliveries?status=dead").get_data(as_text=True)


def test_only_subscribed_active_webhooks_get_the_event(fam, rq_queue, receiver) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url + "?all")
        add_webhook(ctx.session, receiver.url + "?waiting", events=["chore_waiting"])
        add_webhook(ctx.session, receiver.url + "?rewards", events=["reward_requested"])
        off = add_webhook(ctx.session, receiver.url + "?off")
        off.active = False
        ctx.session.commit()
    _complete_a_chore(fam)
    rq_queue.work()
    assert sorted(r.path for r in receiver.requests) == ["/hook?all", "/hook?waiting"]


def test_a_retry_of_a_delivered_message_is_refused(client, auth, post, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url)
        ctx.session.commit()
    _complete_a_chore(fam)
    rq_queue.work()
    with fam.session() as ctx:
        [delivery] = deliveries_of(ctx.session, channel="webhook")
    response = client.post(f"/api/deliveries/{delivery.id}/retry", headers=auth.bearer(fam.mum, fam.record))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Only failed deliveries can be retried"
    assert len(receiver.requests) == 1


# --- the SSRF guard --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://localhost/x",
    "http://192.168.1.20:8123/api", "http://[::1]/hook", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
    "http://100.64.0.1/", "http://224.0.0.1/",
])
def test_private_and_internal_addresses_are_refused_in_production(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_webhook_url(url, allow_private=False)
    assert refused.value.fields == {"url": "private"}


@pytest.mark.parametrize(("url", "problem"), [
    ("file:///etc/passwd", "scheme"), ("ftp://example.com/x", "scheme"), ("gopher://example.com/", "scheme"),
    ("javascript:alert(1)", "scheme"), ("https://", "invalid"), ("http://user:pw@example.com/", "credentials"),
    ("", "required"), ("https://example.com/" + "a" * 500, "too_long"), ("http://example.com:99999/", "invalid"),
])
def test_only_plain_http_and_https_urls_are_accepted(url: str, problem: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_webhook_url(url, allow_private=True)
    assert refused.value.fields == {"url": problem}


def test_a_public_address_is_accepted_and_tests_may_use_loopback() -> None:
    assert check_webhook_url(" https://93.184.216.34/hooks/hp ", allow_private=False) == "https://93.184.216.34/hooks/hp"
    assert check_webhook_url("http://127.0.0.1:8080/hook", allow_private=True) == "http://127.0.0.1:8080/hook"


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://10.0.0.1/hook", "http://169.254.169.254/",
                                 "file:///etc/passwd", "ftp://example.com/"])
def test_the_api_refuses_them_when_private_addresses_are_not_allowed(app: Flask, client, auth, fam,
                                                                      url: str) -> None:  # noqa: ANN001
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        response = client.post("/api/webhooks", json={"url": url}, headers=auth.bearer(fam.mum, fam.record))
    finally:
        app.config.pop("WEBHOOK_ALLOW_PRIVATE")
    assert response.status_code == 400
    assert response.get_json()["fields"]["url"] in ("private", "scheme")
    with fam.session() as ctx:
        assert ctx.session.query(Webhook).count() == 0


def test_the_page_refuses_them_too(app: Flask, client, auth, post, fam) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        response = post(client, "/settings/webhooks", {"url": "http://169.254.169.254/latest"})
    finally:
        app.config.pop("WEBHOOK_ALLOW_PRIVATE")
    assert response.status_code == 422
    assert "private, loopback or reserved" in response.get_data(as_text=True)


def test_a_receiver_that_became_private_is_not_called(app: Flask, fam, rq_queue, receiver) -> None:  # noqa: ANN001
    with fam.session() as ctx:
        add_webhook(ctx.session, receiver.url)  # saved while allowed (say, the name pointed elsewhere then)
        ctx.session.commit()
    _complete_a_chore(fam)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        rq_queue.work()
    finally:
        app.config.pop("WEBHOOK_ALLOW_PRIVATE")
    assert receiver.requests == []
    with fam.session() as ctx:
        [delivery] = deliveries_of(ctx.session, channel="webhook")
        assert delivery.status == "retrying" and "private" in delivery.last_error


# --- managing webhooks ---------------------------------------------------------------------------------------------

def test_the_secret_is_shown_once_and_never_listed(client, auth, post, fam, receiver) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    created = post(client, "/settings/webhooks", {"url": receiver.url, "events": ["chore_waiting", "chore_missed"]})
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    with fam.session() as ctx:
        [webhook] = ctx.session.query(Webhook).all()
        assert webhook.events == ["chore_waiting", "chore_missed"] and webhook.created_by == fam.mum.id
    assert webhook.secret in created.get_data(as_text=True)

    for page in ("/settings/webhooks", f"/settings/webhooks/{webhook.id}"):
        listed = client.get(page)
        assert listed.status_code == 200 and webhook.secret not in listed.get_data(as_text=True)
    headers = auth.bearer(fam.mum, fam.record)
    for path in ("/api/webhooks", f"/api/webhooks/{webhook.id}"):
        assert webhook.secret not in client.get(path, headers=headers).get_data(as_text=True)

    rotated = post(client, f"/settings/webhooks/{webhook.id}/secret")
    with fam.session() as ctx:
        new_secret = ctx.session.get(Webhook, webhook.id).secret
    assert new_secret != webhook.secret and new_secret in rotated.get_data(as_text=True)


def test_editing_switching_off_and_removing_a_webhook(client, auth, post, fam, receiver) -> None:  # noqa: ANN001
    auth.sign_in(client, fam.mum, fam.record)
    with fam.session() as ctx:
        webhook = add_webhook(ctx.session, receiver.url)
        ctx.session.commit()
    bad = post(client, f"/settings/webhooks/{webhook.id}", {"url": "ftp://example.com"})
    assert bad.status_code == 422 and "https://" in bad.get_data(as_text=True)
    saved = post(client, f"/settings/webhooks/{webhook.id}", {"url": receiver.url + "?v=2",
                                                              "events": ["badge_earned"]})
    assert saved.status_code == 303
    with fam.session() as ctx:
        changed = ctx.session.get(Webhook, webhook.id)
        assert (changed.url, changed.events, changed.active) == (receiver.url + "?v=2", ["badge_earned"], False)
    assert post(client, f"/settings/webhooks/{webhook.id}/delete").status_code == 303
    with fam.session() as ctx:
        assert ctx.session.get(Webhook, webhook.id) is None
    assert client.get(f"/settings/webhooks/{webhook.id}").status_code == 404


def test_unknown_events_and_bad_statuses_are_refused(client, auth, fam, receiver) -> None:  # noqa: ANN001
    headers = auth.bearer(fam.mum, fam.record)
    response = client.post("/api/webhooks", json={"url": receiver.url, "events": ["chore_exploded"]}, headers=headers)
    assert response.status_code == 400 and response.get_json()["fields"] == {"events": "unknown"}
    response = client.post("/api/webhooks", json={"url": receiver.url, "events": "chore_waiting"}, headers=headers)
    assert response.status_code == 400
    assert client.get("/api/deliveries?status=lost", headers=headers).status_code == 400
    auth.sign_in(client, fam.mum, fam.record)
    assert client.get("/settings/deliveries?status=lost").status_code == 400
