"""The fleet benchmark reads each run's cache hit rates from the app's own `/metrics` (bench/run.py)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from bench.run import cache_counters, hit_rates
from tests.conftest import Auth, host_client

TOKEN = "operator-token-for-the-bench-metrics-test"


def scrape(app: Flask) -> dict[str, dict[str, float]]:
    response = host_client(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return cache_counters(response.get_data(as_text=True))


def test_a_run_s_view_cache_and_registry_hit_rates_come_from_the_metrics_delta(
        app: Flask, family: FamilyRecord, create_member: Callable[..., Member], auth: Auth,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", TOKEN)
    parent = create_member(role="parent")
    api = host_client(app, family)
    bearer = auth.bearer(parent, family)
    api.get("/api/chores", headers=bearer)  # the family's first read: whatever it costs, before the "run"
    before = scrape(app)
    for _ in range(3):
        assert api.get("/api/chores", headers=bearer).status_code == 200
    rates = hit_rates(before, scrape(app))
    assert rates["view cache"]["lookups"] == 3
    assert rates["view cache"]["hits"] == 3
    assert rates["view cache"]["hit_rate"] == 1.0
    assert rates["registry"]["lookups"] >= 3
    assert rates["registry"]["by_outcome"].get("miss", 0) == 0
