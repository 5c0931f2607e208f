"""The OpenAPI document is generated from the routes: every /api route is in it, and the docs page renders."""
from __future__ import annotations


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
