"""Load for the fault tests: threads that keep reading and writing through the API while a test breaks things.

Every request is recorded with when it started and ended and how it ended (status or exception), so a test can
tell a failure that was in flight when the fault hit from one that came after.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from faults.conftest import Client, Stack, ledger_rows


@dataclass(frozen=True)
class Outcome:
    """One request: what it was, when it ran, its status (None: no answer) and, for writes, what it acknowledged."""

    action: str
    started: float
    ended: float
    status: int | None
    body: dict[str, Any] | None = None
    error: str | None = None

    def in_flight_at(self, moment: float) -> bool:
        return self.started <= moment <= self.ended


@dataclass
class Load:
    """Background clients against one family: pages, reads, bonuses, and assignments taken to verified."""

    stack: Stack
    family: dict[str, Any]
    threads: int = 4
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        slug = self.family["slug"]
        self.parent = self.stack.client(slug, self.family["parent_token"])
        self.kids = [self.stack.client(slug, kid["token"]) for kid in self.family["kids"]]
        self.page = self.stack.client(slug)

    def record(self, action: str, call: Callable[[], requests.Response]) -> Outcome:
        started = time.monotonic()
        try:
            response = call()
            body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") \
                else None
            outcome = Outcome(action, started, time.monotonic(), response.status_code, body)
        except (requests.RequestException, ValueError) as error:
            outcome = Outcome(action, started, time.monotonic(), None, error=type(error).__name__)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def step(self, rng: random.Random) -> None:
        """One random action by a random client."""
        kid_index = rng.randrange(len(self.kids))
        kid, kid_id = self.kids[kid_index], self.family["kids"][kid_index]["id"]
        roll = rng.random()
        if roll < 0.2:
            self.record("page", lambda: self.page.get("/login"))
        elif roll < 0.4:
            self.record("read", lambda: kid.get(f"/api/users/{kid_id}/points"))
        elif roll < 0.6:
            self.record("bonus", lambda: self.parent.post(f"/api/users/{kid_id}/bonus",
                                                          json={"points": 1, "reason": "fault load"}))
        else:
            self.chore_round(kid, kid_id)

    def chore_round(self, kid: Client, kid_id: str) -> None:
        """Create an assignment, the kid completes it, the parent approves it (10 points land once)."""
        created = self.record("assign", lambda: self.parent.post(
            "/api/assignments", json={"chore_id": self.family["chore_id"], "assigned_to": kid_id}))
        if created.status != 201 or created.body is None:
            return
        assignment = created.body["id"]
        done = self.retried("complete", lambda: kid.post(f"/api/assignments/{assignment}/complete", json={}))
        if done.status != 200:
            return
        self.retried("verify", lambda: self.parent.post(f"/api/assignments/{assignment}/verify",
                                                        json={"approved": True}))

    def retried(self, action: str, call: Callable[[], requests.Response]) -> Outcome:
        """A client that lost the answer (or got a 503) tries once more, like a phone app: it must not count twice."""
        outcome = self.record(action, call)
        if outcome.status is None or outcome.status == 503:
            time.sleep(0.5)
            again = self.record(f"{action}-retry", call)
            return again if again.status is not None else outcome
        return outcome

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stop.is_set():
            self.step(rng)

    def start(self) -> None:
        for number in range(self.threads):
            thread = threading.Thread(target=self.run, args=(number,), daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=60)

    def statuses(self, since: float = float("-inf"), until: float = float("inf")) -> Counter[int | None]:
        with self._lock:
            return Counter(o.status for o in self.outcomes if since <= o.started <= until)

    def failures(self, *, allowed_in_flight_at: tuple[float, ...] = ()) -> list[Outcome]:
        """5xx answers and dropped connections, except those of requests in flight at one of the given moments."""
        with self._lock:
            return [o for o in self.outcomes if (o.status is None or o.status >= 500)
                    and not any(o.in_flight_at(moment) for moment in allowed_in_flight_at)]


def check_acknowledged_writes(stack: Stack, outcomes: list[Outcome]) -> dict[str, int]:
    """Every acknowledged bonus and approval is in the ledger, no assignment was credited twice, balances reconcile."""
    bonuses = {o.body["transaction"]["id"] for o in outcomes
               if o.action == "bonus" and o.status == 201 and o.body is not None}
    approved = {o.body["assignment_id"] for o in outcomes
                if o.action == "verify" and o.status == 200 and o.body is not None}
    stored_bonuses = {row[0] for row in ledger_rows(stack, "SELECT id FROM points_ledger WHERE kind = 'bonus'")}
    credits = Counter({row[0]: int(row[1]) for row in ledger_rows(
        stack, "SELECT assignment_id, count(*) FROM points_ledger WHERE kind = 'chore' GROUP BY assignment_id")})
    assert bonuses <= stored_bonuses, f"acknowledged bonuses missing: {sorted(bonuses - stored_bonuses)[:5]}"
    assert approved <= set(credits), f"acknowledged approvals missing: {sorted(approved - set(credits))[:5]}"
    doubled = {assignment: count for assignment, count in credits.items() if count > 1}
    assert doubled == {}, f"assignments credited more than once: {doubled}"
    reconcile = stack.cli("points", "reconcile", check=False)
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    return {"bonuses_acknowledged": len(bonuses), "approvals_acknowledged": len(approved),
            "chore_credits": sum(credits.values())}
