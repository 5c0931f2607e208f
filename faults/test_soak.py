"""Soak: 10,000 random completions, approvals, redemptions, bonuses and deductions over 50 kids in 5 families from
parallel clients against gunicorn; afterwards the ledger reconciles, no balance is negative, nothing was credited
twice, and stock and limits held."""
from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from faults.conftest import Client, Stack, ledger_rows, make_stack

OPERATIONS = int(os.environ.get("SOAK_OPERATIONS", "10000"))
CLIENTS = 8
FAMILIES, KIDS = 5, 10


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from make_stack(families=FAMILIES, kids=KIDS)


class Soak:
    """Parallel clients each taking random actions until OPERATIONS requests have been made."""

    def __init__(self, stack: Stack) -> None:
        self.families = stack.families
        # A generous timeout: the soak proves correctness, not latency (a loaded CI machine may be slow).
        self.parents = [Client(stack.port, f["slug"], f["parent_token"], timeout=120, keep_alive=False)
                        for f in self.families]
        self.kids = [[Client(stack.port, f["slug"], k["token"], timeout=120, keep_alive=False) for k in f["kids"]]
                     for f in self.families]
        self.lock = threading.Lock()
        self.started = 0
        self.statuses: Counter[tuple[str, int | None]] = Counter()
        self.errors: Counter[str] = Counter()
        self.to_approve: list[list[str]] = [[] for _ in self.families]
        self.to_decide: list[list[str]] = [[] for _ in self.families]

    def claim_slot(self) -> bool:
        """One more request within the budget (OPERATIONS in all)."""
        with self.lock:
            if self.started >= OPERATIONS:
                return False
            self.started += 1
            return True

    def call(self, action: str, client: Client, path: str, body: dict[str, Any]) -> requests.Response | None:
        if not self.claim_slot():
            return None
        try:
            response = client.post(path, json=body)
        except requests.RequestException as error:
            response = None
            with self.lock:
                self.errors[f"{action}: {type(error).__name__}: {str(error)[:200]}"] += 1
        with self.lock:
            self.statuses[(action, response.status_code if response is not None else None)] += 1
        return response

    def pick(self, queue: list[str], rng: random.Random, *, keep: float) -> str | None:
        """An item to act on; sometimes left in place, so two clients decide the same thing at once."""
        with self.lock:
            if not queue:
                return None
            index = rng.randrange(len(queue))
            return queue[index] if rng.random() < keep else queue.pop(index)

    def step(self, rng: random.Random) -> None:
        f = rng.randrange(len(self.families))
        k = rng.randrange(KIDS)
        family, parent, kid = self.families[f], self.parents[f], self.kids[f][k]
        kid_id = family["kids"][k]["id"]
        roll = rng.random()
        if roll < 0.30:
            created = self.call("assign", parent, "/api/assignments",
                                {"chore_id": family["chore_id"], "assigned_to": kid_id})
            if created is not None and created.status_code == 201:
                assignment = created.json()["id"]
                done = self.call("complete", kid, f"/api/assignments/{assignment}/complete", {})
                if done is not None and done.status_code == 200:
                    with self.lock:
                        self.to_approve[f].append(assignment)
        elif roll < 0.50:
            assignment = self.pick(self.to_approve[f], rng, keep=0.15)
            if assignment is not None:
                self.call("approve", parent, f"/api/assignments/{assignment}/verify", {"approved": True})
        elif roll < 0.65:
            reward = rng.choice(family["rewards"])
            answer = self.call("redeem", kid, f"/api/rewards/{reward['id']}/redeem", {})
            if answer is not None and answer.status_code == 200 and answer.json()["status"] == "pending":
                with self.lock:
                    self.to_decide[f].append(answer.json()["redemption_id"])
        elif roll < 0.75:
            redemption = self.pick(self.to_decide[f], rng, keep=0.15)
            if redemption is not None:
                if rng.random() < 0.7:
                    self.call("redemption-approve", parent, f"/api/redemptions/{redemption}/approve", {})
                else:
                    self.call("redemption-reject", parent, f"/api/redemptions/{redemption}/reject",
                              {"reason": "Not this week"})
        elif roll < 0.90:
            self.call("bonus", parent, f"/api/users/{kid_id}/bonus", {"points": rng.randint(1, 20), "reason": "Soak"})
        else:
            self.call("deduction", parent, f"/api/users/{kid_id}/deductions",
                      {"points": rng.randint(1, 15), "reason": "Soak"})

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        while self.started < OPERATIONS:
            self.step(rng)


def test_soak(stack: Stack) -> None:
    soak = Soak(stack)
    start = time.monotonic()
    threads = [threading.Thread(target=soak.run, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    requests_made = sum(soak.statuses.values())
    print(f"\nsoak: {requests_made} requests by {CLIENTS} clients in {elapsed:.0f}s "
          f"({requests_made / elapsed:.0f}/s) over {FAMILIES} families x {KIDS} kids")
    for (action, status), count in sorted(soak.statuses.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        print(f"  {action:20} {status}: {count}")

    assert requests_made == OPERATIONS
    broken = {key: count for key, count in soak.statuses.items() if key[1] is None or key[1] >= 500}
    assert broken == {}, (broken, soak.errors)

    reconcile = stack.cli("points", "reconcile", check=False)
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    negative = ledger_rows(stack, "SELECT username, available_points FROM members WHERE available_points < 0")
    assert negative == [], negative
    # Nothing credited twice: one chore row per verified assignment and none for any other.
    credited = ledger_rows(stack, "SELECT assignment_id, count(*) FROM points_ledger WHERE kind = 'chore' "
                                  "GROUP BY assignment_id HAVING count(*) > 1")
    assert credited == [], credited
    unverified = ledger_rows(stack, "SELECT l.assignment_id FROM points_ledger l JOIN assignments a "
                                    "ON a.id = l.assignment_id WHERE l.kind = 'chore' AND a.status <> 'verified'")
    assert unverified == [], unverified
    approved = sum(count for (action, status), count in soak.statuses.items() if action == "approve" and status == 200)
    chore_rows = int(ledger_rows(stack, "SELECT count(*) FROM points_ledger WHERE kind = 'chore'")[0][0])
    assert chore_rows == approved
    # Each redemption held its points once, and a rejected one was refunded once.
    held = ledger_rows(stack, "SELECT reference_id, kind, count(*) FROM points_ledger "
                              "WHERE kind IN ('redemption', 'refund') GROUP BY reference_id, kind HAVING count(*) > 1")
    assert held == [], held
    refunds = ledger_rows(stack, "SELECT count(*) FROM points_ledger l JOIN redemptions r ON r.id = l.reference_id "
                                 "WHERE l.kind = 'refund' AND r.status <> 'rejected'")
    assert refunds == [("0",)]
    # Stock: what is left plus what was taken (not rejected) is what there was.
    for family in stack.families:
        for reward in family["rewards"]:
            if reward["stock"] is None:
                continue
            left, taken = ledger_rows(stack, f"SELECT r.stock, (SELECT count(*) FROM redemptions d WHERE "
                                             f"d.reward_id = r.id AND d.status <> 'rejected') FROM rewards r "
                                             f"WHERE r.id = '{reward['id']}'")[0]
            assert int(left) >= 0 and int(left) + int(taken) == reward["stock"], (reward, left, taken)
    over_limit = ledger_rows(stack, "SELECT d.member_id, d.reward_id, count(*) FROM redemptions d JOIN rewards r "
                                    "ON r.id = d.reward_id WHERE r.max_per_week IS NOT NULL AND d.status <> 'rejected' "
                                    "GROUP BY d.member_id, d.reward_id, date_trunc('week', d.requested_at), "
                                    "r.max_per_week HAVING count(*) > r.max_per_week")
    assert over_limit == [], over_limit
