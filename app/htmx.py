"""The one place that knows htmx's request flags and response headers."""
from __future__ import annotations

import json

from flask import Response, request


def is_htmx() -> bool:
    """An htmx request that wants a fragment: not a boosted navigation, not a history restore (whole page)."""
    return (bool(request.headers.get("HX-Request")) and not request.headers.get("HX-Boosted")
            and not request.headers.get("HX-History-Restore-Request"))


def trigger(response: Response, *events: str, **events_with_detail: object) -> Response:
    """Add HX-Trigger events, merging with any already set."""
    current = response.headers.get("HX-Trigger")
    merged: dict[str, object] = {}
    if current:
        try:
            merged = json.loads(current)
        except ValueError:
            merged = {name.strip(): None for name in current.split(",")}
    merged.update({name: None for name in events})
    merged.update(events_with_detail)
    response.headers["HX-Trigger"] = json.dumps(merged)
    return response


def redirect_to(response: Response, url: str) -> Response:
    """Tell htmx to navigate (a full page load) to `url`."""
    response.headers["HX-Redirect"] = url
    return response


def reswap(response: Response, swap: str, target: str | None = None) -> Response:
    """Override the swap (set the header directly: htmx-flask's reswap check rejects valid values)."""
    response.headers["HX-Reswap"] = swap
    if target:
        response.headers["HX-Retarget"] = target
    return response


def push_url(response: Response, url: str) -> Response:
    """Make htmx put `url` in the address bar (and history) after the swap."""
    response.headers["HX-Push-Url"] = url
    return response


def vary_on_htmx(response: Response) -> Response:
    """URLs that answer both a page and a fragment must not share a cache entry."""
    response.vary.add("HX-Request")
    return response
