"""PostgreSQL restarted (cleanly, then crashed) mid-run: 503 fast, recovery by itself, no acknowledged write lost."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from faults.conftest import Stack, make_stack, sign_in_page, wait_for
from faults.load import Load, check_acknowledged_writes
from faults.populate import PARENT_PASSWORD

DOWN_SECONDS = 3.0
RECOVERY_BOUND = 5.0  # the promise: back by itself within 5 s of the database accepting connections


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from make_stack(families=1, kids=3)


@pytest.mark.parametrize("mode", ["fast", "immediate"])  # a clean restart, then a crash with WAL recovery
def test_postgres_restarted_mid_run(stack: Stack, mode: str) -> None:
    family = stack.families[0]
    browser = sign_in_page(stack, family["slug"], "parent", PARENT_PASSWORD)
    api = stack.client(family["slug"], family["parent_token"])
    load = Load(stack, family)
    load.start()
    time.sleep(2)
    stopped_at = time.monotonic()
    stack.postgres.stop(mode)
    try:
        time.sleep(0.5)
        page = browser.get("/")
        assert page.status_code == 503 and "reach our database" in page.text, (page.status_code, page.text[:300])
        assert page.headers["Retry-After"] == "5"
        answer = api.get(f"/api/users/{family['kids'][0]['id']}/points")
        assert answer.status_code == 503 and "database" in answer.json()["error"]
        time.sleep(DOWN_SECONDS)
        down_until = time.monotonic()
    finally:
        stack.postgres.start()
    back_at = time.monotonic()
    recovered_in = wait_for(lambda: api.get("/api/users").status_code == 200, RECOVERY_BOUND, "the API answering 200")
    time.sleep(2)
    load.stop()

    during = load.statuses(since=stopped_at + 0.2, until=down_until)
    assert set(during) <= {200, 503}, during  # the login page needs no database; everything else says 503 at once
    assert load.failures(allowed_in_flight_at=()) == [o for o in load.outcomes if o.status == 503], \
        "a 500 or a dropped connection"
    after = load.statuses(since=back_at + recovered_in + 0.5)
    assert set(after) <= {200, 201} and after[201] > 0, after
    figures = check_acknowledged_writes(stack, load.outcomes)
    print(f"postgres {mode} stop: down {down_until - stopped_at:.1f}s, {sum(during.values())} requests answered "
          f"{dict(during)}, recovered {recovered_in:.2f}s after start; {len(load.outcomes)} requests; {figures}")
