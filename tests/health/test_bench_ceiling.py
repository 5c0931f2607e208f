"""The fleet benchmark's ceiling route exists only when the benchmark's config asks for it."""
from __future__ import annotations

from flask import Flask

from app.tenancy.registry import FamilyRecord
from tests.conftest import host_client


def _app_with_ceiling(app: Flask) -> Flask:
    from app import create_app
    from config import TestConfig

    # The session app's databases and key prefix; only the flag differs.
    return create_app(TestConfig, BENCH_CEILING_ROUTE=True, PLATFORM_DATABASE_URL=app.config["PLATFORM_DATABASE_URL"],
                      FAMILY_DATABASE_URL=app.config["FAMILY_DATABASE_URL"],
                      DEDICATED_DATABASE_URL_TEMPLATE=app.config["DEDICATED_DATABASE_URL_TEMPLATE"],
                      REDIS_KEY_PREFIX=app.config["REDIS_KEY_PREFIX"])


def test_the_ceiling_route_is_absent_from_a_normal_app(app: Flask, family: FamilyRecord) -> None:
    assert host_client(app, family).get("/_bench/ceiling").status_code == 404


def test_the_ceiling_route_runs_one_select_on_a_family_host_only(app: Flask, family: FamilyRecord) -> None:
    bench = _app_with_ceiling(app)
    try:
        response = host_client(bench, family).get("/_bench/ceiling")
        assert response.status_code == 200
        assert response.get_data(as_text=True) == "1"
        assert host_client(bench).get("/_bench/ceiling").status_code == 404  # the apex has no family engine
        assert host_client(bench, "no-such-family").get("/_bench/ceiling").status_code == 404
    finally:
        bench.extensions["housepoints.engines"].dispose_all()
