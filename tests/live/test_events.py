"""Live events: published after a change, streamed over SSE to the family's own pages only."""
from __future__ import annotations

import json

from app.live.events import events_channel, publish_event
from app.redis_store import get_redis


def _read_until(iterator, needle: str, limit: int = 10) -> str:  # noqa: ANN001
    seen = ""
    for _ in range(limit):
        seen += next(iterator).decode() if isinstance(seen, str) else ""
        if needle in seen:
            return seen
    raise AssertionError(f"{needle!r} never arrived; got {seen!r}")


def test_stream_delivers_this_familys_events_only(app, make_family, create_member, auth, client_for) -> None:  # noqa: ANN001
    family, other = make_family(), make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    client = client_for(family)
    auth.sign_in(client, parent, family)
    response = client.get("/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert "retry:" in _read_until(chunks, "retry:")  # subscribed from here on
    with app.app_context():
        publish_event(other.id, "pointsChanged", {"secret": "not for you"})
        publish_event(family.id, "assignmentChanged", {"assignment_id": "a1"})
    received = _read_until(chunks, "assignmentChanged")
    assert 'event: assignmentChanged\ndata: {"assignment_id": "a1"}' in received
    assert "not for you" not in received
    response.close()


def test_stream_needs_a_member_or_the_family_tablet(client) -> None:  # noqa: ANN001
    assert client.get("/events").status_code == 401


def test_channels_are_per_family(app, make_family) -> None:  # noqa: ANN001
    a, b = make_family(), make_family()
    with app.app_context():
        assert events_channel(a.id) != events_channel(b.id)
        assert str(a.id) in events_channel(a.id)
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(events_channel(a.id))
        assert publish_event(a.id, "rewardChanged") is True
        message = None
        for _ in range(50):
            message = pubsub.get_message(timeout=0.1)
            if message:
                break
        pubsub.close()
    assert message is not None and json.loads(message["data"]) == {"event": "rewardChanged", "data": {}}
