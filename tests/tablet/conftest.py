"""Fixtures for the kid's view, the family wall and photo proof: kids, chores for today, CSRF, photos, the tablet."""
from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from werkzeug.datastructures import FileStorage

from app.assignments.models import Assignment
from app.auth import DEVICE_COOKIE
from app.auth.services import register_device
from app.db.bases import utcnow
from app.family_time import FamilyClock
from app.live.events import events_channel
from app.members.models import Member
from app.redis_store import get_redis
from app.tenancy.context import FamilyContext
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient
from tests.factories import create_assignment, create_chore
from tests.forms import Poster
from tests.forms import csrf_token as shared_csrf_token

HTMX = {"HX-Request": "true"}


def host_of(client: FamilyClient) -> str:
    return client.host.split(":")[0]


def family_today() -> date:
    """Today in a test family (they are all on UTC)."""
    return FamilyClock("UTC").today(utcnow())


def csrf_token(app: Flask, client: FamilyClient) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


@pytest.fixture
def post(app: Flask) -> Poster:
    """POST a form with a valid CSRF token, as htmx does from a kid's card unless htmx=False."""
    return Poster(app, htmx=True)


@pytest.fixture(autouse=True)
def uploads(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Photos go to this test's own folder, never the repository's instance/."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(folder))
    return folder


@pytest.fixture
def parent(create_member: Callable[..., Member]) -> Member:
    return create_member(role="parent", username="pat", display_name="Pat", avatar="🦊")


@pytest.fixture
def maya(create_member: Callable[..., Member]) -> Member:
    return create_member(username="maya", display_name="Maya", avatar="🦄", color="#e84393",
                         birthdate=date(2014, 4, 2))


@pytest.fixture
def leo(create_member: Callable[..., Member]) -> Member:
    return create_member(username="leo", display_name="Leo", avatar="🦖", color="#27ae60",
                         birthdate=date(2019, 9, 14))


@pytest.fixture
def signed_in(auth: Auth, client_for: Callable[..., FamilyClient], family: FamilyRecord
              ) -> Callable[..., FamilyClient]:
    """Factory: a fresh client on the family's host, signed in as `member` (of `family_record`, default this test's)."""
    def make(member: Member, family_record: FamilyRecord | None = None) -> FamilyClient:
        target = family_record or family
        client = client_for(target)
        auth.sign_in(client, member, target)
        return client
    return make


@pytest.fixture
def tablet_client(client_for: Callable[..., FamilyClient], family: FamilyRecord, parent: Member,
                  in_family: Callable[..., AbstractContextManager[FamilyContext]]) -> FamilyClient:
    """A browser registered as the family tablet, nobody signed in."""
    with in_family(family) as ctx:
        _device, token = register_device(ctx.session, ctx.session.get(Member, parent.id), name="Kitchen",
                                         now=utcnow())
        ctx.session.commit()
    client = client_for(family)
    client.set_cookie(DEVICE_COOKIE, token, domain=host_of(client))
    return client


@pytest.fixture
def make_assignment(in_family: Callable[..., AbstractContextManager[FamilyContext]], family: FamilyRecord
                    ) -> Callable[..., Assignment]:
    """Factory: a chore (no schedule, so nothing else materialises) and its assignment for today.

    `member=None` makes it open to claim; `status` and other assignment fields may be given.
    """
    def make(member: Member | None, *, name: str = "Make your bed", points: int = 10, family_record:
             FamilyRecord | None = None, chore: dict[str, Any] | None = None, **fields: Any) -> Assignment:
        today = family_today()
        with in_family(family_record or family) as ctx:
            made = create_chore(ctx.session, name=name, base_points=points, **(chore or {}))
            assignment = create_assignment(ctx.session, made, member, today, **fields)
            ctx.session.commit()
            return assignment
    return make


@pytest.fixture
def load(in_family: Callable[..., AbstractContextManager[FamilyContext]], family: FamilyRecord
         ) -> Callable[..., Any]:
    """Read a row back from the database as it is now: load(Assignment, id)."""
    def read(model: type, key: uuid.UUID, family_record: FamilyRecord | None = None) -> Any:
        with in_family(family_record or family) as ctx:
            return ctx.session.get(model, key)
    return read


# --- photos -------------------------------------------------------------------------------------------------------

GPS_IFD = 0x8825


def photo_bytes(kind: str = "JPEG", size: tuple[int, int] = (64, 48), *, gps: bool = False) -> bytes:
    """A small generated picture; with gps=True the JPEG carries EXIF with a camera make and GPS coordinates."""
    mode = "RGBA" if kind == "PNG" else "RGB"  # a PNG with an alpha channel is flattened on white
    image = Image.new(mode, size, (30, 140, 200, 255)[:len(mode)])
    out = io.BytesIO()
    options: dict[str, Any] = {}
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "SpyCam"
        exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 26.0), 3: "W", 4: (0.0, 7.0, 39.0)}
        options["exif"] = exif.tobytes()
    image.save(out, format=kind, **options)
    return out.getvalue()


def upload(data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> FileStorage:
    """A file field for a multipart form."""
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=content_type)


@dataclass
class EventListener:
    """A subscription to the family's live channel, started before the action under test."""

    pubsub: Any

    def received(self, *names: str, timeout: float = 2.0) -> list[dict[str, Any]]:
        """The events of these names, in order, once each name has arrived (others, e.g. notifications, skipped)."""
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not set(names) <= {event["event"] for event in events} and time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message:
                event = json.loads(message["data"])
                if event["event"] in names:
                    events.append(event)
        return events


@pytest.fixture
def live_events(app: Flask, family: FamilyRecord) -> Iterator[EventListener]:
    with app.app_context():
        pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(events_channel(family.id))
        while pubsub.get_message(timeout=0.05) is not None:
            pass
        yield EventListener(pubsub)
        pubsub.close()
