"""Tenancy: the family registry, the first-in-line hook, family-aware URLs and the `flask families` CLI."""
from __future__ import annotations

import warnings
from typing import Any

from flask import Flask, current_app, g

from app.db import platform_engine
from app.redis_store import EXTENSION_KEY as REDIS_EXTENSION_KEY
from app.redis_store import platform_key
from app.db.clusters import clusters_from_config
from app.tenancy.hook import resolve_family
from app.tenancy.hosts import NormalizeHost
from app.tenancy.registry import FamilyRegistry

REGISTRY_KEY = "housepoints.registry"


def init_app(app: Flask) -> None:
    """Install the registry and make the tenancy hook the very first before-request function."""
    app.extensions[REGISTRY_KEY] = FamilyRegistry(
        platform_engine,
        pooled_url=app.config["FAMILY_DATABASE_URL"],
        dedicated_template=app.config["DEDICATED_DATABASE_URL_TEMPLATE"],
        ttl=app.config["FAMILY_CACHE_TTL"],
        cache_size=app.config["FAMILY_CACHE_SIZE"],
        negative_cache_size=app.config["FAMILY_NEGATIVE_CACHE_SIZE"],
        negative_ttl=app.config["FAMILY_NEGATIVE_CACHE_TTL"],
        redis_client=app.extensions[REDIS_EXTENSION_KEY],
        channel=platform_key("registry-invalidate", prefix=app.config["REDIS_KEY_PREFIX"]),
        clusters=clusters_from_config(app.config),  # a malformed DATABASE_CLUSTERS stops the app here, at start
    )
    # First in line, ahead of any extension's hooks (rate limits, login), so nothing runs before the family is known.
    app.before_request_funcs.setdefault(None, []).insert(0, resolve_family)
    app.wsgi_app = NormalizeHost(app.wsgi_app)  # type: ignore[method-assign]
    # A Host with the wrong port makes Werkzeug warn before the hook runs; the hook answers it with 400.
    warnings.filterwarnings("ignore", message="Current server name", category=UserWarning)
    app.url_defaults(_add_family_to_urls)
    app.url_value_preprocessor(_drop_family_from_view_args)
    # Family pages are same-origin with their assets: a static route on every family host.
    app.add_url_rule(f"{app.static_url_path}/<path:filename>", endpoint="static",
                     view_func=app.view_functions["static"], subdomain="<family>")
    _prefer_family_static_rule(app)

    from app.tenancy.cli import families_cli

    app.cli.add_command(families_cli)


def registry() -> FamilyRegistry:
    """The app's family registry."""
    family_registry: FamilyRegistry = current_app.extensions[REGISTRY_KEY]
    return family_registry


def _add_family_to_urls(endpoint: str, values: dict[str, Any]) -> None:
    """url_for on a family host fills in the family subdomain by itself."""
    family = g.get("family")
    if family is not None and "family" not in values and current_app.url_map.is_endpoint_expecting(endpoint, "family"):
        values["family"] = family.slug


def _drop_family_from_view_args(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    # The hook already resolved the family from the Host header; views never see the raw label.
    if values is not None:
        values.pop("family", None)


def _prefer_family_static_rule(app: Flask) -> None:
    # URL building tries rules in order: the family rule first, so url_for('static') stays on the family host.
    rules = app.url_map._rules_by_endpoint["static"]  # noqa: SLF001 - Werkzeug keeps no public ordering API
    rules.sort(key=lambda rule: "family" not in rule.arguments)
