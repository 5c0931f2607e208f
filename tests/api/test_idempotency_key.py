"""A client that loses the answer to a bonus or deduction may retry it with the same `Idempotency-Key`: the points
move once. Runs on PostgreSQL and SQLite; the race of two retries needs PostgreSQL's row locks."""
from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from app.points.models import LedgerEntry
from tests.api.conftest import People
from tests.api.test_daily_access import refused
from tests.conftest import app_on_both_engines
from tests.neighbour import fingerprint

app = app_on_both_engines()


def _post(api: Any, people: People, route: str, body: dict[str, Any], key: str | None,
          member: Any = None) -> Any:
    headers = dict(people.headers(people.parent))
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post(f"/api/users/{(member or people.kid).id}/{route}", json=body, headers=headers)


def _rows(in_family: Any, family: Any, member_id: Any) -> list[tuple[int, str, str | None]]:
    with in_family(family) as ctx:
        return [(row.amount, row.kind, row.idempotency_key) for row in ctx.session.scalars(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.created_at))]


@pytest.mark.parametrize("route, kind, signed", [("bonus", "bonus", 7), ("deductions", "deduction", -7)])
def test_a_retry_with_the_same_key_moves_the_points_once(api, people: People, in_family, route: str,  # noqa: ANN001
                                                          kind: str, signed: int) -> None:
    _post(api, people, "bonus", {"points": 20, "reason": "Start"}, None)
    key = str(uuid.uuid4())
    first = _post(api, people, route, {"points": 7, "reason": "Helped with bags"}, key)
    again = _post(api, people, route, {"points": 7, "reason": "Helped with bags"}, key)
    assert (first.status_code, again.status_code) == (201, 201), again.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["transaction"] == first.get_json()["transaction"]
    assert again.get_json()["available_points"] == first.get_json()["available_points"] == 20 + signed
    assert _rows(in_family, people.family, people.kid.id)[1:] == [(signed, kind, key)]


def test_without_a_key_each_post_counts(api, people: People, in_family) -> None:  # noqa: ANN001
    for _ in range(2):
        assert _post(api, people, "bonus", {"points": 3, "reason": "Tidy"}, None).status_code == 201
    assert _rows(in_family, people.family, people.kid.id) == [(3, "bonus", None), (3, "bonus", None)]


@pytest.mark.parametrize("changed", [{"points": 8, "reason": "Helped"}, {"points": 7, "reason": "Other"}])
def test_a_key_reused_for_a_different_request_is_refused(api, app, people: People, in_family,  # noqa: ANN001
                                                         changed: dict[str, Any]) -> None:
    key = "retry-" + uuid.uuid4().hex
    assert _post(api, people, "bonus", {"points": 7, "reason": "Helped"}, key).status_code == 201
    before = fingerprint(app, people.family)
    body = refused(_post(api, people, "bonus", changed, key), 422,
                   "This Idempotency-Key was already used for a different request")
    assert body["fields"] == {"Idempotency-Key": "reused"}
    # The same key for another kid, or as a deduction, is a different request too.
    refused(_post(api, people, "bonus", {"points": 7, "reason": "Helped"}, key, member=people.sibling), 422)
    refused(_post(api, people, "deductions", {"points": 7, "reason": "Helped"}, key), 422)
    assert fingerprint(app, people.family) == before


@pytest.mark.parametrize("key", ["", " ", "x" * 101, "café", "a b", "tab\there", "\x7f"])
def test_a_malformed_key_is_refused_and_changes_nothing(api, app, people: People, key: str) -> None:  # noqa: ANN001
    before = fingerprint(app, people.family)
    body = refused(_post(api, people, "bonus", {"points": 7, "reason": "Helped"}, key), 400,
                   "Idempotency-Key must be 1-100 visible ASCII characters")
    assert body["fields"] == {"Idempotency-Key": "invalid"}
    assert fingerprint(app, people.family) == before


def test_another_familys_key_never_replays_this_familys_row(api, app, client_for, people: People,  # noqa: ANN001
                                                            in_family) -> None:
    key = "shared-" + uuid.uuid4().hex
    mine = _post(api, people, "bonus", {"points": 7, "reason": "Helped"}, key)
    assert mine.status_code == 201
    before = fingerprint(app, people.family)
    stranger_api = client_for(people.other_family)
    stranger_headers = {**people.headers(people.stranger), "Idempotency-Key": key}
    theirs = stranger_api.post(f"/api/users/{people.stranger_kid.id}/bonus", json={"points": 7, "reason": "Helped"},
                               headers=stranger_headers)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["transaction"]["id"] != mine.get_json()["transaction"]["id"]
    assert theirs.get_json()["user_id"] == str(people.stranger_kid.id)
    # Aimed at this family's kid from the stranger family's host, the key finds nothing of ours.
    refused(stranger_api.post(f"/api/users/{people.kid.id}/bonus", json={"points": 7, "reason": "Helped"},
                              headers=stranger_headers), 404)
    assert fingerprint(app, people.family) == before
    assert _rows(in_family, people.other_family, people.stranger_kid.id) == [(7, "bonus", key)]


@pytest.mark.postgresql_only("two retries racing need row locks")
def test_retries_racing_each_other_post_once(app, client_for, people: People, in_family) -> None:  # noqa: ANN001
    key = str(uuid.uuid4())
    answers: list[Any] = []
    start = threading.Barrier(4)

    def retry() -> None:
        client = client_for(people.family)
        start.wait()
        answers.append(_post(client, people, "bonus", {"points": 5, "reason": "Race"}, key))

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answer.status_code for answer in answers) == [201] * 4
    assert sum("Idempotent-Replayed" in answer.headers for answer in answers) == 3
    assert len({answer.get_json()["transaction"]["id"] for answer in answers}) == 1
    assert _rows(in_family, people.family, people.kid.id) == [(5, "bonus", key)]
