"""Parse a Host header into the site it names: the platform apex, the operator console or one family."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from app.tenancy.slugs import MAX_LENGTH, RESERVED_SLUGS, is_valid_slug

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

DEFAULT_PORTS = {"80", "443"}


class Site(Enum):
    PLATFORM = "platform"
    WWW = "www"  # redirected to the apex
    ADMIN = "admin"
    FAMILY = "family"
    NOT_OURS = "not_ours"  # another domain, an IP, a wrong port: 400
    NO_FAMILY = "no_family"  # our domain, but no family can live at that label: 404


@dataclass(frozen=True)
class HostTarget:
    site: Site
    slug: str | None = None


def split_host(host: str) -> tuple[str, str | None]:
    """(`name`, `port`) from a Host value, lower-cased, with one trailing dot removed."""
    host = host.strip().lower()
    port: str | None = None
    if host.startswith("["):  # IPv6 literal
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif host.count(":") == 1:
        name, port = host.split(":")
    else:
        name = host
    if name.endswith("."):
        name = name[:-1]
    return name, (port or None)


def _same_port(a: str | None, b: str | None) -> bool:
    return (a or "80") == (b or "80") or {a, b} <= DEFAULT_PORTS | {None}


def resolve_host(host: str, base_domain: str) -> HostTarget:
    """Which site `host` names under `base_domain` (e.g. `localhost:5000` or `housepoints.ai`)."""
    name, port = split_host(host)
    base_name, base_port = split_host(base_domain)
    if not name or not _same_port(port, base_port):
        return HostTarget(Site.NOT_OURS)
    try:
        ipaddress.ip_address(name)
        return HostTarget(Site.NOT_OURS)
    except ValueError:
        pass
    if name == base_name:
        return HostTarget(Site.PLATFORM)
    if name == f"www.{base_name}":
        return HostTarget(Site.WWW)
    if not name.endswith(f".{base_name}"):
        return HostTarget(Site.NOT_OURS)
    label = name[: -len(base_name) - 1]
    if label == "admin":
        return HostTarget(Site.ADMIN)
    if "." in label or len(label) > MAX_LENGTH or label in RESERVED_SLUGS or not is_valid_slug(label):
        return HostTarget(Site.NO_FAMILY, slug=label)
    return HostTarget(Site.FAMILY, slug=label)


class NormalizeHost:
    """WSGI middleware: lower-case the Host and drop one trailing dot before Flask reads it."""

    def __init__(self, wsgi_app: WSGIApplication) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host:
            name, port = split_host(host)
            if ":" in name:  # IPv6 literal: keep its brackets
                name = f"[{name}]"
            environ["HTTP_HOST"] = f"{name}:{port}" if port else name
        return self.wsgi_app(environ, start_response)
