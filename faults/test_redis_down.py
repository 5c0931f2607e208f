"""Redis stopped mid-run: pages and the API keep answering, live updates turn into polling, and it all comes back."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from faults.conftest import Stack, make_stack, sign_in_page, wait_for
from faults.load import Load
from app.redis_store import PROBE_SECONDS
from faults.populate import PARENT_PASSWORD

DOWN_SECONDS = 5.0


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from make_stack(families=1, kids=3)


def _live(page_html: str) -> bool:
    return "sse-connect=" in page_html


def test_redis_stopped_mid_run(stack: Stack) -> None:
    family = stack.families[0]
    browser = sign_in_page(stack, family["slug"], "parent", PARENT_PASSWORD)
    home = browser.get("/")
    assert home.status_code == 200 and _live(home.text)  # Redis up: the page opens a stream

    load = Load(stack, family)
    load.start()
    time.sleep(2)
    stopped_at = time.monotonic()
    stack.redis.stop()
    try:
        # Let the requests in flight at the stop finish, and every worker's Redis probe (asked at most every
        # PROBE_SECONDS) notice, then look at the down window on its own.
        time.sleep(PROBE_SECONDS + 1)
        down_from = time.monotonic()
        home = browser.get("/")
        assert home.status_code == 200 and not _live(home.text)  # no stream that cannot work: the page polls
        stream = browser.get("/events", stream=True)
        assert stream.status_code == 503 and stream.headers["Retry-After"]
        stream.close()
        wrong = browser.post("/login", data={"login": "parent", "password": "wrong"})  # rate limit in memory now
        assert wrong.status_code in (400, 422)  # no CSRF token here: refused as a bad request, never a 500
        time.sleep(DOWN_SECONDS)
        down_until = time.monotonic()
        during = load.statuses(since=down_from, until=down_until)
    finally:
        stack.redis.start()
    restarted_at = time.monotonic()
    recovered_in = wait_for(lambda: _live(browser.get("/").text), 15, "pages opening streams again")
    stream = browser.get("/events", stream=True)
    assert stream.status_code == 200 and next(stream.iter_content(chunk_size=None)).startswith(b"retry:")
    stream.close()
    time.sleep(1)
    load.stop()

    failures = load.failures(allowed_in_flight_at=(stopped_at,))
    assert failures == []
    assert during[200] + during[201] > 0 and set(during) <= {200, 201}, during  # writes and reads went on
    after = load.statuses(since=restarted_at)
    assert after[200] + after[201] > 0 and set(after) <= {200, 201}, after
    acknowledged = sum(1 for o in load.outcomes if o.action == "bonus" and o.status == 201)
    reconcile = stack.cli("points", "reconcile", check=False)
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    print(f"redis down {down_until - stopped_at:.1f}s: {sum(during.values())} requests answered {dict(during)}; "
          f"{len(load.outcomes)} in all, {acknowledged} bonuses acknowledged; live again {recovered_in:.1f}s "
          f"after restart")
