"""Prometheus metrics: requests by route class, registry cache hits, pool use, tick durations; `/metrics` for the
operator only (a bearer token or an operator network).

Under gunicorn the numbers of every worker are summed: deploy/gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR and
marks dead workers, and `/metrics` reads that directory. Without it (tests, `make run`) the process's own registry.
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

from app.operator_access import operator_access_granted

REQUESTS = Counter("housepoints_requests_total", "Requests answered, by route class (blueprint) and status class.",
                   ("route_class", "method", "status_class"))
LATENCY = Histogram("housepoints_request_seconds", "Server time per request (first hook to response).",
                    ("route_class",),
                    buckets=(0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0))
REGISTRY_LOOKUPS = Counter("housepoints_registry_lookups_total", "Family registry lookups by outcome.",
                           ("outcome",))  # hit, miss (read from the platform database), negative (unknown, cached)
VIEW_CACHE = Counter("housepoints_view_cache_total", "Family-versioned view cache reads by outcome.",
                     ("outcome",))  # hit, miss (rendered and stored), bypass (no Redis, or it is down)
POOL_CHECKED_OUT = Gauge("housepoints_db_pool_checked_out", "Connections in use in the shared engines' pools.",
                         ("pool",), multiprocess_mode="livesum")
TICK_FAMILY_SECONDS = Histogram("housepoints_tick_family_seconds", "One family's share of the tick (its RQ job).",
                                buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0))
TICK_QUEUE_SECONDS = Histogram("housepoints_tick_enqueue_seconds", "Queueing one minute's jobs for every family.",
                               buckets=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0))


def init_app(app: Flask) -> None:
    """Count every request and serve `/metrics` on the apex to the operator."""
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", metrics_view)


def _observe(response: Response) -> Response:
    route_class = request.blueprint or ("static" if request.endpoint == "static" else "none")
    REQUESTS.labels(route_class, request.method, f"{response.status_code // 100}xx").inc()
    started = g.get("request_started")
    if started is not None:
        LATENCY.labels(route_class).observe(time.perf_counter() - started)
    return response


def observe_pools() -> None:
    """Record how many connections the shared engines' pools have out (called at scrape time)."""
    from app.db import engines

    for name, entry in engines().stats().items():
        checked_out = entry.get("checkedout")
        if isinstance(checked_out, int):
            POOL_CHECKED_OUT.labels(name).set(checked_out)


def metrics_view() -> Response:
    """The Prometheus text format, for the operator only (403 for anyone else, on any host)."""
    if not operator_access_granted():
        abort(403, description="Operator access only.")
    observe_pools()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
