"""Database clusters: named PostgreSQL servers (pooled URL + dedicated URL template) that families are spread over.

The platform row stores a cluster *name*; the URLs (with their credentials) live only in configuration. Config:

- `FAMILY_DATABASE_URL` + `DEDICATED_DATABASE_URL_TEMPLATE` always form the cluster named `default`, so a deployment
  that never sets `DATABASE_CLUSTERS` (the SQLite `make run` included) keeps working unchanged;
- `DATABASE_CLUSTERS` adds more (any name but `default`), either as JSON
  `{"east": {"pooled": URL, "dedicated": TEMPLATE}, ...}` or as the short form
  `east=POOLED_URL|DEDICATED_TEMPLATE;west=POOLED_URL` (the template may be left out).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_CLUSTER = "default"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class ClusterConfigError(ValueError):
    """DATABASE_CLUSTERS cannot be read; the message says which part."""


@dataclass(frozen=True)
class Cluster:
    """One database server: where pooled families live and how a dedicated family's database is named."""

    name: str
    pooled_url: str
    dedicated_template: str | None

    def dedicated_url(self, database_key: str) -> str:
        """The URL of a dedicated family's database on this cluster."""
        if not self.dedicated_template:
            raise RuntimeError(f"cluster {self.name} has no dedicated database template")
        return self.dedicated_template.format(slug=database_key)

    def url_for(self, placement: str, database_key: str | None) -> str:
        """The database holding a family placed `placement` (with `database_key` when dedicated) on this cluster."""
        if placement == "dedicated":
            if not database_key:
                raise RuntimeError("a dedicated family needs a database key")
            return self.dedicated_url(database_key)
        return self.pooled_url


def parse_clusters(raw: str | None) -> dict[str, tuple[str, str | None]]:
    """DATABASE_CLUSTERS (JSON or `name=pooled|template;...`) → name → (pooled URL, dedicated template)."""
    if not raw or not raw.strip():
        return {}
    raw = raw.strip()
    entries: dict[str, tuple[str, str | None]] = {}
    if raw.startswith("{"):
        try:
            document = json.loads(raw)
        except ValueError as error:
            raise ClusterConfigError(f"DATABASE_CLUSTERS is not valid JSON: {error}") from None
        if not isinstance(document, dict):
            raise ClusterConfigError("DATABASE_CLUSTERS must be a JSON object of clusters")
        for name, value in document.items():
            if not isinstance(value, dict) or not isinstance(value.get("pooled"), str):
                raise ClusterConfigError(f"cluster {name!r} needs a \"pooled\" URL")
            template = value.get("dedicated")
            if template is not None and not isinstance(template, str):
                raise ClusterConfigError(f"cluster {name!r}: \"dedicated\" must be a URL template")
            entries[str(name)] = (value["pooled"], template)
    else:
        for part in filter(None, (piece.strip() for piece in raw.split(";"))):
            name, equals, urls = part.partition("=")
            if not equals:
                raise ClusterConfigError(f"DATABASE_CLUSTERS entry {part.split('://')[0]!r}… needs NAME=URL")
            pooled, _bar, template = urls.partition("|")
            entries[name.strip()] = (pooled.strip(), template.strip() or None)
    for name, (pooled, template) in entries.items():
        _check_entry(name, pooled, template)
    return entries


def _check_entry(name: str, pooled: str, template: str | None) -> None:
    if name == DEFAULT_CLUSTER:
        raise ClusterConfigError("the cluster named 'default' is FAMILY_DATABASE_URL; give the others other names")
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise ClusterConfigError(f"cluster name {name!r} must be 1-64 lowercase letters, digits, - or _")
    try:
        make_url(pooled)
    except ArgumentError:
        raise ClusterConfigError(f"cluster {name!r}: the pooled URL cannot be parsed") from None
    if template is not None and "{slug}" not in template:
        raise ClusterConfigError(f"cluster {name!r}: the dedicated template must contain {{slug}}")


def clusters_from_config(config: Mapping[str, Any]) -> dict[str, Cluster]:
    """Every configured cluster by name: `default` (FAMILY_DATABASE_URL) first, then DATABASE_CLUSTERS in order."""
    clusters = {DEFAULT_CLUSTER: Cluster(DEFAULT_CLUSTER, config["FAMILY_DATABASE_URL"],
                                         config.get("DEDICATED_DATABASE_URL_TEMPLATE"))}
    for name, (pooled, template) in parse_clusters(config.get("DATABASE_CLUSTERS")).items():
        clusters[name] = Cluster(name, pooled, template)
    return clusters


def pooled_cluster_urls(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Every cluster's pooled URL (their engines are pinned: every pooled family shares one of them)."""
    return tuple(dict.fromkeys(cluster.pooled_url for cluster in clusters_from_config(config).values()))
