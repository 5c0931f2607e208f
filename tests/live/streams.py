"""Reading the app's own /events stream in tests (the Flask test client runs the stream's generator in place)."""
from __future__ import annotations

from collections.abc import Iterator

from tests.conftest import FamilyClient

Chunks = Iterator[bytes]


def open_stream(client: FamilyClient) -> Chunks:
    """Open /events and read up to its `retry:` line: from there on the stream is subscribed."""
    response = client.get("/events", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    assert next(chunks).decode().startswith("retry:")
    return chunks


def ended(chunks: Chunks) -> bool:
    """The stream ended; an event or a keep-alive (15 s later) means it is still open."""
    try:
        next(chunks)
    except StopIteration:
        return True
    return False
