"""Cheap polling: an ETag on every htmx fragment and cached API answer, and a bodiless 304 when the client already
has that answer."""
from __future__ import annotations

import hashlib
import re

from flask import Flask, g, request
from werkzeug.wrappers import Response as BaseResponse

from app.htmx import is_htmx

# A CSRF token is signed with the time, so it differs on every render; the fragment is the same without it (the
# page's own token stays valid), so it is left out of the tag.
_CSRF_VALUE = re.compile(rb'(name="csrf_token"\s+value=")[^"]*(")')


def fragment_etag(body: bytes) -> str:
    """The one tag of a fragment's content: equal bodies (tokens aside) get equal tags."""
    return hashlib.blake2b(_CSRF_VALUE.sub(rb"\1\2", body), digest_size=12).hexdigest()


# Set by app/view_cache.py on a family-versioned view's answer: the tag it stored with the entry (no hashing needed).
CACHE_TAG = "view_cache_etag"


def _tag(response: BaseResponse) -> str | None:
    """The answer's tag: a cached view's stored one (htmx fragments and JSON), else an htmx fragment's own hash.

    A whole page loaded without htmx is never answered 304: the browser's copy would keep an old CSRF token.
    """
    if request.method != "GET" or response.status_code != 200 or response.is_streamed:
        return None
    cached: str | None = g.get(CACHE_TAG)
    if response.mimetype == "application/json":
        return cached
    if response.mimetype != "text/html" or not is_htmx():
        return None
    return cached or fragment_etag(response.get_data())


def answer_conditionally(response: BaseResponse) -> BaseResponse:
    """Tag a successful htmx fragment GET (or a cached JSON answer); answer 304 (no body) when the client already
    has it."""
    etag = _tag(response)
    if etag is None:
        return response
    response.set_etag(etag, weak=True)
    # Only the page's own copy counts (static/js/live.js sends the tag back): never a shared one. A view's own,
    # stricter rule (the bell's no-store) stays.
    response.headers.setdefault("Cache-Control", "no-cache, private")
    if request.if_none_match.contains_weak(etag):
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
    return response


def init_app(app: Flask) -> None:
    """Every fragment answer passes through the one rule above."""
    app.after_request(answer_conditionally)
