"""Streams held by Pushpin (GRIP): the app authorises and names the family's channel; no client can pick another's.

The Pushpin tests run a real `pushpin` (scripts/run-pushpin.sh; scripts/ensure-test-services.sh installs it) in
front of this suite's app served on a loopback port; they are skipped where pushpin is not installed. The rest
(Grip-Sig checks, the fallback, a push server that is down) need only the app.
"""
from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from prometheus_client import REGISTRY
from werkzeug.serving import make_server

from app.live.events import events_channel, publish_event
from app.tenancy.registry import FamilyRecord
from tests.forms import post_form

ROOT = Path(__file__).resolve().parents[2]
SIG_KEY = "test-grip-sig-key-for-this-suite-only"
needs_pushpin = pytest.mark.skipif(shutil.which("pushpin") is None, reason="pushpin is not installed "
                                   "(scripts/ensure-test-services.sh installs it)")


def _failed_publishes() -> float:
    return REGISTRY.get_sample_value("housepoints_live_push_published_total", {"outcome": "failed"}) or 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _grip_sig(key: str = SIG_KEY, **claims: Any) -> str:
    return jwt.encode({"iss": "pushpin", "exp": int(time.time()) + 600, **claims}, key, algorithm="HS256")


def _session_cookie(app: Flask, family: FamilyRecord, token: str) -> str:
    """The signed cookie a browser holds after signing in on the family's host."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return f"session={serializer.dumps({'family_id': str(family.id), '_user_id': token, '_fresh': True})}"


@pytest.fixture
def grip_config(app: Flask) -> Iterator[Callable[..., None]]:
    """Point the app at a push server for one test; the old settings come back afterwards."""
    saved = {name: app.config.get(name) for name in ("PUSH_SERVER_URL", "GRIP_SIG_KEY", "PUSH_PUBLISH_TIMEOUT")}

    def configure(url: str | None, key: str | None = SIG_KEY) -> None:
        app.config.update(PUSH_SERVER_URL=url, GRIP_SIG_KEY=key, PUSH_PUBLISH_TIMEOUT=2.0)

    yield configure
    app.config.update(saved)


class Pushpin:
    """A real Pushpin in front of the suite's app: `stream(...)` opens /events through it."""

    def __init__(self, base_domain: str, port: int, publish_url: str) -> None:
        self.base_domain, self.port, self.publish_url = base_domain, port, publish_url
        self.connections: list[http.client.HTTPConnection] = []
        self.holding = False  # one stream was held end to end (Pushpin's proxy and handler reach each other)

    def get(self, family: FamilyRecord, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
        # Just after start, Pushpin's proxy may not reach its handler yet: a held stream is then answered 500
        # "Accept service unavailable." (browsers simply reconnect); ask again for a while, like they do.
        for _ in range(50):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.connections.append(connection)
            connection.request("GET", path, headers={"Host": f"{family.slug}.{self.base_domain}", **headers})
            response = connection.getresponse()
            if response.status != 500 or response.getheader("Content-Length") != "28":
                return response
            if not response.read().startswith(b"Accept service unavailable"):
                pytest.fail("pushpin answered 500", pytrace=False)
            time.sleep(0.2)
        pytest.fail("pushpin's accept service never came up", pytrace=False)

    def close_all(self) -> None:
        while self.connections:
            self.connections.pop().close()


@pytest.fixture
def through_pushpin(app: Flask, pushpin: Pushpin, grip_config: Callable[..., None], make_family: Any,
                    create_member: Any, auth: Any, client_for: Any) -> Iterator[Pushpin]:
    """Pushpin in front of the app for one test; its connections are closed afterwards."""
    grip_config(pushpin.publish_url)
    if not pushpin.holding:
        family = make_family()
        _wait_until_a_stream_is_held(pushpin, family, _signed_in(app, auth, client_for, create_member, family,
                                                                 "warm-up"))
    yield pushpin
    pushpin.close_all()


def _wait_until_a_stream_is_held(pushpin: Pushpin, family: FamilyRecord, cookie: str) -> None:
    """Pushpin listens before its proxy and handler reach each other: the first held streams of a fresh Pushpin
    may get 500 or no answer (browsers reconnect). Ready is one stream held end to end."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", pushpin.port, timeout=3)
        try:
            connection.request("GET", "/events", headers={"Host": f"{family.slug}.{pushpin.base_domain}",
                                                          "Cookie": cookie, "Accept": "text/event-stream"})
            if connection.getresponse().status == 200:
                pushpin.holding = True
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.3)
    pytest.fail("no stream was held through pushpin within 60 s", pytrace=False)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pushpin exited {process.returncode}:\n{log.read_text()[-2000:]}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"pushpin did not listen on {port}:\n{log.read_text()[-2000:]}", pytrace=False)


def _wait_for_origin(port: int, base_domain: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Listening is not ready: Pushpin's proxy and handler connect to each other a moment later (a loaded machine
    answered the first held stream with 500). Ready is a request that reaches the app through it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/health", headers={"Host": base_domain})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    pytest.fail(f"the app was not reachable through pushpin on {port}:\n{log.read_text()[-2000:]}", pytrace=False)


@pytest.fixture(scope="module")
def pushpin(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushpin]:
    """The suite's app on a loopback port (werkzeug, threaded) with a real Pushpin in front of it."""
    if shutil.which("pushpin") is None:
        pytest.skip("pushpin is not installed")
    origin = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    folder = tmp_path_factory.mktemp("pushpin")
    # Control ports 5560-5563 + offset, per test run, below the kernel's ephemeral range (32768+) that `_free_port`
    # draws the listening port from: the two can never be the same port.
    port, offset = _free_port(), 10000 + os.getpid() % 15000
    log = folder / "pushpin.log"
    env = {**os.environ, "PUSHPIN_DIR": str(folder / "run"), "PUSHPIN_ORIGIN": f"127.0.0.1:{origin.server_port}",
           "PUSHPIN_BIND": f"127.0.0.1:{port}", "PUSHPIN_PORT_OFFSET": str(offset), "GRIP_SIG_KEY": SIG_KEY}
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", str(ROOT / "scripts" / "run-pushpin.sh")], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, process, log)
        _wait_for_port(5561 + offset, process, log)
        _wait_for_origin(port, app.config["BASE_DOMAIN"], process, log)
        yield Pushpin(app.config["BASE_DOMAIN"], port, f"http://127.0.0.1:{5561 + offset}")
    finally:
        process.send_signal(signal.SIGTERM)  # the runner stops condure, zurl, proxy and handler
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only this Pushpin's processes
            process.wait()
        origin.shutdown()


def _read_until(response: http.client.HTTPResponse, needle: str, seconds: float = 10.0) -> str:
    """What the stream carried until `needle` arrived (fails after `seconds`)."""
    seen = ""
    deadline = time.monotonic() + seconds
    while needle not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{needle!r} never arrived; got {seen!r}")
        try:
            chunk = response.read1(4096)
        except TimeoutError:
            continue
        if not chunk:
            raise AssertionError(f"stream ended before {needle!r}; got {seen!r}")
        seen += chunk.decode()
    return seen


def _read_to_end(response: http.client.HTTPResponse, seconds: float = 10.0) -> None:
    """The stream ends within `seconds` (what it carries meanwhile is ignored)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not response.read1(4096):
                return
        except TimeoutError:
            continue
        except (ConnectionError, http.client.IncompleteRead):
            return
    raise AssertionError(f"the stream was still open after {seconds:.0f} s")


def _until_heard(app: Flask, family_id: uuid.UUID, stream: http.client.HTTPResponse) -> str:
    """Publish a probe on the family's channel until its held stream hears it; the probe's marker.

    Pushpin's handler subscribes the stream just after the origin's answer, so an event published before then is
    lost: wait for a probe to come through rather than for a fixed time.
    """
    marker, heard = uuid.uuid4().hex, threading.Event()

    def keep_publishing() -> None:
        with app.app_context():
            while not heard.is_set():
                publish_event(family_id, "assignmentChanged", {"probe": marker})
                heard.wait(0.1)

    threading.Thread(target=keep_publishing, daemon=True).start()
    try:
        _read_until(stream, marker)
    finally:
        heard.set()
    return marker


def _signed_in(app: Flask, auth: Any, client_for: Callable[..., Any], create_member: Callable[..., Any],
               family: FamilyRecord, name: str) -> str:
    parent = create_member(family_record=family, role="parent", username=name)
    return _session_cookie(app, family, auth.sign_in(client_for(family), parent, family))


@needs_pushpin
def test_pushpin_holds_each_familys_stream_on_its_own_channel(app, through_pushpin, make_family,  # noqa: ANN001
                                                               create_member, auth, client_for) -> None:
    pushpin = through_pushpin
    a, b = make_family(), make_family()
    a_cookie = _signed_in(app, auth, client_for, create_member, a, "mum")
    b_cookie = _signed_in(app, auth, client_for, create_member, b, "dad")
    with app.app_context():
        b_channel = events_channel(b.id)
    # A's device asks for B's channel every way a client could: ignored, the channel comes from A's host alone.
    a_stream = pushpin.get(a, f"/events?channel={b_channel}&Grip-Channel={b_channel}",
                           {"Cookie": a_cookie, "Grip-Channel": b_channel, "Accept": "text/event-stream"})
    b_stream = pushpin.get(b, "/events", {"Cookie": b_cookie, "Accept": "text/event-stream"})
    assert a_stream.status == 200 and a_stream.getheader("Content-Type", "").startswith("text/event-stream")
    assert a_stream.getheader("Grip-Hold") is None and a_stream.getheader("Grip-Channel") is None  # Pushpin's own
    assert "retry: 2000" in _read_until(a_stream, "retry:") and "retry:" in _read_until(b_stream, "retry:")
    probe_a, probe_b = _until_heard(app, a.id, a_stream), _until_heard(app, b.id, b_stream)
    marker_a, marker_b = uuid.uuid4().hex, uuid.uuid4().hex
    with app.app_context():
        assert publish_event(b.id, "pointsChanged", {"secret": marker_b}) is True
        assert publish_event(a.id, "assignmentChanged", {"assignment_id": marker_a}) is True
    received_a = _read_until(a_stream, marker_a)
    received_b = _read_until(b_stream, marker_b)
    assert f'event: assignmentChanged\ndata: {{"assignment_id": "{marker_a}"}}' in received_a
    assert marker_b not in received_a and "pointsChanged" not in received_a
    assert marker_a not in received_b
    assert probe_b not in received_a and probe_a not in received_b


@needs_pushpin
def test_signing_out_closes_the_stream_pushpin_holds(app, through_pushpin, make_family,  # noqa: ANN001
                                                     create_member, auth, client_for) -> None:
    pushpin = through_pushpin
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    laptop, phone = client_for(family), client_for(family)
    cookies = [_session_cookie(app, family, auth.sign_in(browser, parent, family)) for browser in (laptop, phone)]
    on_laptop, on_phone = (pushpin.get(family, "/events", {"Cookie": cookie, "Accept": "text/event-stream"})
                           for cookie in cookies)
    for stream in (on_laptop, on_phone):
        assert stream.status == 200 and "retry:" in _read_until(stream, "retry:")
        _until_heard(app, family.id, stream)

    assert post_form(laptop, "/logout").status_code == 302
    _read_to_end(on_laptop)  # Pushpin closed it: the browser's reconnect is then refused
    assert pushpin.get(family, "/events", {"Cookie": cookies[0]}).status == 401
    marker = uuid.uuid4().hex
    with app.app_context():
        assert publish_event(family.id, "rewardChanged", {"marker": marker}) is True
    assert marker in _read_until(on_phone, marker)  # the parent's other browser still hears the family


@needs_pushpin
def test_another_familys_cookie_or_token_gets_no_stream(app, through_pushpin, make_family,  # noqa: ANN001
                                                        create_member, auth, client_for) -> None:
    pushpin = through_pushpin
    a, b = make_family(), make_family()
    b_parent = create_member(family_record=b, role="parent", username="dad")
    b_cookie = _session_cookie(app, b, auth.sign_in(client_for(b), b_parent, b))
    with app.app_context():
        a_channel = events_channel(a.id)
    attempts = [{"Cookie": b_cookie}, auth.bearer(b_parent, b), {},
                {"Cookie": b_cookie, "Grip-Sig": _grip_sig(), "Grip-Channel": a_channel}]
    for headers in attempts:
        response = pushpin.get(a, f"/events?channel={a_channel}", headers)
        body = response.read().decode()  # answered and closed: nothing held
        assert response.status == 401, (headers.keys(), response.status)
        assert "event:" not in body and response.getheader("Grip-Hold") is None


def test_the_channel_is_the_hosts_family_whatever_the_request_says(app, grip_config, make_family,  # noqa: ANN001
                                                                   create_member, auth, client_for) -> None:
    grip_config("http://127.0.0.1:9")  # configured, never reached by this test
    a, b = make_family(), make_family()
    parent = create_member(family_record=a, role="parent", username="mum")
    client = client_for(a)
    auth.sign_in(client, parent, a)
    with app.app_context():
        a_channel, b_channel = events_channel(a.id), events_channel(b.id)
    response = client.get(f"/events?channel={b_channel}", headers={"Grip-Sig": _grip_sig(),
                                                                   "Grip-Channel": b_channel})
    assert response.status_code == 200
    channels = response.headers["Grip-Channel"].split(", ")
    # The family's events, then this session's and this member's channels (a sign-out closes the stream on them).
    assert response.headers["Grip-Hold"] == "stream" and channels[0] == a_channel and len(channels) == 3
    assert all(channel.startswith(a_channel) and str(a.id) in channel for channel in channels)
    assert str(b.id) not in response.headers["Grip-Channel"] and b_channel not in channels
    assert "Grip-Link" not in response.headers  # Pushpin 1.36 delays deliveries on streams with one


@pytest.mark.parametrize("signature", ["forged", "wrong-key", "expired"])
def test_a_request_not_signed_by_the_push_server_is_not_held(app, grip_config, make_family,  # noqa: ANN001
                                                             create_member, auth, client_for, signature) -> None:
    grip_config("http://127.0.0.1:9")
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    client = client_for(family)
    auth.sign_in(client, parent, family)
    sig = {"forged": "not-a-jwt", "wrong-key": _grip_sig("some-other-key-of-32-characters-xx"),
           "expired": _grip_sig(exp=int(time.time()) - 60)}[signature]
    response = client.get("/events", headers={"Grip-Sig": sig}, buffered=False)
    # The app's own stream (or 503 when its slots are full): never a GRIP hold.
    assert "Grip-Hold" not in response.headers and "Grip-Channel" not in response.headers
    assert response.mimetype == "text/event-stream"
    response.close()


def test_without_a_push_server_grip_headers_are_ignored(app, grip_config, make_family, create_member,  # noqa: ANN001
                                                        auth, client_for) -> None:
    grip_config(None, None)
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    client = client_for(family)
    auth.sign_in(client, parent, family)
    response = client.get("/events", headers={"Grip-Sig": _grip_sig()}, buffered=False)
    assert response.status_code == 200 and "Grip-Hold" not in response.headers
    assert "retry:" in next(iter(response.response)).decode()  # the in-process stream, as before
    response.close()


def test_a_push_server_that_is_down_fails_no_write(app, grip_config, make_family, create_member,  # noqa: ANN001
                                                   auth, client_for) -> None:
    grip_config(f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    family = make_family()
    parent = create_member(family_record=family, role="parent", username="mum")
    kid = create_member(family_record=family, role="child", username="kiddo")
    failed_before = _failed_publishes()
    response = client_for(family).post(f"/api/users/{kid.id}/bonus", json={"points": 5, "reason": "helped"},
                                       headers=auth.bearer(parent, family))
    assert response.status_code == 201, response.get_json()
    assert _failed_publishes() > failed_before  # logged and counted, not raised
    with app.app_context():
        assert publish_event(family.id, "rewardChanged") is True  # Redis still took it: in-process streams hear it
