"""What anyone can read: health and family info without operator credentials name no database; operators see it."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from app.db import engines
from app.operator_access import require_operator_access
from app.tenancy.registry import FamilyRecord
import config
from tests.conftest import host_client

TOKEN = "an-operator-token-long-enough-to-be-real-0123456789"
PUBLIC_HEALTH = {"status", "version", "db_platform"}


def database_names(app: Flask) -> set[str]:
    return {make_url(app.config[key]).database or "" for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL")}


def assert_no_locator(app: Flask, text: str) -> None:
    for name in database_names(app) | {"postgresql", "sqlite", "127.0.0.1", "hp_app"}:
        assert name not in text, name


@pytest.fixture
def app_with(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Factory: another app on the same databases with some config changed; its pools are closed afterwards."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        shared = {key: app.config[key] for key in ("PLATFORM_DATABASE_URL", "FAMILY_DATABASE_URL", "REDIS_KEY_PREFIX")}
        made.append(create_app(config.TestConfig, **shared, **overrides))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            engines().dispose_all()


@pytest.fixture
def with_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", TOKEN)


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer "}, {"X-Forwarded-For": "127.0.0.1"},
], ids=["none", "wrong", "longer", "basic", "empty", "forwarded-loopback"])
def test_without_operator_credentials_health_is_healthy_or_not_and_nothing_more(
        app: Flask, with_token: None, headers: dict[str, str]) -> None:
    apex = host_client(app)
    apex.environ_base["REMOTE_ADDR"] = "127.0.0.1"  # loopback is no operator network on the production-like config

    response = apex.get("/health/detailed", headers=headers)

    assert response.status_code == 200 and set(response.get_json()) == PUBLIC_HEALTH
    assert_no_locator(app, response.get_data(as_text=True))


def test_family_info_names_no_database_without_operator_credentials(app: Flask, family: FamilyRecord,
                                                                    with_token: None) -> None:
    response = host_client(app, family).get("/api/family/info", headers={"Authorization": "Bearer guess"})

    assert response.status_code == 200
    assert response.get_json() == {"family_id": str(family.id), "family_slug": family.slug,
                                   "family_name": family.name, "plan": "free", "status": "active"}
    assert_no_locator(app, response.get_data(as_text=True))


def test_the_operator_token_opens_the_detail(app: Flask, family: FamilyRecord, with_token: None) -> None:
    operator = {"Authorization": f"Bearer {TOKEN}"}
    health = host_client(app).get("/health/detailed", headers=operator).get_json()
    info = host_client(app, family).get("/api/family/info", headers=operator).get_json()

    assert {"db_pools", "redis", "total_pools"} <= set(health)
    assert info["database"] == make_url(app.config["FAMILY_DATABASE_URL"]).database


def test_no_token_configured_means_no_bearer_is_an_operator(app: Flask) -> None:
    assert not app.config.get("OPERATOR_TOKEN")
    for guess in ("", "None", "null"):
        body = host_client(app).get("/health/detailed", headers={"Authorization": f"Bearer {guess}"}).get_json()
        assert set(body) == PUBLIC_HEALTH


@pytest.mark.parametrize(("address", "operator"), [("10.20.30.40", True), ("10.20.31.1", False),
                                                   ("127.0.0.1", False), ("fd00::1", True)])
def test_operator_networks_are_the_only_trusted_addresses(app: Flask, app_with: Callable[..., Flask], address: str,
                                                         operator: bool) -> None:
    assert app.config["OPERATOR_NETWORKS"] == ()  # the tests, like production, trust no address by default
    trusting = app_with(OPERATOR_NETWORKS=config.parse_networks("10.20.30.0/24, fd00::/8"))
    client = host_client(trusting)
    client.environ_base["REMOTE_ADDR"] = address

    body = client.get("/health/detailed").get_json()

    assert ("db_pools" in body) is operator


def test_production_trusts_no_network_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in config.ProductionConfig.REQUIRED:
        monkeypatch.setenv(name, "postgresql+psycopg://u:p@db/x" if "URL" in name else "s" * 64)
    monkeypatch.delenv("OPERATOR_NETWORKS", raising=False)
    assert config.ProductionConfig().OPERATOR_NETWORKS == ()
    monkeypatch.setenv("OPERATOR_NETWORKS", "10.0.0.0/8")
    assert [str(n) for n in config.ProductionConfig().OPERATOR_NETWORKS] == ["10.0.0.0/8"]
    monkeypatch.setenv("OPERATOR_NETWORKS", "10.0.0.0/33")
    with pytest.raises(RuntimeError, match="OPERATOR_NETWORKS"):
        config.ProductionConfig()


def test_require_operator_access_refuses_everyone_else(app_with: Callable[..., Flask]) -> None:
    guarded = app_with(OPERATOR_TOKEN=TOKEN)

    @guarded.get("/operator-probe")
    @require_operator_access
    def probe() -> Any:
        return {"ok": True}

    client = host_client(guarded)
    refused = client.get("/operator-probe", headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 403 and refused.get_json() == {"error": "Operator access required"}
    assert client.get("/operator-probe", headers={"Authorization": f"Bearer {TOKEN}"}).get_json() == {"ok": True}


@pytest.mark.parametrize(("proxies", "forwarded", "operator"), [
    (0, "10.20.30.40", False),  # no proxy trusted: a client cannot claim an operator address
    (1, "10.20.30.40", True),  # the ingress (the socket's peer) vouches for the client it forwarded
    (1, "10.20.30.40, 198.51.100.7", False),  # the client put an address first; the proxy appended the real one
    (2, "10.20.30.40, 198.51.100.7", True),  # two proxies: the outer one saw the client, the inner one the outer
    (2, "10.20.30.40, 198.51.100.9, 198.51.100.7", False),  # a claimed address in front of the two real ones
])
def test_the_client_address_is_taken_from_trusted_proxies_only(app_with: Callable[..., Flask], proxies: int,
                                                              forwarded: str, operator: bool) -> None:
    behind = app_with(OPERATOR_NETWORKS=config.parse_networks("10.20.30.0/24"), TRUSTED_PROXIES=proxies)
    client = host_client(behind)
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"  # the proxy, outside every operator network

    body = client.get("/health/detailed", headers={"X-Forwarded-For": forwarded}).get_json()

    assert ("db_pools" in body) is operator


@pytest.mark.parametrize("value", ["-1", "6", "one", "1.5", ""])
def test_a_bad_proxy_count_stops_the_start(value: str) -> None:
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        config.parse_proxy_count(value)
