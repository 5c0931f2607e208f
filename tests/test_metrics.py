"""`/metrics`: Prometheus numbers for the operator only (a bearer token or an operator network), never on family
hosts; requests are counted by route class and the registry's cache outcomes are visible."""
from __future__ import annotations

import pytest
from flask import Flask

from app.tenancy.registry import FamilyRecord
from config import parse_networks
from tests.conftest import host_client

TOKEN = "operator-token-for-the-metrics-test"


@pytest.fixture
def operator_config(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "OPERATOR_NETWORKS", ())


@pytest.mark.usefixtures("operator_config")
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "])
def test_metrics_refuse_anyone_without_the_token(app: Flask, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = host_client(app).get("/metrics", headers=headers)
    assert response.status_code == 403
    assert b"housepoints_" not in response.data


@pytest.mark.usefixtures("operator_config")
def test_the_operator_token_reads_requests_by_route_class_and_registry_outcomes(app: Flask,
                                                                                family: FamilyRecord) -> None:
    host_client(app, family).get("/login")
    response = host_client(app).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert 'housepoints_requests_total{method="GET",route_class="accounts",status_class="2xx"}' in body
    assert 'housepoints_request_seconds_bucket{le="0.0025",route_class="accounts"}' in body
    assert 'housepoints_registry_lookups_total{outcome="hit"}' in body or \
        'housepoints_registry_lookups_total{outcome="miss"}' in body


def test_metrics_are_not_served_on_a_family_host(app: Flask, family: FamilyRecord,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", TOKEN)
    assert host_client(app, family).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


@pytest.mark.parametrize(("networks", "status"), [("127.0.0.0/8", 200), ("10.0.0.0/8, ::1/128", 403), ("", 403)])
def test_an_operator_network_reads_metrics_without_a_token(app: Flask, monkeypatch: pytest.MonkeyPatch,
                                                           networks: str, status: int) -> None:
    monkeypatch.setitem(app.config, "OPERATOR_TOKEN", None)
    monkeypatch.setitem(app.config, "OPERATOR_NETWORKS", parse_networks(networks))
    assert host_client(app).get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == status
