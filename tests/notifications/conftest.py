"""Fixtures for notifications: a family with parents and kids, chores to act on, the real RQ queue and a local
HTTP receiver for webhooks (real sockets, real Redis, real SMTP — nothing mocked)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import redis
from flask import Flask
from rq import SimpleWorker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from sqlalchemy import select

from app.assignments.models import Assignment
from app.assignments.services import FamilyRules
from app.chores.models import Chore
from app.family_time import FamilyClock
from app.members.models import Member
from app.notifications.models import Delivery, Notification, Webhook
from app.notifications.worker import delivery_queue
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.forms import Poster
from tests.forms import csrf_token as shared_csrf_token

HTMX = {"HX-Request": "true"}
RULES = FamilyRules(clock=FamilyClock("UTC"))


def csrf_token(app: Flask, client: FamilyClient) -> str:
    """A valid CSRF token for this client's session (Flask-WTF's `generate_csrf`, via tests/forms.py)."""
    return shared_csrf_token(client)


@pytest.fixture
def post(app: Flask) -> Callable[..., Any]:
    """POST a form with a valid CSRF token (as the pages do), optionally as htmx."""
    return Poster(app)


@dataclass
class Family:
    """This test's people: two parents with email, a kid without, a kid with; helpers to act in the family."""

    record: FamilyRecord
    mum: Member
    dad: Member
    kid: Member
    teen: Member
    enter: Callable[..., Any]

    def session(self):  # noqa: ANN201
        return self.enter(self.record)


@pytest.fixture
def fam(family: FamilyRecord, create_member: Callable[..., Member], in_family: Callable[..., Any]) -> Family:
    mum = create_member(role="parent", username="mum", display_name="Mum", email="mum@example.test")
    dad = create_member(role="parent", username="dad", display_name="Dad", email="dad@example.test")
    kid = create_member(username="maya", display_name="Maya")
    teen = create_member(username="sam", display_name="Sam", email="sam@example.test")
    return Family(family, mum, dad, kid, teen, in_family)


def make_assignment(session, kid: Member, *, name: str = "Dishes", status: str = "pending",  # noqa: ANN001
                    due_at: datetime | None = None, points: int = 10, requires_verification: bool = True,
                    due_time: time | None = None) -> Assignment:
    """A chore and one assignment of it for `kid` (flushed, not committed)."""
    chore = Chore(name=name, requires_verification=requires_verification, base_points=points, due_time=due_time)
    session.add(chore)
    session.flush()
    due_at = due_at or datetime.now(timezone.utc) + timedelta(hours=2)
    assignment = Assignment(chore_id=chore.id, assigned_to=kid.id, due_date=due_at.date(), due_at=due_at,
                            status=status, points_offered=points)
    session.add(assignment)
    session.flush()
    return assignment


def notifications_of(session, member: Member, event: str | None = None) -> list[Notification]:  # noqa: ANN001
    query = select(Notification).where(Notification.member_id == member.id)
    if event:
        query = query.where(Notification.event == event)
    return list(session.scalars(query.order_by(Notification.created_at)))


def deliveries_of(session, *, channel: str | None = None, event: str | None = None) -> list[Delivery]:  # noqa: ANN001
    query = select(Delivery)
    if channel:
        query = query.where(Delivery.channel == channel)
    if event:
        query = query.where(Delivery.event == event)
    return list(session.scalars(query.order_by(Delivery.created_at)))


def add_webhook(session, url: str, events: list[str] | None = None, secret: str = "s3cret" * 8) -> Webhook:  # noqa: ANN001
    webhook = Webhook(url=url, secret=secret, events=events or [], active=True)
    session.add(webhook)
    session.flush()
    return webhook


# --- the real queue ---------------------------------------------------------------------------------------------

class Queue:
    """This run's deliveries queue on the test Redis, and a SimpleWorker that works it in this process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.connection = redis.Redis.from_url(app.config["REDIS_URL"])
        with app.app_context():
            self.queue = delivery_queue(self.connection)

    @property
    def job_ids(self) -> list[str]:
        return self.queue.get_job_ids()

    def work(self) -> bool:
        """Run every queued job (and immediate retries) to the end, like `flask jobs worker --burst`."""
        with self.app.app_context():
            return SimpleWorker([self.queue], connection=self.connection).work(burst=True)

    def scheduled(self) -> list[tuple[str, datetime]]:
        """Jobs waiting for a retry, with when RQ will run them."""
        registry = ScheduledJobRegistry(queue=self.queue)
        return [(job_id, registry.get_scheduled_time(job_id)) for job_id in registry.get_job_ids()]

    def release_scheduled(self) -> int:
        """Move scheduled retries into the queue now (what the RQ scheduler does when their time comes)."""
        registry = ScheduledJobRegistry(queue=self.queue)
        ids = registry.get_job_ids()
        for job_id in ids:
            registry.remove(job_id)
            self.queue.enqueue_job(self.queue.fetch_job(job_id))
        return len(ids)

    def clear(self) -> None:
        for registry in (ScheduledJobRegistry(queue=self.queue), FailedJobRegistry(queue=self.queue)):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)
        self.queue.empty()


@pytest.fixture
def rq_queue(app: Flask) -> Iterator[Queue]:
    """The real deliveries queue, emptied before and after the test."""
    queue = Queue(app)
    queue.clear()
    yield queue
    queue.clear()
    queue.connection.close()


@pytest.fixture
def fast_retries(app: Flask) -> Iterator[None]:
    """Retry at once instead of after 10 s … 30 min, so a burst worker runs every attempt."""
    app.config["DELIVERY_RETRY_INTERVALS"] = [0, 0, 0, 0, 0]
    yield
    app.config.pop("DELIVERY_RETRY_INTERVALS", None)


@pytest.fixture
def inline_delivery(app: Flask) -> Iterator[None]:
    """A deployment without Redis for deliveries: they are sent inline right after the commit."""
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = None
    yield
    app.config["REDIS_URL"] = previous


# --- a local webhook receiver -----------------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What a local HTTP server received; `answers` scripts its status codes (then `default`)."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    default: int = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1:<free port> recording each POST."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                status = state.answers.pop(0) if state.answers else state.default
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="webhook-receiver",
                              daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


