"""Health, version, JSON errors and the request log."""
from __future__ import annotations

import json
import logging

from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import build_migrated_app, host_client

OPERATOR_TOKEN = "an-operator-token-long-enough-to-be-real-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def test_health_reports_healthy(apex_client) -> None:  # noqa: ANN001
    response = apex_client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "healthy", "version": "0.1.0", "db_platform": True}


def test_health_works_on_a_family_host(client) -> None:  # noqa: ANN001
    assert client.get("/health").get_json()["status"] == "healthy"


def test_health_is_503_when_the_platform_database_is_down(app: Flask, tmp_path) -> None:  # noqa: ANN001
    from app import create_app
    from config import TestConfig

    # The same key prefix as the session app: RQ key names are per process (app/jobs/rq_keys.py).
    broken = create_app(TestConfig, PLATFORM_DATABASE_URL="postgresql+psycopg://hp_app:hp_app@127.0.0.1:1/nowhere",
                        REDIS_KEY_PREFIX=app.config["REDIS_KEY_PREFIX"])
    response = host_client(broken).get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unhealthy", "version": "0.1.0", "db_platform": False}


def test_health_detailed_shows_pools_and_redis_to_operators(client, apex_client, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setitem(client.application.config, "OPERATOR_TOKEN", OPERATOR_TOKEN)
    client.get("/")  # touch the family engine
    assert client.get("/health/detailed", headers=OPERATOR).status_code == 404  # not on family hosts
    body = apex_client.get("/health/detailed", headers=OPERATOR).get_json()
    assert body["status"] == "healthy"
    assert body["redis"] == {"configured": True, "ok": True}
    assert body["total_pools"] == len(body["db_pools"]) >= 2
    assert all("size" in pool and "checkedout" in pool for pool in body["db_pools"].values())
    names = {make_url(client.application.config[k]).database for k in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL")}
    assert set(body["db_pools"]) >= names  # database names only: no users or hosts


def test_version_answers_everywhere(apex_client, client) -> None:  # noqa: ANN001
    for c in (apex_client, client):
        assert c.get("/api/version").get_json() == {"service": "housepoints", "version": "0.1.0"}


def test_api_errors_are_json(client) -> None:  # noqa: ANN001
    missing = client.get("/api/does-not-exist")
    assert missing.status_code == 404 and missing.get_json() == {"error": "Not found"}
    wrong_method = client.delete("/api/family/info")
    assert wrong_method.status_code == 405 and wrong_method.get_json() == {"error": "Method not allowed"}
    assert "GET" in wrong_method.headers["Allow"]
    page = client.get("/does-not-exist")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_request_id_is_echoed_or_made(client) -> None:  # noqa: ANN001
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32


def test_one_json_log_line_per_request(client, family, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="housepoints.request")
    client.get("/api/family/info", headers={"X-Request-ID": "req-42"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "housepoints.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-42" and line["family"] == family.slug and line["status"] == 200
    assert line["path"] == "/api/family/info" and line["duration_ms"] >= 0


def test_embedded_default_needs_no_services(tmp_path) -> None:  # noqa: ANN001
    """The development config on SQLite with no Redis serves health and pages."""
    from config import DevelopmentConfig

    app = build_migrated_app(DevelopmentConfig, PLATFORM_DATABASE_URL=f"sqlite:///{tmp_path}/p.db",
                             FAMILY_DATABASE_URL=f"sqlite:///{tmp_path}/f.db", REDIS_URL=None, LOG_REQUESTS=False)
    body = host_client(app).get("/health/detailed").get_json()  # development: loopback is an operator network
    assert body["status"] == "healthy" and body["redis"] == {"configured": False, "ok": False}
