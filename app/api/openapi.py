"""`/api/openapi.json` and `/api/docs`: the API described from its own routes, so the document cannot drift."""
from __future__ import annotations

import inspect
import re
from typing import Any

from flask import current_app, render_template

from app.api import bp, platform_bp

ERROR_SCHEMA = {"type": "object", "required": ["error"],
                "properties": {"error": {"type": "string"}, "details": {}, "fields": {"type": "object"}}}
PUBLIC = {"/api/version", "/api/family/info", "/api/auth/login", "/api/openapi.json", "/api/docs"}


def _path_and_parameters(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), parameters


def build_openapi() -> dict[str, Any]:
    """An OpenAPI 3.1 document with every /api route of the family host, its methods and its docstring."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.endpoint.startswith("platform_api."):
            continue
        path, parameters = _path_and_parameters(rule.rule)
        view = current_app.view_functions[rule.endpoint]
        summary = (inspect.getdoc(view) or rule.endpoint).splitlines()[0]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {
                "operationId": f"{rule.endpoint}.{method.lower()}",
                "summary": summary,
                "tags": [rule.endpoint.split(".")[1].split("_")[0] if "." in rule.endpoint else "api"],
                "responses": {
                    "200": {"description": "Success (201 for creations)"},
                    "400": {"description": "Bad input", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                    "404": {"description": "Not found", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
                },
            }
            if parameters:
                operation["parameters"] = parameters
            if rule.rule not in PUBLIC:
                operation["security"] = [{"bearer": []}]
                operation["responses"]["401"] = {"description": "Missing, invalid or expired token"}
                operation["responses"]["403"] = {"description": "Not allowed, or a token of another family"}
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "HousePoints API", "version": current_app.config["VERSION"],
                 "description": "Served on each family's subdomain; wire-compatible with the previous service."},
        "servers": [{"url": f"{current_app.config['PREFERRED_URL_SCHEME']}://{{family}}."
                            f"{current_app.config['BASE_DOMAIN']}",
                     "variables": {"family": {"default": "demo"}}}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
                       "schemas": {"Error": ERROR_SCHEMA}},
        "paths": dict(sorted(paths.items())),
    }


@bp.get("/openapi.json")
@platform_bp.get("/openapi.json")
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route."""
    return build_openapi()


@bp.get("/docs")
@platform_bp.get("/docs")
def api_docs() -> str:
    """A readable page of the same document."""
    return render_template("api/docs.html", spec=build_openapi())
