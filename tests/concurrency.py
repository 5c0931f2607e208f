"""Real concurrency for race tests: threads with their own family sessions, released together by a barrier."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy.orm import Session

from app.tenancy.context import family_context

T = TypeVar("T")
MAX_RACERS = 20  # the race_app fixture's pools hold this many connections at once


def run_together(flask_app: Flask, slug: str, workers: list[Callable[[Session], T]]) -> list[T | Exception]:
    """Run each worker in its own thread and family session, all released at once; each commits its own work.

    Returns each worker's result, or the exception it raised (its transaction rolled back).
    """
    assert len(workers) <= MAX_RACERS, "raise MAX_RACERS (and the pools) for more racers"
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int) -> None:
        try:
            with flask_app.app_context(), family_context(slug) as ctx:
                barrier.wait(timeout=30)
                results[index] = workers[index](ctx.session)
                ctx.session.commit()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each racer got
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a racer hung (deadlock or pool exhaustion)"
    return results
