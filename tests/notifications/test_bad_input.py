"""Bad input on the notifications routes that write (webhooks, preferences, family settings): a clear 4xx, nothing
written."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.members.models import FamilySetting
from app.notifications.models import NotificationPreference, Webhook
from tests.api import conftest as api_fixtures
from tests.api.conftest import People
from tests.hostile import FORM_HOSTILE_TEXT, HOSTILE_TEXT, assert_refused, send_form, send_json

api, people = api_fixtures.api, api_fixtures.people  # the API tests' fixtures: a client, a parent and kids
URL = "http://127.0.0.1:9/hook"
BAD_API: list[tuple[str, Any]] = [
    *[(f"POST /api/webhooks url {kind}", {"url": URL + text}) for kind, text in HOSTILE_TEXT.items()],
    *[(f"PUT /api/webhooks/{{webhook}} events {kind}", {"events": [text]}) for kind, text in HOSTILE_TEXT.items()],
    ("POST /api/webhooks url a number", {"url": 5}), ("POST /api/webhooks no url", {}),
    ("POST /api/webhooks events not a list", {"url": URL, "events": "chore_waiting"}),
    ("POST /api/webhooks events of numbers", {"url": URL, "events": [1, 2]}),
    ("PUT /api/webhooks/{webhook} active as text", {"active": "yes"}),
    ("PUT /api/webhooks/{webhook} a port out of range", {"url": "http://127.0.0.1:99999/"}),
    ("PUT /api/notifications/preferences unknown event", {"preferences": {"\x07": {"email": True}}}),
    ("PUT /api/notifications/preferences choice as text", {"preferences": {"chore_waiting": {"in_app": "no"}}}),
    ("PUT /api/notifications/preferences a huge event", {"preferences": {"e" * 1_000_000: {"in_app": True}}}),
    ("PUT /api/notifications/preferences not an object", {"preferences": ["chore_waiting"]}),
    ("PUT /api/notifications/settings hour 24", {"digest_hour": 24}),
    ("PUT /api/notifications/settings hour huge", {"digest_hour": 10**30}),
    ("PUT /api/notifications/settings hour as text", {"digest_hour": "7"}),
]
BAD_FORM: list[tuple[str, str, dict[str, Any]]] = [
    *[(f"new webhook url {kind}", "/settings/webhooks", {"url": URL + text})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    *[(f"webhook events {kind}", "/settings/webhooks/{webhook}", {"url": URL, "events": [text]})
      for kind, text in FORM_HOSTILE_TEXT.items()],
    ("webhook unknown event", "/settings/webhooks", {"url": URL, "events": ["made_up"]}),
    ("webhook blank url", "/settings/webhooks/{webhook}", {"url": ""}),
    ("digest hour 24", "/notifications/preferences/family", {"digest_hour": "24", "reminder_lead_minutes": "30"}),
    ("digest hour in words", "/notifications/preferences/family", {"digest_hour": "six",
                                                                   "reminder_lead_minutes": "30"}),
]


def _webhook(in_family, people: People) -> Any:  # noqa: ANN001
    with in_family(people.family) as ctx:
        webhook = Webhook(url=URL, events=[], secret="s" * 64, active=True, created_by=people.parent.id)
        ctx.session.add(webhook)
        ctx.session.commit()
        return webhook.id


def _stored(in_family, people: People) -> tuple[Any, ...]:  # noqa: ANN001
    with in_family(people.family) as ctx:
        s = ctx.session
        return (sorted(s.execute(select(Webhook.id, Webhook.url, Webhook.events, Webhook.active)).all(), key=str),
                sorted(s.execute(select(FamilySetting.key, FamilySetting.value)).all(), key=str),
                sorted(s.execute(select(NotificationPreference.event, NotificationPreference.enabled)).all(), key=str))


@pytest.mark.parametrize("case, body", BAD_API, ids=[case for case, _ in BAD_API])
def test_bad_notification_bodies_are_refused_through_the_api(api, people: People, in_family, case: str,  # noqa: ANN001
                                                             body: Any) -> None:
    webhook_id = _webhook(in_family, people)
    before = _stored(in_family, people)
    method, path = case.split()[:2]

    response = send_json(api, method, path.format(webhook=webhook_id), body, people.headers(people.parent))

    assert_refused(response)
    assert _stored(in_family, people) == before


@pytest.mark.parametrize("case, path, fields", BAD_FORM, ids=[case for case, _, _ in BAD_FORM])
def test_bad_notification_forms_are_refused_on_the_pages(app, api, people: People, in_family, auth,  # noqa: ANN001
                                                         case: str, path: str, fields: dict[str, Any]) -> None:
    webhook_id = _webhook(in_family, people)
    auth.sign_in(api, people.parent, people.family)
    before = _stored(in_family, people)

    response = send_form(app, api, path.format(webhook=webhook_id), fields)

    assert_refused(response)
    assert _stored(in_family, people) == before
