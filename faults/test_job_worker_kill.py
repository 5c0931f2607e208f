"""The RQ delivery worker killed (SIGKILL, the whole process group) in the middle of sending a webhook: the job is
retried and its effect happens exactly once — the receiver sees one delivery id, the row is delivered once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faults.conftest import BIN, ROOT, Stack, children_of, free_port, ledger_rows, make_stack, wait_for


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from make_stack(families=1, kids=1)


class Receiver:
    """A webhook receiver that holds the first POST open until released, and remembers every POST."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[tuple[str, str, bytes]] = []  # (delivery id, signature, body)
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.headers["X-HousePoints-Delivery"],
                                       self.headers["X-HousePoints-Signature"], body))
                if len(receiver.posts) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(30)  # the worker dies while we hold its request
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _worker(stack: Stack) -> subprocess.Popen[bytes]:
    with (stack.root / "worker.log").open("ab") as log:
        return subprocess.Popen([str(BIN / "flask"), "jobs", "worker"], cwd=ROOT, env=stack.env(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def test_job_worker_killed_mid_delivery(stack: Stack) -> None:
    family = stack.families[0]
    parent = stack.client(family["slug"], family["parent_token"])
    receiver = Receiver()
    first = _worker(stack)
    second = None
    try:
        hook = parent.post("/api/webhooks", json={"url": f"http://127.0.0.1:{receiver.port}/hook",
                                                  "events": ["points_bonus"]})
        assert hook.status_code == 201, hook.text
        bonus = parent.post(f"/api/users/{family['kids'][0]['id']}/bonus", json={"points": 3, "reason": "Kind"})
        assert bonus.status_code == 201
        assert receiver.first_arrived.wait(60), "the worker never sent the webhook"
        horses = children_of(first.pid)  # none: `flask jobs worker` is a SimpleWorker, the job runs in its process
        for pid in (first.pid, *horses):  # the whole worker dies mid-POST, as in an OOM kill or a lost node
            os.kill(pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        rows = ledger_rows(stack, "SELECT id, status, attempts FROM deliveries WHERE channel = 'webhook'")
        assert [row[1:] for row in rows] == [("queued", "0")], rows  # its transaction died with it: nothing recorded
        receiver.release.set()

        second = _worker(stack)  # the restarted worker (a new pod, systemd's restart) takes the job back
        retried_in = wait_for(lambda: ledger_rows(stack, "SELECT status FROM deliveries WHERE channel = 'webhook'")
                              == [("delivered",)], 60, "the delivery retried and recorded")
        time.sleep(2)  # a second send, if any, would arrive now
    finally:
        receiver.close()
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)

    delivery_id = rows[0][0]
    assert {post[0] for post in receiver.posts} == {delivery_id}  # one idempotency key for every attempt
    assert len({(post[1], post[2]) for post in receiver.posts}) == 1  # the same signed bytes each time
    assert json.loads(receiver.posts[0][2])["id"] == delivery_id
    assert ledger_rows(stack, f"SELECT status, attempts FROM deliveries WHERE id = '{delivery_id}'") == [
        ("delivered", "1")]
    print(f"worker SIGKILLed mid-POST; delivered by the restarted worker {retried_in:.1f}s later; receiver saw "
          f"{len(receiver.posts)} POSTs of delivery {delivery_id} (one effect, deduplicated by its id); "
          f"{time.monotonic() - killed_at:.0f}s from kill to check")
