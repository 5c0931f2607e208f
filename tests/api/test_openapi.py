"""The OpenAPI document is generated from the routes: every /api route is in it, and the docs page renders."""
from __future__ import annotations

import re
import uuid
from typing import Any

import jsonschema_rs

from app.api.openapi import OPERATIONS
from tests.api.conftest import People


def test_every_api_route_is_documented(app, client) -> None:  # noqa: ANN001
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api") and not rule.endpoint.startswith("platform_api."):
            path = rule.rule.replace("<", "{").replace(">", "}")
            path = "".join(part.split(":")[-1] if "{" in part else part for part in path.split("{"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert any(p.replace("{", "").replace("}", "") == path.replace("}", "").replace("{", "")
                           and m == method for p, m in documented), (rule.rule, method)
    login = document["paths"]["/api/auth/login"]["post"]
    assert "security" not in login
    assert document["paths"]["/api/users"]["get"]["security"] == [{"bearer": []}]


def test_docs_page_lists_routes(client) -> None:  # noqa: ANN001
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert b"/api/assignments/{assignment_id}/verify" in page.data


# --- the document matches the URL map and the serialisers ----------------------------------------------------------

def _api_rules(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every /api rule of the family host."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api") and not rule.endpoint.startswith("platform_api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_document_is_exactly_the_url_map(app: Any, client: Any) -> None:
    document = client.get("/api/openapi.json").get_json()
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    assert documented == _api_rules(app)
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/api") and not rule.endpoint.startswith("platform_api.")}
    assert set(OPERATIONS) == endpoints, "every /api view has an entry in OPERATIONS, and no entry is stale"


def test_every_operation_has_its_parameters_bodies_and_responses(client: Any) -> None:
    document = client.get("/api/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), (path, method)
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success and all(operation["responses"][code]["content"] for code in success), (path, method)
            if method in ("put", "patch") or (method == "post" and path in WRITES_WITH_BODIES):
                assert "requestBody" in operation, (path, method)
    body = document["paths"]["/api/chores"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name"] and body["properties"]["name"]["maxLength"] == 100  # from ChoreInput
    assert body["properties"]["schedule"]["anyOf"][0] == {"$ref": "#/components/schemas/ScheduleInput"}
    assert "ScheduleInput" in document["components"]["schemas"]
    reward = document["paths"]["/api/rewards"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(reward["required"]) == {"name", "cost_points", "category"}  # the wire's names, not the service's
    query = {p["name"] for p in document["paths"]["/api/assignments"]["get"]["parameters"]}
    assert {"user_id", "status", "start_date", "end_date", "limit", "offset"} <= query
    for schema in _all_schemas(document):
        jsonschema_rs.validator_for({**schema, "components": document["components"]})  # each is a valid schema


WRITES_WITH_BODIES = {"/api/chores", "/api/users", "/api/rewards", "/api/assignments", "/api/webhooks",
                      "/api/point-presets", "/api/presence/patterns", "/api/presence/exceptions",
                      "/api/users/{user_id}/bonus", "/api/users/{user_id}/deductions",
                      "/api/users/{user_id}/conversions", "/api/assignments/{assignment_id}/verify"}


def _all_schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = []
    for operations in document["paths"].values():
        for operation in operations.values():
            for part in [operation.get("requestBody", {}), *operation["responses"].values()]:
                schemas += [media["schema"] for media in part.get("content", {}).values()]
            schemas += [parameter["schema"] for parameter in operation.get("parameters", [])]
    return schemas


def _conforms(document: dict[str, Any], path: str, method: str, response: Any) -> None:
    """The response's body validates against the schema documented for its status."""
    documented = document["paths"][path][method]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    errors = [error.message for error in jsonschema_rs.validator_for(
        {**schema, "components": document["components"]}).iter_errors(response.get_json())]
    assert not errors, (path, method, errors)


def test_real_responses_validate_against_the_documented_schemas(api: Any, people: People) -> None:
    document = api.get("/api/openapi.json").get_json()
    parent, kid = people.headers(people.parent), people.headers(people.kid)
    chore = api.post("/api/chores", headers=parent, json={
        "name": "Feed the cat", "description": "Wet food", "base_points": 12, "tags": ["pets"], "due_time": "08:30",
        "schedule": {"kind": "weekly", "weekdays": [0, 2, 4]}, "assignees": [str(people.kid.id)]})
    assert chore.status_code == 201
    _conforms(document, "/api/chores", "post", chore)
    chore_id = chore.get_json()["id"]
    user = api.post("/api/users", headers=parent, json={"username": "newkid", "display_name": "New Kid",
                                                       "password": "long enough pass", "is_parent": False})
    assert user.status_code == 201
    _conforms(document, "/api/users", "post", user)
    assignment = api.post("/api/assignments", headers=parent, json={"chore_id": chore_id,
                                                                    "assigned_to": str(people.kid.id)})
    assert assignment.status_code == 201
    _conforms(document, "/api/assignments", "post", assignment)
    reads = [("/api/version", {}), ("/api/family/info", {}), ("/api/users", parent), ("/api/users/me", kid),
             ("/api/auth/me", kid), ("/api/users/me/preferences", kid), ("/api/chores", kid),
             ("/api/assignments", parent), ("/api/assignments/my-assignments", kid)]
    for path, headers in reads:
        response = api.get(path, headers=headers)
        assert response.status_code == 200, path
        _conforms(document, path, "get", response)
    for path, value in [("/api/users/{user_id}", str(people.kid.id)), ("/api/chores/{chore_id}", chore_id)]:
        response = api.get(path.replace(path[path.index("{"):], value), headers=parent)
        _conforms(document, path, "get", response)
    missing = api.get(f"/api/chores/{uuid.uuid4()}", headers=parent)
    assert missing.status_code == 404
    _conforms(document, "/api/chores/{chore_id}", "get", missing)
    deleted = api.delete(f"/api/chores/{chore_id}", headers=parent)
    _conforms(document, "/api/chores/{chore_id}", "delete", deleted)


def test_a_wrong_shape_fails_validation(api: Any, people: People) -> None:
    """The check above can fail: a chore missing a documented key does not validate."""
    document = api.get("/api/openapi.json").get_json()
    schema = document["paths"]["/api/chores/{chore_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    validator = jsonschema_rs.validator_for({**schema["schema"], "components": document["components"]})
    assert not validator.is_valid({"id": str(uuid.uuid4()), "name": "x"})
